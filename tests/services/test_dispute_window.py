"""The dispute window (PRODUCT.md section 12): each transition, on every backend.

CLOSED -> RESOLUTION_PROPOSED -> (DISPUTED ->) RESOLVED, or back to CLOSED.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from domain import errors
from domain.ledger import Reason
from domain.model import AmountType, LmsrSide, Market, MarketStatus, User
from domain.services import amm, markets, resolution
from tests.harness import Harness

WINDOW = 3600


async def _proposed(harness: Harness) -> tuple[User, User, User, Market]:
    """alice's market with bob holding 10 YES and carol 10 NO, resolved YES: a proposal."""
    alice, bob, carol = [await harness.user(n) for n in ("alice", "bob", "carol")]
    market = await harness.market(alice, dispute_window_seconds=WINDOW)
    buy = amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, 10)
    await amm.trade(harness.ctx, bob.id, buy)
    await amm.trade(harness.ctx, carol.id, replace(buy, side=LmsrSide.BUY_NO))
    result = await resolution.resolve_market(
        harness.ctx, alice.id, market.id, market.outcomes[0].id
    )
    return alice, bob, carol, result.market


async def _payouts(harness: Harness, market_id: str) -> int:
    snap = await harness.snapshot()
    return sum(
        e.amount_cents
        for e in snap.entries
        if e.reason is Reason.PAYOUT and e.market_id == market_id
    )


def _advance(harness: Harness, seconds: float) -> None:
    harness.clock.advance(seconds=seconds)  # type: ignore[attr-defined]


async def test_a_resolution_with_a_window_is_a_proposal_that_pays_nothing(
    harness: Harness,
) -> None:
    alice, bob, _, market = await _proposed(harness)
    assert market.status is MarketStatus.RESOLUTION_PROPOSED
    assert market.payouts == (100, 0)
    assert market.dispute_window_ends_at == harness.ctx.clock.now() + timedelta(seconds=WINDOW)
    assert market.winning_outcome_id is None
    assert await _payouts(harness, market.id) == 0
    assert (await harness.fetch_market(market.id)).pool_cents > 0
    buy = amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, 1)
    with pytest.raises(errors.MarketClosed):
        await amm.trade(harness.ctx, bob.id, buy)
    with pytest.raises(errors.MarketClosed):
        await markets.pause_market(harness.ctx, alice.id, market.id)
    with pytest.raises(errors.MarketResolved):
        await resolution.resolve_market(harness.ctx, alice.id, market.id, market.outcomes[1].id)
    await harness.assert_invariants()


async def test_the_sweeper_pays_an_undisputed_proposal_once_when_its_window_ends(
    harness: Harness,
) -> None:
    _, _, _, market = await _proposed(harness)
    assert await resolution.finalize_due_resolutions(harness.ctx) == 0
    _advance(harness, WINDOW)
    assert await resolution.finalize_due_resolutions(harness.ctx) == 1
    assert await resolution.finalize_due_resolutions(harness.ctx) == 0
    final = await harness.fetch_market(market.id)
    assert (final.status, final.winning_outcome_id) == (
        MarketStatus.RESOLVED,
        market.outcomes[0].id,
    )
    assert await _payouts(harness, market.id) == 1000
    assert len((await harness.snapshot()).settlements) == 2
    await harness.assert_invariants()


async def test_a_proposal_unresolved_and_resolved_again_pays_the_second_one(
    harness: Harness,
) -> None:
    alice, _, _, market = await _proposed(harness)
    unresolved = await resolution.unresolve_market(harness.ctx, alice.id, market.id)
    assert unresolved.status is MarketStatus.CLOSED
    assert (unresolved.payouts, unresolved.dispute_window_ends_at) == (None, None)
    await harness.assert_invariants()
    yes, no = market.outcomes
    again = await resolution.resolve_market_split(
        harness.ctx, alice.id, market.id, [(yes.id, 20), (no.id, 80)]
    )
    assert again.market.status is MarketStatus.RESOLUTION_PROPOSED
    _advance(harness, WINDOW + 1)
    assert await resolution.finalize_due_resolutions(harness.ctx) == 1
    assert await _payouts(harness, market.id) == 10 * 20 + 10 * 80
    assert (await harness.fetch_market(market.id)).payouts == (20, 80)
    await harness.assert_invariants()


async def test_a_holder_disputes_then_only_an_admin_may_resolve_or_unresolve(
    harness: Harness,
) -> None:
    alice, bob, carol, market = await _proposed(harness)
    admin = await harness.user("root", admin=True)
    disputed = await resolution.dispute_resolution(harness.ctx, carol.id, market.id, "It was NO")
    assert (disputed.status, disputed.dispute_reason) == (MarketStatus.DISPUTED, "It was NO")
    with pytest.raises(errors.BadUserInput):
        await resolution.dispute_resolution(harness.ctx, bob.id, market.id, "again")
    _advance(harness, WINDOW * 2)
    assert await resolution.finalize_due_resolutions(harness.ctx) == 0
    no = market.outcomes[1].id
    with pytest.raises(errors.Forbidden):
        await resolution.resolve_market(harness.ctx, alice.id, market.id, no)
    with pytest.raises(errors.Forbidden):
        await resolution.unresolve_market(harness.ctx, alice.id, market.id)
    with pytest.raises(errors.Forbidden):
        await resolution.void_market(harness.ctx, alice.id, market.id)
    final = await resolution.resolve_market(harness.ctx, admin.id, market.id, no)
    assert final.market.status is MarketStatus.RESOLVED
    assert (final.total_payout_cents, final.winners_count) == (1000, 1)
    assert (await harness.fetch_user(carol.id)).cash_cents > 100_000
    await harness.assert_invariants()


