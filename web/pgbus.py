"""An event bus on PostgreSQL LISTEN/NOTIFY: a trade through any worker reaches all.

The app's units of work send a command's ``pg_notify`` inside its own transaction
(``notifications`` gives the channel and payloads; see
``persistence.tortoise.unit_of_work``): PostgreSQL delivers them when the
transaction commits, in commit order, never for one that rolled back, and the
command pays no round trip for them. ``publish`` sends events on a connection of
its own, after the fact (other publishers, tests). Every process listens on one
dedicated asyncpg connection, never a pooled one, and hands what arrives to its
listeners, its own notifications included, so delivery has one path. When the
listening connection drops, the bus reconnects with exponential backoff and
tells its listeners (``on_reconnect``) so that subscriptions can resend their
current state; sequence numbers show subscribers the gap.

What counts as the connection failing is every driver error the persistence
adapters know (``persistence.tortoise.errors.DRIVER_ERRORS``), including asyncpg's
``InternalClientError`` for a connection that a server shutdown cut mid-operation:
a publish never turns one into an internal error of the command that committed, and
the supervisor never dies of one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import asyncpg

from domain.events import DomainEvent
from domain.ports import Notify
from persistence.postgres_url import PostgresParams
from persistence.tortoise.errors import DRIVER_ERRORS
from web.bus import EventListener, Interest, ReconnectListener
from web.event_codec import EVENT_TAGS, pack, unpack

_TYPES = {tag: kind for kind, tag in EVENT_TAGS.items()}

log = logging.getLogger("bellwether.bus")

CHANNEL = "bellwether_events"


class PostgresEventBus:
    """Implements :class:`web.bus.EventBus` on LISTEN/NOTIFY."""

    def __init__(
        self,
        dsn: str,
        *,
        channel: str = CHANNEL,
        health_interval: float = 1.0,
        max_backoff: float = 5.0,
    ) -> None:
        # The pool's server and database, Unix socket and ssl included, not its pool options.
        self._connect_kwargs = PostgresParams.parse(dsn).connect_kwargs()
        self._channel = channel
        self._health_interval = health_interval
        self._max_backoff = max_backoff
        self._listeners: list[EventListener] = []
        self._interests: list[Interest] | None = []
        """What the listeners want; None once one wants everything."""
        self._reconnect_listeners: list[ReconnectListener] = []
        self._listen_conn: asyncpg.Connection | None = None
        self._publish_conn: asyncpg.Connection | None = None
        self._publish_lock = asyncio.Lock()
        self._supervisor: asyncio.Task[None] | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._inbox: asyncio.Queue[list[DomainEvent]] = asyncio.Queue()
        self._connected = asyncio.Event()
        self.reconnects = 0
        self.dropped_publishes = 0

    def add_listener(self, listener: EventListener, interest: Interest | None = None) -> None:
        self._listeners.append(listener)
        if interest is None or self._interests is None:
            self._interests = None
        else:
            self._interests.append(interest)

    def on_reconnect(self, listener: ReconnectListener) -> None:
        self._reconnect_listeners.append(listener)

    @property
    def channel(self) -> str:
        return self._channel

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def start(self) -> None:
        """Listen, and keep listening across connection losses until ``stop``."""
        await self._listen()
        self._dispatcher = asyncio.create_task(self._dispatch(), name="pgbus-dispatch")
        self._supervisor = asyncio.create_task(self._supervise(), name="pgbus-supervisor")

    async def stop(self) -> None:
        for task in (self._supervisor, self._dispatcher):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for conn in (self._listen_conn, self._publish_conn):
            if conn is not None and not conn.is_closed():
                await conn.close(timeout=2)
        self._connected.clear()

    async def wait_connected(self) -> None:
        await self._connected.wait()

    def notifications(self, events: Sequence[DomainEvent]) -> tuple[str, list[str]]:
        """The channel and the payloads (each under NOTIFY's 8000 bytes) announcing
        ``events``, for a transaction to send with ``pg_notify``."""
        return self._channel, list(pack(events))

    @property
    def in_transaction(self) -> Notify:
        return self.notifications

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        """NOTIFY committed events; if PostgreSQL is unreachable they are dropped and
        logged (the commit stands; subscribers see the gap in sequence numbers)."""
        if not events:
            return
        payloads = list(pack(events))
        async with self._publish_lock:
            for attempt in (1, 2):
                try:
                    await self._notify(payloads)
                    return
                except DRIVER_ERRORS as error:
                    # A connection left over from before a server restart (closed, or cut
                    # mid-operation) fails once: retry on a fresh one before giving up.
                    await self._discard_publisher()
                    if attempt == 2:
                        self.dropped_publishes += 1
                        log.warning("event publish dropped: %s", error)

    async def _notify(self, payloads: Sequence[str]) -> None:
        conn = await self._publisher()
        if len(payloads) == 1:  # the usual case: one round trip, no BEGIN/COMMIT
            await conn.execute("SELECT pg_notify($1, $2)", self._channel, payloads[0])
            return
        async with conn.transaction():  # a command's payloads arrive together or not at all
            for payload in payloads:
                await conn.execute("SELECT pg_notify($1, $2)", self._channel, payload)

    async def _publisher(self) -> asyncpg.Connection:
        if self._publish_conn is None or self._publish_conn.is_closed():
            self._publish_conn = await asyncpg.connect(**self._connect_kwargs, timeout=5)
        return self._publish_conn

    async def _discard_publisher(self) -> None:
        conn, self._publish_conn = self._publish_conn, None
        if conn is not None:
            conn.terminate()

    async def _listen(self) -> None:
        conn = await asyncpg.connect(**self._connect_kwargs, timeout=5)
        await conn.add_listener(self._channel, self._on_notify)
        self._listen_conn = conn
        self._connected.set()

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        """Decode the events some listener wants (every worker receives every event,
        most of which nobody here subscribed to), and queue them for the listeners."""
        try:
            events = unpack(payload, self._wanted)
        except (ValueError, KeyError, TypeError, IndexError):
            log.exception("undecodable notification ignored")
            return
        if events:
            self._inbox.put_nowait(events)

    def _wanted(self, tag: str) -> bool:
        interests, kind = self._interests, _TYPES.get(tag)
        if interests is None or kind is None:  # an unknown kind: decoding it says so
            return True
        return any(wants(kind) for wants in interests)

    async def _dispatch(self) -> None:
        """Deliver notifications one batch at a time, in the order they arrived."""
        while True:
            events = await self._inbox.get()
            for listener in self._listeners:
                try:
                    await listener(events)
                except Exception:
                    log.exception("event listener failed")

    async def _supervise(self) -> None:
        while True:
            await asyncio.sleep(self._health_interval)
            if await self._healthy():
                continue
            self._connected.clear()
            await self._reconnect()

    async def _healthy(self) -> bool:
        conn = self._listen_conn
        if conn is None or conn.is_closed():
            return False
        try:
            # Not asyncio.wait_for: Python 3.11's returns an answer that arrives as the
            # supervisor is cancelled and drops the cancellation, so ``stop`` waited forever.
            async with asyncio.timeout(self._health_interval * 3):
                await conn.fetchval("SELECT 1")
        except DRIVER_ERRORS:
            return False
        return True

    async def _reconnect(self) -> None:
        if self._listen_conn is not None:
            self._listen_conn.terminate()
        delay = 0.05
        while True:
            try:
                await self._listen()
            except DRIVER_ERRORS as error:
                log.warning("event bus reconnect failed (%s); retrying in %.2fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff)
                continue
            self.reconnects += 1
            log.info("event bus reconnected")
            for listener in self._reconnect_listeners:
                await listener()
            return
