"""Tortoise's SQLite engine, its connection shareable with the event loop's thread.

aiosqlite runs every statement on its own thread: a hop there and back per
statement, and each hop's result waits its turn in the event loop. A command
holds the SQLite write lock across all of its statements, so those waits
serialize every writer. The hand-written statements (``persistence.tortoise.sql``)
therefore run directly on the underlying ``sqlite3`` connection, in the loop's
thread, while the unit of work holds the write lock and Tortoise's connection
lock: a WAL commit at ``synchronous=NORMAL`` does no fsync, so they take
microseconds. Everything else still goes through aiosqlite, one call at a
time (the unit of work awaits each), so the two never overlap.

The overrides below use attributes of Tortoise's base classes (``_connection``,
``_lock``, ``_trxlock``, ``_finalized``); ``persistence.tortoise.driver.check``
verifies them at start-up with the rest.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import aiosqlite
from tortoise.backends.base.client import (
    ConnectionWrapper,
    TransactionalDBClient,
    TransactionContext,
)
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError

from persistence.tortoise.driver import sqlite3_connection


class SharedSqliteClient(SqliteClient):
    """Opens its aiosqlite connection with ``check_same_thread=False``."""

    async def create_connection(self, with_db: bool) -> None:
        if self._connection:
            return
        connection = await aiosqlite.connect(
            self.filename, isolation_level=None, check_same_thread=False
        )
        try:
            sqlite3_connection(connection).row_factory = sqlite3.Row
            for pragma, value in self.pragmas.items():
                cursor = await connection.execute(f"PRAGMA {pragma}={value}")
                await cursor.close()
        except BaseException:
            await connection.close()  # "file is not a database", say: no thread left behind
            raise
        self._connection = connection
        await self._post_connect()

    def acquire_connection(self) -> ConnectionWrapper[Any]:
        return ReleasingConnectionWrapper(self._lock, self)

    def _in_transaction(self) -> TransactionContext:
        return SharedTransactionContext(SharedTransactionWrapper(self), self._lock)


# Tortoise 1.1's wrappers take the connection lock, then connect; if connecting fails
# they keep the lock, and every later statement waits for it forever. These give it back.


class ReleasingConnectionWrapper(ConnectionWrapper[Any]):
    async def ensure_connection(self) -> None:  # called holding the lock
        try:
            await super().ensure_connection()
        except BaseException:
            self._lock.release()
            raise


class SharedTransactionContext(SqliteTransactionContext):
    async def __aenter__(self) -> TransactionalDBClient:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            self.token = get_connections().set(self.connection_name, self.connection)
            try:
                await self.connection.begin()
            except BaseException:
                get_connections().reset(self.token)
                raise
        except BaseException:
            self._trxlock.release()
            raise
        return self.connection  # type: ignore[no-any-return]


class SharedTransactionWrapper(SqliteTransactionWrapper):
    """BEGIN, COMMIT and ROLLBACK in the loop's thread (see the module docstring)."""

    # Like Tortoise's, but without the hops: sqlite3's commit() and rollback() do
    # nothing when no transaction is open (an executescript may have committed it).
    async def begin(self) -> None:
        connection = sqlite3_connection(self._connection)
        connection.commit()
        connection.execute("BEGIN")

    async def commit(self) -> None:
        if self._finalized:
            raise TransactionManagementError("Transaction already finalised")
        sqlite3_connection(self._connection).commit()
        self._finalized = True

    async def rollback(self) -> None:
        if self._finalized:
            raise TransactionManagementError("Transaction already finalised")
        sqlite3_connection(self._connection).rollback()
        self._finalized = True


def get_client_class(db_info: dict[str, Any]) -> type[SqliteClient]:
    return SharedSqliteClient


client_class = SharedSqliteClient
