"""The ``CommandSequencer`` port on asyncio: a queue and a drainer task per busy key.

:mod:`domain.services.batching` sends each market's commands here. A command that
arrives while its market's batch is in flight waits in the queue; the drainer then
starts the next batch, which takes everything queued, up to ``max_batch``, once its
runner holds the market's lock (``PendingBatch.take``). Callers wait on a
future set once their batch ran; a caller that is cancelled (a client that went
away) cancels only its future: its command stays queued or in its batch, which runs
on (others wait on it, and mutations are never cut) and then skips that future.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from domain.errors import ServiceUnavailable
from domain.ports import RunBatch

DEFAULT_MAX_BATCH = 64
STOPPED = (
    "the server stopped while this command's batch was running, so it may or may not "
    "have been made: read the current state before trying again"
)


@dataclass(slots=True)
class _Queue:
    execute: RunBatch
    items: deque[tuple[object, asyncio.Future[object]]] = field(default_factory=deque)


class AsyncioSequencer:
    """Batches of up to ``max_batch`` items per key, in arrival order.

    One per app (the composition root builds it). ``sizes`` counts batches by size;
    ``observe`` (a metric) is told each batch's size."""

    def __init__(
        self, max_batch: int = DEFAULT_MAX_BATCH, observe: Callable[[int], None] | None = None
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.max_batch = max_batch
        self.sizes: Counter[int] = Counter()
        self._observe = observe
        self._queues: dict[Hashable, _Queue] = {}
        self._drainers: dict[Hashable, asyncio.Task[None]] = {}

    async def run(self, key: Hashable, item: object, execute: RunBatch) -> object:
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = _Queue(execute)
        queue.items.append((item, future))
        if key not in self._drainers:
            self._drainers[key] = asyncio.create_task(self._drain(key, queue))
        return await future

    def queued(self, key: Hashable) -> int:
        """Items waiting for the next batch of ``key`` (not the one in flight)."""
        queue = self._queues.get(key)
        return 0 if queue is None else len(queue.items)

    def waiting(self) -> int:
        """Items waiting for their key's next batch, over every key (``/metrics``)."""
        return sum(len(queue.items) for queue in self._queues.values())

    async def _drain(self, key: Hashable, queue: _Queue) -> None:
        batch = _Batch(self, queue)
        try:
            while queue.items:
                batch = _Batch(self, queue)
                outcomes = await queue.execute(batch)
                batch.take()
                for (_, future), outcome in zip(batch.taken, outcomes, strict=True):
                    _settle(future, outcome)
        except BaseException:
            for _, future in (*batch.taken, *queue.items):
                _settle(future, ServiceUnavailable(STOPPED))
            queue.items.clear()
            raise
        finally:
            del self._queues[key], self._drainers[key]

    def _counted(self, count: int) -> None:
        self.sizes[count] += 1
        if self._observe is not None:
            self._observe(count)


class _Batch:
    """The next batch of a queue (``PendingBatch``): its items are popped on the first
    ``take``, so those that arrive until then (while the runner waits for its lock)
    are in it; ``peek`` shows what is queued meanwhile."""

    __slots__ = ("_items", "_queue", "_sequencer", "taken")

    def __init__(self, sequencer: AsyncioSequencer, queue: _Queue) -> None:
        self._sequencer, self._queue = sequencer, queue
        self._items: list[object] | None = None
        self.taken: list[tuple[object, asyncio.Future[object]]] = []

    def peek(self) -> list[object]:
        if self._items is not None:
            return self._items
        return [item for item, _ in itertools.islice(self._queue.items, self._sequencer.max_batch)]

    def take(self) -> list[object]:
        if self._items is None:
            items, bound = self._queue.items, self._sequencer.max_batch
            self.taken = [items.popleft() for _ in range(min(len(items), bound))]
            self._items = [item for item, _ in self.taken]
            self._sequencer._counted(len(self.taken))
        return self._items


def _settle(future: asyncio.Future[Any], outcome: object) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
