"""The database URL, Tortoise start-up and tear-down, and migrations.

One URL, ``BELLWETHER_DATABASE_URL``, names the database:

- ``sqlite:///absolute/path.db`` (three slashes then an absolute path),
- ``sqlite://relative/path.db`` or ``sqlite:relative.db`` (relative to the
  working directory), ``sqlite://:memory:`` (tests only),
- ``postgres://user:pass@host:port/db`` (also ``postgresql://``), through asyncpg; a
  Unix socket as ``postgres://user@%2Fvar%2Frun%2Fpostgresql/db`` or
  ``postgres://user@/db?host=/var/run/postgresql`` (``persistence.postgres_url``).

A :class:`Database` owns one Tortoise context (its own connection pool). It
never touches Tortoise's global state, so two of them in one process behave as
two workers would.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.context import TortoiseContext
from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

from persistence.locks import WriterLock
from persistence.postgres_url import PostgresParams
from persistence.tortoise import driver
from persistence.tortoise.checkpoints import BACKSTOP_PAGES, Checkpointer
from persistence.tortoise.errors import PersistenceError, translate_errors

APP_LABEL = "models"
MODELS_MODULE = "persistence.tortoise.models"
MIGRATIONS_MODULE = "persistence.migrations"
DEFAULT_POOL_SIZE = 20
KEPT_STATEMENTS = 1000
"""Every this many statements outside transactions, the kept connection goes back to
the pool (:meth:`Database.statement`), whose own rules then apply to it (asyncpg closes a
connection after 50,000 queries, and one idle for five minutes)."""


class Dialect(StrEnum):
    SQLITE = "sqlite"
    POSTGRES = "postgres"


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    dialect: Dialect
    credentials: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, url: str) -> DatabaseUrl:
        scheme, _, rest = url.partition(":")
        if scheme == "sqlite":
            path = rest[2:] if rest.startswith("//") else rest
            if not path:
                raise PersistenceError(f"no file in database URL {url!r}")
            return cls(Dialect.SQLITE, {"file_path": path})
        if scheme in ("postgres", "postgresql", "asyncpg"):
            return cls(Dialect.POSTGRES, _postgres_credentials(url))
        raise PersistenceError(
            f"unsupported database URL {url!r}: use sqlite:///path.db or postgres://..."
        )

    @property
    def engine(self) -> str:
        if self.dialect is Dialect.SQLITE:
            return "persistence.tortoise.sqlite_engine"
        return "tortoise.backends.asyncpg"


def _postgres_credentials(url: str) -> dict[str, Any]:
    params = PostgresParams.parse(url)
    options = dict(params.options)
    return {
        **params.connect_kwargs(),
        "minsize": int(options.pop("minsize", 1)),
        "maxsize": int(options.pop("maxsize", DEFAULT_POOL_SIZE)),
        **options,
    }


async def _keep_session(connection: object) -> None:
    """asyncpg's pool reset, instead of its default of one more round trip per release.

    The default (``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET
    ALL``) undoes session state this application never creates: its advisory
    locks are transaction-scoped, it declares no cursors, listens on its own
    connection and sets nothing per session. asyncpg still rolls back an open
    transaction before calling this.
    """


def tortoise_config(url: str) -> dict[str, Any]:
    """The Tortoise configuration for a database URL (also read by ``tortoise`` CLI)."""
    parsed = DatabaseUrl.parse(url)
    # Tortoise caches compiled SQL per connection *name*, process-wide: naming the
    # connection after its dialect keeps SQLite and PostgreSQL apart in one process.
    connection = parsed.dialect.value
    credentials = dict(parsed.credentials)
    if parsed.dialect is Dialect.SQLITE:
        # WAL + NORMAL: durable at every checkpoint, fast commits (one writer anyway).
        credentials.setdefault("synchronous", "NORMAL")
        # Checkpoints run in a thread (checkpoints.Checkpointer), not in whichever
        # commit crosses 1,000 pages; commits checkpoint only past the backstop. The
        # WAL file is kept (up to 64 MiB) when it starts over instead of being cut
        # back to 16 KiB and grown again every time.
        credentials.setdefault("wal_autocheckpoint", BACKSTOP_PAGES)
        credentials.setdefault("journal_size_limit", 64 * 1024 * 1024)
    else:
        credentials["reset"] = _keep_session
    return {
        "connections": {connection: {"engine": parsed.engine, "credentials": credentials}},
        "apps": {
            APP_LABEL: {
                "models": [MODELS_MODULE],
                "default_connection": connection,
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


class Database:
    """One initialized Tortoise context: a connection (SQLite) or a pool (PostgreSQL).

    SQLite has one writer: in SQLite mode the process is the only worker and
    every unit of work holds :attr:`write_lock` for its whole life, so write
    transactions are serialized in process (``select_for_update`` does nothing
    on SQLite). On PostgreSQL ``write_lock`` is None: the market row lock and
    guarded balance updates do the work.
    """

    def __init__(self, url: str, context: TortoiseContext) -> None:
        self.url = url
        self.dialect = DatabaseUrl.parse(url).dialect
        self.context = context
        self.write_lock: WriterLock | None = (
            WriterLock() if self.dialect is Dialect.SQLITE else None
        )
        self.writer: asyncio.Task[object] | None = None  # holder of write_lock
        self.checkpointer: Checkpointer | None = None
        self._kept: Any = None  # PostgreSQL: the pooled connection kept for statements
        self._closing = False
        self._statements = 0

    @classmethod
    @translate_errors
    async def open(cls, url: str, *, checkpoints: bool = True) -> Database:
        """``checkpoints``: run the WAL checkpointer (SQLite; off for a read-only second
        connection to a file whose writer runs one)."""
        context = TortoiseContext()
        token = driver.activate(context)
        try:
            await context.init(config=tortoise_config(url))
        finally:
            driver.deactivate(token)
        database = cls(url, context)
        try:
            driver.check(database.connection())
            driver.recognise_arrays_by_type()
        except BaseException:
            await database.close()
            raise
        path = DatabaseUrl.parse(url).credentials.get("file_path")
        if database.is_sqlite and checkpoints and isinstance(path, str) and path != ":memory:":
            database.checkpointer = Checkpointer(path)
            database.checkpointer.start()
        return database

    @property
    def is_sqlite(self) -> bool:
        return self.dialect is Dialect.SQLITE

    def connection(self) -> BaseDBAsyncClient:
        return self.context.connections.get(self.dialect.value)

    def activate(self) -> contextvars.Token[TortoiseContext | None]:
        """Make this database current for the calling task (Tortoise resolves through it)."""
        return driver.activate(self.context)

    @staticmethod
    def deactivate(token: contextvars.Token[TortoiseContext | None]) -> None:
        driver.deactivate(token)

    @translate_errors
    async def generate_schema(self) -> None:
        """Create every table directly (tests); production uses :func:`migrate`."""
        token = self.activate()
        try:
            await self.context.generate_schemas(safe=True)
        finally:
            self.deactivate(token)

    @translate_errors
    async def migrate(self, upto: str | None = None) -> list[str]:
        """Apply every pending migration, or those up to the one named ``upto`` (a
        database as an older release left it, for the migrations' tests); returns the
        names applied."""
        applied: list[str] = []

        def progress(event: str, app_label: str, name: str) -> None:
            if event == "apply_done":
                applied.append(f"{app_label}.{name}")

        token = self.activate()
        try:
            apps = tortoise_config(self.url)["apps"]
            executor = MigrationExecutor(self.connection(), apps)
            targets = None if upto is None else [MigrationTarget("models", upto)]
            await executor.migrate(targets, progress=progress)
        finally:
            self.deactivate(token)
        return applied

    async def statement(self, text: str, args: Sequence[object]) -> list[Any]:
        """The rows of one statement outside any transaction (PostgreSQL), atomic on its
        own: reads outside units of work, shared counters.

        It runs on a pooled connection that this database keeps between such statements
        instead of giving it back to the pool after each: asyncpg's pool acquire and
        release (a shielded task, two more turns of the event loop) cost about as much
        CPU as the statement itself (docs/PERSISTENCE.md, "Statements outside
        transactions"). While the kept one is busy, a statement takes another from the
        pool; afterwards one of them is kept, any other given back. A statement that
        fails or is cancelled gives its connection back to the pool, which resets it,
        or replaces it if broken; so does every :data:`KEPT_STATEMENTS`-th statement, for
        the pool's own recycling. A pool of one keeps nothing: its one connection is the
        units of work's, which would wait for it forever."""
        pool = await self.pool()
        connection, self._kept = self._kept, None
        if connection is not None and driver.is_gone(connection):  # the server closed it
            await pool.release(connection)  # (a no-op if asyncpg gave it back already)
            connection = None
        if connection is None:
            connection = await pool.acquire()
        try:
            rows: list[Any] = await connection.fetch(text, *args)
        except BaseException:
            await pool.release(connection)
            raise
        self._statements += 1
        if (
            self._kept is None
            and not self._closing
            and pool.get_max_size() > 1
            and self._statements % KEPT_STATEMENTS
        ):
            self._kept = connection
        else:
            await pool.release(connection)
        return rows  # asyncpg's fetch gives a list already

    async def pool(self) -> Any:
        """The asyncpg pool (PostgreSQL only)."""
        client = self.connection()
        if not driver.is_pooled(client):
            raise PersistenceError("only a PostgreSQL database has a pool")
        return await driver.pool_of(client)

    async def close(self) -> None:
        self._closing = True  # statements in flight give their connection back
        if self._kept is not None:  # the pool waits for every connection to come back
            connection, self._kept = self._kept, None
            await (await self.pool()).release(connection)
        if self.checkpointer is not None:
            await self.checkpointer.stop()
            self.checkpointer = None
        token = self.activate()
        try:
            await self.context.close_connections()
        finally:
            self.deactivate(token)


async def migrate(url: str) -> list[str]:
    """Apply pending migrations to the database at ``url`` (``bellwether migrate``, serve)."""
    database = await Database.open(url)
    try:
        return await database.migrate()
    finally:
        await database.close()
