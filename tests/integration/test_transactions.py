"""The PostgreSQL unit of work's own BEGIN, COMMIT and ROLLBACK on a pooled connection
(persistence/tortoise/transactions.py)."""

from __future__ import annotations

import asyncio

import pytest

from persistence.memory import RecordingPublisher
from persistence.tortoise.database import Database
from persistence.tortoise.sql import Statement
from persistence.tortoise.unit_of_work import TortoiseUnitOfWork

pytestmark = pytest.mark.postgres

_TRANSACTION_ID = Statement("SELECT txid_current()")


async def _open_and_leave(database: Database) -> None:
    async with TortoiseUnitOfWork(database, RecordingPublisher()) as uow:
        await uow.sql.fetch(_TRANSACTION_ID)


async def test_orm_querysets_of_a_unit_of_work_run_in_its_transaction(postgres_url: str) -> None:
    database = await Database.open(postgres_url)
    try:
        async with TortoiseUnitOfWork(database, RecordingPublisher()) as uow:
            ((by_hand,),) = await uow.sql.fetch(_TRANSACTION_ID)
            _, ((by_orm,),) = await uow.db.execute_query("SELECT txid_current()")
            await uow.commit()
        assert by_orm == by_hand
    finally:
        await database.close()


async def test_cancelled_units_of_work_give_their_connections_back(postgres_url: str) -> None:
    """Cancelled at every await, from taking the connection to giving it back, on a pool
    of two: afterwards two units of work still open at once."""
    database = await Database.open(f"{postgres_url}?maxsize=2")
    try:
        for turns in range(40):
            task = asyncio.create_task(_open_and_leave(database))
            for _ in range(turns):
                await asyncio.sleep(0)
            task.cancel()
            (outcome,) = await asyncio.gather(task, return_exceptions=True)
            assert outcome is None or isinstance(outcome, asyncio.CancelledError), (turns, outcome)
        both = asyncio.gather(_open_and_leave(database), _open_and_leave(database))
        await asyncio.wait_for(both, timeout=10)
    finally:
        await database.close()


_PLAN_CACHE_MODE = Statement("SELECT current_setting('plan_cache_mode')")


async def test_a_unit_of_work_plans_generically_and_its_connection_goes_back_as_it_was(
    postgres_url: str,
) -> None:
    """Its statements are planned once per connection, not again at every execution; the
    setting is the transaction's (``SET LOCAL``): on a pool of one, the same connection
    outside a unit of work plans as the server says."""
    database = await Database.open(f"{postgres_url}?maxsize=1")
    try:
        for commit in (True, False):  # left without commit: rolled back
            async with TortoiseUnitOfWork(database, RecordingPublisher()) as uow:
                ((inside,),) = await uow.sql.fetch(_PLAN_CACHE_MODE)
                if commit:
                    await uow.commit()
            assert inside == "force_generic_plan"
            token = database.activate()
            try:
                _, (row,) = await database.connection().execute_query(_PLAN_CACHE_MODE.postgres)
            finally:
                database.deactivate(token)
            assert row["current_setting"] == "auto"
    finally:
        await database.close()
