"""Hybrid markets: limit orders on an LMSR market beside its market maker
(PRODUCT.md section 10, "Hybrid markets")."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import errors
from domain.model import (
    AmountType,
    LmsrSide,
    Market,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    User,
)
from domain.services import accounts, amend, amm, complete_sets, markets, order_batches, orders
from domain.services.books import book_of
from tests.harness import Harness
from tests.services.test_order_book_trading import limit


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


def buy_yes(market: Market, amount: int, **kw: object) -> amm.LmsrOrder:
    return amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, amount, **kw)  # type: ignore[arg-type]


async def _with_ask(
    harness: Harness, price: int, qty: int, fee_bps: int = 0
) -> tuple[User, Market]:
    """A fresh binary LMSR market (b = 100: the first YES share costs 50.125 cents) whose
    YES book holds a seller's ask; returns the trader and the market."""
    _, trader, market = await _lmsr(harness, fee_bps=fee_bps)
    seller = await harness.user("seller")
    await complete_sets.mint_complete_set(harness.ctx, seller.id, market.id, 100)
    await orders.place_order(harness.ctx, seller.id, limit(market, Side.SELL, price, qty))
    return trader, market


def split(quote: amm.LmsrQuote) -> tuple[int, int, int, int, int]:
    """(maker shares, maker cents, book shares, book cents, trader cents)."""
    return (
        quote.maker_shares, quote.maker_cents, quote.book_shares, quote.book_cents,
        quote.trader_cents,
    )  # fmt: skip


async def test_a_buy_takes_a_cheaper_resting_ask_instead_of_the_maker(harness: Harness) -> None:
    # The maker sells at 50.125 and buys at 49.875: an ask at 50 rests, and is cheaper.
    trader, market = await _with_ask(harness, 50, 10)
    result = await amm.trade(harness.ctx, trader.id, buy_yes(market, 10))
    assert split(result.quote) == (0, 0, 10, 500, 500)
    assert (result.trade.is_amm, result.trade.price_cents) == (False, 50)
    assert result.prices == (0.5, 0.5)  # the maker's prices: it did not trade
    assert (await harness.fetch_user(trader.id)).cash_cents == 100_000 - 500
    await harness.assert_invariants()


async def test_a_buy_goes_to_the_maker_when_every_resting_ask_is_dearer(harness: Harness) -> None:
    trader, market = await _with_ask(harness, 60, 10)
    result = await amm.trade(harness.ctx, trader.id, buy_yes(market, 10))
    assert split(result.quote) == (10, 513, 0, 0, 513)
    assert result.trade.is_amm
    await harness.assert_invariants()


async def test_a_buy_splits_share_by_share_between_maker_and_ask(harness: Harness) -> None:
    # The maker's 9th share would cost 52.12 cents: the ask at 52 is cheaper from there.
    trader, market = await _with_ask(harness, 52, 5)
    result = await amm.trade(harness.ctx, trader.id, buy_yes(market, 10))
    assert split(result.quote) == (8, 408, 2, 104, 512)
    assert (result.position_yes, result.quote.shares) == (10, 10)
    stored = await harness.fetch_market(market.id)
    assert [o.amm_shares for o in stored.outcomes] == [8, 0]
    await harness.assert_invariants()


async def test_spend_buys_the_most_whole_shares_across_both(harness: Harness) -> None:
    trader, market = await _with_ask(harness, 52, 5)
    order = amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SPEND, 1000)
    result = await amm.trade(harness.ctx, trader.id, order)
    assert split(result.quote) == (14, 725, 5, 260, 985)  # the maker alone: 19 for 996
    await harness.assert_invariants()


async def test_limit_cents_applies_to_the_whole_and_changes_nothing(harness: Harness) -> None:
    trader, market = await _with_ask(harness, 52, 5)
    before = await harness.stored()
    with pytest.raises(errors.PriceLimitExceeded):
        await amm.trade(harness.ctx, trader.id, buy_yes(market, 10, limit_cents=511))
    assert await harness.stored() == before
    result = await amm.trade(harness.ctx, trader.id, buy_yes(market, 10, limit_cents=512))
    assert result.quote.trader_cents == 512


async def test_fees_the_lmsr_fee_on_the_makers_part_the_taker_fee_on_the_books(
    harness: Harness,
) -> None:
    trader, market = await _with_ask(harness, 52, 5, fee_bps=100)
    result = await amm.trade(harness.ctx, trader.id, buy_yes(market, 10))
    # maker 408 + ceil(4.08) = 413; book 104 + ceil(1.04) = 106
    assert (result.quote.fee_cents, result.quote.trader_cents) == (7, 519)
    assert (await harness.fetch_market(market.id)).fees_cents == 7
    await harness.assert_invariants()


