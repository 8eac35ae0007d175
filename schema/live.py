"""The live side as the schema sees it: topics and the feed that subscriptions read.

``web.live`` implements :class:`LiveFeed` (an in-process hub today; a
PostgreSQL LISTEN/NOTIFY bus can feed the same hub). A topic names what a
subscriber wants; :func:`topics_for` says which topics an event belongs to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol, TypeAlias

from domain.events import (
    BookChanged,
    DomainEvent,
    MarketStatusChanged,
    OrderChanged,
    PricesChanged,
    TradeExecuted,
)

Topic: TypeAlias = tuple[str, ...]


def prices_topic(market_id: str) -> Topic:
    return ("prices", market_id)


def book_topic(market_id: str, outcome_id: str) -> Topic:
    return ("book", market_id, outcome_id)


def trades_topic(market_id: str) -> Topic:
    return ("trades", market_id)


def status_topic(market_id: str) -> Topic:
    return ("status", market_id)


def orders_topic(user_id: str) -> Topic:
    return ("orders", user_id)


def topics_for(event: DomainEvent) -> list[Topic]:
    """Every topic whose subscribers should see ``event``."""
    if isinstance(event, PricesChanged):
        return [prices_topic(event.market_id)]
    if isinstance(event, BookChanged):
        return [book_topic(event.market_id, event.outcome_id)]
    if isinstance(event, TradeExecuted):
        return [trades_topic(event.trade.market_id)]
    if isinstance(event, OrderChanged):
        return [orders_topic(event.order.user_id)]
    if isinstance(event, MarketStatusChanged):
        return [status_topic(event.market_id)]
    return []


class LiveFeed(Protocol):
    def subscribe(self, topic: Topic) -> AbstractAsyncContextManager[AsyncIterator[DomainEvent]]:
        """Events of ``topic`` published from now on, until the context exits.

        Subscribe first, then read the current state: nothing is missed between.
        """
        ...
