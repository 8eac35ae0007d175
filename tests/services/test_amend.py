"""amendOrder: price and/or total quantity of a resting LIMIT order (PRODUCT.md s. 11)."""

from __future__ import annotations

import pytest

from domain import errors
from domain.model import Order, OrderStatus, Side, Trade
from domain.services import complete_sets, orders
from domain.services.amend import amend_order
from tests.harness import Harness
from tests.services.test_api_keys import reads_of
from tests.services.test_order_book_trading import _setup, limit


async def _two_asks(harness: Harness) -> tuple[str, str, str, str]:
    """The maker's ask of 10 at 60 first, then a second seller's ask of 5 at 60."""
    maker, taker, market = await _setup(harness)
    second = await harness.user("second")
    first = await orders.place_order(harness.ctx, maker.id, limit(market, Side.SELL, 60, 10))
    await complete_sets.mint_complete_set(harness.ctx, second.id, market.id, 5)
    later = await orders.place_order(harness.ctx, second.id, limit(market, Side.SELL, 60, 5))
    return first.id, later.id, taker.id, market.id


async def test_lowering_the_quantity_keeps_the_place_in_the_queue(harness: Harness) -> None:
    first, _, taker, market_id = await _two_asks(harness)
    maker_id = (await orders_of(harness, first)).user_id
    amended = await amend_order(harness.ctx, maker_id, first, quantity=4)
    assert (amended.quantity, amended.status) == (4, OrderStatus.OPEN)
    market = await harness.fetch_market(market_id)
    bought = await orders.place_order(harness.ctx, taker, limit(market, Side.BUY, 60, 4))
    assert [t.maker_order_id for t in await trades_of(harness, bought.id)] == [first]
    assert (await orders_of(harness, first)).status is OrderStatus.FILLED
    await harness.assert_invariants()


async def test_raising_the_quantity_sends_it_to_the_back(harness: Harness) -> None:
    first, later, taker, market_id = await _two_asks(harness)
    maker_id = (await orders_of(harness, first)).user_id
    await amend_order(harness.ctx, maker_id, first, quantity=12)
    market = await harness.fetch_market(market_id)
    bought = await orders.place_order(harness.ctx, taker, limit(market, Side.BUY, 60, 5))
    assert [t.maker_order_id for t in await trades_of(harness, bought.id)] == [later]
    await harness.assert_invariants()


async def test_a_new_price_requeues_trades_on_arrival_and_reserves_to_the_cent(
    harness: Harness,
) -> None:
    maker, taker, market = await _setup(harness)
    bid = await orders.place_order(harness.ctx, taker.id, limit(market, Side.BUY, 40, 10))
    await orders.place_order(harness.ctx, maker.id, limit(market, Side.SELL, 50, 5))
    amended = await amend_order(harness.ctx, taker.id, bid.id, price_cents=55)
    assert (amended.price_cents, amended.filled_quantity) == (55, 5)
    assert (amended.status, amended.reserved_cents) == (OrderStatus.PARTIALLY_FILLED, 5 * 55)
    user = await harness.fetch_user(taker.id)
    assert (user.cash_cents, user.reserved_cents) == (100_000 - 5 * 50 - 5 * 55, 5 * 55)
    await harness.assert_invariants()


async def test_a_partly_filled_order_amends_its_total_quantity(harness: Harness) -> None:
    maker, taker, market = await _setup(harness)
    bid = await orders.place_order(harness.ctx, taker.id, limit(market, Side.BUY, 40, 10))
    await orders.place_order(harness.ctx, maker.id, limit(market, Side.SELL, 40, 4))
    with pytest.raises(errors.InvalidAmount):
        await amend_order(harness.ctx, taker.id, bid.id, quantity=4)
    amended = await amend_order(harness.ctx, taker.id, bid.id, quantity=6)
    assert (amended.filled_quantity, amended.remaining_quantity) == (4, 2)
    assert (amended.status, amended.reserved_cents) == (OrderStatus.PARTIALLY_FILLED, 80)
    more = await amend_order(harness.ctx, taker.id, bid.id, price_cents=41, quantity=20)
    assert (more.remaining_quantity, more.reserved_cents) == (16, 16 * 41)
    assert (await harness.fetch_user(taker.id)).reserved_cents == 16 * 41
    await harness.assert_invariants()


async def test_post_only_still_applies_and_a_refused_amend_changes_nothing(
    harness: Harness,
) -> None:
    maker, taker, market = await _setup(harness)
    bid = await orders.place_order(
        harness.ctx, taker.id, limit(market, Side.BUY, 40, 10, post_only=True)
    )
    await orders.place_order(harness.ctx, maker.id, limit(market, Side.SELL, 50, 5))
    before = await harness.stored()
    with pytest.raises(errors.PriceLimitExceeded):
        await amend_order(harness.ctx, taker.id, bid.id, price_cents=50)
    with pytest.raises(errors.InsufficientBalance):
        await amend_order(harness.ctx, taker.id, bid.id, quantity=100_000)
    assert await harness.stored() == before


async def test_amend_errors(harness: Harness) -> None:
    maker, taker, market = await _setup(harness)
    bid = await orders.place_order(harness.ctx, taker.id, limit(market, Side.BUY, 40, 10))
    with pytest.raises(errors.Forbidden):
        await amend_order(harness.ctx, maker.id, bid.id, quantity=5)
    with pytest.raises(errors.NotFound):
        await amend_order(harness.ctx, taker.id, "nope", quantity=5)
    with pytest.raises(errors.BadUserInput):
        await amend_order(harness.ctx, taker.id, bid.id)
    with pytest.raises(errors.InvalidAmount):
        await amend_order(harness.ctx, taker.id, bid.id, price_cents=100)
    with pytest.raises(errors.InvalidAmount):
        await amend_order(harness.ctx, taker.id, bid.id, quantity=0)
    await orders.cancel_order(harness.ctx, taker.id, bid.id)
    with pytest.raises(errors.OrderNotCancellable, match="cancelled"):
        await amend_order(harness.ctx, taker.id, bid.id, quantity=5)
    ask = await orders.place_order(harness.ctx, maker.id, limit(market, Side.SELL, 50, 1))
    await orders.place_order(harness.ctx, taker.id, limit(market, Side.BUY, 50, 1))
    with pytest.raises(errors.OrderNotCancellable, match="filled"):
        await amend_order(harness.ctx, maker.id, ask.id, quantity=5)
    await harness.assert_invariants()


async def orders_of(harness: Harness, order_id: str) -> Order:
    async with harness.ctx.uow() as uow:
        found = await uow.orders.get(order_id)
    assert found is not None
    return found


async def trades_of(harness: Harness, order_id: str) -> list[Trade]:
    return (await reads_of(harness).trades_for_orders([order_id])).get(order_id, [])
