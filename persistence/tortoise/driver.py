"""Every access to private attributes of Tortoise and its drivers goes through here.

Running hand-written statements on a transaction's own driver connection needs
Tortoise's and aiosqlite's internals (``_current_context``, ``_in_transaction()``,
``_finalized``, ``_connection``, ``_conn``, ``_trxlock``, ``_lock``; on PostgreSQL
the client's ``_pool``, for ``transactions.PooledTransaction``), and
:func:`recognise_arrays_by_type` sets two of asyncpg's module globals: the rest of
the code calls the functions below instead, and :func:`check` verifies at start-up
(``Database.open``) that every one of them is still there, naming the installed
version of the library that lacks one. Upgrading Tortoise means re-reading this file and
``sqlite_engine.py``, the SQLite engine whose overrides use the same attributes of
their base classes (it stays a module of its own: Tortoise picks its migration
schema editor by "sqlite" in the client class's module name).
"""

from __future__ import annotations

import contextvars
import importlib.metadata
import sqlite3
from typing import Any, TypeGuard

import aiosqlite
import asyncpg
import asyncpg.protocol.protocol as asyncpg_protocol
import tortoise.context
from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import (
    BaseDBAsyncClient,
    TransactionalDBClient,
    TransactionContext,
    TransactionContextPooled,
)
from tortoise.backends.sqlite.client import SqliteClient
from tortoise.connection import get_connections
from tortoise.context import TortoiseContext

from persistence.tortoise.errors import PersistenceError

ContextToken = contextvars.Token[TortoiseContext | None]


def check(client: BaseDBAsyncClient) -> None:
    """Raise :class:`PersistenceError` unless every private attribute this module uses
    exists in the installed Tortoise (and aiosqlite, for SQLite)."""
    transaction = client._in_transaction() if hasattr(client, "_in_transaction") else None
    needs = {
        "tortoise.context._current_context": hasattr(tortoise.context, "_current_context"),
        "BaseDBAsyncClient._in_transaction()": transaction is not None,
        "TransactionalDBClient._finalized": hasattr(TransactionalDBClient, "_finalized"),
        f"{type(client).__name__}._connection": hasattr(client, "_connection"),
    }
    if isinstance(transaction, TransactionContextPooled):
        needs["TransactionalDBClient._parent._pool"] = hasattr(client, "_pool")
    if isinstance(client, SqliteClient):
        needs["SqliteClient._lock"] = hasattr(client, "_lock")
        needs["SqliteTransactionContext._trxlock"] = hasattr(transaction, "_trxlock")
        needs["aiosqlite.Connection._conn"] = hasattr(aiosqlite.Connection, "_conn")
    _require("Tortoise ORM", "tortoise-orm", needs)
    protocol = asyncpg_protocol.__name__
    arrays = {f"{protocol}.{name}": hasattr(asyncpg_protocol, name) for name in _ARRAY_CHECKS}
    _require("asyncpg", "asyncpg", arrays)


def _require(label: str, distribution: str, needs: dict[str, bool]) -> None:
    missing = [name for name, present in needs.items() if not present]
    if missing:
        version = importlib.metadata.version(distribution)
        raise PersistenceError(
            f"{label} {version} lacks {', '.join(missing)}, which"
            " persistence/tortoise/driver.py relies on: install the version pinned in"
            " pyproject.toml"
        )


ARRAY_CONTAINERS = (list, tuple)
"""What the adapters send as an array parameter (``= ANY($n)``, ``unnest($n::...)``)."""
_ARRAY_CHECKS = ("IterableABC", "SizedABC")


def recognise_arrays_by_type() -> None:
    """Have asyncpg tell an array parameter, and a sub-array among its elements, by its
    type (:data:`ARRAY_CONTAINERS`) instead of by ``isinstance`` against
    ``collections.abc.Iterable`` and ``Sized``, whose ``__instancecheck__`` is a Python
    call made for every element of every array: a batch's combined write sends a
    thousand or two (docs/BENCHMARKS.md has what that cost). Strings, numbers, None and
    datetimes are elements either way; a container other than a list or a tuple, which
    the adapters never send, is now refused by asyncpg instead of read as an array.
    Process-wide and idempotent (``Database.open`` calls it)."""
    for name in _ARRAY_CHECKS:
        setattr(asyncpg_protocol, name, ARRAY_CONTAINERS)


def activate(context: TortoiseContext) -> ContextToken:
    """Make ``context`` Tortoise's current one for the calling task."""
    return tortoise.context._current_context.set(context)


def deactivate(token: ContextToken) -> None:
    tortoise.context._current_context.reset(token)


def transaction_of(client: BaseDBAsyncClient) -> TransactionContext:
    """A transaction on ``client``, not yet begun (:func:`begin`)."""
    return client._in_transaction()


async def begin(transaction: TransactionContext) -> TransactionalDBClient:
    """``transaction.__aenter__()``, giving back a pooled connection it took when BEGIN
    fails or is cancelled: Tortoise's pooled context acquires first and keeps the
    connection if what follows raises, so every cancelled unit of work leaked one
    until the pool ran dry. (SQLite's context, ``sqlite_engine``, cleans up itself.)"""
    pooled = transaction.client if isinstance(transaction, TransactionContextPooled) else None
    before = pooled._connection if pooled is not None else None
    try:
        return await transaction.__aenter__()
    except BaseException:
        if pooled is not None and pooled._connection is not before:
            taken, pooled._connection = pooled._connection, before
            await pooled._parent._pool.release(taken)
            token = getattr(transaction, "token", None)
            if token is not None:
                get_connections().reset(token)
        raise


def is_pooled(client: BaseDBAsyncClient) -> TypeGuard[AsyncpgDBClient]:
    """Whether ``client`` is asyncpg's (a pool), whose transactions
    ``transactions.PooledTransaction`` runs itself."""
    return isinstance(client, AsyncpgDBClient)


async def pool_of(client: AsyncpgDBClient) -> Any:
    """The asyncpg pool of a pooled client, created on first use by Tortoise's own
    connection wrapper (one creator at a time)."""
    if client._pool is None:
        await client.acquire_connection().ensure_connection()
    return client._pool


def is_gone(connection: Any) -> bool:
    """Whether a pooled asyncpg connection kept out of the pool can no longer run a
    statement: closed, or given back already by asyncpg itself (it returns a pooled
    connection whose server closed it to its pool, and its proxy then refuses every call)."""
    try:
        return bool(connection.is_closed())
    except asyncpg.InterfaceError:
        return True


def client_on(parent: AsyncpgDBClient, connection: Any) -> TransactionalDBClient:
    """A Tortoise client that runs ORM querysets on ``connection`` (a pooled asyncpg
    connection in a transaction begun outside Tortoise); never commits or rolls back."""
    client = TransactionWrapper(parent)
    client._connection = connection
    return client


def driver_connection(client: TransactionalDBClient) -> Any:
    """The begun transaction's own driver connection: asyncpg's or aiosqlite's."""
    return client._connection


def is_finalized(client: TransactionalDBClient) -> bool:
    """Whether the transaction was committed or rolled back already."""
    return bool(client._finalized)


def sqlite3_connection(connection: aiosqlite.Connection) -> sqlite3.Connection:
    """The ``sqlite3`` connection under an aiosqlite one (see the module docstring)."""
    return connection._conn


def connected_sqlite3(client: BaseDBAsyncClient) -> sqlite3.Connection | None:
    """The ``sqlite3`` connection of an SQLite client once connected, else None."""
    connection = getattr(client, "_connection", None)
    return None if connection is None else sqlite3_connection(connection)
