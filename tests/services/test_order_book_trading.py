"""Order-book trading through the services (PRODUCT.md section 4)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import errors
from domain.model import Market, MarketType, OrderStatus, OrderType, Side, TimeInForce, User
from domain.services import complete_sets, markets, orders
from tests.harness import Harness


async def _setup(harness: Harness, fee_bps: int = 0) -> tuple[User, User, Market]:
    maker, taker = await harness.user("maker"), await harness.user("taker")
    market = await harness.market(maker, MarketType.ORDER_BOOK, fee_bps=fee_bps)
    await complete_sets.mint_complete_set(harness.ctx, maker.id, market.id, 100)
    return maker, taker, market


def limit(
    market: Market, side: Side, price: int, qty: int, outcome: int = 0, **kw: object
) -> orders.PlaceOrder:
    """A LIMIT order for ``qty`` shares of outcome ``outcome`` (its index) at ``price``."""
    return orders.PlaceOrder(
        market.id,
        market.outcomes[outcome].id,
        side,
        OrderType.LIMIT,
        qty,
        price,
        **kw,  # type: ignore[arg-type]
    )


def market_order(market: Market, side: Side, qty: int, **kw: object) -> orders.PlaceOrder:
    return orders.PlaceOrder(market.id, market.outcomes[0].id, side, OrderType.MARKET, qty, **kw)  # type: ignore[arg-type]


async def test_resting_sell_reserves_shares_and_a_crossing_buy_trades_at_the_makers_price(
    harness: Harness,
) -> None:
    maker, taker, market = await _setup(harness)
    ask = await orders.place_order(harness.ctx, maker.id, limit(market, Side.SELL, 60, 10))
    assert ask.status is OrderStatus.OPEN
    bid = await orders.place_order(harness.ctx, taker.id, limit(market, Side.BUY, 65, 4))
    assert (bid.status, bid.filled_quantity) == (OrderStatus.FILLED, 4)
    assert (await harness.fetch_user(taker.id)).cash_cents == 100_000 - 240
    assert (await harness.fetch_user(maker.id)).cash_cents == 100_000 - 10_000 + 240
    await harness.assert_invariants()


async def test_resting_buy_reserves_price_times_remaining(harness: Harness) -> None:
    _, taker, market = await _setup(harness)
    bid = await orders.place_order(harness.ctx, taker.id, limit(market, Side.BUY, 40, 25))
    assert bid.reserved_cents == 1000
    user = await harness.fetch_user(taker.id)
    assert (user.cash_cents, user.reserved_cents) == (99_000, 1000)
    await harness.assert_invariants()


async def test_cancelling_releases_the_reservation(harness: Harness) -> None:
    _, taker, market = await _setup(harness)
    bid = await orders.place_order(harness.ctx, taker.id, limit(market, Side.BUY, 40, 25))
    cancelled = await orders.cancel_order(harness.ctx, taker.id, bid.id)
    assert cancelled.status is OrderStatus.CANCELLED
    user = await harness.fetch_user(taker.id)
    assert (user.cash_cents, user.reserved_cents) == (100_000, 0)
    with pytest.raises(errors.OrderNotCancellable):
        await orders.cancel_order(harness.ctx, taker.id, bid.id)
    await harness.assert_invariants()


async def test_only_the_owner_may_cancel(harness: Harness) -> None:
    maker, taker, market = await _setup(harness)
    ask = await orders.place_order(harness.ctx, maker.id, limit(market, Side.SELL, 60, 10))
    with pytest.raises(errors.Forbidden):
        await orders.cancel_order(harness.ctx, taker.id, ask.id)
    with pytest.raises(errors.NotFound):
        await orders.cancel_order(harness.ctx, taker.id, "no-such-order")


async def test_selling_shares_one_does_not_hold_is_insufficient_shares(harness: Harness) -> None:
    _, taker, market = await _setup(harness)
    with pytest.raises(errors.InsufficientShares):
        await orders.place_order(harness.ctx, taker.id, limit(market, Side.SELL, 50, 1))
    await harness.assert_invariants()


async def test_a_buy_beyond_cash_is_insufficient_balance(harness: Harness) -> None:
    _, taker, market = await _setup(harness)
    with pytest.raises(errors.InsufficientBalance):
        await orders.place_order(harness.ctx, taker.id, limit(market, Side.BUY, 99, 2000))


async def test_market_buy_fills_only_what_the_buyer_can_pay_for(harness: Harness) -> None:
    maker, _, market = await _setup(harness)
    await orders.place_order(harness.ctx, maker.id, limit(market, Side.SELL, 50, 100))
    spender = await harness.user("spender")
    await complete_sets.mint_complete_set(harness.ctx, spender.id, market.id, 999)
    # spender now has 100 cents of cash left
    bought = await orders.place_order(harness.ctx, spender.id, market_order(market, Side.BUY, 10))
    assert (bought.filled_quantity, bought.status) == (2, OrderStatus.CANCELLED)
    assert (await harness.fetch_user(spender.id)).cash_cents == 0
    await harness.assert_invariants()


async def test_ioc_remainder_is_cancelled_not_rested(harness: Harness) -> None:
    maker, taker, market = await _setup(harness)
    await orders.place_order(harness.ctx, maker.id, limit(market, Side.SELL, 55, 3))
    ioc = limit(market, Side.BUY, 60, 10, time_in_force=TimeInForce.IOC)
    placed = await orders.place_order(harness.ctx, taker.id, ioc)
    assert (placed.filled_quantity, placed.status, placed.reserved_cents) == (
        3,
        OrderStatus.CANCELLED,
        0,
    )
    assert (await harness.fetch_user(taker.id)).reserved_cents == 0
    await harness.assert_invariants()


async def test_fok_that_cannot_fill_completely_does_nothing(harness: Harness) -> None:
    maker, taker, market = await _setup(harness)
    await orders.place_order(harness.ctx, maker.id, limit(market, Side.SELL, 55, 3))
    fok = limit(market, Side.BUY, 60, 10, time_in_force=TimeInForce.FOK)
    with pytest.raises(errors.PriceLimitExceeded):
        await orders.place_order(harness.ctx, taker.id, fok)
    assert (await harness.fetch_user(taker.id)).cash_cents == 100_000
    await harness.assert_invariants()


async def test_post_only_that_would_take_is_rejected(harness: Harness) -> None:
    maker, taker, market = await _setup(harness)
    await orders.place_order(harness.ctx, maker.id, limit(market, Side.SELL, 55, 3))
    with pytest.raises(errors.PriceLimitExceeded):
        await orders.place_order(
            harness.ctx, taker.id, limit(market, Side.BUY, 55, 1, post_only=True)
        )
    resting = await orders.place_order(
        harness.ctx, taker.id, limit(market, Side.BUY, 54, 1, post_only=True)
    )
    assert resting.status is OrderStatus.OPEN


async def test_self_trade_prevention_cancels_the_users_resting_order(harness: Harness) -> None:
    maker, _, market = await _setup(harness)
    ask = await orders.place_order(harness.ctx, maker.id, limit(market, Side.SELL, 55, 3))
    bid = await orders.place_order(harness.ctx, maker.id, limit(market, Side.BUY, 60, 2))
    assert (bid.filled_quantity, bid.status) == (0, OrderStatus.OPEN)
    async with harness.ctx.uow() as uow:
        stale = await uow.orders.get(ask.id)
    assert stale is not None and stale.status is OrderStatus.CANCELLED
    await harness.assert_invariants()


async def test_gtd_order_expires_and_releases_its_reservation(harness: Harness) -> None:
    _, taker, market = await _setup(harness)
    expires = harness.ctx.clock.now() + timedelta(minutes=5)
    gtd = limit(market, Side.BUY, 40, 10, time_in_force=TimeInForce.GTD, expires_at=expires)
    placed = await orders.place_order(harness.ctx, taker.id, gtd)
    harness.clock.advance(minutes=6)  # type: ignore[attr-defined]
    assert await markets.expire_due_orders(harness.ctx) == 1
    async with harness.ctx.uow() as uow:
        expired = await uow.orders.get(placed.id)
    assert expired is not None and expired.status is OrderStatus.EXPIRED
    assert (await harness.fetch_user(taker.id)).reserved_cents == 0
    await harness.assert_invariants()


async def test_client_order_id_makes_placing_idempotent(harness: Harness) -> None:
    _, taker, market = await _setup(harness)
    first = await orders.place_order(
        harness.ctx, taker.id, limit(market, Side.BUY, 40, 10, client_order_id="k-1")
    )
    again = await orders.place_order(
        harness.ctx, taker.id, limit(market, Side.BUY, 40, 10, client_order_id="k-1")
    )
    assert again.id == first.id
    assert (await harness.fetch_user(taker.id)).reserved_cents == 400


async def test_taker_fee_is_rounded_up_and_goes_to_the_fee_account(harness: Harness) -> None:
    maker, taker, market = await _setup(harness, fee_bps=150)
    await orders.place_order(harness.ctx, maker.id, limit(market, Side.SELL, 33, 3))
    await orders.place_order(harness.ctx, taker.id, limit(market, Side.BUY, 33, 3))
    assert (await harness.fetch_market(market.id)).fees_cents == 2  # ceil(99 * 1.5%)
    assert (await harness.fetch_user(taker.id)).cash_cents == 100_000 - 99 - 2
    await harness.assert_invariants()


async def test_order_book_mid_price_then_last_trade(harness: Harness) -> None:
    maker, taker, market = await _setup(harness)
    await orders.place_order(harness.ctx, maker.id, limit(market, Side.SELL, 60, 1))
    await orders.place_order(harness.ctx, taker.id, limit(market, Side.BUY, 40, 1))
    after = await harness.fetch_market(market.id)
    from domain.markets import current_prices

    assert current_prices(after)[0] == pytest.approx(0.5)
    assert current_prices(after)[1] == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("price", "qty", "error"),
    [(0, 1, errors.InvalidAmount), (100, 1, errors.InvalidAmount), (50, 0, errors.InvalidAmount)],
)
async def test_price_outside_1_to_99_or_bad_quantity_is_invalid_amount(
    harness: Harness, price: int, qty: int, error: type[Exception]
) -> None:
    _, taker, market = await _setup(harness)
    with pytest.raises(error):
        await orders.place_order(harness.ctx, taker.id, limit(market, Side.BUY, price, qty))


async def test_closing_cancels_resting_orders(harness: Harness) -> None:
    maker, taker, market = await _setup(harness)
    await orders.place_order(harness.ctx, taker.id, limit(market, Side.BUY, 40, 10))
    await orders.place_order(harness.ctx, maker.id, limit(market, Side.SELL, 60, 10))
    await markets.close_market(harness.ctx, maker.id, market.id)
    assert (await harness.fetch_user(taker.id)).reserved_cents == 0
    with pytest.raises(errors.MarketClosed):
        await orders.place_order(harness.ctx, taker.id, limit(market, Side.BUY, 40, 10))
    await harness.assert_invariants()


async def test_a_retried_gtd_order_returns_the_first_even_after_it_expired(
    harness: Harness,
) -> None:
    _, taker, market = await _setup(harness)
    expires = harness.ctx.clock.now() + timedelta(minutes=1)
    gtd = limit(
        market, Side.BUY, 40, 5, time_in_force=TimeInForce.GTD, expires_at=expires,
        client_order_id="retry-me",
    )  # fmt: skip
    first = await orders.place_order(harness.ctx, taker.id, gtd)
    harness.clock.advance(minutes=2)  # type: ignore[attr-defined]
    again = await orders.place_order(harness.ctx, taker.id, gtd)
    assert again.id == first.id


@pytest.mark.parametrize("bad", ["nul\x00byte", "bell\x07"])
async def test_control_characters_in_a_client_order_id_are_bad_user_input(
    harness: Harness, bad: str
) -> None:
    _, taker, market = await _setup(harness)
    with pytest.raises(errors.BadUserInput):
        await orders.place_order(
            harness.ctx, taker.id, limit(market, Side.BUY, 40, 1, client_order_id=bad)
        )
