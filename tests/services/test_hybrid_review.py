"""Hybrid markets under review: the edges of routing, crossing and settlement that the
first tests did not reach (issue 16; PRODUCT.md sections 4, 5 and 10)."""

from __future__ import annotations

import pytest

from domain import errors
from domain.model import (
    AmountType,
    LmsrSide,
    Market,
    MarketType,
    OrderStatus,
    Side,
    TimeInForce,
    User,
)
from domain.services import (
    accounts,
    amend,
    amm,
    complete_sets,
    markets,
    order_batches,
    orders,
    resolution,
)
from tests.harness import Harness
from tests.services.test_hybrid_markets import _with_ask, buy_yes
from tests.services.test_order_book_trading import limit


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
    trader, market = await _with_ask(harness, 54, 10)
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


async def _own_ask_then(harness: Harness, price: int) -> tuple[User, Market, str]:
    """A binary market (b = 100) where the trader holds 10 sets and offers 10 YES at
    ``price``; returns the trader, the market and the ask's id."""
    trader, market = await _market(harness)
    await complete_sets.mint_complete_set(harness.ctx, trader.id, market.id, 10)
    ask = await orders.place_order(harness.ctx, trader.id, limit(market, Side.SELL, price, 10))
    return trader, market, ask.id


async def _status(harness: Harness, order_id: str) -> tuple[OrderStatus, int]:
    [order] = [o for o in (await harness.snapshot()).orders if o.id == order_id]
    return order.status, order.filled_quantity


async def test_a_buy_routed_past_its_own_ask_cancels_it_rather_than_selling_it_to_the_maker(
    harness: Harness,
) -> None:
    trader, market, ask_id = await _own_ask_then(harness, 55)
    # The maker's 21st share costs more than 55: the buy reaches its own ask's price.
    result = await amm.trade(harness.ctx, trader.id, buy_yes(market, 40))
    assert await _status(harness, ask_id) == (OrderStatus.CANCELLED, 0)
    assert (result.position_yes, result.quote.maker_shares) == (50, 40)
    page = await harness.ctx.read_model.trades_page(trader.id, market.id, 10, None)
    assert [(t.quantity, t.taker_side) for t in page.items] == [(40, Side.BUY)]
    await harness.assert_invariants()


async def test_a_limit_buy_routed_past_its_own_ask_cancels_it(harness: Harness) -> None:
    trader, market, ask_id = await _own_ask_then(harness, 55)
    command = limit(market, Side.BUY, 60, 30, time_in_force=TimeInForce.IOC)
    order = await orders.place_order(harness.ctx, trader.id, command)
    assert (order.status, order.filled_quantity) == (OrderStatus.FILLED, 30)
    assert await _status(harness, ask_id) == (OrderStatus.CANCELLED, 0)
    await harness.assert_invariants()


async def test_an_own_ask_beyond_the_buys_reach_keeps_resting(harness: Harness) -> None:
    trader, market, ask_id = await _own_ask_then(harness, 60)
    await amm.trade(harness.ctx, trader.id, buy_yes(market, 10))  # the 10th costs 52.4
    assert await _status(harness, ask_id) == (OrderStatus.OPEN, 0)
    await harness.assert_invariants()


async def test_a_buy_routed_past_its_own_synthetic_ask_cancels_the_bid_behind_it(
    harness: Harness,
) -> None:
    # A bid for No at 45 is a YES ask at 55 in a binary market's one book.
    trader, market = await _market(harness)
    bid = await orders.place_order(harness.ctx, trader.id, limit(market, Side.BUY, 45, 10, 1))
    await amm.trade(harness.ctx, trader.id, buy_yes(market, 40))
    assert await _status(harness, bid.id) == (OrderStatus.CANCELLED, 0)
    assert (await harness.fetch_user(trader.id)).reserved_cents == 0
    await harness.assert_invariants()


async def test_the_quote_of_a_buy_past_its_own_ask_leaves_the_ask_out(harness: Harness) -> None:
    trader, market, _ = await _own_ask_then(harness, 55)
    order = buy_yes(market, 40)
    quote = await amm.quote(harness.ctx, order, trader.id)
    done = await amm.trade(harness.ctx, trader.id, order)
    assert (quote.trader_cents, quote.prices_after) == (done.quote.trader_cents, done.prices)


