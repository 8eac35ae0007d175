"""In-memory adapters for every domain port.

Maintained beside the database adapters: unit tests, property tests and the
benchmarks run the whole platform on them. A unit of work holds the store's
lock for its whole life (commands are serialized, as under the market lock),
works on copies, and publishes its events only after ``commit``.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Self, TypeVar

from domain.errors import DEACTIVATED_MEANWHILE, Unauthenticated
from domain.events import DomainEvent
from domain.keys import ApiKey
from domain.ledger import LedgerEntry
from domain.model import (
    Market,
    MarketStatus,
    Order,
    Platform,
    Position,
    PricePoint,
    SettledPosition,
    TimeInForce,
    Trade,
    User,
)
from domain.ports import EventPublisher
from persistence.locks import WriterLock
from persistence.tables import MARKETS, ORDERS, OUTCOMES, USERS, FixedFieldChanged, Table

E = TypeVar("E")


@dataclass
class MemoryState:
    users: dict[str, User] = field(default_factory=dict)
    markets: dict[str, Market] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    positions: dict[tuple[str, str], Position] = field(default_factory=dict)
    trades: list[Trade] = field(default_factory=list)
    settlements: list[SettledPosition] = field(default_factory=list)
    ledger: list[LedgerEntry] = field(default_factory=list)
    price_history: list[PricePoint] = field(default_factory=list)
    platform: Platform = field(default_factory=Platform)
    api_keys: dict[str, ApiKey] = field(default_factory=dict)
    fill_sequences: dict[str, int] = field(default_factory=dict)


class RecordingPublisher:
    """A publisher that only remembers what it was given: tests, and one-off commands
    (migrations, snapshots, admin) that have no live listener."""

    def __init__(self) -> None:
        self.published: list[DomainEvent] = []

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        self.published.extend(events)


class MemoryStore:
    """The committed state plus the lock that serializes units of work."""

    def __init__(self, publisher: EventPublisher | None = None) -> None:
        self.state = MemoryState()
        self.lock = WriterLock()
        self.publisher: EventPublisher = publisher or RecordingPublisher()

    def unit_of_work(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self)


class _Repository:
    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self._uow = uow

    @property
    def _state(self) -> MemoryState:
        return self._uow.working


def _check_fixed(table: Table[E], stored: E | None, entity: E) -> None:
    """The Tortoise adapter's rule (``persistence.tables``): fixed fields never change."""
    if stored is not None:
        table.check_fixed(table.fixed(stored), entity)


class InMemoryUserRepository(_Repository):
    async def get(self, user_id: str) -> User | None:
        return copy.copy(self._state.users.get(user_id))

    async def get_many(self, user_ids: Sequence[str]) -> list[User]:
        users = self._state.users
        return [copy.copy(users[uid]) for uid in user_ids if uid in users]

    async def get_many_holding(
        self, market_id: str, user_ids: Sequence[str]
    ) -> tuple[list[User], list[Position]]:
        positions = InMemoryPositionRepository(self._uow)
        return await self.get_many(user_ids), await positions.of_users(market_id, user_ids)

    async def get_by_username(self, username: str) -> User | None:
        found = (u for u in self._state.users.values() if u.username == username)
        return copy.copy(next(found, None))

    async def is_taken(self, username: str, email: str) -> bool:
        return any(
            u.username.casefold() == username.casefold() or u.email == email
            for u in self._state.users.values()
        )

    async def add(self, user: User) -> None:
        self._state.users[user.id] = copy.copy(user)

    async def save(self, user: User) -> None:
        _check_fixed(USERS, self._state.users.get(user.id), user)
        self._state.users[user.id] = copy.copy(user)

    async def save_all(
        self, users: Sequence[User], actors: Collection[str], fills: Mapping[str, int]
    ) -> dict[str, int]:
        """The store's lock already serializes units of work: no balance moved meanwhile."""
        stored, counters = self._state.users, self._state.fill_sequences
        if any(u.id in actors and not (u.id in stored and stored[u.id].is_active) for u in users):
            raise Unauthenticated(DEACTIVATED_MEANWHILE)
        for user in users:
            await self.save(user)
        for user_id, count in fills.items():
            counters[user_id] = counters.get(user_id, 0) + count
        return {user_id: counters[user_id] for user_id in fills}

    async def all(self) -> list[User]:
        return [copy.copy(u) for u in self._state.users.values()]


