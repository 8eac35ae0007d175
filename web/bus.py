"""The event bus port and its in-process adapter; the database URL picks the adapter.

A bus carries the events of committed transactions to every process serving
the API. The unit of work publishes to it after commit (or, on PostgreSQL, sends
the bus's NOTIFY inside its transaction: ``in_transaction``); each process's live
hub is one of its listeners, for its own events as much as for other
processes', so delivery has one path:

- :class:`InMemoryEventBus`: one process (SQLite, the in-memory store).
- :class:`web.pgbus.PostgresEventBus`: PostgreSQL LISTEN/NOTIFY, any number
  of workers and hosts on one database.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from domain.events import DomainEvent
from domain.ports import Notify
from web.settings import AppSettings

log = logging.getLogger("bellwether.bus")

EventListener = Callable[[Sequence[DomainEvent]], Awaitable[None]]
"""Called with each batch of committed events, batches in the order the bus received them."""
Interest = Callable[[type[DomainEvent]], bool]
"""Whether a listener wants events of a type at this moment. A bus that decodes what
arrives (PostgreSQL's) decodes only the events some listener wants; a listener may still
be handed others, and ignores them."""


ReconnectListener = Callable[[], Awaitable[None]]
"""Called after the bus lost its connection and got it back: events may have been missed."""


def only(*kinds: type[DomainEvent]) -> Interest:
    """The interest of a listener that wants events of ``kinds``, always."""
    return frozenset(kinds).__contains__


class EventBus(Protocol):
    """Implements ``domain.ports.EventPublisher``: give the unit of work a bus."""

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        """Announce events of a committed transaction; never raises for transport failures."""
        ...

    @property
    def in_transaction(self) -> Notify | None:
        """For a bus on PostgreSQL NOTIFY, the notifications a unit of work sends inside
        its own transaction, delivered at its commit (``publish`` is then not called);
        None when events must be handed to ``publish`` after the commit."""
        ...

    def add_listener(self, listener: EventListener, interest: Interest | None = None) -> None:
        """Hand ``listener`` the committed events (with ``interest``: at least those it
        wants; without: all)."""
        ...

    def on_reconnect(self, listener: ReconnectListener) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class InMemoryEventBus:
    """One process: ``publish`` hands each batch to the listeners, in order."""

    def __init__(self) -> None:
        self._listeners: list[EventListener] = []
        self._reconnect_listeners: list[ReconnectListener] = []

    @property
    def in_transaction(self) -> None:
        return None

    def add_listener(self, listener: EventListener, interest: Interest | None = None) -> None:
        # Its events are objects already: there is no decoding to spare.
        self._listeners.append(listener)

    def on_reconnect(self, listener: ReconnectListener) -> None:
        # An in-process bus never disconnects.
        self._reconnect_listeners.append(listener)

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        if not events:
            return
        for listener in self._listeners:
            try:
                await listener(events)
            except Exception:
                log.exception("event listener failed")

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def open_bus(settings: AppSettings) -> EventBus:
    """PostgreSQL LISTEN/NOTIFY for a ``postgres://`` database, else in-process."""
    if settings.is_postgres:
        from web.pgbus import PostgresEventBus

        return PostgresEventBus(settings.database_url)
    return InMemoryEventBus()