async def test_another_outcomes_own_bid_the_buy_moves_past_is_still_filled_by_the_maker(
    harness: Harness,
) -> None:
    # Among three outcomes a lone Green bid is no level of Red's book: buying Red from the
    # maker lowers Green's price, and the maker fills the bid (Manifold's rule).
    trader, market = await _market(harness, outcomes=("Red", "Green", "Blue"))
    bid = await orders.place_order(harness.ctx, trader.id, limit(market, Side.BUY, 30, 5, 1))
    await amm.trade(harness.ctx, trader.id, buy_yes(market, 40))
    assert await _status(harness, bid.id) == (OrderStatus.FILLED, 5)
    await harness.assert_invariants()


async def test_one_trade_crosses_a_cascade_of_bids_of_several_users(harness: Harness) -> None:
    # Four outcomes at 25 cents; bids on Green, Blue and Gold from three users, the trader
    # among them. Bids on all three others are a synthetic Red ask (a mint): the trader's
    # own leg is cancelled, the rest mint with Red's buyer or, as Red's price climbs and the
    # others' fall, are filled by the maker one after another.
    trader, market = await _market(harness, outcomes=("Red", "Green", "Blue", "Gold"))
    ann, bob = await harness.user("ann"), await harness.user("bob")
    placed = ((ann, 1, 24), (bob, 2, 24), (trader, 3, 24), (ann, 2, 23), (bob, 3, 22))
    bids = [
        await orders.place_order(harness.ctx, who.id, limit(market, Side.BUY, price, 8, at))
        for who, at, price in placed
    ]
    assert all(bid.status is OrderStatus.OPEN for bid in bids)
    order = amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, 60)
    quote = await amm.quote(harness.ctx, order, trader.id)
    result = await amm.trade(harness.ctx, trader.id, order)
    assert (quote.prices_after, quote.book_shares) == (result.prices, 8)  # one mint level
    statuses = [await _status(harness, bid.id) for bid in bids]
    assert (
        statuses
        == [(OrderStatus.FILLED, 8)] * 2
        + [(OrderStatus.CANCELLED, 0)]
        + [(OrderStatus.FILLED, 8)] * 2
    )
    for bid in (bids[0], bids[1], bids[3], bids[4]):  # each within its limit
        page = await harness.ctx.read_model.trades_page(bid.user_id, market.id, 50, None)
        fills = [t for t in page.items if bid.id in (t.taker_order_id, t.maker_order_id)]
        assert sum(t.quantity for t in fills) == 8
        assert sum(t.notional_cents for t in fills) <= 8 * bid.price_cents  # type: ignore[operator]
    for user in (trader, ann, bob):  # every unused reservation released, to the cent
        assert (await harness.fetch_user(user.id)).reserved_cents == 0
    await harness.assert_invariants()


@pytest.mark.parametrize("end", ["resolve", "void"])
async def test_resolving_or_voiding_a_hybrid_market_returns_every_reservation(
    harness: Harness, end: str
) -> None:
    trader, market = await _market(harness, fee_bps=100)
    admin = await harness.user("admin", admin=True)
    seller = await harness.user("seller")
    await complete_sets.mint_complete_set(harness.ctx, seller.id, market.id, 20)
    await orders.place_order(harness.ctx, seller.id, limit(market, Side.SELL, 53, 10))
    await orders.place_order(harness.ctx, seller.id, limit(market, Side.SELL, 70, 5, 1))
    await orders.place_order(harness.ctx, trader.id, limit(market, Side.BUY, 40, 10))
    await amm.trade(harness.ctx, trader.id, buy_yes(market, 20))  # maker and the ask at 53
    assert (await harness.fetch_user(trader.id)).reserved_cents == 400
    if end == "resolve":
        await resolution.resolve_market(harness.ctx, admin.id, market.id, market.outcomes[0].id)
    else:
        await resolution.void_market(harness.ctx, admin.id, market.id)
    assert await harness.ctx.read_model.resting_orders(market.id) == []
    snap = await harness.snapshot()
    assert [u.reserved_cents for u in snap.users] == [0] * len(snap.users)
    assert [p.reserved_shares for p in snap.positions] == [0] * len(snap.positions)
    assert [m.pool_cents for m in snap.markets if m.id == market.id] == [0]
    await harness.assert_invariants()


