"""Hybrid markets: limit orders on an LMSR market beside its market maker
(PRODUCT.md section 10, "Hybrid markets")."""

from __future__ import annotations

from domain.model import Market, OrderStatus, OrderType, Side, User
from domain.services import orders
from domain.services.books import book_of
from tests.harness import Harness


def limit(
    market: Market, side: Side, price: int, qty: int, outcome: int = 0, **kw: object
) -> orders.PlaceOrder:
    return orders.PlaceOrder(
        market.id,
        market.outcomes[outcome].id,
        side,
        OrderType.LIMIT,
        qty,
        price,
        **kw,  # type: ignore[arg-type]
    )


async def _lmsr(harness: Harness, **kw: object) -> tuple[User, User, Market]:
    creator, trader = await harness.user("creator"), await harness.user("trader")
    return creator, trader, await harness.market(creator, **kw)  # type: ignore[arg-type]


async def test_a_limit_bid_below_the_makers_price_rests_with_its_reservation(
    harness: Harness,
) -> None:
    _, trader, market = await _lmsr(harness)
    bid = await orders.place_order(harness.ctx, trader.id, limit(market, Side.BUY, 30, 10))
    assert (bid.status, bid.reserved_cents) == (OrderStatus.OPEN, 300)
    resting = await harness.ctx.read_model.resting_orders(market.id)
    bids, asks = book_of(market, resting).depth(market.outcomes[0].id, 10)
    assert [(level.price_cents, level.quantity) for level in bids] == [(30, 10)]
    assert asks == []
    await harness.assert_invariants()


async def test_a_resting_order_on_an_lmsr_market_cancels_and_releases(harness: Harness) -> None:
    _, trader, market = await _lmsr(harness)
    bid = await orders.place_order(harness.ctx, trader.id, limit(market, Side.BUY, 30, 10))
    cancelled = await orders.cancel_order(harness.ctx, trader.id, bid.id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert (await harness.fetch_user(trader.id)).reserved_cents == 0
    await harness.assert_invariants()
