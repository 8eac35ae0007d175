"""The live hub: published domain events fanned out to subscribers by topic.

Publishers (the in-memory bus today, a PostgreSQL LISTEN/NOTIFY bus on
several workers) hand committed events to :meth:`LiveHub.publish`. Each
subscriber has a bounded queue; a subscriber that falls behind loses its
oldest events (counted in ``dropped``), never the publisher's time: sequence
numbers in the updates let a client see the gap and re-read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from domain.events import DomainEvent
from schema.live import Topic, topics_for

DEFAULT_QUEUE_SIZE = 256


class Subscriber:
    def __init__(self, topic: Topic, queue_size: int) -> None:
        self.topic = topic
        self.queue: asyncio.Queue[DomainEvent] = asyncio.Queue(maxsize=queue_size)
        self.dropped = 0

    def offer(self, event: DomainEvent) -> bool:
        """Queue ``event``; when full, drop the oldest first. False if one was dropped."""
        dropped = False
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
            dropped = True
        self.queue.put_nowait(event)
        return not dropped

    async def events(self) -> AsyncIterator[DomainEvent]:
        while True:
            yield await self.queue.get()


class LiveHub:
    """In-process fan-out; implements ``schema.live.LiveFeed`` and ``EventPublisher``."""

    def __init__(
        self,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        on_dropped: Callable[[], None] | None = None,
    ) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[Topic, set[Subscriber]] = {}
        self._on_dropped = on_dropped
        self.published = 0

    @property
    def subscriber_count(self) -> int:
        return sum(len(subs) for subs in self._subscribers.values())

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        self.dispatch(events)

    def dispatch(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            self.published += 1
            for topic in topics_for(event):
                for subscriber in self._subscribers.get(topic, ()):
                    if not subscriber.offer(event) and self._on_dropped is not None:
                        self._on_dropped()

    @asynccontextmanager
    async def subscribe(self, topic: Topic) -> AsyncIterator[AsyncIterator[DomainEvent]]:
        subscriber = Subscriber(topic, self._queue_size)
        self._subscribers.setdefault(topic, set()).add(subscriber)
        try:
            yield subscriber.events()
        finally:
            subs = self._subscribers.get(topic)
            if subs is not None:
                subs.discard(subscriber)
                if not subs:
                    del self._subscribers[topic]


class FanOutPublisher:
    """An ``EventPublisher`` that hands each batch to several publishers in turn."""

    def __init__(self, *targets: Callable[[Sequence[DomainEvent]], object]) -> None:
        self._targets = targets

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        for target in self._targets:
            result = target(events)
            if asyncio.iscoroutine(result):
                await result
