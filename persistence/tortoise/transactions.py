"""A unit of work's database transaction: begun, committed or rolled back, released.

On PostgreSQL (:class:`PooledTransaction`) the unit of work takes a connection from
the asyncpg pool and sends ``BEGIN``, ``COMMIT`` and ``ROLLBACK`` itself, without
Tortoise's transaction context, its wrapper client, its context variable and
asyncpg's ``Transaction`` object (docs/BENCHMARKS.md has what they cost per batch).
The ORM querysets a unit of work runs (``using_db(uow.db)``) get a Tortoise client
on the same connection, made on first use. They must name it: no Tortoise context
variable points a bare queryset at the transaction. SQLite keeps Tortoise's
context (:class:`TortoiseTransaction`, see ``sqlite_engine``).

A PostgreSQL transaction plans its statements generically (``SET LOCAL plan_cache_mode``,
sent with ``BEGIN`` in one message): its statements look rows up by key, so the plan
does not depend on the values, but PostgreSQL re-plans on every execution a prepared
statement whose generic plan it estimates dearer than the custom ones, as for an array
``= ANY($n)`` of a few ids, which it costs as ten (docs/PERSISTENCE.md, "Generic plans").

Errors come out as the driver raises them; the unit of work translates them.
"""

from __future__ import annotations

from typing import Any, Protocol

from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.base.client import (
    BaseDBAsyncClient,
    TransactionalDBClient,
    TransactionContext,
)

from persistence.tortoise import driver

BEGIN = "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan"
"""One simple-query message: the transaction and its planning mode in one round trip."""


class Transaction(Protocol):
    connection: Any
    """The driver connection (asyncpg's or aiosqlite's) the transaction runs on."""

    @property
    def client(self) -> TransactionalDBClient:
        """A Tortoise client on the transaction's connection, for ``using_db``."""
        ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None:
        """Roll back unless committed or rolled back already."""

    async def release(self) -> None:
        """Give the connection back (once the transaction is over)."""


async def begin(client: BaseDBAsyncClient) -> Transaction:
    """A transaction begun on a connection of ``client`` (its pool, on PostgreSQL).

    If taking the connection or ``BEGIN`` fails or is cancelled, nothing stays taken."""
    if driver.is_pooled(client):
        return await PooledTransaction.begin(client)
    return await TortoiseTransaction.begin(client)


class PooledTransaction:
    def __init__(self, parent: AsyncpgDBClient, pool: Any, connection: Any) -> None:
        self._parent = parent
        self._pool = pool
        self.connection = connection
        self._client: TransactionalDBClient | None = None
        self._over = False

    @classmethod
    async def begin(cls, parent: AsyncpgDBClient) -> PooledTransaction:
        pool = await driver.pool_of(parent)
        connection = await pool.acquire()
        try:
            await connection.execute(BEGIN)
        except BaseException:
            await pool.release(connection)
            raise
        return cls(parent, pool, connection)

    @property
    def client(self) -> TransactionalDBClient:
        if self._client is None:
            self._client = driver.client_on(self._parent, self.connection)
        return self._client

    async def commit(self) -> None:
        await self.connection.execute("COMMIT")
        self._over = True

    async def rollback(self) -> None:
        if not self._over:
            await self.connection.execute("ROLLBACK")
            self._over = True

    async def release(self) -> None:
        """asyncpg rolls back a transaction still open (a rollback that failed or was
        cancelled) before the connection goes back, or drops a broken connection."""
        await self._pool.release(self.connection)


class TortoiseTransaction:
    """Tortoise's own transaction context (SQLite)."""

    def __init__(self, context: TransactionContext, client: TransactionalDBClient) -> None:
        self._context = context
        self.client = client
        self.connection = driver.driver_connection(client)

    @classmethod
    async def begin(cls, parent: BaseDBAsyncClient) -> TortoiseTransaction:
        # The SQLite context connects, and gives its lock back if that fails
        # (sqlite_engine.SharedTransactionContext).
        context = driver.transaction_of(parent)
        return cls(context, await driver.begin(context))

    async def commit(self) -> None:
        await self.client.commit()

    async def rollback(self) -> None:
        if not driver.is_finalized(self.client):
            await self.client.rollback()

    async def release(self) -> None:
        await self._context.__aexit__(None, None, None)
