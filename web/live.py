"""The live hub: committed events fanned out to subscribers, each view built once.

The event bus hands every batch of committed events to :meth:`LiveHub.on_events`
(this process's events and every other worker's alike). The hub knows the feeds
of ``resolvers.live.FEEDS`` (``schema.live.Feed``) and nothing of their types:
per event and feed it finds the channel of the event's key, builds the feed's
view once and offers that same object to every subscriber of the channel:

- ``Delivery.CONFLATE`` (prices, books): each subscriber holds only the newest
  view it has not sent yet, so a slow client skips states (its ``sequence``
  jumps) and never builds a backlog.
- ``Delivery.QUEUE`` (trades, order updates, statuses): each subscriber queues at
  most ``queue_size`` and drops the oldest beyond that; trades show it as a gap
  in their stored ``sequence``.

After the bus reconnects (:meth:`resync`) every conflating channel re-reads its
state once and sends it if it is newer; queueing channels skip one number (the
event number a view may use) to mark that events may have been missed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Coroutine, Hashable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Generic, Protocol, TypeVar

from auth.tokens import GONE, key_credential
from domain.errors import DomainError, Unauthenticated
from domain.events import ApiKeyRevoked, DomainEvent, UserDeactivated
from domain.ports import Clock
from domain.queries import ReadModel
from schema.live import Delivery, Feed

log = logging.getLogger("bellwether.live")

DEFAULT_QUEUE_SIZE = 256


class Sequenced(Protocol):
    @property
    def sequence(self) -> int: ...


S = TypeVar("S", bound=Sequenced)
T = TypeVar("T")


class Latest(Generic[S]):
    """A conflating subscriber: one slot with the newest update not sent yet."""

    def __init__(self) -> None:
        self._latest: S | None = None
        self._ready = asyncio.Event()
        self.sent = -1
        self.conflated = 0
        self.ended: DomainError | None = None

    def end(self, error: DomainError) -> None:
        """Stop: the iterator raises ``error`` instead of waiting for more."""
        self.ended = error
        self._ready.set()

    def offer(self, update: S) -> None:
        """Keep ``update`` if it is newer than what was sent and what waits."""
        if update.sequence <= self.sent:
            return
        if self._latest is not None:
            if update.sequence <= self._latest.sequence:
                return
            self.conflated += 1
        self._latest = update
        self._ready.set()

    async def updates(self) -> AsyncIterator[S]:
        while True:
            await self._ready.wait()
            self._ready.clear()
            if self.ended is not None:
                raise self.ended
            update, self._latest = self._latest, None
            if update is not None:
                self.sent = update.sequence
                yield update


class Bounded(Generic[T]):
    """A queueing subscriber that keeps at most ``size`` items, dropping the oldest."""

    def __init__(self, size: int, on_dropped: Callable[[], None]) -> None:
        self._items: deque[T] = deque()
        self._size = size
        self._on_dropped = on_dropped
        self._ready = asyncio.Event()
        self.dropped = 0
        self.ended: DomainError | None = None

    def end(self, error: DomainError) -> None:
        """Stop: the iterator raises ``error`` instead of waiting for more."""
        self.ended = error
        self._ready.set()

    def offer(self, item: T) -> None:
        if len(self._items) >= self._size:
            self._items.popleft()
            self.dropped += 1
            self._on_dropped()
        self._items.append(item)
        self._ready.set()

    async def updates(self) -> AsyncIterator[T]:
        while True:
            await self._ready.wait()
            if self.ended is not None:
                raise self.ended
            while self._items:
                yield self._items.popleft()
            self._ready.clear()


Subscriber = Latest[Any] | Bounded[Any]


class Ending(Protocol):
    """Anything a user's deactivation must end (a subscriber, a grouped subscription)."""

    def end(self, error: DomainError) -> None: ...


class Channel:
    """The subscribers of one feed and key on this worker."""

    def __init__(self, feed: Feed[Any, Any], key: Hashable) -> None:
        self.feed = feed
        self.key = key
        self.subscribers: set[Subscriber] = set()
        self.number = 0
        """Events of this channel so far (a bus reconnect skips one)."""

    def offer(self, event: Any) -> None:
        self.number += 1
        view = self.feed.view(event, self.number)
        for subscriber in self.subscribers:
            subscriber.offer(view)


