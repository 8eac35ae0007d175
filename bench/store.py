"""One hot market through the services on PostgreSQL, beside pgbench's TPC-B in the same run.

    python bench/store.py [--database-url URL] [--tasks 20] [--seconds 15] [--pgbench-seconds 15]

No HTTP: ``--tasks`` concurrent asyncio tasks call the real use cases, wired as the
app wires them (``web.backends.open_tortoise``, events sent as the app's NOTIFY), all
on one market, each task as its own user:

- LMSR trades: buy then sell back 5 YES shares of one LMSR market, alternating.
- crossing limit orders: a LIMIT IOC BUY of 1 share at 50 on one order-book market,
  each filled against a large resting SELL at 50 (load the book, match, settle).

Like the app, it freezes the heap out of full GC collections once started, unless
``BELLWETHER_GC_FREEZE=0``.

Each use case first runs ``--warmup`` seconds untimed, then the database is analyzed
(``ANALYZE``), as autovacuum does within a minute on a live server and as ``pgbench -i``
does for pgbench's tables: the database is new, and a plan PostgreSQL caches for a
prepared statement while a table is near empty (a sequential scan of ``orders`` to
update the maker's order) is kept, however large the table grows, until the table
is analyzed. ``--warmup 0`` leaves both out (the figures before 2026-12-06 21:10 UTC).

Then ``pgbench -c TASKS -T SECONDS`` (TPC-B, scale 1) measures what the same server
does with one small transaction per client at a time. ``--database-url`` names the
server (and the database to connect to for administration, default the local
``postgres``), over TCP or a Unix socket
(``postgres://postgres@%2Fvar%2Frun%2Fpostgresql/postgres`` or
``postgres://postgres@/postgres?host=/var/run/postgresql``, ``persistence.postgres_url``);
pgbench connects the same way, so the comparison stays like for like. The benchmark
creates its own throwaway databases there, one for the store and one for pgbench, and
drops them afterwards. The last line printed is one
JSON object: ``pgbench_tps``, ``lmsr_trades_per_s``, ``crossing_orders_per_s`` and
their ratios. Run it alone (``flock /tmp/bellwether-bench.lock``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.errors import DomainError
from domain.events import DomainEvent
from domain.markets import MarketSpec
from domain.model import AmountType, LmsrSide, MarketType, OrderType, Side, TimeInForce
from domain.services import accounts, amm, complete_sets, markets, orders
from domain.services.context import ServiceContext
from persistence.postgres_url import PostgresParams
from persistence.sequencer import AsyncioSequencer
from persistence.tortoise.database import migrate
from tests.dbtools import create_empty_postgres_database, drop_postgres_database
from tests.harness import FakeHasher
from web.app import freeze_startup_heap
from web.backends import Backend, open_tortoise
from web.pgbus import PostgresEventBus
from web.settings import AppSettings

DEFAULT_URL = os.environ.get(
    "BELLWETHER_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres"
)
Op = Callable[[], Awaitable[object]]


class Discard:
    """The publisher: events go by NOTIFY inside each transaction, as in the app."""

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        return None


async def _user(ctx: ServiceContext, name: str) -> str:
    registration = accounts.Registration(name, f"{name}@example.com", "bench-password")
    return (await accounts.register(ctx, registration)).id


async def _market(ctx: ServiceContext, creator: str, kind: MarketType) -> markets.Market:
    spec = MarketSpec(
        title=f"Store benchmark {kind} market",
        market_type=kind,
        outcomes=("Yes", "No"),
        closes_at=ctx.clock.now() + timedelta(days=30),
        liquidity=1000.0,
    )
    return await markets.create_market(ctx, creator, spec)


async def _lmsr_ops(ctx: ServiceContext, tasks: int) -> list[Op]:
    creator = await _user(ctx, "lmsr_creator")
    market = await _market(ctx, creator, MarketType.LMSR)

    async def trader(i: int) -> Op:
        user = await _user(ctx, f"lmsr{i}")
        sides = [LmsrSide.BUY_YES, LmsrSide.SELL_YES]
        done = 0

        async def op() -> object:
            nonlocal done
            side = sides[done % 2]
            done += 1
            return await amm.trade(ctx, user, amm.LmsrOrder(market.id, side, AmountType.SHARES, 5))

        return op

    return [await trader(i) for i in range(tasks)]


async def _crossing_ops(ctx: ServiceContext, tasks: int) -> list[Op]:
    maker = await _user(ctx, "maker")
    market = await _market(ctx, maker, MarketType.ORDER_BOOK)
    yes = market.outcomes[0].id
    depth = 1_000_000
    await complete_sets.mint_complete_set(ctx, maker, market.id, depth)
    sell = orders.PlaceOrder(market.id, yes, Side.SELL, OrderType.LIMIT, depth, 50)
    await orders.place_order(ctx, maker, sell)
    buy = orders.PlaceOrder(market.id, yes, Side.BUY, OrderType.LIMIT, 1, 50, TimeInForce.IOC)

    async def taker(i: int) -> Op:
        user = await _user(ctx, f"taker{i}")

        async def op() -> object:
            placed = await orders.place_order(ctx, user, buy)
            assert placed.filled_quantity == 1, "every order crosses"
            return placed

        return op

    return [await taker(i) for i in range(tasks)]


async def _run(ops: list[Op], seconds: float) -> tuple[float, int]:
    """Every op in a loop of its own task for ``seconds``: (completed per second, errors)."""
    done, errors = 0, 0
    deadline = time.perf_counter() + seconds

    async def loop(op: Op) -> None:
        nonlocal done, errors
        while time.perf_counter() < deadline:
            try:
                await op()
            except DomainError:
                errors += 1
            else:
                done += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(op) for op in ops))
    return done / (time.perf_counter() - started), errors


async def _warm_up(url: str, ops: list[Op], seconds: float) -> None:
    """Run ``ops`` untimed for ``seconds``, then analyze the database (see the module
    docstring); nothing with ``seconds`` 0."""
    if seconds <= 0:
        return
    await _run(ops, seconds)
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def measure_store(
    admin: str, tasks: int, seconds: float, warmup: float = 0
) -> dict[str, Any]:
    url = await create_empty_postgres_database(admin, "bellwether_store")
    try:
        await migrate(url)
        freeze = AppSettings.from_env().gc_freeze  # BELLWETHER_GC_FREEZE, as the app reads it
        settings = AppSettings(database_url=url, starting_balance_cents=10**12, gc_freeze=freeze)
        notify = PostgresEventBus(url).in_transaction  # packs only: no connection
        sizes: list[int] = []  # each market batch's number of commands
        sequencer = AsyncioSequencer(observe=sizes.append)
        backend: Backend = await open_tortoise(settings, Discard(), FakeHasher(), notify, sequencer)
        if settings.gc_freeze:  # as the app does once started (BELLWETHER_GC_FREEZE)
            freeze_startup_heap()
        try:
            ctx = backend.services
            lmsr_ops = await _lmsr_ops(ctx, tasks)
            await _warm_up(url, lmsr_ops, warmup)
            sizes.clear()
            lmsr_rate, lmsr_errors = await _run(lmsr_ops, seconds)
            lmsr_batches = _quantiles(sizes)
            print(f"LMSR trades          {lmsr_rate:8.1f}/s  batches {lmsr_batches}")
            crossing_ops = await _crossing_ops(ctx, tasks)
            await _warm_up(url, crossing_ops, warmup)
            sizes.clear()
            crossing_rate, crossing_errors = await _run(crossing_ops, seconds)
            crossing_batches = _quantiles(sizes)
            print(f"crossing limit orders{crossing_rate:8.1f}/s  batches {crossing_batches}")
        finally:
            await backend.close()
    finally:
        await drop_postgres_database(url, admin)
    return {
        "lmsr_trades_per_s": round(lmsr_rate, 1),
        "crossing_orders_per_s": round(crossing_rate, 1),
        "lmsr_batch_p50_p99": lmsr_batches,
        "crossing_batch_p50_p99": crossing_batches,
        "errors": lmsr_errors + crossing_errors,
    }


def _quantiles(sizes: list[int]) -> list[int]:
    """p50 and p99 of the batch sizes (commands per transaction)."""
    ordered = sorted(sizes) or [0]
    return [ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, len(ordered) * 99 // 100)]]


def _pgbench(url: str, *args: str) -> str:
    """pgbench on the store's server: ``-h`` is the socket directory for a socket URL."""
    params = PostgresParams.parse(url)
    env = {**os.environ, "PGPASSWORD": params.password}
    command = [
        "pgbench",
        *("-h", params.host, "-p", str(params.port), "-U", params.user),
        *args,
        params.database,
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"pgbench failed: {done.stderr.strip()}")
    return done.stdout


