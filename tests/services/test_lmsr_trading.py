"""LMSR trading through the services (PRODUCT.md section 5)."""

from __future__ import annotations

import pytest

from domain import errors
from domain.model import AmountType, LmsrSide, MarketType
from domain.services import accounts, amm, markets
from tests.harness import Harness


def buy(
    market_id: str, amount: int, side: LmsrSide = LmsrSide.BUY_YES, **kw: object
) -> amm.LmsrOrder:
    return amm.LmsrOrder(market_id, side, AmountType.SHARES, amount, **kw)  # type: ignore[arg-type]


async def test_creator_pays_the_subsidy_into_the_pool(harness: Harness) -> None:
    alice = await harness.user("alice")
    market = await harness.market(alice, liquidity=100.0)
    assert market.pool_cents == 6932  # ceil(100 * 100 * ln 2)
    assert (await harness.fetch_user(alice.id)).cash_cents == 100_000 - 6932
    await harness.assert_invariants()


async def test_creator_who_cannot_fund_the_subsidy_gets_insufficient_balance(
    harness: Harness,
) -> None:
    alice = await harness.user("alice")
    with pytest.raises(errors.InsufficientBalance):
        await harness.market(alice, liquidity=10_000.0)
    assert (await harness.fetch_user(alice.id)).cash_cents == 100_000


async def test_ten_yes_then_twenty_no_cost_513_then_1000_cents(harness: Harness) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    market = await harness.market(alice)
    first = await amm.trade(harness.ctx, bob.id, buy(market.id, 10))
    second = await amm.trade(harness.ctx, bob.id, buy(market.id, 20, LmsrSide.BUY_NO))
    assert (first.quote.fill.trader_cents, second.quote.fill.trader_cents) == (513, 1000)
    assert (second.position_yes, second.position_no) == (10, 20)
    assert (await harness.fetch_user(bob.id)).cash_cents == 100_000 - 1513
    await harness.assert_invariants()


async def test_spend_1000_cents_on_a_fresh_market_buys_19_shares_for_996(harness: Harness) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    market = await harness.market(alice)
    order = amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SPEND, 1000)
    result = await amm.trade(harness.ctx, bob.id, order)
    assert (result.quote.fill.shares, result.quote.fill.trader_cents) == (19, 996)
    assert result.trade.quantity == 19 and result.trade.is_amm


async def test_quote_prices_the_trade_without_making_it(harness: Harness) -> None:
    alice = await harness.user("alice")
    market = await harness.market(alice)
    quote = await amm.quote(harness.ctx, buy(market.id, 10))
    assert quote.fill.trader_cents == 513
    assert (await harness.fetch_market(market.id)).outcomes[0].amm_shares == 0


async def test_selling_shares_not_held_is_insufficient_shares(harness: Harness) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    market = await harness.market(alice)
    with pytest.raises(errors.InsufficientShares):
        await amm.trade(harness.ctx, bob.id, buy(market.id, 5, LmsrSide.SELL_YES))
    await harness.assert_invariants()


async def test_sell_pays_cash_from_the_pool_rounded_down(harness: Harness) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    market = await harness.market(alice)
    await amm.trade(harness.ctx, bob.id, buy(market.id, 10))
    sold = await amm.trade(harness.ctx, bob.id, buy(market.id, 10, LmsrSide.SELL_YES))
    assert sold.quote.fill.trader_cents == 512
    assert (sold.position_yes, sold.position_no) == (0, 0)
    assert (await harness.fetch_user(bob.id)).cash_cents == 100_000 - 1
    await harness.assert_invariants()


async def test_fee_goes_to_the_fee_account(harness: Harness) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    market = await harness.market(alice, fee_bps=100)
    result = await amm.trade(harness.ctx, bob.id, buy(market.id, 10))
    assert (result.quote.fill.amm_cents, result.quote.fill.fee_cents) == (513, 6)
    assert (await harness.fetch_market(market.id)).fees_cents == 6
    await harness.assert_invariants()


async def test_use_bonus_pays_from_bonus_only(harness: Harness) -> None:
    admin, bob = await harness.user("admin", admin=True), await harness.user("bob")
    market = await harness.market(admin)
    await accounts.grant_bonus(harness.ctx, admin.id, bob.id, 600)
    await amm.trade(harness.ctx, bob.id, buy(market.id, 10, use_bonus=True))
    after = await harness.fetch_user(bob.id)
    assert (after.cash_cents, after.bonus_cents) == (100_000, 87)
    with pytest.raises(errors.InsufficientBalance):
        await amm.trade(harness.ctx, bob.id, buy(market.id, 10, use_bonus=True))
    await harness.assert_invariants()


async def test_slippage_guard_rejects_a_costlier_buy(harness: Harness) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    market = await harness.market(alice)
    with pytest.raises(errors.PriceLimitExceeded):
        await amm.trade(harness.ctx, bob.id, buy(market.id, 10, limit_cents=512))
    assert (await harness.fetch_user(bob.id)).cash_cents == 100_000


async def test_order_book_calls_on_an_lmsr_market_are_wrong_market_type(harness: Harness) -> None:
    alice = await harness.user("alice")
    book_market = await harness.market(alice, MarketType.ORDER_BOOK)
    with pytest.raises(errors.WrongMarketType):
        await amm.trade(harness.ctx, alice.id, buy(book_market.id, 1))


async def test_no_in_a_three_way_market_buys_every_other_outcome(harness: Harness) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    market = await harness.market(alice, outcomes=("A", "B", "C"))
    result = await amm.trade(harness.ctx, bob.id, buy(market.id, 7, LmsrSide.BUY_NO))
    after = await harness.fetch_market(market.id)
    assert [o.amm_shares for o in after.outcomes] == [0, 7, 7]
    assert (result.position_yes, result.position_no) == (0, 7)
    assert abs(sum(result.prices) - 1) < 1e-9
    await harness.assert_invariants()


async def test_trading_a_paused_market_is_market_paused(harness: Harness) -> None:
    alice = await harness.user("alice")
    market = await harness.market(alice)
    await markets.pause_market(harness.ctx, alice.id, market.id)
    with pytest.raises(errors.MarketPaused):
        await amm.trade(harness.ctx, alice.id, buy(market.id, 1))


@pytest.mark.parametrize("amount", [0, -5, 10**9, 10**12])
async def test_amount_out_of_range_is_invalid_amount(harness: Harness, amount: int) -> None:
    alice = await harness.user("alice")
    market = await harness.market(alice)
    with pytest.raises(errors.InvalidAmount):
        await amm.trade(harness.ctx, alice.id, buy(market.id, amount))