class InMemoryMarketRepository(_Repository):
    async def get(self, market_id: str) -> Market | None:
        return copy.deepcopy(self._state.markets.get(market_id))

    async def get_for_update(self, market_id: str) -> Market | None:
        return await self.get(market_id)

    async def get_for_update_holding(
        self, market_id: str, user_ids: Sequence[str]
    ) -> tuple[Market, tuple[list[User], list[Position]] | None] | None:
        market = await self.get_for_update(market_id)
        if market is None:
            return None
        return market, await InMemoryUserRepository(self._uow).get_many_holding(market_id, user_ids)

    async def add(self, market: Market) -> None:
        self._state.markets[market.id] = copy.deepcopy(market)

    async def save(self, market: Market) -> None:
        stored = self._state.markets.get(market.id)
        _check_fixed(MARKETS, stored, market)
        if stored is not None:
            if len(stored.outcomes) != len(market.outcomes):
                raise FixedFieldChanged(f"Market {market.id}: outcomes cannot change once stored")
            for before, outcome in zip(stored.outcomes, market.outcomes, strict=True):
                _check_fixed(OUTCOMES, before, outcome)
        self._state.markets[market.id] = copy.deepcopy(market)

    async def due_to_close(self, now: datetime) -> list[str]:
        live = (MarketStatus.OPEN, MarketStatus.PAUSED)
        return [
            m.id for m in self._state.markets.values() if m.status in live and m.closes_at <= now
        ]

    async def due_to_finalize(self, now: datetime) -> list[str]:
        return [
            m.id
            for m in self._state.markets.values()
            if m.status is MarketStatus.RESOLUTION_PROPOSED
            and m.dispute_window_ends_at is not None
            and m.dispute_window_ends_at <= now
        ]

    async def all(self) -> list[Market]:
        return [copy.deepcopy(m) for m in self._state.markets.values()]


class InMemoryOrderRepository(_Repository):
    async def get(self, order_id: str) -> Order | None:
        return copy.copy(self._state.orders.get(order_id))

    async def get_by_client_id(self, user_id: str, client_order_id: str) -> Order | None:
        found = (
            o
            for o in self._state.orders.values()
            if o.user_id == user_id and o.client_order_id == client_order_id
        )
        return copy.copy(next(found, None))

    async def add(self, order: Order) -> None:
        self._state.orders[order.id] = copy.copy(order)

    async def save_many(self, orders: Sequence[Order]) -> None:
        for order in orders:
            _check_fixed(ORDERS, self._state.orders.get(order.id), order)
            self._state.orders[order.id] = copy.copy(order)

    def remember(self, orders: Sequence[Order]) -> None:
        """Nothing to do: a save here writes every order it is given."""

    async def resting(self, market_id: str, outcome_id: str | None = None) -> list[Order]:
        found = [
            copy.copy(o)
            for o in self._state.orders.values()
            if o.is_resting
            and o.market_id == market_id
            and (outcome_id is None or o.outcome_id == outcome_id)
        ]
        return sorted(found, key=lambda o: o.sequence)

    async def resting_for_user(self, user_id: str) -> list[Order]:
        return [
            copy.copy(o)
            for o in self._state.orders.values()
            if o.is_resting and o.user_id == user_id
        ]

    async def markets_with_expired(self, now: datetime) -> list[str]:
        return sorted(
            {
                o.market_id
                for o in self._state.orders.values()
                if o.is_resting
                and o.time_in_force is TimeInForce.GTD
                and o.expires_at is not None
                and o.expires_at <= now
            }
        )

    async def all(self) -> list[Order]:
        return [copy.copy(o) for o in self._state.orders.values()]


class InMemoryPositionRepository(_Repository):
    async def get(self, user_id: str, outcome_id: str) -> Position | None:
        return copy.copy(self._state.positions.get((user_id, outcome_id)))

    async def for_market(self, market_id: str) -> list[Position]:
        return [copy.copy(p) for p in self._state.positions.values() if p.market_id == market_id]

    async def of_users(self, market_id: str, user_ids: Sequence[str]) -> list[Position]:
        wanted = set(user_ids)
        return [
            copy.copy(p)
            for p in self._state.positions.values()
            if p.market_id == market_id and p.user_id in wanted
        ]

    async def for_user(self, user_id: str, market_id: str | None = None) -> list[Position]:
        return [
            copy.copy(p)
            for p in self._state.positions.values()
            if p.user_id == user_id and (market_id is None or p.market_id == market_id)
        ]

    async def save_many(self, positions: Sequence[Position]) -> None:
        for position in positions:
            key = (position.user_id, position.outcome_id)
            if key in self._state.positions or position.shares or position.cost_cents:
                self._state.positions[key] = copy.copy(position)

    async def all(self) -> list[Position]:
        return [copy.copy(p) for p in self._state.positions.values()]


