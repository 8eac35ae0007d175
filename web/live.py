"""The live hub: committed events fanned out to subscribers, each update built once.

The event bus hands every batch of committed events to :meth:`LiveHub.on_events`
(this process's events and every other worker's alike). Per market event the
hub builds one immutable update and offers that same object to every
subscriber; a tick costs one build plus one send per subscriber:

- ``PricesChanged``: one ``PriceUpdate``. Conflated: each subscriber holds only
  the newest update it has not sent yet, so a slow client skips states (its
  ``sequence`` jumps) and never builds a backlog.
- ``BookChanged``: the book's feed re-reads the book once (one read however many
  subscribers; events that arrive during a read are folded into the next read)
  and builds one ``OrderBook`` per distinct depth. Conflated like prices.
- ``TradeExecuted``: one ``Trade`` numbered by the feed's trade sequence; each
  subscriber queues at most ``queue_size`` and drops the oldest beyond that,
  which shows as a gap in ``sequence``.
- ``OrderChanged``: one ``Order`` for its owner's subscribers, queued the same way.

After the bus reconnects (:meth:`resync`) every price and book feed re-reads its
state once and sends it if it is newer; trade feeds skip one number to mark
that trades may have been missed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Generic, Protocol, TypeVar

from domain import model
from domain.events import BookChanged, DomainEvent, OrderChanged, PricesChanged, TradeExecuted
from resolvers.live import BookState
from schema.types.markets import PriceUpdate
from schema.types.trading import Order, OrderBook, Trade

log = logging.getLogger("bellwether.live")

DEFAULT_QUEUE_SIZE = 256


class StateReader(Protocol):
    """The committed state of a feed (``resolvers.live.LiveReads``)."""

    async def market(self, market_id: str) -> model.Market: ...

    async def prices(self, market_id: str) -> PriceUpdate: ...

    async def book(self, market_id: str, outcome_id: str) -> BookState: ...


class Sequenced(Protocol):
    @property
    def sequence(self) -> int: ...


S = TypeVar("S", bound=Sequenced)
T = TypeVar("T")
K = TypeVar("K")


class Latest(Generic[S]):
    """A conflating subscriber: one slot with the newest update not sent yet."""

    def __init__(self) -> None:
        self._latest: S | None = None
        self._ready = asyncio.Event()
        self.sent = -1
        self.conflated = 0

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
            while self._items:
                yield self._items.popleft()
            self._ready.clear()


class BookFeed:
    """One outcome's book on this worker: read once per change, shared by its subscribers."""

    def __init__(self, hub: LiveHub, market_id: str, outcome_id: str) -> None:
        self.key = (market_id, outcome_id)
        self.subscribers: dict[Latest[OrderBook], int] = {}
        self._hub = hub
        self._built = -1
        self._wanted = -1
        self._task: asyncio.Task[None] | None = None

    def changed(self, sequence: int) -> None:
        """The book reached ``sequence``: read it, unless a read already covers that."""
        if sequence <= max(self._built, self._wanted):
            return
        self._wanted = sequence
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._refresh(), name=f"book-{self.key}")

    def resync(self) -> None:
        self.changed(max(self._built, self._wanted) + 1)

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _refresh(self) -> None:
        while self._wanted > self._built and self.subscribers:
            target = self._wanted
            try:
                state = await self._hub.reads.book(*self.key)
            except Exception:
                log.exception("order book %s could not be read", self.key)
                return
            self._built = max(target, state.sequence)
            self.offer(state)

    def offer(self, state: BookState) -> None:
        for subscriber, depth in list(self.subscribers.items()):
            subscriber.offer(state.view(depth))


class TradeFeed:
    """One market's trades on this worker, numbered in the order they arrived."""

    def __init__(self) -> None:
        self.subscribers: set[Bounded[Trade]] = set()
        self.sequence = 0

    def offer(self, event: TradeExecuted) -> None:
        self.sequence += 1
        trade = Trade.from_domain(event.trade, self.sequence)
        for subscriber in self.subscribers:
            subscriber.offer(trade)


def _leave(registry: dict[K, set[T]], key: K, member: T) -> None:
    members = registry.get(key)
    if members is not None:
        members.discard(member)
        if not members:
            del registry[key]


