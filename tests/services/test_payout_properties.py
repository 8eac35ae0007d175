"""Property tests of payout vectors (PRODUCT.md section 12) on the in-memory adapters.

Random vectors over random holdings, paid at once or after a proposal (possibly
withdrawn and proposed again): every share is paid exactly its outcome's cents,
the rest of the pool goes to the creator, nothing is negative and the audit holds.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import resolutions
from domain.model import AmountType, LmsrSide, MarketStatus, ScalarRange
from domain.services import amm, complete_sets, resolution
from tests.services.conftest import memory_harness

USERS = 3


@st.composite
def vectors(draw: st.DrawFn) -> tuple[int, ...]:
    """Whole cents per outcome (2..5 outcomes), summing to exactly 100."""
    n = draw(st.integers(2, 5))
    cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=n - 1, max_size=n - 1)))
    bounds = [0, *cuts, 100]
    return tuple(b - a for a, b in itertools.pairwise(bounds))


buys = st.lists(
    st.tuples(st.integers(0, USERS - 1), st.integers(0, 4), st.integers(1, 40)), max_size=12
)
paths = st.sampled_from(["at once", "proposed", "withdrawn and proposed again"])


async def _scenario(payouts: tuple[int, ...], holdings: list[Any], sets: int, path: str) -> None:
    harness = memory_harness()
    n = len(payouts)
    creator = await harness.user("creator")
    users = [await harness.user(f"user{i}") for i in range(USERS)]
    window = 0 if path == "at once" else 60
    names = tuple(f"O{i}" for i in range(n))
    market = await harness.market(creator, outcomes=names, dispute_window_seconds=window)
    if sets:
        await complete_sets.mint_complete_set(harness.ctx, users[0].id, market.id, sets)
    for who, outcome, shares in holdings:
        order = amm.LmsrOrder(
            market.id,
            LmsrSide.BUY_YES,
            AmountType.SHARES,
            shares,
            outcome_id=market.outcomes[outcome % n].id,
        )
        await amm.trade(harness.ctx, users[who].id, order)
    before = await harness.snapshot()
    pool = next(m for m in before.markets if m.id == market.id).pool_cents
    index = {o.id: o.index for o in market.outcomes}
    owed = {u.id: 0 for u in users}
    for p in before.positions:
        owed[p.user_id] += p.shares * payouts[index[p.outcome_id]]
    cash = {u.id: u.cash_cents for u in before.users}
    given_cents = [(o.id, c) for o, c in zip(market.outcomes, payouts, strict=True)]

    if path == "withdrawn and proposed again":
        reversed_cents = [(o.id, c) for o, c in zip(market.outcomes, payouts[::-1], strict=True)]
        await resolution.resolve_market_split(harness.ctx, creator.id, market.id, reversed_cents)
        await resolution.unresolve_market(harness.ctx, creator.id, market.id)
    result = await resolution.resolve_market_split(harness.ctx, creator.id, market.id, given_cents)
    if window:
        assert result.total_payout_cents == 0
        await harness.assert_invariants()
        harness.clock.advance(seconds=window)  # type: ignore[attr-defined]
        assert await resolution.finalize_due_resolutions(harness.ctx) == 1

    after = await harness.snapshot()
    resolved = next(m for m in after.markets if m.id == market.id)
    assert (resolved.status, resolved.payouts, resolved.pool_cents) == (
        MarketStatus.RESOLVED,
        payouts,
        0,
    )
    new_cash = {u.id: u.cash_cents for u in after.users}
    for user in users:
        assert new_cash[user.id] - cash[user.id] == owed[user.id]
    assert new_cash[creator.id] - cash[creator.id] == pool - sum(owed.values())
    settled = [s for s in after.settlements if s.market_id == market.id]
    assert sum(s.payout_cents for s in settled) == sum(owed.values())
    assert len(settled) == sum(1 for p in before.positions if p.shares)
    assert all(p.shares == 0 for p in after.positions)
    await harness.assert_invariants()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(vectors(), buys, st.integers(0, 15), paths)
def test_every_share_is_paid_its_cents_and_the_rest_goes_to_the_creator(
    payouts: tuple[int, ...], holdings: list[Any], sets: int, path: str
) -> None:
    asyncio.run(_scenario(payouts, holdings, sets, path))


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@given(finite, st.floats(0.001, 1e6, allow_nan=False), finite, finite)
def test_scalar_long_cents_stay_in_range_and_grow_with_the_value(
    lower: float, width: float, a: float, b: float
) -> None:
    upper = lower + width
    if not lower < upper or not math.isfinite(upper):
        return
    scalar = ScalarRange(lower, upper)
    low, high = sorted((a, b))
    cents_low, cents_high = (
        resolutions.long_cents(scalar, low),
        resolutions.long_cents(scalar, high),
    )
    assert 0 <= cents_low <= cents_high <= 100
    assert resolutions.long_cents(scalar, lower) == 0
    assert resolutions.long_cents(scalar, upper) == 100
