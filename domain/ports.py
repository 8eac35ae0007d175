"""The ports the services are written against.

Each is a small Protocol with a maintained in-memory adapter in
``persistence.memory`` and a database adapter in ``persistence.tortoise``.
Repositories return copies: a change reaches storage only through ``save``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from domain.events import DomainEvent
from domain.keys import ApiKey
from domain.ledger import LedgerEntry
from domain.model import (
    Market,
    Order,
    Platform,
    Position,
    PricePoint,
    SettledPosition,
    Trade,
    User,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class IdGenerator(Protocol):
    def new_id(self) -> str: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password: str, password_hash: str) -> bool: ...


class EventPublisher(Protocol):
    async def publish(self, events: Sequence[DomainEvent]) -> None:
        """Deliver events that a committed transaction produced."""
        ...


Notify = Callable[[Sequence[DomainEvent]], tuple[str, list[str]]]
"""For events carried by PostgreSQL NOTIFY: the channel and the payloads announcing a
batch of events, which a unit of work sends inside its own transaction."""


@dataclass(frozen=True, slots=True)
class Rate:
    """A token bucket's shape: up to ``burst`` events at once, refilled at ``per_second``
    events a second (so ``per_second`` on average)."""

    burst: int
    per_second: float

    def __post_init__(self) -> None:
        if self.burst < 1 or not self.per_second > 0:
            raise ValueError(f"a rate needs a burst of 1 or more and a positive refill: {self}")


class SharedCounters(Protocol):
    """Counts and deadlines that every worker of one deployment shares (login attempts,
    order rates, dead-man switches), each atomic across workers. Keys are namespaced
    strings (``login:address:10.0.0.1``)."""

    async def take(self, key: str, rate: Rate, cost: int = 1) -> bool:
        """Take ``cost`` tokens from ``key``'s bucket (full when new) if it holds that
        many: True; else take none: False."""
        ...

    async def give_back(self, key: str, rate: Rate, cost: int = 1) -> None:
        """Return tokens taken for something that turned out not to count (capped at full)."""
        ...

    async def set_deadline(self, key: str, due: datetime | None) -> None:
        """Set (or with None, clear) ``key``'s deadline."""
        ...

    async def claim_due(self, prefix: str, now: datetime) -> list[str]:
        """The keys starting with ``prefix`` whose deadline has passed, each cleared and
        returned to exactly one caller across all workers."""
        ...

    async def prune(self, now: datetime) -> None:
        """Forget buckets that have refilled (a full bucket is the same as none)."""
        ...


class UserRepository(Protocol):
    async def get(self, user_id: str) -> User | None: ...

    async def get_many(self, user_ids: Sequence[str]) -> list[User]:
        """The users of ``user_ids`` that exist, in one query."""
        ...

    async def get_many_holding(
        self, market_id: str, user_ids: Sequence[str]
    ) -> tuple[list[User], list[Position]]:
        """The users of ``user_ids`` that exist and their positions in ``market_id``, in
        one query."""
        ...

    async def get_by_username(self, username: str) -> User | None: ...

    async def is_taken(self, username: str, email: str) -> bool: ...

    async def add(self, user: User) -> None: ...

    async def save(self, user: User) -> None: ...

    async def save_all(
        self, users: Sequence[User], actors: Collection[str], fills: Mapping[str, int]
    ) -> dict[str, int]:
        """Save ``users`` (each loaded before) and lock their rows in id order until the
        transaction ends: each one's changes, ``fills[id]`` added to its stored fill
        counter, and each actor (an id in ``actors``) only while it is still active.
        Returns the new counter (the sequence of its last fill) of each user in ``fills``.

        Raises ``Unauthenticated`` (``DEACTIVATED_MEANWHILE``) if an actor is no longer
        active, ``InsufficientBalance`` if a stored balance no longer covers a debit;
        the command must then roll back. A command saves its users this way just before
        committing, so a deactivation either waits for it or it sees the deactivation."""
        ...


class MarketRepository(Protocol):
    async def get(self, market_id: str) -> Market | None: ...

    async def get_for_update(self, market_id: str) -> Market | None:
        """Load and lock the market: trading in one market is serialized."""
        ...

    async def get_for_update_holding(
        self, market_id: str, user_ids: Sequence[str]
    ) -> tuple[Market, tuple[list[User], list[Position]] | None] | None:
        """``get_for_update``, with ``users.get_many_holding(market_id, user_ids)`` as read
        after the lock, in one round trip where the adapter can; None for the holders when
        it cannot (the caller loads them itself); None if there is no such market."""
        ...

    async def add(self, market: Market) -> None: ...

    async def save(self, market: Market) -> None: ...

    async def due_to_close(self, now: datetime) -> list[str]:
        """Ids of OPEN or PAUSED markets whose ``closes_at`` has passed."""
        ...

    async def due_to_finalize(self, now: datetime) -> list[str]:
        """Ids of RESOLUTION_PROPOSED markets whose ``dispute_window_ends_at`` has passed."""
        ...


