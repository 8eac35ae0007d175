"""The live side as the schema sees it: the feed that subscriptions read.

``web.live.LiveHub`` implements :class:`LiveFeed`, fed by the event bus. Each
method opens one subscriber; the iterator it yields runs until the context
exits. Prices and books start with the current state and are conflated (a
subscriber that falls behind gets the newest state, never a backlog); trades
and order updates are queued up to a bound, the oldest dropped beyond it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from schema.types.markets import PriceUpdate
    from schema.types.trading import Order, OrderBook, Trade


class LiveFeed(Protocol):
    def prices(self, market_id: str) -> AbstractAsyncContextManager[AsyncIterator[PriceUpdate]]:
        """The market's prices now, then each newer update (``sequence`` only increases)."""
        ...

    def book(
        self, market_id: str, outcome_id: str, depth: int
    ) -> AbstractAsyncContextManager[AsyncIterator[OrderBook]]:
        """The outcome's book now, then each newer state (``sequence`` only increases)."""
        ...

    def trades(self, market_id: str) -> AbstractAsyncContextManager[AsyncIterator[Trade]]:
        """The market's trades from now on, each with a ``sequence`` that shows drops."""
        ...

    def orders(self, user_id: str) -> AbstractAsyncContextManager[AsyncIterator[Order]]:
        """Changes of the user's orders from now on."""
        ...
