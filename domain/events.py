"""Events the services publish after their transaction commits.

They are frozen values built once per market event; subscribers share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

from domain.model import MarketStatus, Order, Trade


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
    """An outcome's order book changed; ``sequence`` increases by one per change."""

    market_id: str
    outcome_id: str
    sequence: int
    at: datetime


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


DomainEvent: TypeAlias = (
    PricesChanged | BookChanged | TradeExecuted | OrderChanged | MarketStatusChanged
)
