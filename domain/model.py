"""Entities and values of the platform.

Units: every ``*_cents`` is an integer number of cents; shares and quantities
are whole numbers; order-book prices are integer cents per share, 1..99.
Entities are plain mutable dataclasses changed only by the domain's functions;
values and events are frozen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import TypeVar, cast

from domain.errors import NotFound
from domain.money import MAX_AMOUNT as MAX_AMOUNT

SHARE_PAYOUT_CENTS = 100
"""What one share of the winning outcome pays."""

MIN_PRICE_CENTS = 1
MAX_PRICE_CENTS = 99


class MarketType(StrEnum):
    ORDER_BOOK = "ORDER_BOOK"
    LMSR = "LMSR"


class MarketStatus(StrEnum):
    OPEN = "OPEN"
    PAUSED = "PAUSED"
    CLOSED = "CLOSED"
    RESOLVED = "RESOLVED"
    VOIDED = "VOIDED"
    RESOLUTION_PROPOSED = "RESOLUTION_PROPOSED"
    DISPUTED = "DISPUTED"


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(StrEnum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"


class TimeInForce(StrEnum):
    GTC = "GTC"
    GTD = "GTD"
    IOC = "IOC"
    FOK = "FOK"


class OrderStatus(StrEnum):
    OPEN = "OPEN"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


RESTING_STATUSES = frozenset({OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED})


class LmsrSide(StrEnum):
    BUY_YES = "BUY_YES"
    SELL_YES = "SELL_YES"
    BUY_NO = "BUY_NO"
    SELL_NO = "SELL_NO"


class AmountType(StrEnum):
    SPEND = "SPEND"
    SHARES = "SHARES"


@dataclass(slots=True)
class User:
    """A trader. ``cash_cents``, ``bonus_cents`` and ``reserved_cents`` are ledger accounts."""

    id: str
    username: str
    email: str
    password_hash: str
    created_at: datetime
    cash_cents: int = 0
    bonus_cents: int = 0
    reserved_cents: int = 0
    is_admin: bool = False
    is_active: bool = True


@dataclass(slots=True)
class Outcome:
    """One outcome of a market.

    ``amm_shares`` is the LMSR state q_i (shares the market maker has sold);
    ``shares_outstanding`` is every share of this outcome held by anyone
    (AMM sales plus minted complete sets). ``best_bid_cents``/``best_ask_cents``
    mirror the top of this outcome's book after every command that changes it;
    ``book_sequence`` increases with every change of that book.
    """

    id: str
    market_id: str
    name: str
    index: int
    amm_shares: int = 0
    shares_outstanding: int = 0
    last_trade_cents: int | None = None
    best_bid_cents: int | None = None
    best_ask_cents: int | None = None
    book_sequence: int = 0
    payout_cents: int | None = None
    """Cents per share once a resolution is proposed or final (0..100); None before."""

    def copy(self) -> Outcome:
        """The outcome as it stands now (for a result), field by field."""
        return _copy_outcome(self)


@dataclass(frozen=True, slots=True)
class ScalarRange:
    """The range of a scalar market's number: Long pays 100 at ``upper`` and above."""

    lower: float
    upper: float
    unit: str = ""


@dataclass(slots=True)
class Market:
    """A market. ``pool_cents`` and ``fees_cents`` are ledger accounts.

    ``fees_cents`` is this market's share of the platform fee account: fees are
    kept per market so that trades in different markets never contend on one row.
    ``order_sequence`` numbers orders for time priority; ``price_sequence``
    numbers price updates and ``trade_sequence`` trades, so that a subscriber can
    see a gap. ``scalar`` (its
    three ``scalar_*`` columns) is set for a Long/Short market on a number
    (``resolution_value`` is the number it resolved to);
    ``dispute_window_seconds`` > 0 makes a resolution a proposal that becomes
    final at ``dispute_window_ends_at``.
    """

    id: str
    title: str
    description: str
    market_type: MarketType
    status: MarketStatus
    creator_id: str
    outcomes: list[Outcome]
    liquidity: float | None
    fee_bps: int
    resolution_source: str
    closes_at: datetime
    created_at: datetime
    resolved_at: datetime | None = None
    winning_outcome_id: str | None = None
    volume_cents: int = 0
    pool_cents: int = 0
    fees_cents: int = 0
    order_sequence: int = 0
    price_sequence: int = 0
    trade_sequence: int = 0
    scalar_lower: float | None = None
    scalar_upper: float | None = None
    scalar_unit: str = ""
    resolution_value: float | None = None
    dispute_window_seconds: int = 0
    dispute_window_ends_at: datetime | None = None
    dispute_reason: str | None = None

    @property
    def scalar(self) -> ScalarRange | None:
        """The range of a scalar (Long/Short) market; None for any other market."""
        if self.scalar_lower is None or self.scalar_upper is None:
            return None
        return ScalarRange(self.scalar_lower, self.scalar_upper, self.scalar_unit)

    @property
    def payouts(self) -> tuple[int, ...] | None:
        """Cents per share of each outcome, in outcome order, once proposed or resolved."""
        cents = tuple(o.payout_cents for o in self.outcomes)
        return None if None in cents else cast(tuple[int, ...], cents)

    def outcome(self, outcome_id: str) -> Outcome:
        for outcome in self.outcomes:
            if outcome.id == outcome_id:
                return outcome
        raise NotFound(f"market {self.id} has no outcome {outcome_id}")


