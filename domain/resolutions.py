"""Resolutions as payout vectors, and the rules of the dispute window.

A resolution is what one share of each outcome pays, in whole cents 0..100,
the cents of all outcomes summing to exactly 100 (``SHARE_PAYOUT_CENTS``).
Each resolution form builds such a vector: one outcome paying 100
(``winner_takes_all``), an explicit split (``split``), or a scalar market's
number (``scalar``). Paying a vector is the same for every form (``payments``).

With a dispute window a resolution is first a proposal (RESOLUTION_PROPOSED);
a holder may dispute it (DISPUTED); the creator or an admin may withdraw it
(back to CLOSED), only an admin once it is disputed; an undisputed proposal
becomes final when its window ends. A final resolution is never undone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext

from domain.errors import BadUserInput, Forbidden, MarketResolved
from domain.model import SHARE_PAYOUT_CENTS, Market, MarketStatus, Position, ScalarRange, User
from domain.validation import bounded_float, text

MAX_DISPUTE_WINDOW_SECONDS = 7 * 24 * 3600
MAX_REASON_LENGTH = 1000
MAX_UNIT_LENGTH = 20
MAX_SCALAR_MAGNITUDE = 1e15
"""A scalar market's lower, upper and resolution value lie in -1e15..1e15 (INVALID_AMOUNT
otherwise): finite, with room for any price, count or index a market is written on."""
PENDING_STATUSES = frozenset({MarketStatus.RESOLUTION_PROPOSED, MarketStatus.DISPUTED})
"""A resolution is on the table: no trading; not final yet."""

Payouts = tuple[int, ...]
"""Cents per share of each outcome, in outcome order, summing to 100."""


@dataclass(frozen=True, slots=True)
class Proposal:
    """A payout vector and, for a scalar market, the number it came from."""

    payouts: Payouts
    value: float | None = None


def winner_takes_all(market: Market, outcome_id: str) -> Proposal:
    winner = market.outcome(outcome_id)
    return Proposal(tuple(SHARE_PAYOUT_CENTS if o is winner else 0 for o in market.outcomes))


def split(market: Market, given: Sequence[tuple[str, int]]) -> Proposal:
    """Cents per outcome id; an outcome left out pays 0. BAD_USER_INPUT unless each is
    0..100, no outcome is named twice and they sum to exactly 100."""
    cents: dict[str, int] = {}
    for outcome_id, amount in given:
        market.outcome(outcome_id)
        if outcome_id in cents:
            raise BadUserInput(f"outcome {outcome_id} is named twice")
        if not 0 <= amount <= SHARE_PAYOUT_CENTS:
            raise BadUserInput(f"a payout is 0..{SHARE_PAYOUT_CENTS} cents per share")
        cents[outcome_id] = amount
    if sum(cents.values()) != SHARE_PAYOUT_CENTS:
        raise BadUserInput(f"payouts must sum to exactly {SHARE_PAYOUT_CENTS} cents")
    return Proposal(tuple(cents.get(o.id, 0) for o in market.outcomes))


def scalar(market: Market, value: float) -> Proposal:
    if market.scalar is None:
        raise BadUserInput(f"market {market.id} is not a scalar market")
    value = _scalar_number(value, "value")
    long = long_cents(market.scalar, value)
    return Proposal((long, SHARE_PAYOUT_CENTS - long), value)


def long_cents(scalar_range: ScalarRange, value: float) -> int:
    """round(100 * clamp((value - lower) / (upper - lower), 0, 1)), halves rounded up.

    Computed in decimal on each number as written (its shortest repr), so 0.145 of
    0..1 is 14.5 -> 15, as a person would round it, not binary 0.14499... -> 14.
    """
    lower, upper, number = (
        Decimal(repr(x)) for x in (scalar_range.lower, scalar_range.upper, value)
    )
    with localcontext() as ctx:
        ctx.prec = 60
        fraction = min(max((number - lower) / (upper - lower), Decimal(0)), Decimal(1))
        cents = (fraction * SHARE_PAYOUT_CENTS).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(cents)


def validate_scalar(scalar_range: ScalarRange, outcomes: tuple[str, ...]) -> ScalarRange:
    if len(outcomes) != 2:
        raise BadUserInput("a scalar market has two outcomes: Long first, then Short")
    lower = _scalar_number(scalar_range.lower, "scalar.lower")
    upper = _scalar_number(scalar_range.upper, "scalar.upper")
    if not lower < upper:
        raise BadUserInput("a scalar range needs lower < upper")
    return ScalarRange(lower, upper, text(scalar_range.unit, "unit", 0, MAX_UNIT_LENGTH))


def _scalar_number(value: float, what: str) -> float:
    return bounded_float(value, what, -MAX_SCALAR_MAGNITUDE, MAX_SCALAR_MAGNITUDE)


def validate_window(seconds: int) -> int:
    if not 0 <= seconds <= MAX_DISPUTE_WINDOW_SECONDS:
        raise BadUserInput(f"disputeWindowSeconds must be 0..{MAX_DISPUTE_WINDOW_SECONDS}")
    return seconds


def window_ended(market: Market, now: datetime) -> bool:
    ends = market.dispute_window_ends_at
    return market.status is MarketStatus.RESOLUTION_PROPOSED and ends is not None and now >= ends


def _ensure_open_proposal(market: Market, now: datetime) -> None:
    """A final market, or a proposal whose window has ended, cannot be changed."""
    if market.status in (MarketStatus.RESOLVED, MarketStatus.VOIDED):
        raise MarketResolved(f"market {market.id} is {market.status.lower()}")
    if window_ended(market, now):
        raise MarketResolved(f"the proposed resolution of market {market.id} is final")


def _ensure_admin_if_disputed(market: Market, actor: User, action: str) -> None:
    if market.status is MarketStatus.DISPUTED and not actor.is_admin:
        raise Forbidden(f"market {market.id} is disputed: only an admin may {action} it")


def resolves_at_once(market: Market, actor: User, now: datetime) -> bool:
    """Whether a resolution by ``actor`` (its creator or an admin) pays now or is proposed.

    A disputed market, or a proposal an admin overrides, is resolved finally at once;
    another proposal must be withdrawn first (MARKET_RESOLVED).
    """
    _ensure_open_proposal(market, now)
    _ensure_admin_if_disputed(market, actor, "resolve")
    if market.status is MarketStatus.RESOLUTION_PROPOSED and not actor.is_admin:
        raise MarketResolved(f"market {market.id} already has a proposed resolution")
    return market.status in PENDING_STATUSES or market.dispute_window_seconds == 0


def ensure_can_void(market: Market, actor: User, now: datetime) -> None:
    _ensure_open_proposal(market, now)
    _ensure_admin_if_disputed(market, actor, "void")


def propose(market: Market, proposal: Proposal, now: datetime) -> None:
    """RESOLUTION_PROPOSED: nothing paid until ``dispute_window_ends_at``."""
    _record(market, proposal)
    market.status = MarketStatus.RESOLUTION_PROPOSED
    market.dispute_window_ends_at = now + timedelta(seconds=market.dispute_window_seconds)


def _record(market: Market, proposal: Proposal) -> None:
    for outcome, cents in zip(market.outcomes, proposal.payouts, strict=True):
        outcome.payout_cents = cents
    market.resolution_value = proposal.value


def _drop_proposal(market: Market) -> None:
    """Undo :func:`propose`: no payouts, no value, no dispute window."""
    for outcome in market.outcomes:
        outcome.payout_cents = None
    market.resolution_value = None
    market.dispute_window_ends_at = None


def finalize(market: Market, proposal: Proposal, now: datetime) -> None:
    """RESOLVED with these payouts; ``winning_outcome_id`` only if one outcome pays 100."""
    _record(market, proposal)
    market.status = MarketStatus.RESOLVED
    market.resolved_at = now
    market.winning_outcome_id = next(
        (o.id for o in market.outcomes if o.payout_cents == SHARE_PAYOUT_CENTS), None
    )


def proposal_of(market: Market) -> Proposal:
    payouts = market.payouts
    if payouts is None:
        raise BadUserInput(f"market {market.id} has no proposed resolution")
    return Proposal(payouts, market.resolution_value)


def unresolve(market: Market, actor: User, now: datetime) -> None:
    """Withdraw a proposed or disputed resolution: back to CLOSED."""
    _ensure_open_proposal(market, now)
    if market.status not in PENDING_STATUSES:
        raise BadUserInput(f"market {market.id} has no proposed resolution to undo")
    _ensure_admin_if_disputed(market, actor, "unresolve")
    _drop_proposal(market)
    market.status = MarketStatus.CLOSED
    market.dispute_reason = None


def dispute(market: Market, held: Sequence[Position], reason: str, now: datetime) -> None:
    """A holder of any of the market's shares disputes its proposal: DISPUTED."""
    _ensure_open_proposal(market, now)
    if market.status is not MarketStatus.RESOLUTION_PROPOSED:
        raise BadUserInput(f"market {market.id} has no proposed resolution to dispute")
    if not any(p.shares for p in held):
        raise Forbidden("only someone holding shares of the market may dispute its resolution")
    market.dispute_reason = text(reason, "reason", 1, MAX_REASON_LENGTH)
    market.status = MarketStatus.DISPUTED


def payments(payouts: Payouts, held: Sequence[Position], market: Market) -> list[int]:
    """What each held position is paid: its shares times its outcome's cents.

    The total never exceeds what the pool must hold, 100 x the most shares of any
    outcome: the cents are a convex combination summing to 100.
    """
    index = {o.id: o.index for o in market.outcomes}
    return [p.shares * payouts[index[p.outcome_id]] for p in held]


def void_refunds(held: Sequence[Position], pool_cents: int) -> list[int]:
    """Each position's cost basis, or ``floor(basis x pool / total)`` if the pool is short."""
    basis = sum(p.cost_cents for p in held)
    if basis <= pool_cents:
        return [p.cost_cents for p in held]
    return [p.cost_cents * pool_cents // basis for p in held]


def void(market: Market, now: datetime) -> None:
    """VOIDED: any proposal is dropped; there is no winner."""
    _drop_proposal(market)
    market.status = MarketStatus.VOIDED
    market.winning_outcome_id = None
    market.resolved_at = now