class LiveHub:
    """In-process fan-out; implements ``schema.live.LiveFeed`` and listens to an event bus."""

    def __init__(
        self,
        reads: StateReader,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        on_dropped: Callable[[], None] | None = None,
    ) -> None:
        self.reads = reads
        self._queue_size = queue_size
        self._on_dropped = on_dropped or (lambda: None)
        self._prices: dict[str, set[Latest[PriceUpdate]]] = {}
        self._books: dict[tuple[str, str], BookFeed] = {}
        self._trades: dict[str, TradeFeed] = {}
        self._orders: dict[str, set[Bounded[Order]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.received = 0

    @property
    def subscriber_count(self) -> int:
        return (
            sum(len(subs) for subs in self._prices.values())
            + sum(len(feed.subscribers) for feed in self._books.values())
            + sum(len(feed.subscribers) for feed in self._trades.values())
            + sum(len(subs) for subs in self._orders.values())
        )

    async def on_events(self, events: Sequence[DomainEvent]) -> None:
        """The bus listener. Never waits for I/O: book reads run in each book's task."""
        for event in events:
            self.received += 1
            self.dispatch(event)

    def dispatch(self, event: DomainEvent) -> None:
        if isinstance(event, PricesChanged):
            self._fan_prices(PriceUpdate.from_domain(event), event.market_id)
        elif isinstance(event, BookChanged):
            book = self._books.get((event.market_id, event.outcome_id))
            if book is not None:
                book.changed(event.sequence)
        elif isinstance(event, TradeExecuted):
            trades = self._trades.get(event.trade.market_id)
            if trades is not None:
                trades.offer(event)
        elif isinstance(event, OrderChanged):
            owners = self._orders.get(event.order.user_id)
            if owners:
                order = Order.from_domain(event.order)
                for subscriber in owners:
                    subscriber.offer(order)

    def _fan_prices(self, update: PriceUpdate, market_id: str) -> None:
        for subscriber in self._prices.get(market_id, ()):
            subscriber.offer(update)

    async def resync(self) -> None:
        """After a bus reconnect: resend current state where it moved; mark trade gaps."""
        for market_id in list(self._prices):
            self._spawn(self._reread_prices(market_id))
        for book in self._books.values():
            book.resync()
        for trades in self._trades.values():
            trades.sequence += 1

    async def _reread_prices(self, market_id: str) -> None:
        try:
            update = await self.reads.prices(market_id)
        except Exception:
            log.exception("prices of market %s could not be read", market_id)
            return
        self._fan_prices(update, market_id)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for book in self._books.values():
            book.close()
        for task in list(self._tasks):
            task.cancel()

    @asynccontextmanager
    async def prices(self, market_id: str) -> AsyncIterator[AsyncIterator[PriceUpdate]]:
        subscriber = Latest[PriceUpdate]()
        with self._member(self._prices, market_id, subscriber):
            subscriber.offer(await self.reads.prices(market_id))
            yield subscriber.updates()

    @asynccontextmanager
    async def book(
        self, market_id: str, outcome_id: str, depth: int
    ) -> AsyncIterator[AsyncIterator[OrderBook]]:
        key = (market_id, outcome_id)
        feed = self._books.get(key) or self._books.setdefault(key, BookFeed(self, *key))
        subscriber = Latest[OrderBook]()
        feed.subscribers[subscriber] = depth
        try:
            subscriber.offer((await self.reads.book(market_id, outcome_id)).view(depth))
            yield subscriber.updates()
        finally:
            del feed.subscribers[subscriber]
            if not feed.subscribers:
                feed.close()
                self._books.pop(key, None)

    @asynccontextmanager
    async def trades(self, market_id: str) -> AsyncIterator[AsyncIterator[Trade]]:
        feed = self._trades.get(market_id) or self._trades.setdefault(market_id, TradeFeed())
        subscriber = Bounded[Trade](self._queue_size, self._on_dropped)
        feed.subscribers.add(subscriber)
        try:
            await self.reads.market(market_id)
            yield subscriber.updates()
        finally:
            feed.subscribers.discard(subscriber)
            if not feed.subscribers:
                self._trades.pop(market_id, None)

    @asynccontextmanager
    async def orders(self, user_id: str) -> AsyncIterator[AsyncIterator[Order]]:
        subscriber = Bounded[Order](self._queue_size, self._on_dropped)
        with self._member(self._orders, user_id, subscriber):
            yield subscriber.updates()

    @contextmanager
    def _member(self, registry: dict[K, set[T]], key: K, member: T) -> Iterator[None]:
        registry.setdefault(key, set()).add(member)
        try:
            yield
        finally:
            _leave(registry, key, member)


class FanOutPublisher:
    """An ``EventPublisher`` that hands each batch to several publishers in turn."""

    def __init__(self, *targets: Callable[[Sequence[DomainEvent]], object]) -> None:
        self._targets = targets

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        for target in self._targets:
            result = target(events)
            if asyncio.iscoroutine(result):
                await result
