"""Test databases for the Tortoise backends: SQLite temp files and a PostgreSQL
database created for the test session (``BELLWETHER_TEST_POSTGRES_URL``).

PostgreSQL tests skip when no server answers, unless
``BELLWETHER_REQUIRE_POSTGRES=1`` (CI), which turns that into a failure.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from domain.services.books import BookCache
from domain.services.context import ServiceContext, Settings
from persistence.memory import RecordingPublisher
from persistence.postgres_url import PostgresParams
from persistence.sequencer import AsyncioSequencer
from persistence.tortoise.database import Database
from persistence.tortoise.queries import TortoiseReadModel
from persistence.tortoise.snapshot import read_snapshot
from persistence.tortoise.unit_of_work import TortoiseUnitOfWork, TortoiseUnitOfWorkFactory
from tests.clock import ManualClock
from tests.harness import START, FakeHasher, Harness
from web import cli

T = TypeVar("T")
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
TABLES = (
    "api_keys",
    "counters",
    "deadlines",
    "ledger_entries",
    "settlements",
    "price_points",
    "trades",
    "positions",
    "orders",
    "outcomes",
    "markets",
    "users",
    "platform",
)


class HexIds:
    """Sequential but shaped like production ids (32 hex digits), so ordering is stable."""

    def __init__(self) -> None:
        self._next = 0

    def new_id(self) -> str:
        self._next += 1
        return f"{self._next:032x}"


def admin_url() -> str:
    return os.environ.get("BELLWETHER_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def postgres_unavailable(reason: str) -> None:
    if os.environ.get("BELLWETHER_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required but unreachable: {reason}")
    pytest.skip(f"PostgreSQL unreachable: {reason}")


async def create_empty_postgres_database(
    admin: str | None = None, prefix: str = "bellwether_test"
) -> str:
    """The URL of a new, empty database named ``prefix`` and a random suffix, on the server
    of ``admin`` (default: the test server). :func:`drop_postgres_database` drops it."""
    admin = admin or admin_url()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(admin, timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(admin, name)


async def create_postgres_database(admin: str | None = None) -> str:
    """A fresh, migrated database on the server of ``admin`` (default: the test server)."""
    url = await create_empty_postgres_database(admin)
    database = await Database.open(url)
    try:
        await database.migrate()
    finally:
        await database.close()
    return url


async def drop_postgres_database(url: str, admin: str | None = None) -> None:
    """Drop the database of ``url``, connected as ``admin`` (default: the test server)."""
    name = PostgresParams.parse(url).database
    conn = await asyncpg.connect(admin or admin_url(), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def run_in_own_loop(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on a fresh loop in a thread (usable inside a running loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def postgres_session_database() -> str:
    """Create the session's database (in its own event loop); skip or fail if unreachable."""
    try:
        return run_in_own_loop(create_postgres_database)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        postgres_unavailable(str(exc))
        raise


async def truncate(database: Database) -> None:
    token = database.activate()
    try:
        tables = ", ".join(TABLES)
        await database.connection().execute_script(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        database.deactivate(token)


async def execute_script(database: Database, sql: str) -> None:
    """Run ``sql`` on ``database`` outside any unit of work (a test reshaping its rows)."""
    token = database.activate()
    try:
        await database.connection().execute_script(sql)
    finally:
        database.deactivate(token)


async def fetch_rows(database: Database, sql: str, *values: str) -> list[dict[str, Any]]:
    """The rows of ``sql`` on ``database``, outside any unit of work."""
    token = database.activate()
    try:
        _, rows = await database.connection().execute_query(sql, list(values))
    finally:
        database.deactivate(token)
    return [dict(row) for row in rows]


async def sqlite_database(directory: Path) -> Database:
    database = await Database.open(f"sqlite:///{directory / 'bellwether.db'}")
    try:
        await database.generate_schema()
    except BaseException:
        await database.close()
        raise
    return database


def database_harness(database: Database) -> Harness:
    clock = ManualClock(START)
    bus = RecordingPublisher()
    ctx = ServiceContext(
        reads=TortoiseReadModel(database),
        uow=TortoiseUnitOfWorkFactory(database, bus),
        clock=clock,
        ids=HexIds(),
        hasher=FakeHasher(),
        settings=Settings(starting_balance_cents=100_000, default_fee_bps=0),
        sequencer=AsyncioSequencer(),
        books=BookCache(),
    )

    async def snapshot() -> object:
        return await read_snapshot(database)

    harness = Harness(ctx, snapshot, clock)  # type: ignore[arg-type]
    harness.database = database  # type: ignore[attr-defined]
    harness.bus = bus  # type: ignore[attr-defined]
    return harness


def run_cli(monkeypatch: pytest.MonkeyPatch, url: str, *argv: str) -> int:
    """Run a ``bellwether`` command on the database at ``url`` (it calls asyncio.run
    itself: call this off the test's loop)."""
    monkeypatch.setenv("BELLWETHER_DATABASE_URL", url)
    return cli.main(list(argv))


@asynccontextmanager
async def opened(url: str) -> AsyncIterator[Database]:
    database = await Database.open(url)
    try:
        yield database
    finally:
        await database.close()


class SlowCommit(TortoiseUnitOfWorkFactory):
    """Commits half a second after the command flushed (holding its locks meanwhile):
    a wide window for a race with another worker."""

    def __call__(self) -> TortoiseUnitOfWork:
        uow = super().__call__()
        commit = uow.commit

        async def slow_commit() -> None:
            await asyncio.sleep(0.5)
            await commit()

        uow.commit = slow_commit  # type: ignore[method-assign]
        return uow
