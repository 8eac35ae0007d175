"""The read side: pages, cursors and the queries the API serves.

Listings are keyset-paginated, newest first, on ``(created_at, id)``: a page
after a cursor stays the same however many rows arrive later. The API encodes
:class:`Cursor` values into opaque strings. Markets can also be listed closing
soonest first, on ``(closes_at, id)``, and narrowed to titles containing a text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from domain.keys import ApiKey, KeyHolder
from domain.model import (
    Market,
    MarketStatus,
    Order,
    OrderStatus,
    Position,
    PricePoint,
    SettledPosition,
    Trade,
    User,
)

T = TypeVar("T")

MAX_PAGE_SIZE = 100
MAX_SEARCH_LENGTH = 200
"""A market search longer than the longest title cannot match anything."""


class MarketSort(StrEnum):
    """Orders of the market list; each is a stable keyset, so pages never shift."""

    NEWEST = "NEWEST"
    """``(created_at, id)`` descending."""
    CLOSING_SOON = "CLOSING_SOON"
    """``(closes_at, id)`` ascending: the cursor's ``at`` is a closing time."""


@dataclass(frozen=True, slots=True)
class MarketQuery:
    """Which markets to list: a status (None: every status), a case-insensitive
    substring of the title (None: any title) and the order."""

    status: MarketStatus | None = None
    search: str | None = None
    sort: MarketSort = MarketSort.NEWEST

    def matches(self, market: Market) -> bool:
        """The same filter as the database's, for the in-memory read model."""
        if self.status is not None and market.status != self.status:
            return False
        return self.search is None or self.search.casefold() in market.title.casefold()


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

    async def user_by_username(self, username: str) -> User | None:
        """The user with exactly this username (sign-in)."""
        ...

    async def markets_by_ids(self, ids: Sequence[str]) -> list[Market]: ...

    async def markets_page(
        self, wanted: MarketQuery, first: int, after: Cursor | None
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

    async def settlements_page(
        self, user_id: str, first: int, after: Cursor | None
    ) -> Page[SettledPosition]:
        """The user's settled positions, newest first."""
        ...

    async def trades_for_orders(self, order_ids: Sequence[str]) -> dict[str, list[Trade]]: ...

    async def recent_trades(self, market_id: str, limit: int) -> list[Trade]: ...

    async def orders_by_ids(self, ids: Sequence[str]) -> list[Order]: ...

    async def resting_orders(self, market_id: str, outcome_id: str | None = None) -> list[Order]:
        """Resting orders of one outcome's book (or of every outcome), by sequence."""
        ...

    async def positions(
        self, user_id: str, market_id: str | None, *, closed: bool = False
    ) -> list[Position]:
        """The user's positions with shares held, oldest market first; with ``closed``
        also those holding none whose sales realized a profit or loss."""
        ...

    async def price_history(self, market_id: str, since: datetime | None) -> list[PricePoint]:
        """Price points in time order."""
        ...

    async def api_key_holder(self, digest: str) -> KeyHolder | None:
        """The key with this digest (revoked or not) and its user's standing."""
        ...

    async def api_keys(self, user_id: str) -> list[ApiKey]:
        """The user's keys, newest first (revoked ones too)."""
        ...
