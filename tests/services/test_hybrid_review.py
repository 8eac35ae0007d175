"""Hybrid markets under review: the edges of routing, crossing and settlement that the
first tests did not reach (issue 16; PRODUCT.md sections 4, 5 and 10)."""

from __future__ import annotations

import pytest

from domain import errors
from domain.model import Market, OrderStatus, Side, TimeInForce, User
from domain.services import amend, complete_sets, orders
from tests.harness import Harness
from tests.services.test_hybrid_markets import limit


async def _market(harness: Harness, **kw: object) -> tuple[User, Market]:
    creator, trader = await harness.user("creator"), await harness.user("trader")
    return trader, await harness.market(creator, **kw)  # type: ignore[arg-type]


async def _spent_and_fees(harness: Harness, user: User, market: Market) -> tuple[int, int]:
    cash = (await harness.fetch_user(user.id)).cash_cents
    return 100_000 - cash, (await harness.fetch_market(market.id)).fees_cents


async def test_a_resting_limit_order_the_maker_fills_completely_is_filled_not_cancelled(
    harness: Harness,
) -> None:
    trader, market = await _market(harness)
    order = await orders.place_order(harness.ctx, trader.id, limit(market, Side.BUY, 60, 10))
    assert (order.status, order.filled_quantity, order.reserved_cents) == (
        OrderStatus.FILLED, 10, 0,
    )  # fmt: skip
    await harness.assert_invariants()


async def test_an_order_amended_across_the_makers_price_pays_the_makers_fee(
    harness: Harness,
) -> None:
    trader, market = await _market(harness, fee_bps=1000)
    bid = await orders.place_order(harness.ctx, trader.id, limit(market, Side.BUY, 30, 10))
    amended = await amend.amend_order(harness.ctx, trader.id, bid.id, price_cents=60)
    assert (amended.status, amended.filled_quantity) == (OrderStatus.FILLED, 10)
    # The maker's 10 shares cost 513 cents, and a taker pays 10 % on them: 52 cents.
    assert await _spent_and_fees(harness, trader, market) == (565, 52)
    await harness.assert_invariants()


async def test_an_amended_order_takes_the_cheaper_of_maker_and_resting_ask(
    harness: Harness,
) -> None:
    trader, market = await _market(harness)
    seller = await harness.user("seller")
    await complete_sets.mint_complete_set(harness.ctx, seller.id, market.id, 10)
    await orders.place_order(harness.ctx, seller.id, limit(market, Side.SELL, 54, 10))
    bid = await orders.place_order(harness.ctx, trader.id, limit(market, Side.BUY, 30, 10))
    amended = await amend.amend_order(harness.ctx, trader.id, bid.id, price_cents=55)
    # The maker's first 10 shares (513 cents) are each cheaper than the ask at 54.
    assert (amended.status, amended.filled_quantity) == (OrderStatus.FILLED, 10)
    assert await _spent_and_fees(harness, trader, market) == (513, 0)
    [ask] = await harness.ctx.read_model.resting_orders(market.id)
    assert ask.filled_quantity == 0
    await harness.assert_invariants()


async def test_a_post_only_order_amended_across_the_makers_price_is_refused(
    harness: Harness,
) -> None:
    trader, market = await _market(harness)
    bid = await orders.place_order(
        harness.ctx, trader.id, limit(market, Side.BUY, 30, 10, post_only=True)
    )
    before = await harness.stored()
    with pytest.raises(errors.PriceLimitExceeded):
        await amend.amend_order(harness.ctx, trader.id, bid.id, price_cents=60)
    assert await harness.stored() == before


async def test_an_ioc_order_the_maker_fills_completely_is_filled(harness: Harness) -> None:
    trader, market = await _market(harness)
    command = limit(market, Side.BUY, 60, 10, time_in_force=TimeInForce.IOC)
    order = await orders.place_order(harness.ctx, trader.id, command)
    assert (order.status, order.filled_quantity) == (OrderStatus.FILLED, 10)
    await harness.assert_invariants()
