"""A batch locks its market and reads its actors' users and positions in one statement
(``get_for_update_holding``); that statement's snapshot is older than its lock. These
tests hold the lock in another transaction that writes and commits while the batch
waits: the batch must still see what it committed, or money is created or lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import pytest

from domain import audit
from domain.model import AmountType, LmsrSide, Market, User
from domain.services import amm
from domain.services.books import BookCache
from domain.services.work import Work
from persistence.sequencer import AsyncioSequencer
from persistence.tortoise.database import Database
from persistence.tortoise.snapshot import read_snapshot
from persistence.tortoise.sql import Statement
from persistence.tortoise.unit_of_work import TortoiseUnitOfWorkFactory
from tests import dbtools
from tests.harness import Harness

pytestmark = pytest.mark.postgres

_VERSION = Statement("SELECT xmin::text FROM markets WHERE id = $1")


@dataclass
class Scene:
    """Bob holds 5 shares of an LMSR market; ``harness`` runs on ``reader``, and
    ``writer`` is a second connection pool to the same database (another worker)."""

    harness: Harness
    reader: Database
    writer: Database
    bob: User
    market: Market


@pytest.fixture
async def scene(postgres_url: str) -> AsyncIterator[Scene]:
    reader, writer = await Database.open(postgres_url), await Database.open(postgres_url)
    try:
        await dbtools.truncate(reader)
        harness = dbtools.database_harness(reader)
        creator, bob = await harness.user("carol"), await harness.user("bob")
        market = await harness.market(creator)
        await amm.trade(harness.ctx, bob.id, _buy(market, 5))
        yield Scene(harness, reader, writer, bob, market)
    finally:
        await reader.close()
        await writer.close()


def _buy(market: Market, shares: int) -> amm.LmsrOrder:
    return amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, shares)


async def test_a_batch_that_waited_for_its_market_sees_the_shares_committed_meanwhile(
    scene: Scene,
) -> None:
    ctx, bob, market = scene.harness.ctx, scene.bob, scene.market
    bus = scene.harness.bus  # type: ignore[attr-defined]
    writer = replace(
        ctx,
        uow=dbtools.SlowCommit(scene.writer, bus),  # type: ignore[arg-type]
        sequencer=AsyncioSequencer(),
        books=BookCache(),
    )

    async def buy_while_the_writer_holds_the_market() -> amm.LmsrTradeResult:
        await asyncio.sleep(0.2)
        return await amm.trade(ctx, bob.id, _buy(market, 1))

    await asyncio.gather(
        amm.trade(writer, bob.id, _buy(market, 5)), buy_while_the_writer_holds_the_market()
    )
    snapshot = await read_snapshot(scene.reader)
    yes = (bob.id, market.outcomes[0].id)
    held = [p.shares for p in snapshot.positions if (p.user_id, p.outcome_id) == yes]
    assert held == [11]  # 5, then the writer's 5, then the waiting 1
    assert audit.check(snapshot) == []


async def test_holders_come_with_the_lock_unless_someone_committed_under_it_meanwhile(
    scene: Scene,
) -> None:
    bus = scene.harness.bus  # type: ignore[attr-defined]
    readers = TortoiseUnitOfWorkFactory(scene.reader, bus)
    writers = TortoiseUnitOfWorkFactory(scene.writer, bus)

    async def lock_holding() -> bool:
        async with readers() as uow:
            found = await uow.markets.get_for_update_holding(scene.market.id, [scene.bob.id])
            assert found is not None and found[0].id == scene.market.id
            return found[1] is not None

    assert await lock_holding()  # no one else: one statement
    for commit in (True, False):
        async with writers() as writer:
            assert await writer.markets.get_for_update(scene.market.id) is not None
            waiting = asyncio.create_task(lock_holding())
            await asyncio.sleep(0.2)
            assert not waiting.done()
            if commit:
                await writer.commit()  # wrote nothing but the lock's mark on the market row
        # committed: the holders may be stale, read again after the lock; rolled back:
        # nothing changed, they are as current as after the lock
        assert await waiting is not commit


async def test_every_transaction_that_locks_a_market_leaves_a_new_version_of_its_row(
    scene: Scene,
) -> None:
    """What ``get_for_update_holding`` relies on: a transaction that held the lock and
    committed is seen in the market row, whatever it wrote (here nothing)."""
    ctx = scene.harness.ctx

    async def version() -> object:
        async with ctx.uow() as uow:
            return (await uow.sql.fetch(_VERSION, (scene.market.id,)))[0][0]  # type: ignore[attr-defined]

    before = await version()
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        await work.market(scene.market.id)
        await work.commit()
    assert await version() != before
