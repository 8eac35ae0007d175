"""One exchange per market (PRODUCT.md section 10): mint and merge matches, direct
and synthetic liquidity competing, and the rules of section 4 across outcomes."""

from __future__ import annotations

import pytest

from domain import errors
from domain import markets as market_rules
from domain.fills import fills_by_user
from domain.ledger import Reason
from domain.model import Market, MarketType, OrderStatus, OrderType, Side, TimeInForce, User
from domain.services import complete_sets, orders
from tests.harness import Harness
from tests.services.conftest import memory_harness


def limit(
    market: Market, outcome: int, side: Side, price: int, qty: int, **kw: object
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


async def _market(
    harness: Harness, outcomes: tuple[str, ...] = ("Yes", "No"), fee_bps: int = 0
) -> tuple[User, User, Market]:
    ann, bob = await harness.user("ann"), await harness.user("bob")
    market = await harness.market(ann, MarketType.ORDER_BOOK, outcomes=outcomes, fee_bps=fee_bps)
    return ann, bob, market


async def _shares(harness: Harness, user: User, market: Market) -> list[int]:
    held = {
        p.outcome_id: p.shares for p in (await harness.snapshot()).positions if p.user_id == user.id
    }
    return [held.get(outcome.id, 0) for outcome in market.outcomes]


async def _reasons(harness: Harness) -> list[Reason]:
    return [entry.reason for entry in (await harness.snapshot()).entries]


async def test_a_yes_bid_and_a_no_bid_summing_to_105_mint_and_the_taker_pays_the_rest(
    harness: Harness,
) -> None:
    ann, bob, market = await _market(harness)
    await orders.place_order(harness.ctx, ann.id, limit(market, 0, Side.BUY, 40, 10))
    taker = await orders.place_order(harness.ctx, bob.id, limit(market, 1, Side.BUY, 65, 10))
    assert (taker.status, taker.filled_quantity) == (OrderStatus.FILLED, 10)
    assert (await harness.fetch_user(ann.id)).cash_cents == 100_000 - 400
    assert (await harness.fetch_user(bob.id)).cash_cents == 100_000 - 600  # 100 - 40, not 65
    assert await _shares(harness, ann, market) == [10, 0]
    assert await _shares(harness, bob, market) == [0, 10]
    stored = await harness.fetch_market(market.id)
    assert stored.pool_cents == 1000
    assert [o.shares_outstanding for o in stored.outcomes] == [10, 10]
    assert [o.last_trade_cents for o in stored.outcomes] == [40, 60]
    assert (await _reasons(harness)).count(Reason.MINT_MATCH) == 2
    await harness.assert_invariants()


async def test_opposite_asks_summing_to_at_most_100_merge(harness: Harness) -> None:
    ann, bob, market = await _market(harness)
    await complete_sets.mint_complete_set(harness.ctx, ann.id, market.id, 10)
    await complete_sets.mint_complete_set(harness.ctx, bob.id, market.id, 10)
    await orders.place_order(harness.ctx, ann.id, limit(market, 0, Side.SELL, 30, 10))
    taker = await orders.place_order(harness.ctx, bob.id, limit(market, 1, Side.SELL, 60, 4))
    assert (taker.status, taker.filled_quantity) == (OrderStatus.FILLED, 4)
    assert (await harness.fetch_user(ann.id)).cash_cents == 100_000 - 1000 + 120
    assert (await harness.fetch_user(bob.id)).cash_cents == 100_000 - 1000 + 280  # 100 - 30
    assert await _shares(harness, ann, market) == [6, 10]
    assert await _shares(harness, bob, market) == [10, 6]
    stored = await harness.fetch_market(market.id)
    assert stored.pool_cents == 2000 - 400
    assert [o.shares_outstanding for o in stored.outcomes] == [16, 16]
    assert (await _reasons(harness)).count(Reason.MERGE_MATCH) == 2
    await harness.assert_invariants()


async def test_direct_and_synthetic_liquidity_compete_by_price_then_time(
    harness: Harness,
) -> None:
    ann, bob, market = await _market(harness)
    cy = await harness.user("cyd")
    await complete_sets.mint_complete_set(harness.ctx, cy.id, market.id, 20)
    await orders.place_order(harness.ctx, cy.id, limit(market, 0, Side.SELL, 35, 5))  # direct
    await orders.place_order(harness.ctx, ann.id, limit(market, 1, Side.BUY, 65, 5))  # YES ask 35
    await orders.place_order(harness.ctx, ann.id, limit(market, 1, Side.BUY, 70, 5))  # YES ask 30
    taker = await orders.place_order(harness.ctx, bob.id, limit(market, 0, Side.BUY, 35, 12))
    # 5 at 30 (synthetic, best price), 5 at 35 (direct, earlier), 2 at 35 (synthetic)
    assert (taker.status, taker.filled_quantity) == (OrderStatus.FILLED, 12)
    assert (await harness.fetch_user(bob.id)).cash_cents == 100_000 - (150 + 175 + 70)
    assert await _shares(harness, bob, market) == [12, 0]
    assert await _shares(harness, ann, market) == [0, 7]
    await harness.assert_invariants()


async def test_three_outcomes_mint_one_set_per_share_from_one_bid_on_each(
    harness: Harness,
) -> None:
    ann, bob, market = await _market(harness, ("Red", "Green", "Blue"))
    cy = await harness.user("cyd")
    await orders.place_order(harness.ctx, ann.id, limit(market, 1, Side.BUY, 30, 5))
    await orders.place_order(harness.ctx, cy.id, limit(market, 2, Side.BUY, 25, 3))
    taker = await orders.place_order(harness.ctx, bob.id, limit(market, 0, Side.BUY, 50, 5))
    assert (taker.filled_quantity, taker.status) == (3, OrderStatus.PARTIALLY_FILLED)
    assert (await harness.fetch_user(bob.id)).cash_cents == 100_000 - 3 * 45 - 2 * 50
    stored = await harness.fetch_market(market.id)
    assert [o.shares_outstanding for o in stored.outcomes] == [3, 3, 3]
    assert stored.pool_cents == 300
    await harness.assert_invariants()


async def test_a_mint_whose_other_bids_pay_over_100_gives_the_surplus_to_the_fee_account(
    harness: Harness,
) -> None:
    ann, bob, market = await _market(harness, ("Red", "Green", "Blue"))
    await orders.place_order(harness.ctx, ann.id, limit(market, 1, Side.BUY, 60, 2))
    await orders.place_order(harness.ctx, ann.id, limit(market, 2, Side.BUY, 55, 2))
    market_buy = orders.PlaceOrder(market.id, market.outcomes[0].id, Side.BUY, OrderType.MARKET, 2)
    taker = await orders.place_order(harness.ctx, bob.id, market_buy)
    assert taker.filled_quantity == 2
    assert (await harness.fetch_user(bob.id)).cash_cents == 100_000 - 2  # 1 cent a share
    stored = await harness.fetch_market(market.id)
    assert (stored.pool_cents, stored.fees_cents) == (200, 32)
    await harness.assert_invariants()


async def test_self_trade_prevention_cancels_the_takers_own_legs_across_outcomes(
    harness: Harness,
) -> None:
    ann, _, market = await _market(harness)
    own = await orders.place_order(harness.ctx, ann.id, limit(market, 1, Side.BUY, 65, 10))
    placed = await orders.place_order(harness.ctx, ann.id, limit(market, 0, Side.BUY, 40, 10))
    assert (placed.status, placed.filled_quantity) == (OrderStatus.OPEN, 0)
    snap = await harness.snapshot()
    assert next(o for o in snap.orders if o.id == own.id).status is OrderStatus.CANCELLED
    assert (await harness.fetch_user(ann.id)).reserved_cents == 400
    await harness.assert_invariants()


async def test_post_only_fok_ioc_and_market_orders_see_synthetic_liquidity(
    harness: Harness,
) -> None:
    ann, bob, market = await _market(harness)
    await orders.place_order(harness.ctx, ann.id, limit(market, 1, Side.BUY, 65, 10))
    before = await harness.stored()
    with pytest.raises(errors.PriceLimitExceeded):
        post = limit(market, 0, Side.BUY, 35, 1, post_only=True)
        await orders.place_order(harness.ctx, bob.id, post)
    with pytest.raises(errors.PriceLimitExceeded):
        fok = limit(market, 0, Side.BUY, 40, 11, time_in_force=TimeInForce.FOK)
        await orders.place_order(harness.ctx, bob.id, fok)
    assert await harness.stored() == before
    ioc = limit(market, 0, Side.BUY, 40, 4, time_in_force=TimeInForce.IOC)
    assert (await orders.place_order(harness.ctx, bob.id, ioc)).filled_quantity == 4
    market_buy = orders.PlaceOrder(market.id, market.outcomes[0].id, Side.BUY, OrderType.MARKET, 9)
    placed = await orders.place_order(harness.ctx, bob.id, market_buy)
    assert (placed.filled_quantity, placed.status) == (6, OrderStatus.CANCELLED)
    assert (await harness.fetch_user(bob.id)).cash_cents == 100_000 - 10 * 35
    await harness.assert_invariants()


async def test_the_taker_fee_applies_to_its_part_of_a_mint(harness: Harness) -> None:
    ann, bob, market = await _market(harness, fee_bps=100)
    await orders.place_order(harness.ctx, ann.id, limit(market, 1, Side.BUY, 60, 10))
    await orders.place_order(harness.ctx, bob.id, limit(market, 0, Side.BUY, 45, 10))
    assert (await harness.fetch_user(bob.id)).cash_cents == 100_000 - 400 - 4
    assert (await harness.fetch_user(ann.id)).cash_cents == 100_000 - 600
    assert (await harness.fetch_market(market.id)).fees_cents == 4
    await harness.assert_invariants()


async def test_a_binary_markets_tops_mirror_and_its_prices_sum_to_one(harness: Harness) -> None:
    ann, bob, market = await _market(harness)
    await complete_sets.mint_complete_set(harness.ctx, bob.id, market.id, 10)
    await orders.place_order(harness.ctx, ann.id, limit(market, 0, Side.BUY, 40, 10))
    await orders.place_order(harness.ctx, bob.id, limit(market, 0, Side.SELL, 70, 10))
    stored = await harness.fetch_market(market.id)
    yes, no = stored.outcomes
    assert (yes.best_bid_cents, yes.best_ask_cents) == (40, 70)
    assert (no.best_bid_cents, no.best_ask_cents) == (30, 60)
    assert market_rules.current_prices(stored) == pytest.approx((0.55, 0.45))
    await orders.place_order(harness.ctx, bob.id, limit(market, 1, Side.BUY, 65, 1))  # mints
    stored = await harness.fetch_market(market.id)
    assert [o.last_trade_cents for o in stored.outcomes] == [40, 60]
    assert sum(market_rules.current_prices(stored)) == pytest.approx(1.0)


async def test_each_party_of_a_mint_sees_one_fill_of_its_own_outcome_and_side() -> None:
    harness = memory_harness()
    ann, bob, market = await _market(harness)
    yes = await orders.place_order(harness.ctx, ann.id, limit(market, 0, Side.BUY, 40, 10))
    taker = await orders.place_order(harness.ctx, bob.id, limit(market, 1, Side.BUY, 65, 10))
    trades = harness.store.state.trades  # type: ignore[attr-defined]
    seen = {
        user: [(f.event(0).order_id, f.event(0).side, f.trade.outcome_id) for f in found]
        for user, found in fills_by_user(trades).items()
    }
    assert seen == {
        ann.id: [(yes.id, Side.BUY, market.outcomes[0].id)],
        bob.id: [(taker.id, Side.BUY, market.outcomes[1].id)],
    }