async def test_closing_a_hybrid_market_cancels_its_resting_orders_and_pausing_keeps_them(
    harness: Harness,
) -> None:
    trader, market = await _market(harness)
    creator_id = market.creator_id
    bid = await orders.place_order(harness.ctx, trader.id, limit(market, Side.BUY, 40, 10))
    await markets.pause_market(harness.ctx, creator_id, market.id)
    with pytest.raises(errors.MarketPaused):
        await amm.trade(harness.ctx, trader.id, buy_yes(market, 50))
    await markets.resume_market(harness.ctx, creator_id, market.id)
    assert await _status(harness, bid.id) == (OrderStatus.OPEN, 0)
    await markets.close_market(harness.ctx, creator_id, market.id)
    assert await _status(harness, bid.id) == (OrderStatus.CANCELLED, 0)
    assert (await harness.fetch_user(trader.id)).cash_cents == 100_000
    await harness.assert_invariants()


async def test_a_tiny_b_market_at_its_extremes_trades_shares_for_nothing_and_stays_covered(
    harness: Harness,
) -> None:
    # b = 0.05: one share moves the price from 1 % to 99 %. Once YES is certain to the
    # float's precision, NO shares cost (and a bid at 1 pays) nothing, cents rounded
    # against the trader all the same; the pool still covers the worst outcome.
    trader, market = await _market(harness, liquidity=0.05, fee_bps=100)
    ann = await harness.user("ann")
    await amm.trade(harness.ctx, ann.id, buy_yes(market, 500))
    bid = await orders.place_order(harness.ctx, trader.id, limit(market, Side.BUY, 1, 30, 1))
    assert (bid.status, bid.filled_quantity) == (OrderStatus.FILLED, 30)  # the maker's: 0 cents
    await complete_sets.mint_complete_set(harness.ctx, ann.id, market.id, 10)
    ask = await orders.place_order(harness.ctx, ann.id, limit(market, Side.SELL, 99, 10))
    assert ask.filled_quantity == 10  # the maker pays 100 cents less a rounding for each
    order = amm.LmsrOrder(market.id, LmsrSide.BUY_NO, AmountType.SHARES, 400)
    quote = await amm.quote(harness.ctx, order, trader.id)
    done = await amm.trade(harness.ctx, trader.id, order)
    assert (quote.trader_cents, quote.prices_after) == (done.quote.trader_cents, done.prices)
    await harness.assert_invariants()
    admin = await harness.user("admin", admin=True)
    await resolution.resolve_market(harness.ctx, admin.id, market.id, market.outcomes[1].id)
    await harness.assert_invariants()


async def test_fill_or_kill_on_an_lmsr_market_fills_across_maker_and_book_or_does_nothing(
    harness: Harness,
) -> None:
    trader, market = await _with_ask(harness, 52, 5)
    before = await harness.stored()
    # At 52 the maker has 8 shares (each below 52) and the ask 5: 13, not 14.
    with pytest.raises(errors.PriceLimitExceeded):
        fok = limit(market, Side.BUY, 52, 14, time_in_force=TimeInForce.FOK)
        await orders.place_order(harness.ctx, trader.id, fok)
    assert await harness.stored() == before
    fok = limit(market, Side.BUY, 52, 13, time_in_force=TimeInForce.FOK)
    order = await orders.place_order(harness.ctx, trader.id, fok)
    assert (order.status, order.filled_quantity, order.reserved_cents) == (
        OrderStatus.FILLED, 13, 0,
    )  # fmt: skip
    assert (await harness.fetch_user(trader.id)).cash_cents == 100_000 - 408 - 260
    await harness.assert_invariants()