class LiveHub:
    """In-process fan-out; implements ``schema.live.LiveFeed`` and listens to an event bus."""

    def __init__(
        self,
        feeds: Sequence[Feed[Any, Any]],
        reads: ReadModel,
        clock: Clock,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        on_dropped: Callable[[], None] | None = None,
    ) -> None:
        self.reads = reads
        self._clock = clock
        self._queue_size = queue_size
        self._on_dropped = on_dropped or (lambda: None)
        self._feeds = {feed.name: feed for feed in feeds}
        self._by_event: dict[type, list[Feed[Any, Any]]] = {}
        for feed in feeds:
            self._by_event.setdefault(feed.event, []).append(feed)
        self._channels: dict[tuple[str, Hashable], Channel] = {}
        self._open: Counter[type] = Counter()
        """Channels open per event type."""
        self._owned: dict[str, set[Ending]] = {}
        """Subscribers by the user who opened them (signed-in callers only)."""
        self._tasks: set[asyncio.Task[None]] = set()
        self.received = 0

    @property
    def subscriber_count(self) -> int:
        return sum(len(channel.subscribers) for channel in self._channels.values())

    def wants(self, kind: type[DomainEvent]) -> bool:
        """Whether a subscriber here may want events of ``kind`` (the bus's ``Interest``):
        one of a feed that has a channel open, or one that ends subscriptions."""
        if kind is UserDeactivated or kind is ApiKeyRevoked:
            return bool(self._owned)
        return self._open[kind] > 0

    async def on_events(self, events: Sequence[DomainEvent]) -> None:
        """The bus listener. Never waits for I/O."""
        for event in events:
            self.received += 1
            self.dispatch(event)

    def dispatch(self, event: DomainEvent) -> None:
        if isinstance(event, UserDeactivated):
            self.end_subscriptions_of(event.user_id)
            return
        if isinstance(event, ApiKeyRevoked):
            self.end_subscriptions_of(key_credential(event.key_id), "the API key was revoked")
            return
        for feed in self._by_event.get(type(event), ()):
            channel = self._channels.get((feed.name, feed.key(event)))
            if channel is not None:
                channel.offer(event)

    def own(self, owner: str, subscriber: Ending) -> None:
        """End ``subscriber`` with UNAUTHENTICATED if ``owner`` is deactivated."""
        self._owned.setdefault(owner, set()).add(subscriber)

    def disown(self, owner: str, subscriber: Ending) -> None:
        owned = self._owned.get(owner)
        if owned is not None:
            owned.discard(subscriber)
            if not owned:
                del self._owned[owner]

    def end_subscriptions_of(self, owner: str, why: str = GONE) -> None:
        """End every subscription ``owner`` (a user, or an API key's ``key_credential``)
        holds on this worker with UNAUTHENTICATED."""
        for subscriber in self._owned.pop(owner, set()):
            subscriber.end(Unauthenticated(f"{why}: subscription ended"))

    async def resync(self) -> None:
        """After a bus reconnect: resend current state where it moved; mark queue gaps."""
        for channel in list(self._channels.values()):
            if channel.feed.delivery is Delivery.CONFLATE:
                self._spawn(self._reread(channel))
            else:
                channel.number += 1

    async def _reread(self, channel: Channel) -> None:
        try:
            view = await self._snapshot(channel.feed, channel.key)
        except Exception:
            log.exception("%s %s could not be read", channel.feed.name, channel.key)
            return
        for subscriber in list(channel.subscribers):
            subscriber.offer(view)

    async def _snapshot(self, feed: Feed[Any, Any], key: Hashable) -> Any:
        if feed.snapshot is None:
            return None
        return await feed.snapshot(self.reads, self._clock.now(), key)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    @asynccontextmanager
    async def open(
        self,
        feed: Feed[Any, T],
        key: Hashable,
        owner: str | None = None,
        credential: str | None = None,
    ) -> AsyncIterator[AsyncIterator[T]]:
        """Register first, then read the current state: nothing falls between."""
        if self._feeds.get(feed.name) is not feed:
            raise ValueError(f"feed {feed.name} is not in this hub's registry")
        channel = self._channels.get((feed.name, key))
        if channel is None:
            channel = self._channels[(feed.name, key)] = Channel(feed, key)
            self._open[feed.event] += 1
        subscriber: Subscriber = (
            Latest()
            if feed.delivery is Delivery.CONFLATE
            else Bounded(self._queue_size, self._on_dropped)
        )
        channel.subscribers.add(subscriber)
        owners = [o for o in (owner, credential) if o is not None]
        for one in owners:
            self.own(one, subscriber)
        try:
            first = await self._snapshot(feed, key)
            if first is not None:
                subscriber.offer(first)
            yield subscriber.updates()
        finally:
            channel.subscribers.discard(subscriber)
            for one in owners:
                self.disown(one, subscriber)
            if not channel.subscribers and self._channels.get((feed.name, key)) is channel:
                del self._channels[(feed.name, key)]
                self._open[feed.event] -= 1


class FanOutPublisher:
    """An ``EventPublisher`` that hands each batch to several publishers in turn."""

    def __init__(self, *targets: Callable[[Sequence[DomainEvent]], object]) -> None:
        self._targets = targets

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        for target in self._targets:
            result = target(events)
            if asyncio.iscoroutine(result):
                await result