class InMemoryTradeRepository(_Repository):
    async def add(self, trade: Trade) -> None:
        self._uow.new_trades.append(trade)


class InMemorySettlementRepository(_Repository):
    async def add(self, settlements: Sequence[SettledPosition]) -> None:
        self._uow.new_settlements.extend(settlements)


class InMemoryLedgerRepository(_Repository):
    async def add(self, entries: Sequence[LedgerEntry]) -> None:
        self._uow.new_entries.extend(entries)


class InMemoryPriceHistoryRepository(_Repository):
    async def add(self, point: PricePoint) -> None:
        self._uow.new_points.append(point)


class InMemoryPlatformRepository(_Repository):
    async def get(self) -> Platform:
        return copy.copy(self._state.platform)

    async def save(self, platform: Platform) -> None:
        self._state.platform = copy.copy(platform)


class InMemoryApiKeyRepository(_Repository):
    async def get(self, key_id: str) -> ApiKey | None:
        return copy.copy(self._state.api_keys.get(key_id))

    async def add(self, key: ApiKey) -> None:
        self._state.api_keys[key.id] = copy.copy(key)

    async def save(self, key: ApiKey) -> None:
        self._state.api_keys[key.id] = copy.copy(key)

    async def count_active(self, user_id: str) -> int:
        keys = self._state.api_keys.values()
        return sum(1 for key in keys if key.user_id == user_id and key.is_active)

    async def mark_used(self, key_id: str, at: datetime, not_since: datetime) -> None:
        key = self._state.api_keys.get(key_id)
        if key is not None and (key.last_used_at is None or key.last_used_at <= not_since):
            self._state.api_keys[key_id] = dataclasses.replace(key, last_used_at=at)


class InMemoryUnitOfWork:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.working = MemoryState()
        self.new_trades: list[Trade] = []
        self.new_settlements: list[SettledPosition] = []
        self.new_entries: list[LedgerEntry] = []
        self.new_points: list[PricePoint] = []
        self._events: list[DomainEvent] = []
        self._holding = False
        self.users = InMemoryUserRepository(self)
        self.markets = InMemoryMarketRepository(self)
        self.orders = InMemoryOrderRepository(self)
        self.positions = InMemoryPositionRepository(self)
        self.trades = InMemoryTradeRepository(self)
        self.settlements = InMemorySettlementRepository(self)
        self.ledger = InMemoryLedgerRepository(self)
        self.price_history = InMemoryPriceHistoryRepository(self)
        self.platform = InMemoryPlatformRepository(self)
        self.api_keys = InMemoryApiKeyRepository(self)

    async def __aenter__(self) -> Self:
        await self.store.lock.acquire()
        self._holding = True
        committed = self.store.state
        self.working = MemoryState(
            users=dict(committed.users),
            markets=dict(committed.markets),
            orders=dict(committed.orders),
            positions=dict(committed.positions),
            trades=committed.trades,
            settlements=committed.settlements,
            ledger=committed.ledger,
            price_history=committed.price_history,
            platform=committed.platform,
            api_keys=dict(committed.api_keys),
            fill_sequences=dict(committed.fill_sequences),
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release()

    def _release(self) -> None:
        if self._holding:
            self._holding = False
            self.store.lock.release()

    def emit(self, event: DomainEvent) -> None:
        self._events.append(event)

    async def commit(self) -> None:
        # The append-only lists are shared with the committed state.
        self.working.trades.extend(self.new_trades)
        self.working.settlements.extend(self.new_settlements)
        self.working.ledger.extend(self.new_entries)
        self.working.price_history.extend(self.new_points)
        self.store.state = self.working
        self._release()
        events, self._events = self._events, []
        await self.store.publisher.publish(events)


class SequentialIds:
    """Deterministic ids for tests: ``"1"``, ``"2"``, ..."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def new_id(self) -> str:
        return str(next(self._counter))
