"""Two workers' sweepers finalizing the same proposals pay each exactly once (PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest

from domain import audit
from domain.ledger import Reason
from domain.model import AmountType, LmsrSide, MarketStatus
from domain.services import amm, resolution
from domain.services.context import ServiceContext
from persistence.memory import RecordingPublisher
from persistence.system import RandomIds
from persistence.tortoise.database import Database
from persistence.tortoise.snapshot import read_snapshot
from persistence.tortoise.unit_of_work import TortoiseUnitOfWorkFactory
from tests import dbtools
from tests.harness import FakeHasher

MARKETS = 4


@pytest.mark.postgres
async def test_two_workers_sweeping_at_once_finalize_each_proposal_exactly_once(
    postgres_url: str,
) -> None:
    first, second = await Database.open(postgres_url), await Database.open(postgres_url)
    try:
        await dbtools.truncate(first)
        harness = dbtools.database_harness(first)
        other = ServiceContext(
            uow=TortoiseUnitOfWorkFactory(second, RecordingPublisher()),
            clock=harness.ctx.clock,
            ids=RandomIds(),
            hasher=FakeHasher(),
        )
        alice, bob = await harness.user("alice"), await harness.user("bob")
        for _ in range(MARKETS):
            market = await harness.market(alice, dispute_window_seconds=60)
            buy = amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, 10)
            await amm.trade(harness.ctx, bob.id, buy)
            await resolution.resolve_market(harness.ctx, alice.id, market.id, market.outcomes[0].id)
        harness.clock.advance(seconds=60)  # type: ignore[attr-defined]
        sweeps = [resolution.finalize_due_resolutions(c) for c in (harness.ctx, other) * 3]
        assert sum(await asyncio.gather(*sweeps)) == MARKETS
        snapshot = await read_snapshot(first)
        assert {m.status for m in snapshot.markets} == {MarketStatus.RESOLVED}
        paid = [e.amount_cents for e in snapshot.entries if e.reason is Reason.PAYOUT]
        assert paid == [1000] * MARKETS
        assert audit.check(snapshot) == []
    finally:
        await first.close()
        await second.close()
