"""Migration 0005's backfill: markets resolved before payout vectors existed get theirs
(100 to the winner, 0 to the rest), on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib

from domain import audit
from domain.model import AmountType, LmsrSide
from domain.services import amm, resolution
from persistence.tortoise.database import Database
from persistence.tortoise.snapshot import read_snapshot
from tests import dbtools
from tests.harness import Harness

MIGRATION = importlib.import_module("persistence.migrations.0005_resolution")


async def test_backfill_gives_old_resolved_markets_their_payout_vector(
    harness: Harness, database: Database
) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    old, still_open = await harness.market(alice), await harness.market(alice)
    buy = amm.LmsrOrder(old.id, LmsrSide.BUY_YES, AmountType.SHARES, 5)
    await amm.trade(harness.ctx, bob.id, buy)
    await resolution.resolve_market(harness.ctx, alice.id, old.id, old.outcomes[1].id)
    # As a market resolved before migration 0005 was stored: no payouts, no settlements.
    await dbtools.execute_script(database, "UPDATE outcomes SET payout_cents = NULL")
    await dbtools.execute_script(database, "DELETE FROM settlements")
    assert audit.check(await read_snapshot(database)) != []
    await dbtools.execute_script(database, MIGRATION.BACKFILL_PAYOUTS)
    snapshot = await read_snapshot(database)
    markets = {m.id: m for m in snapshot.markets}
    assert markets[old.id].payouts == (0, 100)
    assert markets[still_open.id].payouts is None
    assert audit.check(snapshot) == []