class OrderRepository(Protocol):
    async def get(self, order_id: str) -> Order | None: ...

    async def get_by_client_id(self, user_id: str, client_order_id: str) -> Order | None: ...

    async def add(self, order: Order) -> None: ...

    async def save_many(self, orders: Sequence[Order]) -> None:
        """Store the changes of each order (one round trip where the storage allows)."""
        ...

    async def resting(self, market_id: str, outcome_id: str | None = None) -> list[Order]:
        """Resting orders of a market (or one outcome's book), by sequence."""
        ...

    def remember(self, orders: Sequence[Order]) -> None:
        """``orders`` as stored, kept from an earlier transaction (a cached book): a save
        compares against them, as against the orders loaded in this one."""
        ...

    async def resting_for_user(self, user_id: str) -> list[Order]: ...

    async def markets_with_expired(self, now: datetime) -> list[str]:
        """Ids of markets holding a resting GTD order whose ``expires_at`` has passed."""
        ...


class PositionRepository(Protocol):
    async def get(self, user_id: str, outcome_id: str) -> Position | None: ...

    async def for_market(self, market_id: str) -> list[Position]: ...

    async def of_users(self, market_id: str, user_ids: Sequence[str]) -> list[Position]:
        """The stored positions in ``market_id`` of the users of ``user_ids``, in one query."""
        ...

    async def for_user(self, user_id: str, market_id: str | None = None) -> list[Position]: ...

    async def save_many(self, positions: Sequence[Position]) -> None:
        """Store each position (one round trip where the storage allows); an all-zero
        position that was never stored is not stored."""
        ...


class TradeRepository(Protocol):
    async def add(self, trade: Trade) -> None: ...


class SettlementRepository(Protocol):
    async def add(self, settlements: Sequence[SettledPosition]) -> None: ...


class LedgerRepository(Protocol):
    async def add(self, entries: Sequence[LedgerEntry]) -> None: ...


class PriceHistoryRepository(Protocol):
    async def add(self, point: PricePoint) -> None: ...


class PlatformRepository(Protocol):
    async def get(self) -> Platform: ...

    async def save(self, platform: Platform) -> None: ...


class ApiKeyRepository(Protocol):
    async def get(self, key_id: str) -> ApiKey | None: ...

    async def add(self, key: ApiKey) -> None: ...

    async def save(self, key: ApiKey) -> None: ...

    async def count_active(self, user_id: str) -> int: ...

    async def mark_used(self, key_id: str, at: datetime, not_since: datetime) -> None:
        """Set ``last_used_at`` to ``at`` unless it is already ``not_since`` or later."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Leaving without ``commit`` rolls everything back.

    Events recorded with ``emit`` are published only after a commit succeeds.
    """

    users: UserRepository
    markets: MarketRepository
    orders: OrderRepository
    positions: PositionRepository
    trades: TradeRepository
    settlements: SettlementRepository
    ledger: LedgerRepository
    price_history: PriceHistoryRepository
    platform: PlatformRepository
    api_keys: ApiKeyRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    def emit(self, event: DomainEvent) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


class PendingBatch(Protocol):
    """A batch whose items are taken when its runner is ready for them (its market
    locked), so that the items that arrived while it waited for the lock join it."""

    def peek(self) -> list[Any]:
        """What the first ``take`` would take now, without taking it (once taken, the
        batch's items)."""
        ...

    def take(self) -> list[Any]:
        """The batch's items, in arrival order: the first call takes what is queued then
        (up to the bound); every later call returns the same list."""
        ...


RunBatch = Callable[[PendingBatch], Awaitable[list[object]]]
"""Runs a batch in one transaction: one outcome per taken item, in order (its result, or
the exception its caller gets). It takes the items itself, at most once, as late as it
can (the sequencer takes them if it never did)."""


class CommandSequencer(Protocol):
    """Queues the items sent under one key while that key's batch is in flight, and runs
    the next batch with ``execute`` (the first item's): arrival order, a bounded batch.
    :mod:`domain.services.batching` sends each market's commands through it."""

    async def run(self, key: Hashable, item: object, execute: RunBatch) -> object:
        """The item's outcome once its batch ran (raised if it is an exception)."""
        ...
