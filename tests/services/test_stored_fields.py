"""What a save may change is the table description's business, the same on every
backend: a mutable field is stored, a fixed one (an order's side, say) is refused."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.model import MarketType, Order, OrderType, Side, TimeInForce
from persistence.tables import FixedFieldChanged
from tests.harness import START, Harness


async def _stored_order(harness: Harness) -> Order:
    alice = await harness.user("alice")
    market = await harness.market(alice, MarketType.ORDER_BOOK)
    order = Order(
        "o" * 32, alice.id, market.id, market.outcomes[0].id, Side.BUY, OrderType.LIMIT,
        TimeInForce.GTC, 40, 10, START, 1,
    )  # fmt: skip
    async with harness.ctx.uow() as uow:
        await uow.orders.add(order)
        await uow.commit()
    return order


@pytest.mark.parametrize(
    "change", [{"side": Side.SELL}, {"outcome_id": "x" * 32}, {"post_only": True}]
)
async def test_a_save_that_changes_a_fixed_order_field_is_refused(
    harness: Harness, change: dict[str, object]
) -> None:
    order = await _stored_order(harness)
    async with harness.ctx.uow() as uow:
        loaded = await uow.orders.get(order.id)
        assert loaded is not None
        with pytest.raises(FixedFieldChanged, match=next(iter(change))):
            await uow.orders.save_many([replace(loaded, **change)])  # type: ignore[arg-type]


async def test_a_save_that_changes_a_fixed_market_field_is_refused(harness: Harness) -> None:
    alice = await harness.user("alice")
    market = await harness.market(alice, MarketType.ORDER_BOOK)
    async with harness.ctx.uow() as uow:
        loaded = await uow.markets.get(market.id)
        assert loaded is not None
        loaded.outcomes[0].name = "renamed"
        with pytest.raises(FixedFieldChanged, match="name"):
            await uow.markets.save(loaded)


async def test_a_mutable_order_field_is_stored(harness: Harness) -> None:
    order = await _stored_order(harness)
    async with harness.ctx.uow() as uow:
        loaded = await uow.orders.get(order.id)
        assert loaded is not None
        await uow.orders.save_many([replace(loaded, filled_quantity=3, reserved_cents=280)])
        await uow.commit()
    async with harness.ctx.uow() as uow:
        assert await uow.orders.get(order.id) == replace(
            order, filled_quantity=3, reserved_cents=280
        )
