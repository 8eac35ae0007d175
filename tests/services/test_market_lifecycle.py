"""Creating markets, their lifecycle, resolution and void (PRODUCT.md section 3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from domain import errors
from domain.markets import MarketSpec
from domain.model import AmountType, LmsrSide, MarketStatus, MarketType, OrderType, Side
from domain.services import amm, complete_sets, markets, orders, resolution
from tests.harness import Harness


def spec(harness: Harness, **changes: object) -> MarketSpec:
    base = MarketSpec(
        title="Will it rain in Lisbon tomorrow?",
        market_type=MarketType.LMSR,
        outcomes=("Yes", "No"),
        closes_at=harness.ctx.clock.now() + timedelta(days=1),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {"title": "too short"},
        {"title": "x" * 201},
        {"outcomes": ("Only",)},
        {"outcomes": tuple(f"o{i}" for i in range(11))},
        {"outcomes": ("Yes", "yes")},
        {"outcomes": ("Yes", " ")},
        {"fee_bps": 1001},
        {"fee_bps": -1},
        {"title": "A title with a NUL\x00 byte"},
        {"outcomes": ("Yes", "N\x00")},
    ],
)
async def test_bad_market_input_is_bad_user_input(
    harness: Harness, changes: dict[str, object]
) -> None:
    alice = await harness.user("alice")
    with pytest.raises(errors.BadUserInput):
        await markets.create_market(harness.ctx, alice.id, spec(harness, **changes))


@pytest.mark.parametrize("offset", [timedelta(seconds=-1), timedelta(days=365 * 200)])
async def test_closing_time_in_the_past_or_centuries_away_is_bad_user_input(
    harness: Harness, offset: timedelta
) -> None:
    alice = await harness.user("alice")
    closes_at = harness.ctx.clock.now() + offset
    with pytest.raises(errors.BadUserInput):
        await markets.create_market(harness.ctx, alice.id, spec(harness, closes_at=closes_at))


@pytest.mark.parametrize("b", [0.0, -1.0, 1e-320, 0.009, float("nan"), float("inf"), 1e9])
async def test_bad_liquidity_is_invalid_amount(harness: Harness, b: float) -> None:
    alice = await harness.user("alice")
    with pytest.raises(errors.InvalidAmount):
        await markets.create_market(harness.ctx, alice.id, spec(harness, liquidity=b))


async def test_only_creator_or_admin_may_manage(harness: Harness) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    admin = await harness.user("root", admin=True)
    market = await harness.market(alice)
    with pytest.raises(errors.Forbidden):
        await markets.pause_market(harness.ctx, bob.id, market.id)
    paused = await markets.pause_market(harness.ctx, admin.id, market.id)
    assert paused.status is MarketStatus.PAUSED
    resumed = await markets.resume_market(harness.ctx, alice.id, market.id)
    assert resumed.status is MarketStatus.OPEN


async def test_pausing_twice_is_market_paused_and_resuming_open_is_bad_input(
    harness: Harness,
) -> None:
    alice = await harness.user("alice")
    market = await harness.market(alice)
    with pytest.raises(errors.BadUserInput):
        await markets.resume_market(harness.ctx, alice.id, market.id)
    await markets.pause_market(harness.ctx, alice.id, market.id)
    with pytest.raises(errors.MarketPaused):
        await markets.pause_market(harness.ctx, alice.id, market.id)


async def test_trading_past_closes_at_is_market_closed_and_the_sweeper_closes(
    harness: Harness,
) -> None:
    alice = await harness.user("alice")
    market = await harness.market(alice, closes_in=timedelta(hours=1))
    harness.clock.advance(hours=2)  # type: ignore[attr-defined]
    order = amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, 1)
    with pytest.raises(errors.MarketClosed):
        await amm.trade(harness.ctx, alice.id, order)
    assert await markets.close_due_markets(harness.ctx) == 1
    assert (await harness.fetch_market(market.id)).status is MarketStatus.CLOSED


async def test_resolve_pays_100_cents_per_winning_share_and_returns_the_rest(
    harness: Harness,
) -> None:
    alice, bob, carol = [await harness.user(n) for n in ("alice", "bob", "carol")]
    market = await harness.market(alice)
    buy = amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, 10)
    await amm.trade(harness.ctx, bob.id, buy)
    await amm.trade(harness.ctx, carol.id, replace(buy, side=LmsrSide.BUY_NO))
    result = await resolution.resolve_market(
        harness.ctx, alice.id, market.id, market.outcomes[0].id
    )
    assert (result.total_payout_cents, result.winners_count) == (1000, 1)
    assert result.market.status is MarketStatus.RESOLVED
    assert (await harness.fetch_user(bob.id)).cash_cents == 100_000 - 513 + 1000
    pool_after = (await harness.fetch_market(market.id)).pool_cents
    assert pool_after == 0
    with pytest.raises(errors.MarketResolved):
        await resolution.resolve_market(harness.ctx, alice.id, market.id, market.outcomes[0].id)
    with pytest.raises(errors.MarketResolved):
        await markets.pause_market(harness.ctx, alice.id, market.id)
    await harness.assert_invariants()


async def test_void_refunds_cost_basis_pro_rata_when_short(harness: Harness) -> None:
    maker, taker = await harness.user("maker"), await harness.user("taker")
    market = await harness.market(maker, MarketType.ORDER_BOOK)
    await complete_sets.mint_complete_set(harness.ctx, maker.id, market.id, 10)
    sell = orders.PlaceOrder(market.id, market.outcomes[0].id, Side.SELL, OrderType.LIMIT, 10, 80)
    await orders.place_order(harness.ctx, maker.id, sell)
    await orders.place_order(harness.ctx, taker.id, replace(sell, side=Side.BUY))
    # pool 1000; bases: taker 800 (YES), maker 500 (NO) -> pro rata of 1000 / 1300
    voided = await resolution.void_market(harness.ctx, maker.id, market.id)
    assert voided.market.status is MarketStatus.VOIDED
    taker_after = await harness.fetch_user(taker.id)
    assert taker_after.cash_cents == 100_000 - 800 + 800 * 1000 // 1300
    assert voided.refunded_cents == 1000
    await harness.assert_invariants()


async def test_void_refunds_the_whole_basis_when_the_pool_covers_it(harness: Harness) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    market = await harness.market(alice)
    await amm.trade(
        harness.ctx, bob.id, amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, 10)
    )
    await resolution.void_market(harness.ctx, alice.id, market.id)
    assert (await harness.fetch_user(bob.id)).cash_cents == 100_000
    assert (await harness.fetch_user(alice.id)).cash_cents == 100_000
    await harness.assert_invariants()


async def test_resolving_with_an_unknown_outcome_is_not_found(harness: Harness) -> None:
    alice = await harness.user("alice")
    market = await harness.market(alice)
    with pytest.raises(errors.NotFound):
        await resolution.resolve_market(harness.ctx, alice.id, market.id, "nope")
    assert (await harness.fetch_market(market.id)).status is MarketStatus.OPEN


async def test_unknown_market_is_not_found(harness: Harness) -> None:
    alice = await harness.user("alice")
    with pytest.raises(errors.NotFound):
        await markets.pause_market(harness.ctx, alice.id, "missing")


async def test_mint_and_redeem_complete_sets(harness: Harness) -> None:
    alice = await harness.user("alice")
    market = await harness.market(alice, MarketType.ORDER_BOOK, outcomes=("A", "B", "C"))
    minted = await complete_sets.mint_complete_set(harness.ctx, alice.id, market.id, 5)
    assert minted.cents == 500 and all(p.shares == 5 for p in minted.positions)
    redeemed = await complete_sets.redeem_complete_set(harness.ctx, alice.id, market.id, 2)
    assert redeemed.cents == 200 and all(p.shares == 3 for p in redeemed.positions)
    with pytest.raises(errors.InsufficientShares):
        await complete_sets.redeem_complete_set(harness.ctx, alice.id, market.id, 4)
    assert (await harness.fetch_user(alice.id)).cash_cents == 100_000 - 300
    await harness.assert_invariants()


async def test_minting_beyond_cash_is_insufficient_balance(harness: Harness) -> None:
    alice = await harness.user("alice")
    market = await harness.market(alice, MarketType.ORDER_BOOK)
    with pytest.raises(errors.InsufficientBalance):
        await complete_sets.mint_complete_set(harness.ctx, alice.id, market.id, 1001)
