"""CPU per GraphQL request, in process, for several trees side by side in one sitting.

One process per tree (its own venv and code) sets up the app as
``bench/request_cost.py`` does, on SQLite; the driver then runs rounds of each
request kind (those of ``bench/api.py`` plus ``floor``, ``{ __typename }``)
alternately in each process, the order reversed every round, and prints per tree
the least and the median CPU ms per request and their ratios to the first tree.
On a loaded machine the least of many short rounds is the steadiest figure.

``--steps`` first counts the interpreter steps (bytecode instructions, by
``sys.settrace``) per request of each kind: a count, not a time, so it does not
move with the machine's load; it leaves out what runs in C (SQLite, JSON).

    python bench/request_pairs.py --steps /work/wt-base /work/wt-new [--rounds 8 --requests 200]

Each tree needs its venv (``make install``); the set-up and the requests are this
copy's (``bench/request_cost.py``), the app is the tree's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
KINDS = ("floor", "lmsr_trade", "limit_order", "read_prices", "read_book")
STEPS_REQUESTS = 50


def counting_steps(count: list[int]) -> Callable[..., Any]:
    def local(frame: Any, event: str, arg: Any) -> Any:
        if event == "opcode":
            count[0] += 1
        return local

    def trace(frame: Any, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        return local

    return trace


def forget_other_trees(tree: Path) -> None:
    """Unload the app's packages imported from outside ``tree`` (``bench/api.py``, which
    ``request_cost`` imports, takes ``web.tcp`` from this copy's tree): the tree's own are
    imported instead."""
    packages = ("domain", "persistence", "auth", "schema", "resolvers", "web", "tests")
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in packages and not Path(
            getattr(module, "__file__", None) or tree
        ).is_relative_to(tree):
            del sys.modules[name]


async def serve(tree: Path) -> None:
    """Worker: set up the app of ``tree``, then answer 'KIND N' and 'steps:KIND N'."""
    sys.path.insert(0, str(HERE.parent))
    from request_cost import AsgiClient, request_kinds, use_database

    sys.path.insert(0, str(tree))  # the tree's app, not this copy's (request_cost adds it)
    forget_other_trees(tree)
    use_database(f"sqlite:///{tempfile.mkdtemp()}/pairs.db")
    from web.app import app_from_env

    if not Path(sys.modules["web.app"].__file__ or "").is_relative_to(tree):
        raise SystemExit(f"the app did not come from {tree}")

    app = app_from_env()
    client = AsgiClient(app)
    async with app.router.lifespan_context(app):
        kinds = await request_kinds(client)
        kinds["floor"] = lambda i: ("{ __typename }", {}, None)
        done = dict.fromkeys(kinds, 0)
        for kind, make in kinds.items():
            for _ in range(50):  # warm the caches
                await client.post(*make(done[kind]))
                done[kind] += 1
        print("ready", flush=True)
        for line in sys.stdin:
            kind, n = line.split()
            steps = kind.startswith("steps:")
            kind = kind.removeprefix("steps:")
            count = [0]
            started = time.process_time()
            if steps:
                sys.settrace(counting_steps(count))
            for _ in range(int(n)):
                await client.post(*kinds[kind](done[kind]))
                done[kind] += 1
            sys.settrace(None)
            used = count[0] if steps else (time.process_time() - started) * 1000
            print(json.dumps(used / int(n)), flush=True)


def drive(args: argparse.Namespace) -> None:
    workers = {
        tree: subprocess.Popen(
            [f"{tree}/.venv/bin/python", str(HERE), "--serve", tree],
            cwd=tree,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for tree in args.trees
    }

    def ask(tree: str, command: str) -> float:
        worker = workers[tree]
        assert worker.stdin is not None and worker.stdout is not None
        worker.stdin.write(command + "\n")
        worker.stdin.flush()
        return float(json.loads(worker.stdout.readline()))

    for tree, worker in workers.items():
        assert worker.stdout is not None
        if worker.stdout.readline().strip() != "ready":
            raise SystemExit(f"{tree}: the app did not start")
    kinds = args.only or list(KINDS)
    figures: dict[str, Any] = {"trees": args.trees}
    if args.steps:
        for kind in kinds:
            counts = [ask(tree, f"steps:{kind} {STEPS_REQUESTS}") for tree in args.trees]
            figures[f"{kind}_steps"] = counts
            print(f"{kind:12} steps " + "  ".join(f"{c:9.0f}" for c in counts))
    cpu: dict[tuple[str, str], list[float]] = {(t, k): [] for t in args.trees for k in kinds}
    for round_ in range(args.rounds):
        for kind in kinds:
            for tree in args.trees if round_ % 2 == 0 else args.trees[::-1]:
                cpu[(tree, kind)].append(ask(tree, f"{kind} {args.requests}"))
    for worker in workers.values():
        assert worker.stdin is not None
        worker.stdin.close()
        worker.wait()
    with open("/proc/loadavg") as load:
        figures["load"] = load.read().split()[:3]
    for kind in kinds:
        least = [min(cpu[(t, kind)]) for t in args.trees]
        median = [statistics.median(cpu[(t, kind)]) for t in args.trees]
        figures[kind] = {"least": least, "median": median}
        print(
            f"{kind:12} CPU ms least "
            + "  ".join(f"{v:6.3f} ({v / least[0]:4.2f})" for v in least)
            + "   median "
            + "  ".join(f"{v:6.3f} ({v / median[0]:4.2f})" for v in median)
        )
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="*", help="worktrees, each with its .venv")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200, help="requests per round")
    parser.add_argument("--only", action="append", default=[], choices=KINDS)
    parser.add_argument("--steps", action="store_true", help="count interpreter steps first")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(Path(args.serve)))
    else:
        drive(args)


if __name__ == "__main__":
    main()