async def measure_pgbench(admin: str, clients: int, seconds: int) -> float:
    """TPC-B transactions per second of ``pgbench -c CLIENTS -T SECONDS`` (scale 1)."""
    if shutil.which("pgbench") is None:
        raise SystemExit("pgbench is not installed (Debian: apt-get install postgresql-client)")
    url = await create_empty_postgres_database(admin, "bellwether_pgbench")
    try:
        _pgbench(url, "-i", "-q", "-s", "1")
        out = _pgbench(url, "-c", str(clients), "-T", str(seconds))
    finally:
        await drop_postgres_database(url, admin)
    found = re.search(r"tps = ([0-9.]+)", out)
    if found is None:
        raise SystemExit(f"no tps in pgbench's output:\n{out}")
    return float(found[1])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help="the PostgreSQL server")
    parser.add_argument("--tasks", type=int, default=20, help="concurrent tasks (pgbench -c)")
    parser.add_argument("--seconds", type=float, default=15, help="per use case")
    parser.add_argument("--pgbench-seconds", type=int, default=15, help="pgbench -T")
    parser.add_argument(
        "--warmup", type=float, default=2, help="untimed seconds per use case, then ANALYZE"
    )
    args = parser.parse_args()
    load = os.getloadavg()[0]
    store = await measure_store(args.database_url, args.tasks, args.seconds, args.warmup)
    print(f"(each {args.tasks} tasks on one market; batches: commands per transaction, p50 p99)")
    tps = await measure_pgbench(args.database_url, args.tasks, args.pgbench_seconds)
    print(f"pgbench TPC-B        {tps:8.1f} tps  (-c {args.tasks} -T {args.pgbench_seconds})")
    figures = {
        **store,
        "pgbench_tps": round(tps, 1),
        "lmsr_vs_pgbench": round(store["lmsr_trades_per_s"] / tps, 2),
        "crossing_vs_pgbench": round(store["crossing_orders_per_s"] / tps, 2),
        "tasks": args.tasks,
        "seconds": args.seconds,
        "pgbench_seconds": args.pgbench_seconds,
        "warmup_seconds": args.warmup,
        "load_average_1m": round(max(load, os.getloadavg()[0]), 2),
        "database": "postgres",
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
