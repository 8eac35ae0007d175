"""``Database.statement`` on PostgreSQL: one statement outside any transaction, on a
pooled connection the database keeps between statements (docs/PERSISTENCE.md,
"Statements outside transactions")."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from persistence.memory import RecordingPublisher
from persistence.tortoise import database as database_module
from persistence.tortoise import driver
from persistence.tortoise.database import Database
from persistence.tortoise.sql import Statement
from persistence.tortoise.unit_of_work import TortoiseUnitOfWork
from tests.pgcluster import ThrowawayCluster

pytestmark = pytest.mark.postgres

PID = "SELECT pg_backend_pid()"


@pytest.fixture
async def database(postgres_url: str) -> AsyncIterator[Database]:
    database = await Database.open(postgres_url)
    try:
        yield database
    finally:
        await asyncio.wait_for(database.close(), 30)  # a kept connection never blocks it


async def pid(database: Database) -> int:
    return int((await database.statement(PID, ()))[0][0])


async def checked_out(database: Database) -> int:
    """The pool's connections not idle in it."""
    pool = await database.pool()
    return int(pool.get_size() - pool.get_idle_size())


async def test_statements_one_after_another_run_on_one_kept_connection(
    database: Database,
) -> None:
    first = await pid(database)
    assert [await pid(database) for _ in range(3)] == [first] * 3
    assert await checked_out(database) == 1


async def test_concurrent_statements_take_pooled_connections_and_one_is_kept(
    database: Database,
) -> None:
    rows = await asyncio.gather(
        *(database.statement("SELECT pg_backend_pid(), pg_sleep(0.05)", ()) for _ in range(5))
    )
    assert len({row[0][0] for row in rows}) == 5  # none waited for another's connection
    assert await checked_out(database) == 1  # the other four went back to the pool
    kept = await pid(database)
    assert kept in {row[0][0] for row in rows}


async def test_a_pool_of_one_keeps_no_connection_so_a_unit_of_work_still_runs(
    postgres_url: str,
) -> None:
    database = await Database.open(f"{postgres_url}?maxsize=1")
    try:
        await pid(database)
        assert await checked_out(database) == 0
        async with asyncio.timeout(10), TortoiseUnitOfWork(database, RecordingPublisher()) as uow:
            assert [row[0] for row in await uow.sql.fetch(Statement("SELECT 1"))] == [1]
    finally:
        await asyncio.wait_for(database.close(), 30)


async def test_a_failing_statement_gives_its_connection_back_and_the_next_runs(
    database: Database,
) -> None:
    await pid(database)
    with pytest.raises(asyncpg.DivisionByZeroError):
        await database.statement("SELECT 1 / $1::int", (0,))
    assert await checked_out(database) == 0
    assert (await database.statement("SELECT 6 / $1::int", (3,)))[0][0] == 2


async def test_a_cancelled_statement_gives_its_connection_back(database: Database) -> None:
    await pid(database)
    sleeping = asyncio.create_task(database.statement("SELECT pg_sleep(5)", ()))
    await asyncio.sleep(0.2)
    sleeping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sleeping
    assert await checked_out(database) == 0
    assert await pid(database) > 0


async def test_a_kept_connection_the_server_closed_is_replaced(
    database: Database, postgres_url: str
) -> None:
    """As asyncpg's pool does at acquire: the statement after it connects anew, it does
    not fail."""
    gone = await pid(database)
    admin = await asyncpg.connect(postgres_url)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", gone)
    finally:
        await admin.close()
    for _ in range(100):  # until the loop has read the server's goodbye
        if driver.is_gone(database._kept):
            break
        await asyncio.sleep(0.05)
    assert await pid(database) != gone


async def test_the_statement_after_a_server_restart_runs_on_a_new_connection(
    throwaway_postgres: ThrowawayCluster,
) -> None:
    """The kept connection's server went away while it was idle (a restart of this test's
    own cluster): the next statement connects anew instead of failing."""
    database = await Database.open(throwaway_postgres.admin_url)
    try:
        before = await pid(database)
        await asyncio.to_thread(throwaway_postgres.stop)
        await asyncio.to_thread(throwaway_postgres.start)
        assert await pid(database) != before
    finally:
        await asyncio.wait_for(database.close(), 30)


async def test_a_statement_in_flight_when_the_database_closes_gives_its_connection_back(
    postgres_url: str,
) -> None:
    database = await Database.open(postgres_url)
    await pid(database)
    sleeping = asyncio.create_task(database.statement("SELECT pg_sleep(0.3)", ()))
    await asyncio.sleep(0.1)
    closing = asyncio.create_task(database.close())
    assert len(await sleeping) == 1
    await asyncio.wait_for(closing, 30)
    assert database._kept is None  # given back, or the pool would wait for it


async def test_every_so_many_statements_the_kept_connection_goes_back_to_the_pool(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So that asyncpg's pool recycles it as it does the others (after so many queries)."""
    monkeypatch.setattr(database_module, "KEPT_STATEMENTS", 3)
    kept = []
    for _ in range(3):
        await pid(database)
        kept.append(await checked_out(database))
    assert kept == [1, 1, 0]
    await pid(database)
    assert await checked_out(database) == 1