@dataclass(slots=True)
class Position:
    """A user's shares of one outcome.

    ``reserved_shares`` are held for resting sell orders; ``cost_cents`` is the
    average-cost basis of the ``shares`` held (what void refunds);
    ``realized_pnl_cents`` is what sales realized (proceeds minus the average
    cost of the shares sold, each sale rounded to the nearest cent; may be negative).
    """

    user_id: str
    market_id: str
    outcome_id: str
    shares: int = 0
    reserved_shares: int = 0
    cost_cents: int = 0
    realized_pnl_cents: int = 0

    @property
    def free_shares(self) -> int:
        return self.shares - self.reserved_shares


@dataclass(slots=True)
class Order:
    """An order-book order. ``reserved_cents`` is what its resting BUY holds."""

    id: str
    user_id: str
    market_id: str
    outcome_id: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    price_cents: int | None
    quantity: int
    created_at: datetime
    sequence: int
    filled_quantity: int = 0
    status: OrderStatus = OrderStatus.OPEN
    post_only: bool = False
    expires_at: datetime | None = None
    client_order_id: str | None = None
    reserved_cents: int = 0
    updated_at: datetime | None = None

    @property
    def remaining_quantity(self) -> int:
        if self.status not in RESTING_STATUSES:
            return 0
        return self.quantity - self.filled_quantity

    @property
    def is_resting(self) -> bool:
        return self.status in RESTING_STATUSES

    def copy(self) -> Order:
        """The order as it stands now (for an event or a result), field by field."""
        return _copy_order(self)


@dataclass(frozen=True, slots=True)
class Trade:
    """An execution. ``price_cents`` is the maker's price, or the rounded AMM average."""

    id: str
    market_id: str
    outcome_id: str
    price_cents: int
    quantity: int
    is_amm: bool
    taker_side: Side
    taker_user_id: str
    executed_at: datetime
    notional_cents: int
    fee_cents: int = 0
    maker_user_id: str | None = None
    taker_order_id: str | None = None
    maker_order_id: str | None = None
    lmsr_side: LmsrSide | None = None

    @property
    def is_leg(self) -> bool:
        """A maker's leg of a mint or merge match: the trade of the maker's order alone
        (on the maker's outcome, the maker's side); ``taker_user_id`` names the
        counterparty that took it, who traded another outcome (its own leg)."""
        return not self.is_amm and self.maker_order_id is not None and self.taker_order_id is None

    sequence: int | None = None
    """+1 per trade of its market, stored (numbered as the command commits)."""

    def numbered(self, sequence: int) -> Trade:
        """This trade with its number in its market (``sequence``)."""
        return _number_trade(self, sequence)


@dataclass(frozen=True, slots=True)
class SettledPosition:
    """A position settled by a resolution or a void: what it held, was paid and had cost."""

    id: str
    user_id: str
    market_id: str
    outcome_id: str
    shares: int
    payout_cents: int
    cost_basis_cents: int
    settled_at: datetime

    @property
    def realized_pnl_cents(self) -> int:
        return self.payout_cents - self.cost_basis_cents


@dataclass(frozen=True, slots=True)
class PricePoint:
    """The market's prices (probabilities, same order as outcomes) at a moment."""

    market_id: str
    at: datetime
    prices: tuple[float, ...]


@dataclass(slots=True)
class Platform:
    """The platform-wide accounts: what the issuer has issued (signup, grants)."""

    issued_cents: int = 0


E = TypeVar("E")


def field_copier(entity: type[E]) -> Callable[[E], E]:
    """A function copying an ``entity`` field by field, generated from its fields as
    :mod:`dataclasses` generates ``__init__`` (so a new field is copied too):
    ``dataclasses.replace`` costs seven times as much, and a batch copies every order
    it changes for its events and results."""
    return cast(Callable[[E], E], _generated_copy(entity, ()))


def field_replacer(entity: type[E], *names: str) -> Callable[..., E]:
    """As :func:`field_copier`, with the fields ``names`` replaced: ``f(e, *values)``
    is ``dataclasses.replace(e, **dict(zip(names, values)))`` at the cost of a copy."""
    return _generated_copy(entity, names)


def _generated_copy(entity: type[E], replaced: tuple[str, ...]) -> Callable[..., E]:
    names = [f.name for f in fields(entity)]  # type: ignore[arg-type]
    if any(not f.init for f in fields(entity)):  # type: ignore[arg-type]
        raise TypeError(f"{entity.__name__} has fields that __init__ does not take")
    unknown = set(replaced) - set(names)
    if unknown:
        raise TypeError(f"{entity.__name__} has no fields {sorted(unknown)}")
    values = [f"v_{n}" if n in replaced else f"e.{n}" for n in names]
    arguments = ", ".join(["e", *(f"v_{n}" for n in replaced)])
    namespace: dict[str, object] = {"E": entity}
    exec(f"def copy({arguments}):\n    return E({', '.join(values)})\n", namespace)
    return cast(Callable[..., E], namespace["copy"])


_copy_order = field_copier(Order)
_copy_outcome = field_copier(Outcome)
_number_trade = field_replacer(Trade, "sequence")
