"""GraphQL API benchmark: concurrent clients over HTTP against a real server.

Each client runs a closed loop of a mix: LMSR trades (buy and sell back),
crossing limit orders on an order-book market, and reads of ``market { prices }``
and ``orderBook``. Prints ops/s and p50/p99 latency per kind and overall; the
last line is one JSON object of the figures.

    python bench/api.py                                  # SQLite, 1 worker, 20 clients
    python bench/api.py --database postgres --workers 2  # PostgreSQL at 127.0.0.1:5432
    BELLWETHER_BENCH_POSTGRES='postgres://postgres@%2Fvar%2Frun%2Fpostgresql/postgres' \
        python bench/api.py --database postgres ...      # ... through its Unix socket
    python bench/api.py --url http://127.0.0.1:8000      # an already running server
    python bench/api.py --floor                          # only { __typename }: the stack's cost
    python bench/api.py --batch --clients 4              # placeOrders/cancelOrders vs singles
    python bench/api.py --tree /work/wt-base             # serve another tree's code
    python bench/api.py --database postgres --workers 2 --owners split  # markets' owners differ
    BELLWETHER_MARKET_AFFINITY=0 python bench/api.py ...  # no relaying to markets' owners

With ``--database postgres`` on this machine it also reports the CPU of the PostgreSQL
backends serving the benchmark's database, per request: every statement costs there too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


PG_ADMIN = os.environ.get(
    "BELLWETHER_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "bench-password-1"
LMSR = """mutation($i: LmsrTradeInput!) { lmsrTrade(input: $i) { costOrPayoutCents prices } }"""
ORDER = """mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id status filledQuantity } }"""
PRICES = "query($id: ID!) { market(id: $id) { prices } }"
TYPENAME = "{ __typename }"
BOOK = """query($m: ID!, $o: ID!) { orderBook(marketId: $m, outcomeId: $o) {
  bestBidCents bestAskCents bids { priceCents quantity } asks { priceCents quantity } } }"""


def lmsr_trade_vars(market_id: str, side: str) -> dict[str, Any]:
    """LMSR's variables: two shares bought or sold (``side``) on ``market_id``."""
    return {"i": {"marketId": market_id, "side": side, "amountType": "SHARES", "amount": 2}}


def limit_order_vars(market_id: str, outcome_id: str, side: str) -> dict[str, Any]:
    """ORDER's variables: a limit order for one share at 50 cents."""
    order = {
        "marketId": market_id,
        "outcomeId": outcome_id,
        "side": side,
        "orderType": "LIMIT",
        "priceCents": 50,
        "quantity": 1,
    }
    return {"i": order}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def gql(
    client: aiohttp.ClientSession, query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    ) as response:
        body: dict[str, Any] = await response.json()
        if response.status != 200 or body.get("errors"):
            raise RuntimeError(f"{response.status}: {body.get('errors')}")
    return body["data"]


async def user(client: aiohttp.ClientSession, name: str) -> str:
    await gql(
        client,
        "mutation($i: RegisterInput!) { register(input: $i) { id } }",
        {"i": {"username": name, "email": f"{name}@bench.example", "password": PASSWORD}},
    )
    data = await gql(
        client,
        "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }",
        {"u": name, "p": PASSWORD},
    )
    return str(data["login"]["accessToken"])


async def setup(
    client: aiohttp.ClientSession, clients: int, owners: str = "any", workers: int = 1
) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
    """Users, then an LMSR market and an order-book market; ``owners`` ``same`` or
    ``split``: order-book markets are made until the two markets' owning workers
    (``web.affinity.owner``) are the same, or differ."""
    tag = f"b{int(time.time() * 1000) % 10**8}"
    tokens = list(await asyncio.gather(*(user(client, f"{tag}u{i}") for i in range(clients))))
    closes = "2099-01-01T00:00:00Z"
    make = "mutation($i: CreateMarketInput!) { createMarket(input: $i) { id outcomes { id } } }"
    lmsr = (
        await gql(
            client,
            make,
            {
                "i": {
                    "title": "Benchmark LMSR market",
                    "marketType": "LMSR",
                    "outcomes": ["Yes", "No"],
                    "closesAt": closes,
                    "liquidityParameter": 500.0,
                }
            },
            tokens[0],
        )
    )["createMarket"]
    book_input = {
        "title": "Benchmark order book market",
        "marketType": "ORDER_BOOK",
        "outcomes": ["Yes", "No"],
        "closesAt": closes,
    }
    for _ in range(30):
        book = (await gql(client, make, {"i": book_input}, tokens[0]))["createMarket"]
        if owners == "any" or (owners == "same") == same_owner(lmsr, book, workers):
            break
    mint = "mutation($m: ID!) { mintCompleteSet(marketId: $m, quantity: 300) { cents } }"
    await asyncio.gather(*(gql(client, mint, {"m": book["id"]}, t) for t in tokens))
    return tokens, lmsr, book


