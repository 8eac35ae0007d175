"""Money under concurrency: many tasks trading at once, through two workers on PostgreSQL.

20 tasks x 250 random operations (every kind of order, cancels, LMSR trades,
mints, redeems) on one order-book and one LMSR market. Tasks share users, so
user rows are hit from both markets at once. Afterwards every audit invariant
holds and no resting order was matched twice. ``BELLWETHER_CONCURRENCY_OPS``
sets the operations per task (a bigger run).
"""

from __future__ import annotations

import asyncio
import os
import random
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pytest

from domain import audit
from domain.errors import DomainError
from domain.ledger import Reason
from domain.markets import MarketSpec
from domain.model import (
    AmountType,
    LmsrSide,
    Market,
    MarketType,
    OrderType,
    Side,
    TimeInForce,
    User,
)
from domain.services import accounts, amm, complete_sets, markets, orders
from domain.services.books import BookCache
from domain.services.context import ServiceContext, Settings
from persistence.memory import RecordingPublisher
from persistence.sequencer import AsyncioSequencer
from persistence.system import RandomIds
from persistence.tortoise.database import Database
from persistence.tortoise.models import TradeRecord
from persistence.tortoise.snapshot import read_snapshot
from persistence.tortoise.unit_of_work import TortoiseUnitOfWorkFactory
from tests import dbtools
from tests.clock import ManualClock
from tests.harness import START, FakeHasher

TASKS = 20
USERS = 10
OPS = int(os.environ.get("BELLWETHER_CONCURRENCY_OPS", "250"))


def _context(database: Database) -> ServiceContext:
    return ServiceContext(
        uow=TortoiseUnitOfWorkFactory(database, RecordingPublisher()),
        clock=ManualClock(START),
        ids=RandomIds(),
        hasher=FakeHasher(),
        settings=Settings(starting_balance_cents=1_000_000, default_fee_bps=25),
        sequencer=AsyncioSequencer(),  # each worker batches its commands on each market
        books=BookCache(),  # and keeps each market's books between its batches
    )


async def _setup(ctx: ServiceContext) -> tuple[list[User], Market, Market]:
    users = [
        await accounts.register(
            ctx, accounts.Registration(f"user{i}", f"user{i}@example.com", "pw-12345678")
        )
        for i in range(USERS)
    ]

    def spec(kind: MarketType) -> MarketSpec:
        return MarketSpec(
            title=f"Will the {kind} market survive the stampede?",
            market_type=kind,
            outcomes=("Yes", "No", "Maybe"),
            closes_at=START + timedelta(days=30),
            liquidity=200.0,
        )

    book = await markets.create_market(ctx, users[0].id, spec(MarketType.ORDER_BOOK))
    lmsr = await markets.create_market(ctx, users[1].id, spec(MarketType.LMSR))
    await _cross_matches(ctx, users, book)
    return users, book, lmsr


async def _cross_matches(ctx: ServiceContext, users: list[User], book: Market) -> None:
    """One merge and one mint before the stampede, so that both are surely in the mix."""
    for user in users[:3]:
        await complete_sets.mint_complete_set(ctx, user.id, book.id, 5)
    for i, (side, price) in enumerate([(Side.SELL, 30)] * 3 + [(Side.BUY, 40)] * 3):
        outcome = book.outcomes[i % 3].id
        command = orders.PlaceOrder(book.id, outcome, side, OrderType.LIMIT, 1, price)
        await orders.place_order(ctx, users[i % 3].id, command)


async def _random_op(
    ctx: ServiceContext, rng: random.Random, user: User, book: Market, lmsr: Market, mine: list[str]
) -> None:
    roll = rng.random()
    if roll < 0.45:
        await _place(ctx, rng, user, book, mine)
    elif roll < 0.55 and mine:
        await orders.cancel_order(ctx, user.id, mine.pop(rng.randrange(len(mine))))
    elif roll < 0.8:
        outcome = rng.choice(lmsr.outcomes).id
        side = rng.choice(list(LmsrSide))
        kind = rng.choice(list(AmountType))
        amount = rng.randint(1, 15) if kind is AmountType.SHARES else rng.randint(50, 2_000)
        await amm.trade(ctx, user.id, amm.LmsrOrder(lmsr.id, side, kind, amount, outcome))
    else:
        market = rng.choice((book, lmsr))
        operation = (
            complete_sets.mint_complete_set if roll < 0.92 else complete_sets.redeem_complete_set
        )
        await operation(ctx, user.id, market.id, rng.randint(1, 8))


