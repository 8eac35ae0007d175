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
"""

from __future__ import annotations

import sqlite3
from typing import Any

import aiosqlite
from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError


class SharedSqliteClient(SqliteClient):
    """Opens its aiosqlite connection with ``check_same_thread=False``."""

    async def create_connection(self, with_db: bool) -> None:
        if self._connection:
            return
        connection = await aiosqlite.connect(
            self.filename, isolation_level=None, check_same_thread=False
        )
        connection._conn.row_factory = sqlite3.Row
        for pragma, value in self.pragmas.items():
            cursor = await connection.execute(f"PRAGMA {pragma}={value}")
            await cursor.close()
        self._connection = connection
        await self._post_connect()

    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(SharedTransactionWrapper(self), self._lock)


class SharedTransactionWrapper(SqliteTransactionWrapper):
    """BEGIN, COMMIT and ROLLBACK in the loop's thread (see the module docstring)."""

    # Like Tortoise's, but without the hops: sqlite3's commit() and rollback() do
    # nothing when no transaction is open (an executescript may have committed it).
    async def begin(self) -> None:
        connection = self._connection._conn
        connection.commit()
        connection.execute("BEGIN")

    async def commit(self) -> None:
        if self._finalized:
            raise TransactionManagementError("Transaction already finalised")
        self._connection._conn.commit()
        self._finalized = True

    async def rollback(self) -> None:
        if self._finalized:
            raise TransactionManagementError("Transaction already finalised")
        self._connection._conn.rollback()
        self._finalized = True


def get_client_class(db_info: dict[str, Any]) -> type[SqliteClient]:
    return SharedSqliteClient


client_class = SharedSqliteClient