def same_owner(lmsr: dict[str, Any], book: dict[str, Any], workers: int) -> bool:
    from web.affinity import owner

    return owner(lmsr["id"], workers) == owner(book["id"], workers)


async def run_client(
    client: aiohttp.ClientSession,
    token: str,
    lmsr: dict[str, Any],
    book: dict[str, Any],
    deadline: float,
    samples: dict[str, list[float]],
    errors: list[str],
    seed: int,
    floor: bool = False,
) -> None:
    rng = random.Random(seed)
    yes = book["outcomes"][0]["id"]
    steps: dict[str, int] = defaultdict(int)
    while time.perf_counter() < deadline:
        roll = rng.random()
        if floor:
            kind, args = "typename", (TYPENAME, {})
        elif roll < 0.35:
            kind = "lmsr_trade"
            steps[kind] += 1
            side = "BUY_YES" if steps[kind] % 2 else "SELL_YES"
            args: tuple[str, dict[str, Any]] = (LMSR, lmsr_trade_vars(lmsr["id"], side))
        elif roll < 0.65:
            kind = "limit_order"
            steps[kind] += 1
            side = "SELL" if steps[kind] % 2 else "BUY"
            args = (ORDER, limit_order_vars(book["id"], yes, side))
        elif roll < 0.85:
            kind, args = "read_prices", (PRICES, {"id": lmsr["id"]})
        else:
            kind, args = "read_book", (BOOK, {"m": book["id"], "o": yes})
        started = time.perf_counter()
        try:
            await gql(client, *args, token)
        except Exception as error:  # counted; the run goes on
            errors.append(f"{kind}: {error}"[:300])
        samples[kind].append(time.perf_counter() - started)


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) of a process and all its descendants, from /proc."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    tick = os.sysconf("SC_CLK_TCK")
    total, frontier = 0.0, {root}
    while frontier:
        total += sum(stats[pid][1] for pid in frontier if pid in stats)
        frontier = {pid for pid, (parent, _) in stats.items() if parent in frontier}
    return total / tick


BENCH_DATABASE = "bellwether_bench"


def postgres_cpu_seconds(database: str = BENCH_DATABASE) -> float:
    """CPU time (user + system) of the local PostgreSQL backends connected to ``database``
    (their command line reads ``postgres: user database host ...``), from /proc."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            if not command.startswith(b"postgres: ") or f" {database} ".encode() not in command:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def worker_spread(
    workers: list[int], cpu_before: list[float], elapsed: float, port: int
) -> dict[str, Any]:
    """Each server process's connections (held now, at the end of the run: the clients'
    keep-alive connections) and cores busy during the run, in pid order."""
    if not workers:
        return {}
    held = connections_held(workers, port)
    return {
        "worker_connections": [held.get(pid, 0) for pid in workers],
        "worker_cores_busy": [
            round((tree_cpu_seconds(pid) - before) / elapsed, 2)
            for pid, before in zip(workers, cpu_before, strict=True)
        ],
    }


def connections_held(pids: Iterable[int], port: int) -> dict[int, int]:
    """How many established TCP connections to local ``port`` each of ``pids`` holds
    (from /proc: Linux; an empty dict elsewhere)."""
    sockets = _established_sockets(port)
    held: dict[int, int] = {}
    for pid in pids:
        fds = Path(f"/proc/{pid}/fd")
        try:
            entries = list(fds.iterdir())
        except OSError:
            continue
        held[pid] = sum(_link(entry) in sockets for entry in entries)
    return held


def _established_sockets(port: int) -> set[str]:
    """The ``socket:[inode]`` links of established TCP connections to local ``port``."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add(f"socket:[{fields[9]}]")
    return found


