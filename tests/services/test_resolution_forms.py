"""Resolution forms (PRODUCT.md section 12): one winner, a split, a scalar number;
settlements and realized P&L. Every test runs on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain import errors
from domain import markets as market_rules
from domain.model import (
    AmountType,
    LmsrSide,
    MarketStatus,
    MarketType,
    OrderType,
    ScalarRange,
    Side,
)
from domain.services import amm, complete_sets, orders, resolution
from tests.harness import Harness


async def _settlements(harness: Harness, user_id: str) -> list[tuple[str, int, int, int]]:
    snap = await harness.snapshot()
    found = [s for s in snap.settlements if s.user_id == user_id]
    return sorted((s.outcome_id, s.shares, s.payout_cents, s.cost_basis_cents) for s in found)


async def test_resolve_market_is_100_to_one_outcome_and_keeps_every_settlement(
    harness: Harness,
) -> None:
    alice, bob, carol = [await harness.user(n) for n in ("alice", "bob", "carol")]
    market = await harness.market(alice)
    yes, no = market.outcomes
    buy = amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, 10)
    bought = await amm.trade(harness.ctx, bob.id, buy)
    await amm.trade(harness.ctx, carol.id, replace(buy, side=LmsrSide.BUY_NO))
    result = await resolution.resolve_market(harness.ctx, alice.id, market.id, yes.id)
    assert (result.total_payout_cents, result.winners_count) == (1000, 1)
    assert result.market.payouts == (100, 0)
    assert result.market.winning_outcome_id == yes.id
    cost = bought.trade.notional_cents
    assert await _settlements(harness, bob.id) == [(yes.id, 10, 1000, cost)]
    carol_settled = await _settlements(harness, carol.id)
    assert [(o, s, p) for o, s, p, _ in carol_settled] == [(no.id, 10, 0)]
    await harness.assert_invariants()


async def test_split_pays_each_outcome_its_cents_and_the_rest_to_the_creator(
    harness: Harness,
) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    market = await harness.market(alice, MarketType.ORDER_BOOK, outcomes=("A", "B", "C"))
    a, b, c = market.outcomes
    await complete_sets.mint_complete_set(harness.ctx, bob.id, market.id, 10)
    sell = orders.PlaceOrder(market.id, c.id, Side.SELL, OrderType.LIMIT, 10, 30)
    await orders.place_order(harness.ctx, bob.id, sell)
    await orders.place_order(harness.ctx, alice.id, replace(sell, side=Side.BUY))
    result = await resolution.resolve_market_split(
        harness.ctx, alice.id, market.id, [(a.id, 50), (b.id, 50)]
    )
    assert result.market.payouts == (50, 50, 0)
    assert result.market.winning_outcome_id is None
    assert (result.total_payout_cents, result.winners_count) == (1000, 1)
    assert result.refunded_cents == 0
    bob_after = await harness.fetch_user(bob.id)
    assert bob_after.cash_cents == 100_000 - 1000 + 300 + 1000
    assert sorted(p for _, _, p, _ in await _settlements(harness, alice.id)) == [0]
    await harness.assert_invariants()


@pytest.mark.parametrize(
    ("given", "error"),
    [
        ([(0, 60), (1, 30)], errors.BadUserInput),
        ([(0, 101), (1, -1)], errors.BadUserInput),
        ([(0, 50), (0, 50)], errors.BadUserInput),
        ([(0, 100), (1, 0), (1, 0)], errors.BadUserInput),
        ([], errors.BadUserInput),
    ],
)
async def test_a_bad_split_is_bad_user_input_and_changes_nothing(
    harness: Harness, given: list[tuple[int, int]], error: type[Exception]
) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    market = await harness.market(alice)
    await amm.trade(
        harness.ctx, bob.id, amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, 5)
    )
    before = await harness.stored()
    payouts = [(market.outcomes[i].id, cents) for i, cents in given]
    with pytest.raises(error):
        await resolution.resolve_market_split(harness.ctx, alice.id, market.id, payouts)
    with pytest.raises(errors.NotFound):
        await resolution.resolve_market_split(harness.ctx, alice.id, market.id, [("x", 100)])
    assert await harness.stored() == before


@pytest.mark.parametrize(
    ("value", "long_cents"),
    [(25.0, 13), (24.9, 12), (-5.0, 0), (0.0, 0), (200.0, 100), (1e9, 100), (100.0, 50)],
)
async def test_scalar_market_pays_long_the_rounded_clamped_fraction_and_short_the_rest(
    harness: Harness, value: float, long_cents: int
) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    market = await harness.market(
        alice, outcomes=("Long", "Short"), scalar=ScalarRange(0.0, 200.0, "mm")
    )
    buy = amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, 10)
    await amm.trade(harness.ctx, bob.id, buy)
    await amm.trade(harness.ctx, bob.id, replace(buy, side=LmsrSide.BUY_NO, amount=4))
    result = await resolution.resolve_scalar_market(harness.ctx, alice.id, market.id, value)
    assert result.market.payouts == (long_cents, 100 - long_cents)
    assert result.market.resolution_value == value
    assert result.total_payout_cents == 10 * long_cents + 4 * (100 - long_cents)
    stored = await harness.fetch_market(market.id)
    assert stored.scalar == ScalarRange(0.0, 200.0, "mm")
    assert (stored.resolution_value, stored.status) == (value, MarketStatus.RESOLVED)
    await harness.assert_invariants()


async def test_scalar_rules_are_bad_user_input(harness: Harness) -> None:
    alice = await harness.user("alice")
    plain = await harness.market(alice)
    with pytest.raises(errors.BadUserInput):
        await resolution.resolve_scalar_market(harness.ctx, alice.id, plain.id, 1.0)
    for outcomes, scalar in [
        (("Long", "Short", "Other"), ScalarRange(0, 1)),
        (("Long", "Short"), ScalarRange(1, 1)),
    ]:
        with pytest.raises(errors.BadUserInput):
            await harness.market(alice, outcomes=outcomes, scalar=scalar)
    # Every Float input has a finite documented range (issue 12 item 5): -1e15..1e15.
    for scalar in (ScalarRange(0, float("inf")), ScalarRange(-1.7e308, 0), ScalarRange(0, 1e16)):
        with pytest.raises(errors.InvalidAmount):
            await harness.market(alice, outcomes=("Long", "Short"), scalar=scalar)


async def test_scalar_order_book_market_resolves_too(harness: Harness) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    market = await harness.market(
        alice, MarketType.ORDER_BOOK, outcomes=("Above", "Below"), scalar=ScalarRange(-1, 1)
    )
    await complete_sets.mint_complete_set(harness.ctx, bob.id, market.id, 3)
    result = await resolution.resolve_scalar_market(harness.ctx, alice.id, market.id, 0.5)
    assert result.market.payouts == (75, 25)
    assert result.total_payout_cents == 300 and result.winners_count == 1
    await harness.assert_invariants()


async def test_void_keeps_settlements_of_the_refunded_basis(harness: Harness) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    market = await harness.market(alice)
    buy = amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, 10)
    bought = await amm.trade(harness.ctx, bob.id, buy)
    await resolution.void_market(harness.ctx, alice.id, market.id)
    cost = bought.trade.notional_cents
    assert await _settlements(harness, bob.id) == [(market.outcomes[0].id, 10, cost, cost)]
    await harness.assert_invariants()


async def test_sales_realize_proceeds_less_average_cost(harness: Harness) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    market = await harness.market(alice, fee_bps=100)
    buy = amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, 10)
    bought = await amm.trade(harness.ctx, bob.id, buy)
    sold = await amm.trade(harness.ctx, bob.id, replace(buy, side=LmsrSide.SELL_YES, amount=4))
    basis = bought.trade.notional_cents
    average = (2 * basis * 4 + 10) // 20
    proceeds = sold.trade.notional_cents - sold.trade.fee_cents
    position = next(p for p in (await harness.snapshot()).positions if p.user_id == bob.id)
    assert position.realized_pnl_cents == proceeds - average
    assert position.realized_pnl_cents < 0  # the market maker's spread and the fee
    await harness.assert_invariants()


async def test_redeeming_sets_realizes_nothing_at_cost(harness: Harness) -> None:
    alice = await harness.user("alice")
    market = await harness.market(alice, MarketType.ORDER_BOOK)
    await complete_sets.mint_complete_set(harness.ctx, alice.id, market.id, 4)
    await complete_sets.redeem_complete_set(harness.ctx, alice.id, market.id, 4)
    held = [p for p in (await harness.snapshot()).positions if p.user_id == alice.id]
    assert [p.realized_pnl_cents for p in held] == [0, 0]


async def test_resolved_prices_are_the_payouts(harness: Harness) -> None:
    alice = await harness.user("alice")
    market = await harness.market(alice, outcomes=("A", "B"))
    await resolution.resolve_market_split(
        harness.ctx, alice.id, market.id, [(market.outcomes[0].id, 30), (market.outcomes[1].id, 70)]
    )
    resolved = await harness.fetch_market(market.id)
    assert market_rules.current_prices(resolved) == (0.3, 0.7)
