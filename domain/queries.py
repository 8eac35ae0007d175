"""The read side: pages, cursors and the queries the API serves.

Listings are keyset-paginated, newest first, on ``(created_at, id)``: a page
after a cursor stays the same however many rows arrive later. The API encodes
:class:`Cursor` values into opaque strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from domain.model import (
    Market,
    MarketStatus,
    Order,
    OrderStatus,
    Position,
    PricePoint,
    Trade,
    User,
)

T = TypeVar("T")

MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in a newest-first listing: the last row seen."""

    at: datetime
    id: str


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    has_next_page: bool
    total_count: int


class ReadModel(Protocol):
    """Queries for the API. Every method reads committed data only."""

    async def users_by_ids(self, ids: Sequence[str]) -> list[User]: ...

    async def markets_by_ids(self, ids: Sequence[str]) -> list[Market]: ...

    async def markets_page(
        self, status: MarketStatus | None, first: int, after: Cursor | None
    ) -> Page[Market]: ...

    async def orders_page(
        self,
        user_id: str,
        status: OrderStatus | None,
        market_id: str | None,
        first: int,
        after: Cursor | None,
    ) -> Page[Order]: ...

    async def trades_page(
        self, user_id: str, market_id: str | None, first: int, after: Cursor | None
    ) -> Page[Trade]:
        """Trades where the user was taker or maker."""
        ...

    async def trades_for_orders(self, order_ids: Sequence[str]) -> dict[str, list[Trade]]: ...

    async def recent_trades(self, market_id: str, limit: int) -> list[Trade]: ...

    async def orders_by_ids(self, ids: Sequence[str]) -> list[Order]: ...

    async def resting_orders(self, market_id: str, outcome_id: str) -> list[Order]: ...

    async def positions(self, user_id: str, market_id: str | None) -> list[Position]:
        """The user's positions with shares held, oldest market first."""
        ...

    async def price_history(self, market_id: str, since: datetime | None) -> list[PricePoint]:
        """Price points in time order."""
        ...