def _link(entry: Path) -> str:
    try:
        return os.readlink(entry)
    except OSError:  # closed meanwhile
        return ""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


async def measure(
    url: str,
    clients: int,
    seconds: float,
    server_pid: int | None = None,
    floor: bool = False,
    postgres: bool = False,
    owners: str = "any",
    server_workers: int = 1,
) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=clients + 5)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as client:
        tokens, lmsr, book = await setup(client, clients, owners, server_workers)
        samples: dict[str, list[float]] = defaultdict(list)
        errors: list[str] = []
        workers = server_processes(server_pid) if server_pid else []
        cpu_before = tree_cpu_seconds(server_pid) if server_pid else 0.0
        workers_before = [tree_cpu_seconds(pid) for pid in workers]
        postgres_before = postgres_cpu_seconds() if postgres else 0.0
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(
                run_client(client, t, lmsr, book, deadline, samples, errors, i, floor)
                for i, t in enumerate(tokens)
            )
        )
        elapsed = time.perf_counter() - started
        server_cpu = tree_cpu_seconds(server_pid) - cpu_before if server_pid else None
        postgres_cpu = postgres_cpu_seconds() - postgres_before if postgres else None
        spread = worker_spread(workers, workers_before, elapsed, urlsplit(url).port or 80)
    figures = summarize(samples, errors, elapsed, clients, server_cpu)
    figures.update(spread)
    ops = figures["ops"]
    if postgres_cpu is not None and ops:
        figures["postgres_cpu_ms_per_op"] = round(postgres_cpu * 1000 / ops, 3)
        figures["postgres_cores_busy"] = round(postgres_cpu / elapsed, 2)
    if server_workers > 1:
        figures["same_owner"] = same_owner(lmsr, book, server_workers)
    if errors:
        figures["first_errors"] = errors[:3]
    return figures


def summarize(
    samples: dict[str, list[float]],
    errors: list[str],
    elapsed: float,
    clients: int,
    server_cpu: float | None,
) -> dict[str, Any]:
    """The figures of a run: overall, trades, server CPU, and per kind."""
    everything = [v for values in samples.values() for v in values]
    figures: dict[str, Any] = {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "ops": len(everything),
        "ops_per_s": round(len(everything) / elapsed, 1),
        "p50_ms": round(pct(everything, 0.5), 2),
        "p99_ms": round(pct(everything, 0.99), 2),
        "errors": len(errors),
    }
    trades = len(samples.get("lmsr_trade", ())) + len(samples.get("limit_order", ()))
    figures["trades_per_s"] = round(trades / elapsed, 1)
    if server_cpu is not None and everything:
        # CPU the server spent per request: steadier than ops/s on a shared machine.
        figures["server_cpu_ms_per_op"] = round(server_cpu * 1000 / len(everything), 3)
        figures["server_cores_busy"] = round(server_cpu / elapsed, 2)
    for kind, values in sorted(samples.items()):
        figures[kind] = {
            "n": len(values),
            "per_s": round(len(values) / elapsed, 1),
            "p50_ms": round(pct(values, 0.5), 2),
            "p99_ms": round(pct(values, 0.99), 2),
            "mean_ms": round(statistics.fmean(values) * 1000, 2),
        }
    return figures