async def test_the_quote_is_exactly_what_the_trade_does(harness: Harness) -> None:
    trader, market = await _with_ask(harness, 52, 5, fee_bps=50)
    order = amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SPEND, 2000)
    quote = await amm.quote(harness.ctx, order, trader.id)
    done = await amm.trade(harness.ctx, trader.id, order)
    fields = ("shares", "trader_cents", "fee_cents", "maker_shares", "maker_cents")
    fields += ("book_shares", "book_cents", "prices_after")
    assert [getattr(quote, f) for f in fields] == [getattr(done.quote, f) for f in fields]


async def test_binary_buy_no_takes_a_yes_bid_as_a_no_ask(harness: Harness) -> None:
    _, trader, market = await _lmsr(harness)
    bidder = await harness.user("bidder")
    bid = await orders.place_order(harness.ctx, bidder.id, limit(market, Side.BUY, 50, 5))
    assert bid.status is OrderStatus.OPEN  # the maker's next YES share costs 50.125
    order = amm.LmsrOrder(market.id, LmsrSide.BUY_NO, AmountType.SHARES, 5)
    result = await amm.trade(harness.ctx, trader.id, order)
    # The YES bid at 50 is a NO ask at 50, cheaper than the maker's NO at 50.125: a mint.
    assert split(result.quote) == (0, 0, 5, 250, 250)
    assert (result.position_yes, result.position_no) == (0, 5)
    assert (await harness.fetch_user(bidder.id)).reserved_cents == 0
    await harness.assert_invariants()


async def test_a_limit_buy_above_the_makers_price_is_filled_by_the_maker(
    harness: Harness,
) -> None:
    _, trader, market = await _lmsr(harness)
    order = await orders.place_order(harness.ctx, trader.id, limit(market, Side.BUY, 55, 30))
    # Each of the maker's first 20 shares costs at most 55 cents; the rest rests.
    assert (order.filled_quantity, order.status, order.reserved_cents) == (
        20, OrderStatus.PARTIALLY_FILLED, 10 * 55,
    )  # fmt: skip
    assert (await harness.fetch_user(trader.id)).cash_cents == 100_000 - 1050 - 550
    await harness.assert_invariants()


async def test_a_market_order_routes_like_an_lmsr_trade(harness: Harness) -> None:
    trader, market = await _with_ask(harness, 52, 5)
    command = orders.PlaceOrder(market.id, market.outcomes[0].id, Side.BUY, OrderType.MARKET, 10)
    order = await orders.place_order(harness.ctx, trader.id, command)
    assert (order.status, order.filled_quantity) == (OrderStatus.FILLED, 10)
    assert (await harness.fetch_user(trader.id)).cash_cents == 100_000 - 512
    await harness.assert_invariants()


async def test_a_post_only_order_that_the_maker_would_fill_is_rejected(harness: Harness) -> None:
    _, trader, market = await _lmsr(harness)
    with pytest.raises(errors.PriceLimitExceeded):
        await orders.place_order(
            harness.ctx, trader.id, limit(market, Side.BUY, 55, 5, post_only=True)
        )
    await harness.assert_invariants()


async def test_a_resting_bid_the_makers_price_crosses_is_filled_by_the_maker(
    harness: Harness,
) -> None:
    _, trader, market = await _lmsr(harness, outcomes=("Red", "Green", "Blue"))
    bidder = await harness.user("bidder")
    bid = await orders.place_order(harness.ctx, bidder.id, limit(market, Side.BUY, 30, 10))
    assert bid.status is OrderStatus.OPEN  # Red's first share costs 33.4 cents
    # NO on Red among three outcomes is the maker's alone; it lowers Red's price.
    order = amm.LmsrOrder(market.id, LmsrSide.BUY_NO, AmountType.SHARES, 40)
    await amm.trade(harness.ctx, trader.id, order)
    resting = await harness.ctx.read_model.resting_orders(market.id)
    assert resting == []
    user = await harness.fetch_user(bidder.id)
    # The maker sold all 10 for 261 cents (not 300): the rest of the reservation is back.
    assert (user.cash_cents, user.reserved_cents) == (100_000 - 261, 0)
    page = await harness.ctx.read_model.trades_page(bidder.id, market.id, 10, None)
    assert [(t.quantity, t.notional_cents, t.is_amm) for t in page.items] == [(10, 261, True)]
    await harness.assert_invariants()


