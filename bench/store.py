"""Use-case throughput through the services on Tortoise (SQLite and PostgreSQL).

    python bench/store.py [--ops N] [--backends sqlite,postgres] [--postgres URL]

Two use cases, each with 1 and with 20 concurrent tasks; every task trades in
its own market with its own users (the store's throughput, not one market's
lock):

- LMSR trade: buy then sell 5 YES shares, alternating.
- crossing limit order: a LIMIT IOC BUY of 1 share at 50 that fills against a
  large resting SELL at 50 (load the book, match, settle, write the fill).

Each command is one transaction through the real unit of work. PostgreSQL gets
a fresh database (dropped afterwards). The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.markets import MarketSpec
from domain.model import AmountType, LmsrSide, MarketType, OrderType, Side, TimeInForce
from domain.services import accounts, amm, complete_sets, markets, orders
from domain.services.context import ServiceContext, Settings
from persistence.memory import RecordingPublisher
from persistence.system import RandomIds, SystemClock
from persistence.tortoise.database import Database
from persistence.tortoise.unit_of_work import TortoiseUnitOfWorkFactory
from tests import dbtools
from tests.harness import FakeHasher

Op = Callable[[], Awaitable[object]]


def _context(database: Database) -> ServiceContext:
    return ServiceContext(
        uow=TortoiseUnitOfWorkFactory(database, RecordingPublisher()),
        clock=SystemClock(),
        ids=RandomIds(),
        hasher=FakeHasher(),
        settings=Settings(starting_balance_cents=100_000_000),
    )


async def _user(ctx: ServiceContext, name: str) -> str:
    registration = accounts.Registration(name, f"{name}@example.com", "bench-password")
    return (await accounts.register(ctx, registration)).id


async def _market(ctx: ServiceContext, creator: str, kind: MarketType) -> str:
    spec = MarketSpec(
        title=f"Benchmark {kind} market number something",
        market_type=kind,
        outcomes=("Yes", "No"),
        closes_at=ctx.clock.now() + timedelta(days=30),
        liquidity=1000.0,
    )
    return (await markets.create_market(ctx, creator, spec)).id


async def _lmsr_ops(ctx: ServiceContext, n: int, tag: str) -> Op:
    trader = await _user(ctx, f"lmsr{tag}")
    market = await _market(ctx, trader, MarketType.LMSR)
    sides = iter([LmsrSide.BUY_YES, LmsrSide.SELL_YES] * n)

    async def op() -> object:
        order = amm.LmsrOrder(market, next(sides), AmountType.SHARES, 5)
        return await amm.trade(ctx, trader, order)

    return op


async def _crossing_ops(ctx: ServiceContext, n: int, tag: str) -> Op:
    maker, taker = await _user(ctx, f"maker{tag}"), await _user(ctx, f"taker{tag}")
    market_id = await _market(ctx, maker, MarketType.ORDER_BOOK)
    market = await markets_get(ctx, market_id)
    yes = market.outcomes[0].id
    await complete_sets.mint_complete_set(ctx, maker, market_id, n + 10)
    await orders.place_order(
        ctx, maker, orders.PlaceOrder(market_id, yes, Side.SELL, OrderType.LIMIT, n + 10, 50)
    )
    buy = orders.PlaceOrder(market_id, yes, Side.BUY, OrderType.LIMIT, 1, 50, TimeInForce.IOC)

    async def op() -> object:
        return await orders.place_order(ctx, taker, buy)

    return op


async def markets_get(ctx: ServiceContext, market_id: str) -> markets.Market:
    async with ctx.uow() as uow:
        market = await uow.markets.get(market_id)
    assert market is not None
    return market


async def _measure(
    ctx: ServiceContext,
    make: Callable[[ServiceContext, int, str], Awaitable[Op]],
    tasks: int,
    ops: int,
) -> float:
    per_task = max(1, ops // tasks)
    workers = [await make(ctx, per_task, f"{make.__name__}{tasks}x{i}") for i in range(tasks)]

    async def run(op: Op) -> None:
        for _ in range(per_task):
            await op()

    started = time.perf_counter()
    await asyncio.gather(*(run(op) for op in workers))
    return per_task * tasks / (time.perf_counter() - started)


async def _bench(database: Database, ops: int) -> dict[str, float]:
    ctx = _context(database)
    figures = {}
    for name, make in (("lmsr_trades", _lmsr_ops), ("crossing_limit_orders", _crossing_ops)):
        for tasks in (1, 20):
            rate = await _measure(ctx, make, tasks, ops)
            figures[f"{name}_per_s_{tasks}_tasks"] = round(rate, 1)
            print(f"{database.dialect:8} {name:22} {tasks:2} tasks: {rate:8.1f}/s", flush=True)
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ops", type=int, default=2000, help="commands per measurement")
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    if "sqlite" in args.backends:
        with tempfile.TemporaryDirectory() as directory:
            database = await dbtools.sqlite_database(Path(directory))
            try:
                results["sqlite"] = await _bench(database, args.ops)
            finally:
                await database.close()
    if "postgres" in args.backends:
        url = await dbtools.create_postgres_database()
        database = await Database.open(url)
        try:
            results["postgres"] = await _bench(database, args.ops)
        finally:
            await database.close()
            await dbtools.drop_postgres_database(url)
    print(json.dumps(results))


if __name__ == "__main__":
    asyncio.run(main())