def report(figures: dict[str, Any]) -> None:
    """Per kind and overall lines, then the figures as one JSON line (the last)."""
    for kind in ("lmsr_trade", "limit_order", "read_prices", "read_book", "typename"):
        if kind in figures:
            f = figures[kind]
            print(
                f"{kind:12} {f['per_s']:8.1f}/s  p50 {f['p50_ms']:7.2f} ms  "
                f"p99 {f['p99_ms']:7.2f} ms"
            )
    print(
        f"{'all':12} {figures['ops_per_s']:8.1f}/s  p50 {figures['p50_ms']:7.2f} ms  "
        f"p99 {figures['p99_ms']:7.2f} ms  errors {figures['errors']}  "
        f"trades {figures['trades_per_s']}/s"
    )
    if "batches" in figures:
        print(
            f"{figures['batches']} market batches: p50 <= {figures['batch_p50']:g}, "
            f"p99 <= {figures['batch_p99']:g} commands each"
        )
    if "worker_connections" in figures:
        print(
            f"connections per server process {figures['worker_connections']}, "
            f"cores busy {figures['worker_cores_busy']}"
        )
    if "same_owner" in figures:
        print(
            f"markets owned by {'one worker' if figures['same_owner'] else 'two workers'}; "
            f"relayed per worker {figures.get('worker_forwarded')}, "
            f"received {figures.get('worker_received')}"
        )
    if "server_cpu_ms_per_op" in figures:
        print(
            f"server CPU {figures['server_cpu_ms_per_op']:.3f} ms per request, "
            f"{figures['server_cores_busy']:.2f} cores busy"
        )
    if "postgres_cpu_ms_per_op" in figures:
        print(
            f"PostgreSQL backends' CPU {figures['postgres_cpu_ms_per_op']:.3f} ms per request, "
            f"{figures['postgres_cores_busy']:.2f} cores busy"
        )
    print(json.dumps(figures))


async def fresh_postgres(*, migrated: bool = True) -> str:
    """An empty ``bellwether_bench`` database, migrated by this copy (else the server,
    in development mode, migrates it with its own tree's migrations)."""
    import asyncpg

    from persistence.tortoise.database import migrate
    from tests.dbtools import with_database

    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {BENCH_DATABASE}")
    finally:
        await admin.close()
    url = with_database(PG_ADMIN, BENCH_DATABASE)  # a socket URL's ?host=/dir kept
    if migrated:
        await migrate(url)
    return url


def server_env(database_url: str) -> dict[str, str]:
    """The app's settings for a benchmark on ``database_url`` (``bench/request_cost.py``
    runs the app in process with the same)."""
    return {
        "BELLWETHER_DATABASE_URL": database_url,
        "BELLWETHER_DEMO": "0",
        "BELLWETHER_JWT_SECRET": "bench-secret-" + "x" * 40,
        "BELLWETHER_LOG_LEVEL": "WARNING",
        "BELLWETHER_LOGIN_LIMIT_PER_ADDRESS": "100000",
        "BELLWETHER_SWEEP_INTERVAL_SECONDS": "60",
        # The benchmark's clients are a few users placing as fast as they can.
        "BELLWETHER_ORDER_RATE_PER_SECOND": "1000000",
        "BELLWETHER_ORDER_BURST": "1000000",
    }


