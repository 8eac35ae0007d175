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

import asyncio
import logging
import sqlite3
import threading
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


log = logging.getLogger(__name__)

CHECKPOINT_INTERVAL_SECONDS = 0.25
"""How often the WAL is copied into the database file (and synced): the most a power
cut can lose at ``synchronous=NORMAL``; a process crash loses nothing."""


class Checkpointer:
    """PASSIVE checkpoints of one SQLite file, every ``interval`` seconds, on a thread
    of its own with a connection of its own (opened, used and closed there).

    PASSIVE never waits for readers or the writer: it copies what it can, and the
    writer starts the WAL over once all of it is copied and no reader needs it.
    """

    def __init__(self, filename: str, interval: float = CHECKPOINT_INTERVAL_SECONDS) -> None:
        self.filename = filename
        self.interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"checkpoints {self.filename}", daemon=True
        )
        self._thread.start()

    async def stop(self) -> None:
        """Stop after the checkpoint under way, if any (waits for it off the loop)."""
        self._stopping.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
            self._thread = None

    def _run(self) -> None:
        connection = sqlite3.connect(self.filename, isolation_level=None)
        try:
            while not self._stopping.wait(self.interval):
                try:
                    checkpoint(connection)
                except sqlite3.Error:
                    log.exception("WAL checkpoint of %s failed (tried again)", self.filename)
        finally:
            connection.close()


def checkpoint(connection: sqlite3.Connection) -> tuple[int, int, int]:
    """(busy, WAL pages, pages copied) of one PASSIVE checkpoint."""
    busy, pages, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(busy), int(pages), int(copied)


def get_client_class(db_info: dict[str, Any]) -> type[SqliteClient]:
    return SharedSqliteClient


client_class = SharedSqliteClient
