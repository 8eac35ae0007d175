"""Events the services publish after their transaction commits.

They are frozen values built once per market event; subscribers share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

from domain.book_types import PriceLevel
from domain.model import MarketStatus, Order, Side, Trade

BOOK_EVENT_DEPTH = 100
"""Levels per side a :class:`BookChanged` carries: every level a subscriber may ask for."""


@dataclass(frozen=True, slots=True)
class PricesChanged:
    """A market's prices moved; ``sequence`` increases by one per market update."""

    market_id: str
    prices: tuple[float, ...]
    last_trade_cents: int | None
    volume_cents: int
    sequence: int
    at: datetime


@dataclass(frozen=True, slots=True)
class BookChanged:
    """An outcome's order book changed; ``sequence`` increases by one per change.

    It carries the book's top levels as the command left them (bids highest
    first, asks lowest first, at most :data:`BOOK_EVENT_DEPTH` each), so that a
    subscriber's view of the book needs no read of the database.
    """

    market_id: str
    outcome_id: str
    sequence: int
    at: datetime
    bids: tuple[PriceLevel, ...] = ()
    asks: tuple[PriceLevel, ...] = ()
    last_trade_cents: int | None = None


@dataclass(frozen=True, slots=True)
class TradeExecuted:
    trade: Trade


@dataclass(frozen=True, slots=True)
class OrderChanged:
    """A snapshot of an order after a command changed it."""

    order: Order


@dataclass(frozen=True, slots=True)
class MarketStatusChanged:
    market_id: str
    status: MarketStatus
    at: datetime


@dataclass(frozen=True, slots=True)
class UserDeactivated:
    """A user can no longer act: every worker ends the subscriptions they hold and stops
    trusting their token without looking them up (``auth.principals``)."""

    user_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ApiKeyRevoked:
    """An API key stopped working: every worker ends the subscriptions made with it."""

    key_id: str
    user_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class FillExecuted:
    """One side of a trade as its user sees it: ``side``, ``price_cents`` and ``fee_cents``
    are that user's; ``sequence`` is +1 per fill of the user, stored with the user."""

    user_id: str
    trade: Trade
    order_id: str | None
    side: Side
    price_cents: int
    quantity: int
    fee_cents: int
    is_maker: bool
    sequence: int


@dataclass(frozen=True, slots=True)
class AccountChanged:
    """A command changed the user's balances, reservations or positions."""

    user_id: str
    at: datetime


DomainEvent: TypeAlias = (
    PricesChanged
    | BookChanged
    | TradeExecuted
    | OrderChanged
    | MarketStatusChanged
    | UserDeactivated
    | ApiKeyRevoked
    | FillExecuted
    | AccountChanged
)


def conflated(events: list[DomainEvent]) -> list[DomainEvent]:
    """``events`` without the states a later one of them supersedes: a market's
    ``PricesChanged`` before its last, an outcome's ``BookChanged`` before its last.

    Prices and books are conflated for subscribers anyway (a gap in their sequence means
    states were skipped; docs/API.md), and the states between a transaction's first and
    last were never committed on their own: a batch of 20 trades announces its market's
    prices and books once, as its commit left them. Everything else is kept, in order."""
    states = [_state_of(event) for event in events]
    last = {state: index for index, state in enumerate(states) if state is not None}
    kept = set(last.values())
    return [e for i, e in enumerate(events) if states[i] is None or i in kept]


def _state_of(event: DomainEvent) -> tuple[str, ...] | None:
    """What ``event`` is the newest state of, if it is one (a market's prices, a book)."""
    if isinstance(event, PricesChanged):
        return ("prices", event.market_id)
    if isinstance(event, BookChanged):
        return ("book", event.market_id, event.outcome_id)
    return None