def start_server(
    database_url: str, workers: int, tree: Path = ROOT
) -> tuple[subprocess.Popen[bytes], str]:
    """``bellwether serve --workers N`` (what users run) on a free port, from ``tree``'s
    code (this interpreter: the trees compared must share their dependencies)."""
    port = free_port()
    env = {**os.environ, **server_env(database_url)}
    command = [sys.executable, "-m", "web.cli", "serve", "--port", str(port)]
    process = subprocess.Popen([*command, "--workers", str(workers)], cwd=tree, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


def server_processes(root: int) -> list[int]:
    """The server's processes that can hold connections: its workers, or itself alone."""
    children = [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and _parent(entry) == root and _serves(entry)
    ]
    return sorted(children) or [root]


def _serves(entry: Path) -> bool:
    """Not multiprocessing's resource tracker (uvicorn's own supervisor starts one)."""
    try:
        return b"resource_tracker" not in (entry / "cmdline").read_bytes()
    except OSError:
        return False


def _parent(entry: Path) -> int:
    try:
        return int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


BATCH_METRIC = "bellwether_market_batch_commands"
RELAYED = 'bellwether_relayed_requests_total{outcome="forwarded"}'
RECEIVED = "bellwether_relayed_requests_received_total"


def relay_counts(url: str, workers: int, scrapes: int = 24) -> dict[str, Any]:
    """Requests each worker relayed to a market's owner, and received as the owner,
    from ``/metrics`` scraped on new connections until every worker answered (told
    apart by their request ids' first 8 hex digits, the process's own)."""
    seen: dict[str, tuple[int, int]] = {}
    for _ in range(scrapes):
        response = httpx.get(f"{url}/metrics", timeout=5)
        counts = {RELAYED: 0.0, RECEIVED: 0.0}
        for line in response.text.splitlines():
            name, _, value = line.rpartition(" ")
            if name in counts:
                counts[name] = float(value)
        seen[response.headers["x-request-id"][:8]] = (int(counts[RELAYED]), int(counts[RECEIVED]))
        if len(seen) == workers:
            break
    return {
        "worker_forwarded": [forwarded for forwarded, _ in seen.values()],
        "worker_received": [received for _, received in seen.values()],
    }


def batch_sizes(url: str, scrapes: int = 8) -> dict[str, Any]:
    """p50/p99 commands per market batch (one transaction each), from ``/metrics``.

    Each worker keeps its own histogram and a scrape reaches one of them: scrape a few
    times and add up the distinct ones (told apart by their counts)."""
    seen: dict[float, dict[float, float]] = {}
    for _ in range(scrapes):
        buckets: dict[float, float] = {}
        for line in httpx.get(f"{url}/metrics", timeout=5).text.splitlines():
            if line.startswith(f"{BATCH_METRIC}_bucket"):
                bound = line.split('le="', 1)[1].split('"', 1)[0]
                buckets[float(bound)] = float(line.rsplit(" ", 1)[1])
        if buckets:
            seen[buckets[float("inf")]] = buckets
    merged: dict[float, float] = defaultdict(float)
    for buckets in seen.values():
        for bound, count in buckets.items():
            merged[bound] += count
    total = merged.get(float("inf"), 0.0)
    if not total:
        return {}

    def quantile(q: float) -> float:
        return min(b for b, c in merged.items() if c >= q * total)

    return {
        "batches": int(total),
        "batch_p50": quantile(0.5),
        "batch_p99": quantile(0.99),
        "batch_max": quantile(1.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--database", choices=["sqlite", "postgres", "memory"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--url", help="benchmark a running server instead of starting one")
    parser.add_argument(
        "--tree", type=Path, default=ROOT, help="serve this tree's code (default: this copy's)"
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="send only { __typename } (signed in): the HTTP and GraphQL stack, no resolver",
    )
    parser.add_argument(
        "--batch",
        action="store_true",
        help="orders/s through 100-order placeOrders/cancelOrders against single calls",
    )
    parser.add_argument(
        "--owners",
        choices=["any", "same", "split"],
        default="any",
        help="--workers above 1: the two markets owned by the same worker, or by two",
    )
    args = parser.parse_args()
    process = None
    url = args.url
    if url is None:
        if args.database == "postgres":
            database_url = asyncio.run(fresh_postgres(migrated=args.tree == ROOT))
        elif args.database == "memory":
            database_url = "memory://"
        else:
            database_url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
        process, url = start_server(database_url, args.workers, args.tree.resolve())
    try:
        pid = process.pid if process is not None else None
        if args.batch:
            from bench.batches import measure_batches

            batches = asyncio.run(measure_batches(gql, setup, url, args.clients, args.seconds))
            batches.update(database=args.database if args.url is None else "external")
            print(
                f"single calls {batches['single']['order_ops_per_s']:8.1f} order ops/s\n"
                f"batches of 100 {batches['batch']['order_ops_per_s']:6.1f} order ops/s"
                f"  ({batches['speedup']}x)"
            )
            print(json.dumps(batches))
            return
        local_postgres = args.database == "postgres" and args.url is None
        figures = asyncio.run(
            measure(
                url,
                args.clients,
                args.seconds,
                pid,
                args.floor,
                local_postgres,
                args.owners,
                args.workers,
            )
        )
        figures.update(batch_sizes(url))
        if args.workers > 1:
            figures.update(relay_counts(url, args.workers))
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
    figures.update(database=args.database if args.url is None else "external", workers=args.workers)
    figures["affinity"] = os.environ.get("BELLWETHER_MARKET_AFFINITY", "1") not in ("0", "false")
    if args.floor:
        figures["mix"] = "floor: { __typename }"
    report(figures)


if __name__ == "__main__":
    main()