async def test_an_ioc_order_on_an_lmsr_market_fills_what_it_can_and_rests_nothing(
    harness: Harness,
) -> None:
    trader, market = await _market(harness)
    ioc = limit(market, Side.BUY, 52, 30, time_in_force=TimeInForce.IOC)
    order = await orders.place_order(harness.ctx, trader.id, ioc)
    assert (order.status, order.filled_quantity, order.reserved_cents) == (
        OrderStatus.CANCELLED, 8, 0,
    )  # fmt: skip
    assert await harness.ctx.read_model.resting_orders(market.id) == []
    assert (await harness.fetch_user(trader.id)).reserved_cents == 0
    await harness.assert_invariants()


async def test_a_batch_item_that_cannot_pay_both_fees_fails_before_changing_anything(
    harness: Harness,
) -> None:
    # b = 10, YES at 28.9 %: the maker's next share costs 29.94 (30 cents rounded up), an
    # ask rests at 30. A bid of 2 at 30 with a 1 % fee needs 60 + ceil(0.6) = 61 cents as
    # one order, but its maker part pays 30 + 1 and its book part 30 + 1: 62.
    trader, market = await _market(harness, liquidity=10.0, fee_bps=100)
    seller = await harness.user("seller")
    await amm.trade(
        harness.ctx, seller.id, amm.LmsrOrder(market.id, LmsrSide.BUY_NO, AmountType.SHARES, 9)
    )
    await complete_sets.mint_complete_set(harness.ctx, seller.id, market.id, 1)
    await orders.place_order(harness.ctx, seller.id, limit(market, Side.SELL, 30, 1))
    other = await harness.market(
        trader, MarketType.ORDER_BOOK, title="Will the cash run out in 2031?"
    )
    hold = limit(other, Side.BUY, 3, 33_313)  # reserves 99,939 of the trader's 100,000
    await orders.place_order(harness.ctx, trader.id, hold)
    assert (await harness.fetch_user(trader.id)).cash_cents == 61
    before = await harness.stored()
    [item] = await order_batches.place_orders(
        harness.ctx, trader.id, [limit(market, Side.BUY, 30, 2)]
    )
    assert isinstance(item.error, errors.InsufficientBalance)
    after = await harness.stored()
    assert after[0] == before[0] and after[2:] == before[2:]  # type: ignore[index]
    # (a failed item's market keeps the order sequence number it took, as everywhere)
    await harness.assert_invariants()


async def test_an_ask_on_an_outcome_the_smallest_b_makes_certain_is_checked_not_an_error(
    harness: Harness,
) -> None:
    # b = 0.01 (the least allowed): one share takes YES to 1.0 to the float's precision,
    # where a quick crossing check took log(0), failing every trade while an ask rested.
    trader, market = await _market(harness, liquidity=0.01)
    seller, admin = await harness.user("seller"), await harness.user("admin", admin=True)
    await complete_sets.mint_complete_set(harness.ctx, seller.id, market.id, 5)
    ask = await orders.place_order(harness.ctx, seller.id, limit(market, Side.SELL, 99, 5))
    await accounts.grant_bonus(harness.ctx, admin.id, trader.id, 500)
    await amm.trade(harness.ctx, trader.id, buy_yes(market, 1, use_bonus=True))  # the maker
    # The maker now pays 100 cents less a rounding for a YES share: the ask sells it one.
    assert await _status(harness, ask.id) == (OrderStatus.PARTIALLY_FILLED, 1)
    await harness.assert_invariants()


async def test_an_amend_across_the_makers_price_may_spend_the_cash_its_reservation_held(
    harness: Harness,
) -> None:
    trader, market = await _market(harness)
    other = await harness.market(
        trader, MarketType.ORDER_BOOK, title="Will the cash run out in 2031?"
    )
    await orders.place_order(harness.ctx, trader.id, limit(other, Side.BUY, 2, 48_000))
    bid = await orders.place_order(harness.ctx, trader.id, limit(market, Side.BUY, 40, 100))
    assert (await harness.fetch_user(trader.id)).cash_cents == 0  # 96,000 + 4,000 reserved
    amended = await amend.amend_order(harness.ctx, trader.id, bid.id, price_cents=52, quantity=10)
    # The maker's first 8 shares cost 408 (each under 52); 2 rest at 52, reserving 104.
    assert (amended.filled_quantity, amended.reserved_cents) == (8, 104)
    assert (await harness.fetch_user(trader.id)).cash_cents == 4_000 - 408 - 104
    await harness.assert_invariants()
