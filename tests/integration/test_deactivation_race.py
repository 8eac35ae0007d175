"""A user deactivated while one of their orders is being placed on another worker
ends with no resting order: the deactivation waits for the placement, then cancels."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from domain import audit
from domain.model import MarketType, OrderType, Side
from domain.services import accounts, complete_sets, orders
from persistence.tortoise.database import Database
from persistence.tortoise.snapshot import read_snapshot
from tests import dbtools

pytestmark = pytest.mark.postgres


async def test_deactivation_during_a_placement_leaves_no_resting_order(postgres_url: str) -> None:
    placer_db, admin_db = await Database.open(postgres_url), await Database.open(postgres_url)
    try:
        await dbtools.truncate(placer_db)
        harness = dbtools.database_harness(admin_db)
        admin, bob = await harness.user("root", admin=True), await harness.user("bob")
        market = await harness.market(admin, MarketType.ORDER_BOOK)
        await complete_sets.mint_complete_set(harness.ctx, bob.id, market.id, 10)
        placer = replace(harness.ctx, uow=dbtools.SlowCommit(placer_db, harness.bus))  # type: ignore[attr-defined]
        # a SELL moves no cash: only the actor's row lock makes the deactivation wait
        order = orders.PlaceOrder(
            market.id, market.outcomes[0].id, Side.SELL, OrderType.LIMIT, 10, 60
        )

        async def deactivate_soon() -> None:
            await asyncio.sleep(0.2)
            await accounts.deactivate_user(harness.ctx, admin.id, bob.id)

        placed, _ = await asyncio.gather(
            orders.place_order(placer, bob.id, order), deactivate_soon()
        )
        assert placed.is_resting  # as the placement saw it when it committed
        snapshot = await read_snapshot(admin_db)
        assert [o.id for o in snapshot.orders if o.is_resting] == []
        assert audit.check(snapshot) == []
    finally:
        await placer_db.close()
        await admin_db.close()
