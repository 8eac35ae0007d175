"""Live feeds as a registry: what a feed carries, to whom, and how it is delivered.

A :class:`Feed` names the domain event it carries, the key that picks its
subscribers (a market, a book, a user), how a subscriber that falls behind is
served (:class:`Delivery`), the read that gives a new subscriber the current
state, and the view (a schema type) built once per event and shared by every
subscriber of that key. ``resolvers.live.FEEDS`` lists them; ``web.live.LiveHub``
implements :class:`LiveFeed` for any of them, fed by the event bus. A new feed is
one :class:`Feed` entry and its schema type (docs/API.md, "Adding a feed").
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from domain.queries import ReadModel

E = TypeVar("E")
V = TypeVar("V")


VIEWER_DEPENDENT = frozenset({"User"})
"""Types with fields that depend on who asks (a user's private fields): a selection that
reaches one is grouped per viewer (``web.livegroups``), never shared between users."""


class Delivery(enum.Enum):
    CONFLATE = "conflate"
    """Each subscriber holds only the newest view not sent yet (views have a ``sequence``)."""
    QUEUE = "queue"
    """Each subscriber queues views up to a bound and drops the oldest beyond it."""


Snapshot = Callable[[ReadModel, datetime, Any], Awaitable[Any]]
"""``(reads, now, key)``: the current view of ``key``; it raises (NOT_FOUND...) when the
key names nothing a subscriber may follow. A feed without one sends changes only."""


@dataclass(frozen=True, slots=True)
class Feed(Generic[E, V]):
    """One live feed. ``view(event, number)`` gets the number of the event on this
    worker's channel for its key (1, 2, ...; a bus reconnect skips one)."""

    name: str
    event: type[E]
    key: Callable[[E], Hashable]
    view: Callable[[E, int], V]
    delivery: Delivery
    snapshot: Snapshot | None = None
    private: bool = False
    """Keyed by user: only that user's subscribers receive it."""


class LiveFeed(Protocol):
    def open(
        self,
        feed: Feed[Any, V],
        key: Hashable,
        owner: str | None = None,
        credential: str | None = None,
    ) -> AbstractAsyncContextManager[AsyncIterator[V]]:
        """One subscriber of ``feed`` for ``key``: the current state first (if the feed
        has one), then each newer view, until the context exits. ``owner``: the user
        who subscribed; when that user is deactivated the iterator raises
        UNAUTHENTICATED. ``credential``: the API key it was made with, if any
        (``auth.tokens.key_credential``); its revocation ends it the same way."""
        ...