async def test_an_admin_may_unresolve_a_disputed_market(harness: Harness) -> None:
    _, _, carol, market = await _proposed(harness)
    admin = await harness.user("root", admin=True)
    await resolution.dispute_resolution(harness.ctx, carol.id, market.id, "wrong")
    back = await resolution.unresolve_market(harness.ctx, admin.id, market.id)
    assert (back.status, back.dispute_reason, back.payouts) == (MarketStatus.CLOSED, None, None)
    await harness.assert_invariants()


async def test_disputes_need_shares_and_an_open_window(harness: Harness) -> None:
    alice, _, carol, market = await _proposed(harness)
    dave = await harness.user("dave")
    before = await harness.stored()
    with pytest.raises(errors.Forbidden):
        await resolution.dispute_resolution(harness.ctx, dave.id, market.id, "I object")
    with pytest.raises(errors.Forbidden):  # the creator holds no shares either
        await resolution.dispute_resolution(harness.ctx, alice.id, market.id, "I object")
    with pytest.raises(errors.BadUserInput):
        await resolution.dispute_resolution(harness.ctx, carol.id, market.id, " ")
    assert await harness.stored() == before
    _advance(harness, WINDOW)
    with pytest.raises(errors.MarketResolved):
        await resolution.dispute_resolution(harness.ctx, carol.id, market.id, "too late")
    with pytest.raises(errors.MarketResolved):
        await resolution.unresolve_market(harness.ctx, alice.id, market.id)


async def test_a_final_resolution_is_never_undone(harness: Harness) -> None:
    alice, _, carol, market = await _proposed(harness)
    _advance(harness, WINDOW)
    await resolution.finalize_due_resolutions(harness.ctx)
    admin = await harness.user("root", admin=True)
    for actor in (alice, admin):
        with pytest.raises(errors.MarketResolved):
            await resolution.unresolve_market(harness.ctx, actor.id, market.id)
        with pytest.raises(errors.MarketResolved):
            await resolution.void_market(harness.ctx, actor.id, market.id)
    with pytest.raises(errors.MarketResolved):
        await resolution.dispute_resolution(harness.ctx, carol.id, market.id, "no")


async def test_unresolving_a_market_without_a_proposal_is_bad_user_input(harness: Harness) -> None:
    alice = await harness.user("alice")
    market = await harness.market(alice, dispute_window_seconds=WINDOW)
    with pytest.raises(errors.BadUserInput):
        await resolution.unresolve_market(harness.ctx, alice.id, market.id)
    with pytest.raises(errors.BadUserInput):
        await resolution.dispute_resolution(harness.ctx, alice.id, market.id, "nothing to see")


async def test_void_during_a_proposal_pays_at_once(harness: Harness) -> None:
    alice, _, _, market = await _proposed(harness)
    voided = await resolution.void_market(harness.ctx, alice.id, market.id)
    assert voided.market.status is MarketStatus.VOIDED and voided.market.payouts is None
    _advance(harness, WINDOW)
    assert await resolution.finalize_due_resolutions(harness.ctx) == 0
    await harness.assert_invariants()


async def test_an_admin_overrides_a_proposal_at_once(harness: Harness) -> None:
    _, _, _, market = await _proposed(harness)
    admin = await harness.user("root", admin=True)
    final = await resolution.resolve_market(harness.ctx, admin.id, market.id, market.outcomes[1].id)
    assert final.market.status is MarketStatus.RESOLVED and final.total_payout_cents == 1000
    await harness.assert_invariants()


async def test_the_sweeper_finalizing_while_an_admin_resolves_pays_exactly_once(
    harness: Harness,
) -> None:
    _, _, _, market = await _proposed(harness)
    admin = await harness.user("root", admin=True)
    _advance(harness, WINDOW)
    outcomes = await asyncio.gather(
        resolution.finalize_due_resolutions(harness.ctx),
        resolution.resolve_market(harness.ctx, admin.id, market.id, market.outcomes[1].id),
        resolution.finalize_due_resolutions(harness.ctx),
        return_exceptions=True,
    )
    assert sorted(o for o in outcomes if isinstance(o, int)) == [0, 1]
    assert isinstance(outcomes[1], errors.MarketResolved)
    assert await _payouts(harness, market.id) == 1000
    assert (await harness.fetch_market(market.id)).payouts == (100, 0)
    await harness.assert_invariants()


async def test_an_admin_resolving_a_dispute_while_sweepers_run_pays_exactly_once(
    harness: Harness,
) -> None:
    _, _, carol, market = await _proposed(harness)
    admin = await harness.user("root", admin=True)
    await resolution.dispute_resolution(harness.ctx, carol.id, market.id, "wrong")
    _advance(harness, WINDOW)
    outcomes = await asyncio.gather(
        resolution.finalize_due_resolutions(harness.ctx),
        resolution.resolve_market(harness.ctx, admin.id, market.id, market.outcomes[1].id),
        resolution.finalize_due_resolutions(harness.ctx),
    )
    assert (outcomes[0], outcomes[2]) == (0, 0)
    assert await _payouts(harness, market.id) == 1000
    assert (await harness.fetch_market(market.id)).payouts == (0, 100)
    await harness.assert_invariants()