async def test_a_resting_ask_the_makers_price_crosses_sells_to_the_maker(
    harness: Harness,
) -> None:
    _, trader, market = await _lmsr(harness)
    seller, admin = await harness.user("seller"), await harness.user("admin", admin=True)
    await complete_sets.mint_complete_set(harness.ctx, seller.id, market.id, 10)
    await orders.place_order(harness.ctx, seller.id, limit(market, Side.SELL, 60, 10))
    await accounts.grant_bonus(harness.ctx, admin.id, trader.id, 5000)
    order = buy_yes(market, 50, use_bonus=True)  # bonus pays the maker only
    result = await amm.trade(harness.ctx, trader.id, order)
    assert result.quote.book_shares == 0
    # YES at 62 %: the maker pays at least 60 for each of 9 shares, 550 cents in all.
    ask = (await harness.ctx.read_model.resting_orders(market.id))[0]
    assert (ask.filled_quantity, ask.remaining_quantity) == (9, 1)
    assert (await harness.fetch_user(seller.id)).cash_cents == 100_000 - 1000 + 550
    await harness.assert_invariants()


async def test_an_order_amended_across_the_makers_price_is_filled_by_the_maker(
    harness: Harness,
) -> None:
    _, trader, market = await _lmsr(harness)
    bid = await orders.place_order(harness.ctx, trader.id, limit(market, Side.BUY, 40, 10))
    amended = await amend.amend_order(harness.ctx, trader.id, bid.id, price_cents=55)
    # The maker's first 10 shares cost 513 cents, each at most 55: filled, 37 released.
    assert (amended.status, amended.filled_quantity, amended.reserved_cents) == (
        OrderStatus.FILLED, 10, 0,
    )  # fmt: skip
    assert (await harness.fetch_user(trader.id)).cash_cents == 100_000 - 513
    await harness.assert_invariants()


async def test_a_sale_takes_a_resting_bid_above_the_makers_payout(harness: Harness) -> None:
    _, seller, market = await _lmsr(harness)
    bidder = await harness.user("bidder")
    await complete_sets.mint_complete_set(harness.ctx, seller.id, market.id, 10)
    await orders.place_order(harness.ctx, bidder.id, limit(market, Side.BUY, 50, 3))
    order = amm.LmsrOrder(market.id, LmsrSide.SELL_YES, AmountType.SHARES, 7)
    result = await amm.trade(harness.ctx, seller.id, order)
    # The maker pays 49.875 for the first share: the bid's 50 is better for 3, then the maker.
    assert split(result.quote) == (4, 198, 3, 150, 348)
    assert (result.position_yes, result.position_no) == (3, 10)
    await harness.assert_invariants()


async def test_selling_more_than_is_held_across_book_and_maker_changes_nothing(
    harness: Harness,
) -> None:
    _, seller, market = await _lmsr(harness)
    bidder = await harness.user("bidder")
    await complete_sets.mint_complete_set(harness.ctx, seller.id, market.id, 5)
    await orders.place_order(harness.ctx, bidder.id, limit(market, Side.BUY, 50, 3))
    before = await harness.stored()
    order = amm.LmsrOrder(market.id, LmsrSide.SELL_YES, AmountType.SHARES, 7)
    with pytest.raises(errors.InsufficientShares):
        await amm.trade(harness.ctx, seller.id, order)
    assert await harness.stored() == before


async def test_a_batch_places_on_an_lmsr_market_and_the_maker_fills_what_it_crosses(
    harness: Harness,
) -> None:
    _, trader, market = await _lmsr(harness)
    results = await order_batches.place_orders(
        harness.ctx,
        trader.id,
        [limit(market, Side.BUY, 30, 5), limit(market, Side.BUY, 55, 10)],
    )
    placed = [item.order for item in results]
    assert [(o.status, o.filled_quantity) for o in placed if o is not None] == [
        (OrderStatus.OPEN, 0), (OrderStatus.FILLED, 10),
    ]  # fmt: skip
    await harness.assert_invariants()


async def test_a_gtd_order_on_an_lmsr_market_expires_and_releases(harness: Harness) -> None:
    _, trader, market = await _lmsr(harness)
    expires = harness.ctx.clock.now() + timedelta(minutes=1)
    command = limit(market, Side.BUY, 30, 5, time_in_force=TimeInForce.GTD, expires_at=expires)
    await orders.place_order(harness.ctx, trader.id, command)
    harness.clock.advance(seconds=120)  # type: ignore[attr-defined]
    assert await markets.expire_due_orders(harness.ctx) == 1
    assert (await harness.fetch_user(trader.id)).reserved_cents == 0
    await harness.assert_invariants()
