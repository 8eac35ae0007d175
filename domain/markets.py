"""Market rules: creation, lifecycle, who may move it, and prices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import lmsr, resolutions
from domain.errors import (
    BadUserInput,
    Forbidden,
    InvalidAmount,
    MarketClosed,
    MarketPaused,
    MarketResolved,
    WrongMarketType,
)
from domain.model import SHARE_PAYOUT_CENTS, Market, MarketStatus, MarketType, ScalarRange, User
from domain.money import MAX_AMOUNT, MAX_FEE_BPS, is_fee_bps
from domain.validation import bounded_float, text, utc_time

MIN_LIQUIDITY = 0.01
"""Smallest b (shares): below it q/b overflows floats for ordinary trades."""
MAX_LIQUIDITY = 1_000_000.0
"""Largest b (shares); its subsidy with 10 outcomes, 2.3e8 cents, is under the ceiling."""
MAX_MARKET_LIFETIME = timedelta(days=36525)
MAX_OUTCOMES = 10
FINAL_STATUSES = frozenset({MarketStatus.RESOLVED, MarketStatus.VOIDED})


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """What a creator asks for. ``liquidity`` is b in shares (LMSR only)."""

    title: str
    market_type: MarketType
    outcomes: tuple[str, ...]
    closes_at: datetime
    description: str = ""
    liquidity: float | None = 100.0
    fee_bps: int | None = None
    resolution_source: str = ""
    scalar: ScalarRange | None = None
    dispute_window_seconds: int = 0


def validate_spec(spec: MarketSpec, now: datetime, default_fee_bps: int) -> MarketSpec:
    """A normalized copy of ``spec``, or BAD_USER_INPUT / INVALID_AMOUNT."""
    names = tuple(text(name, "outcome name", 1, 100) for name in spec.outcomes)
    if not 2 <= len(names) <= MAX_OUTCOMES:
        raise BadUserInput(f"a market needs 2 to {MAX_OUTCOMES} outcomes")
    if len({name.casefold() for name in names}) != len(names):
        raise BadUserInput("outcome names must be unique")
    closes_at = utc_time(spec.closes_at, "closesAt")
    if not now < closes_at < now + MAX_MARKET_LIFETIME:
        raise BadUserInput("closesAt must be a time within the next 100 years")
    fee_bps = default_fee_bps if spec.fee_bps is None else spec.fee_bps
    if not is_fee_bps(fee_bps):
        raise BadUserInput(f"feeBps must be from 0 to {MAX_FEE_BPS}")
    return MarketSpec(
        title=text(spec.title, "title", 10, 200),
        market_type=spec.market_type,
        outcomes=names,
        closes_at=closes_at,
        description=text(spec.description, "description", 0, 5000),
        liquidity=_liquidity(spec, len(names)),
        fee_bps=fee_bps,
        resolution_source=text(spec.resolution_source, "resolutionSource", 0, 500),
        scalar=resolutions.validate_scalar(spec.scalar, names) if spec.scalar else None,
        dispute_window_seconds=resolutions.validate_window(spec.dispute_window_seconds),
    )


def _liquidity(spec: MarketSpec, n: int) -> float | None:
    if spec.market_type is MarketType.ORDER_BOOK:
        return None
    if spec.liquidity is None:
        raise InvalidAmount("an LMSR market needs liquidityParameter")
    b = bounded_float(spec.liquidity, "liquidityParameter", MIN_LIQUIDITY, MAX_LIQUIDITY)
    if lmsr.subsidy_cents(b, n) >= MAX_AMOUNT:
        raise InvalidAmount("liquidityParameter is too large: its subsidy exceeds the ceiling")
    return float(b)


def subsidy_cents(market: Market) -> int:
    """What the creator of an LMSR market pays into its pool: ceil(100 * b * ln n)."""
    if market.liquidity is None:
        return 0
    return lmsr.subsidy_cents(market.liquidity, len(market.outcomes))


def ensure_can_manage(market: Market, actor: User) -> None:
    """Only the creator or an admin may pause, resume, close, resolve or void."""
    if not (actor.is_admin or actor.id == market.creator_id):
        raise Forbidden("only the market's creator or an admin may do that")


def ensure_not_final(market: Market) -> None:
    if market.status in FINAL_STATUSES:
        raise MarketResolved(f"market {market.id} is {market.status.lower()}")


def ensure_not_resolving(market: Market) -> None:
    """Final, or with a resolution proposed or disputed: closed for good or for now."""
    ensure_not_final(market)
    if market.status in resolutions.PENDING_STATUSES:
        raise MarketClosed(f"market {market.id} is closed: its resolution is proposed")


def ensure_tradable(market: Market, now: datetime) -> None:
    """Trading happens only while OPEN and before ``closes_at``."""
    ensure_not_resolving(market)
    if market.status is MarketStatus.PAUSED:
        raise MarketPaused(f"market {market.id} is paused")
    if market.status is MarketStatus.CLOSED or now >= market.closes_at:
        raise MarketClosed(f"market {market.id} is closed for trading")


def ensure_type(market: Market, market_type: MarketType) -> None:
    if market.market_type is not market_type:
        raise WrongMarketType(
            f"market {market.id} is {market.market_type}, this needs {market_type}"
        )


def pause(market: Market) -> None:
    ensure_not_resolving(market)
    if market.status is MarketStatus.CLOSED:
        raise MarketClosed(f"market {market.id} is closed")
    if market.status is MarketStatus.PAUSED:
        raise MarketPaused(f"market {market.id} is already paused")
    market.status = MarketStatus.PAUSED


def resume(market: Market, now: datetime) -> None:
    ensure_not_resolving(market)
    if market.status is MarketStatus.CLOSED or now >= market.closes_at:
        raise MarketClosed(f"market {market.id} is closed")
    if market.status is not MarketStatus.PAUSED:
        raise BadUserInput(f"market {market.id} is not paused")
    market.status = MarketStatus.OPEN


def close(market: Market) -> None:
    ensure_not_resolving(market)
    if market.status is MarketStatus.CLOSED:
        raise MarketClosed(f"market {market.id} is already closed")
    market.status = MarketStatus.CLOSED


def current_prices(market: Market) -> tuple[float, ...]:
    """Probabilities in outcome order.

    Resolved: each outcome's payout / 100. LMSR: the market maker's prices.
    Order book: mid of best bid and ask, else the last trade, else 1/n.
    """
    n = len(market.outcomes)
    if market.status is MarketStatus.RESOLVED and market.payouts is not None:
        return tuple(cents / SHARE_PAYOUT_CENTS for cents in market.payouts)
    if market.market_type is MarketType.LMSR and market.liquidity is not None:
        return tuple(lmsr.prices([o.amm_shares for o in market.outcomes], market.liquidity))
    result = []
    for outcome in market.outcomes:
        bid, ask = outcome.best_bid_cents, outcome.best_ask_cents
        if bid is not None and ask is not None:
            result.append((bid + ask) / 200)
        elif outcome.last_trade_cents is not None:
            result.append(outcome.last_trade_cents / 100)
        else:
            result.append(1 / n)
    return tuple(result)