async def _place(
    ctx: ServiceContext, rng: random.Random, user: User, book: Market, mine: list[str]
) -> None:
    limit = rng.random() < 0.8
    tif = rng.choice([TimeInForce.GTC, TimeInForce.GTD, TimeInForce.IOC, TimeInForce.FOK])
    if not limit:
        tif = rng.choice([TimeInForce.IOC, TimeInForce.FOK])
    command = orders.PlaceOrder(
        market_id=book.id,
        outcome_id=rng.choice(book.outcomes).id,
        side=rng.choice(list(Side)),
        order_type=OrderType.LIMIT if limit else OrderType.MARKET,
        quantity=rng.randint(1, 12),
        price_cents=rng.randint(20, 70) if limit else None,  # 3 asks at 20-33 merge
        time_in_force=tif,
        expires_at=START + timedelta(days=1) if tif is TimeInForce.GTD else None,
        post_only=limit and tif in (TimeInForce.GTC, TimeInForce.GTD) and rng.random() < 0.1,
        client_order_id=f"k{rng.randrange(40)}" if rng.random() < 0.2 else None,
    )
    order = await orders.place_order(ctx, user.id, command)
    if order.is_resting:
        mine.append(order.id)


async def _trader(
    ctx: ServiceContext, seed: int, user: User, book: Market, lmsr: Market
) -> dict[str, int]:
    rng, mine, outcomes = random.Random(seed), [], defaultdict(int)
    for _ in range(OPS):
        try:
            await _random_op(ctx, rng, user, book, lmsr, mine)
            outcomes["ok"] += 1
        except DomainError as expected:
            outcomes[expected.code] += 1
    return dict(outcomes)


async def _stampede(workers: list[Database]) -> None:
    contexts = [_context(database) for database in workers]
    users, book, lmsr = await _setup(contexts[0])
    results = await asyncio.gather(
        *(
            _trader(contexts[i % len(contexts)], i, users[i % USERS], book, lmsr)
            for i in range(TASKS)
        )
    )
    assert sum(r.get("ok", 0) for r in results) > TASKS * OPS // 3, results
    await _check(workers[0])


async def _check(database: Database) -> None:
    snapshot = await read_snapshot(database)
    assert audit.check(snapshot) == []
    reasons = {entry.reason for entry in snapshot.entries}
    assert {Reason.MINT_MATCH, Reason.MERGE_MATCH, Reason.TRADE} <= reasons, reasons
    token = database.activate()
    try:
        trades = await TradeRecord.filter(is_amm=False).using_db(database.connection())
    finally:
        database.deactivate(token)
    filled: dict[str, int] = defaultdict(int)
    for trade in trades:
        filled[trade.maker_order_id or ""] += trade.quantity
        filled[trade.taker_order_id or ""] += trade.quantity
    assert trades, "the order book never traded"
    for order in snapshot.orders:
        assert order.filled_quantity == filled.get(order.id, 0) <= order.quantity, order
    keys = [(o.user_id, o.client_order_id) for o in snapshot.orders if o.client_order_id]
    assert len(keys) == len(set(keys))


async def test_concurrent_trading_on_sqlite_keeps_money_exact(tmp_path: Path) -> None:
    database = await dbtools.sqlite_database(tmp_path)
    try:
        await _stampede([database])
    finally:
        await database.close()


@pytest.mark.postgres
async def test_two_workers_trading_concurrently_on_postgres_keep_money_exact(
    postgres_url: str,
) -> None:
    first, second = await Database.open(postgres_url), await Database.open(postgres_url)
    try:
        await dbtools.truncate(first)
        await _stampede([first, second])
    finally:
        await first.close()
        await second.close()
