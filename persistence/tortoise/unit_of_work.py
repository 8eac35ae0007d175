"""The Tortoise unit of work: one database transaction per command.

Writes that need no answer (appended trades, price points and ledger entries;
changed orders and positions; new orders without a ``clientOrderId``) are
collected and written together just before the commit (``defer``): on
PostgreSQL as one combined statement per batch. Events recorded
with ``emit`` go to the :class:`EventPublisher` only after the commit
succeeded; a rolled-back unit of work publishes nothing.

On PostgreSQL with a ``notify`` (the LISTEN/NOTIFY bus's ``notifications``), the
events also ride the transaction: their ``pg_notify`` is the last part of the
combined write, so PostgreSQL delivers them at the commit, in commit order, and
never for a transaction that rolled back; no round trip or lock after the commit.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Sequence
from types import TracebackType
from typing import Self

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.context import TortoiseContext

from domain.errors import ServiceUnavailable
from domain.events import DomainEvent
from domain.ledger import LedgerEntry
from domain.model import PricePoint, SettledPosition, Trade
from domain.ports import EventPublisher, Notify
from persistence.tables import LEDGER_ENTRIES, PRICE_POINTS, SETTLEMENTS, TRADES
from persistence.tortoise import transactions
from persistence.tortoise.accounts import TortoiseUserRepository
from persistence.tortoise.api_keys import TortoiseApiKeyRepository
from persistence.tortoise.database import Database
from persistence.tortoise.errors import PersistenceError, translate_errors
from persistence.tortoise.markets import TortoiseMarketRepository
from persistence.tortoise.orders import TortoiseOrderRepository, TortoisePositionRepository
from persistence.tortoise.platform import TortoisePlatformRepository
from persistence.tortoise.sql import (
    Params,
    PostgresSql,
    Sql,
    SqliteSql,
    Statement,
    Write,
)
from persistence.tortoise.transactions import Transaction

_INSERT_TRADE = Statement(TRADES.insert, TRADES.insert_rows)
_INSERT_ENTRY = Statement(LEDGER_ENTRIES.insert, LEDGER_ENTRIES.insert_rows)
FATE_UNKNOWN = (
    "the database stopped answering while this change was being committed, so it may or "
    "may not have been made: a retry with the same clientOrderId is safe (an order is "
    "placed at most once); for anything else, read the current state before trying again"
)
_ADVISORY_LOCK = Statement("SELECT pg_advisory_xact_lock(hashtext($1))")
_INSERT_POINT = Statement(PRICE_POINTS.insert, PRICE_POINTS.insert_rows)
_INSERT_SETTLEMENT = Statement(SETTLEMENTS.insert, SETTLEMENTS.insert_rows)
# One text whatever the number of payloads; notifications queue in array order.
_NOTIFY = Statement("SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload")


class TortoiseTradeRepository:
    def __init__(self, uow: TortoiseUnitOfWork) -> None:
        self._uow = uow

    async def add(self, trade: Trade) -> None:
        self._uow.pending_trades.append(TRADES.values(trade))


class TortoiseSettlementRepository:
    def __init__(self, uow: TortoiseUnitOfWork) -> None:
        self._uow = uow

    async def add(self, settled: Sequence[SettledPosition]) -> None:
        for position in settled:
            self._uow.defer(_INSERT_SETTLEMENT, SETTLEMENTS.values(position))


class TortoiseLedgerRepository:
    def __init__(self, uow: TortoiseUnitOfWork) -> None:
        self._uow = uow

    async def add(self, entries: Sequence[LedgerEntry]) -> None:
        self._uow.pending_entries.extend(LEDGER_ENTRIES.values(e) for e in entries)


class TortoisePriceHistoryRepository:
    def __init__(self, uow: TortoiseUnitOfWork) -> None:
        self._uow = uow

    async def add(self, point: PricePoint) -> None:
        self._uow.pending_points.append(PRICE_POINTS.values(point))


class TortoiseUnitOfWork:
    """Leaving without ``commit`` rolls back. On SQLite it holds the write lock throughout."""

    def __init__(
        self, database: Database, publisher: EventPublisher, notify: Notify | None = None
    ) -> None:
        self.database = database
        self.publisher = publisher
        self._notify = None if database.is_sqlite else notify
        self.pending_writes: list[Write] = []
        self.pending_trades: list[Params] = []
        self.pending_entries: list[Params] = []
        self.pending_points: list[Params] = []
        self._events: list[DomainEvent] = []
        self._transaction: Transaction | None = None
        self._sql: Sql | None = None
        self._token: contextvars.Token[TortoiseContext | None] | None = None
        self._locked = False
        self.users = TortoiseUserRepository(self)
        self.markets = TortoiseMarketRepository(self)
        self.orders = TortoiseOrderRepository(self)
        self.positions = TortoisePositionRepository(self)
        self.trades = TortoiseTradeRepository(self)
        self.settlements = TortoiseSettlementRepository(self)
        self.ledger = TortoiseLedgerRepository(self)
        self.price_history = TortoisePriceHistoryRepository(self)
        self.platform = TortoisePlatformRepository(self)
        self.api_keys = TortoiseApiKeyRepository(self)

    @property
    def db(self) -> TransactionalDBClient:
        """A Tortoise client on this transaction's connection, for ``using_db``."""
        return self._open().client

    def _open(self) -> Transaction:
        if self._transaction is None:
            raise PersistenceError("the unit of work is not open")
        return self._transaction

    @property
    def sql(self) -> Sql:
        """Hand-written statements on this transaction's driver connection."""
        if self._sql is None:
            raise PersistenceError("the unit of work is not open")
        return self._sql

    async def __aenter__(self) -> Self:
        lock = self.database.write_lock
        if lock is not None:
            if self.database.writer is asyncio.current_task():
                raise PersistenceError("a unit of work was opened inside another (SQLite deadlock)")
            await lock.acquire()
            self.database.writer = asyncio.current_task()
            self._locked = True
        self._token = self.database.activate()
        try:
            await self._begin()
        except BaseException:
            await self._end()
            raise
        return self

    @translate_errors
    async def _begin(self) -> None:
        self._transaction = await transactions.begin(self.database.connection())
        raw = self._transaction.connection
        self._sql = SqliteSql(raw) if self.database.is_sqlite else PostgresSql(raw)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # A failing rollback or release (the connection is gone) must not replace the
        # error that ended the unit of work: that one says what happened. Nor may it
        # replace a cancellation that arrived during the rollback: the task was told
        # to stop (the sweeper would otherwise log it as a failed sweep and go on).
        cancelled: asyncio.CancelledError | None = None
        try:
            try:
                await self._rollback()
            except asyncio.CancelledError as error:
                cancelled = error
            finally:
                await self._end()
        except (PersistenceError, ServiceUnavailable):
            if exc is None and cancelled is None:
                raise
        if cancelled is not None:
            raise cancelled

    @translate_errors
    async def _rollback(self) -> None:
        if self._transaction is not None:
            await self._transaction.rollback()

    async def _end(self) -> None:
        """Give back the connection, the Tortoise context and the write lock (once)."""
        transaction, self._transaction = self._transaction, None
        self._sql = None
        try:
            if transaction is not None:
                await _release(transaction)
        finally:
            if self._token is not None:
                self.database.deactivate(self._token)
                self._token = None
            if self._locked and self.database.write_lock is not None:
                self._locked = False
                self.database.writer = None
                self.database.write_lock.release()

    async def commit(self) -> None:
        events, self._events = self._events, []
        await self._write_pending(events)
        try:
            await _commit(self._open())
        except ServiceUnavailable as error:
            raise ServiceUnavailable(FATE_UNKNOWN) from error
        await self._end()
        if events:
            await self.publisher.publish(events)

    @translate_errors
    async def _write_pending(self, events: Sequence[DomainEvent]) -> None:
        self.markets.defer_touches()
        writes = self.pending_writes
        writes.extend((_INSERT_TRADE, params) for params in self.pending_trades)
        writes.extend((_INSERT_POINT, params) for params in self.pending_points)
        writes.extend((_INSERT_ENTRY, params) for params in self.pending_entries)
        if events and self._notify is not None:
            writes.append((_NOTIFY, self._notify(events)))  # last: the combined write's SELECT
        await self.sql.write_all(writes)
        self.pending_writes = []
        self.pending_trades, self.pending_points, self.pending_entries = [], [], []

    def defer(self, statement: Statement, params: Params) -> None:
        """Write a row under the market lock at commit, with the appends.

        For writes that need no row count and touch a row no other deferred write
        touches: on PostgreSQL they all go as one statement.
        """
        self.pending_writes.append((statement, params))

    def emit(self, event: DomainEvent) -> None:
        self._events.append(event)

    @translate_errors
    async def lock_key(self, key: str) -> None:
        """Hold a transaction-scoped lock on ``key`` (PostgreSQL advisory lock).

        SQLite needs none: the write lock already serializes units of work.
        """
        if not self.database.is_sqlite:
            await self.sql.fetch(_ADVISORY_LOCK, (key,))


@translate_errors
async def _commit(transaction: Transaction) -> None:
    await transaction.commit()


@translate_errors
async def _release(transaction: Transaction) -> None:
    await transaction.release()


class TortoiseUnitOfWorkFactory:
    """``ServiceContext.uow``: a fresh unit of work on ``database`` per call."""

    def __init__(
        self, database: Database, publisher: EventPublisher, notify: Notify | None = None
    ) -> None:
        self.database = database
        self.publisher = publisher
        self.notify = notify

    def __call__(self) -> TortoiseUnitOfWork:
        return TortoiseUnitOfWork(self.database, self.publisher, self.notify)
