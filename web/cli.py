"""The ``bellwether`` command line: ``bellwether --help`` lists what exists."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

Command = Callable[[argparse.Namespace], int]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bellwether", description="Bellwether prediction markets: GraphQL API and tools."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    engine = sub.add_parser("bench-engine", help="in-process engine throughput (see bench/)")
    engine.add_argument("--orders", type=int, default=200_000)
    engine.set_defaults(run=_bench_engine)
    from web import admin

    admin.add_commands(sub)
    return parser


def _bench_engine(args: argparse.Namespace) -> int:
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "bench" / "engine.py"
    sys.argv = [str(script), "--orders", str(args.orders)]
    runpy.run_path(str(script), run_name="__main__")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    run: Command = args.run
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
