"""Failures at the edge: no driver exception escapes, and a failed command leaves no trace."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from tortoise.exceptions import IntegrityError, OperationalError

from domain.errors import DomainError, ServiceUnavailable, UsernameTaken
from domain.ledger import LedgerEntry
from domain.model import Market, MarketStatus, MarketType, Outcome, User
from domain.services import accounts
from domain.services.context import ServiceContext
from persistence.memory import RecordingPublisher
from persistence.tortoise.database import Database
from persistence.tortoise.errors import DRIVER_ERRORS, PersistenceError, translate_errors
from persistence.tortoise.unit_of_work import TortoiseLedgerRepository, TortoiseUnitOfWork
from tests.harness import START, FakeHasher, Harness
from web.backends import open_backend
from web.settings import AppSettings


def _ghost_market() -> Market:
    """A market whose creator does not exist: its insert breaks a foreign key."""
    return Market(
        id="f" * 32,
        title="A market nobody created",
        description="",
        market_type=MarketType.LMSR,
        status=MarketStatus.OPEN,
        creator_id="0" * 32,
        outcomes=[Outcome("a" * 32, "f" * 32, "Yes", 0)],
        liquidity=10.0,
        fee_bps=0,
        resolution_source="",
        closes_at=START + timedelta(days=1),
        created_at=START,
    )


async def _broken_foreign_key(harness: Harness) -> None:
    async with harness.ctx.uow() as uow:
        await uow.markets.add(_ghost_market())
        await uow.commit()


async def _duplicate_user(harness: Harness) -> None:
    user = await harness.user("alice")
    async with harness.ctx.uow() as uow:
        await uow.users.add(User(**{**_fields(user), "username": "alice2"}))
        await uow.commit()


async def _saving_an_unloaded_user(harness: Harness) -> None:
    user = await harness.user("alice")
    async with harness.ctx.uow() as uow:
        await uow.users.save(user)


def _fields(user: User) -> dict[str, object]:
    return {name: getattr(user, name) for name in User.__slots__}


FAILURES: dict[str, Callable[[Harness], Awaitable[None]]] = {
    "foreign key": _broken_foreign_key,
    "duplicate primary key": _duplicate_user,
    "save without load": _saving_an_unloaded_user,
}


@pytest.mark.parametrize("failure", FAILURES)
async def test_no_driver_exception_escapes_the_adapters(harness: Harness, failure: str) -> None:
    with pytest.raises((PersistenceError, DomainError)) as caught:
        await FAILURES[failure](harness)
    assert not isinstance(caught.value, DRIVER_ERRORS)


@pytest.mark.postgres
async def test_an_unreachable_postgres_is_service_unavailable() -> None:
    database = await Database.open("postgres://nobody@127.0.0.1:1/none")
    try:
        with pytest.raises(ServiceUnavailable):
            async with TortoiseUnitOfWork(database, RecordingPublisher()):
                pass
    finally:
        await database.close()


async def test_a_file_that_is_not_a_database_fails_the_start_and_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"not a database" * 1000)
    threads = set(threading.enumerate())
    settings = AppSettings(database_url=f"sqlite:///{path}")
    # With Tortoise's own wrappers the first open hangs: the migration retries a
    # statement on the connection lock that the failed connect kept. Twice: it is
    # also the same on a second start in the same process.
    for _ in range(2):
        with pytest.raises(PersistenceError, match="not a database"):
            await asyncio.wait_for(open_backend(settings, RecordingPublisher(), FakeHasher()), 10)
    # aiosqlite's close() returns once its thread has closed the connection, before
    # that thread has exited (a moment later, longer on a loaded machine): every
    # thread the starts began must end on its own, and soon. Not "asyncio_": the executor.
    started = [t for t in set(threading.enumerate()) - threads if not t.name.startswith("asyncio_")]
    await asyncio.to_thread(_join_all, started, 10)
    assert [t.name for t in started if t.is_alive()] == []


def _join_all(threads: Sequence[threading.Thread], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


async def test_a_username_race_lost_at_insert_is_username_taken(harness: Harness) -> None:
    await harness.user("alice")
    async with harness.ctx.uow() as uow:
        stored = await uow.users.get_by_username("alice")
    assert stored is not None
    clash = User(**{**_fields(stored), "id": "9" * 32, "email": "new@example.com"})
    with pytest.raises(UsernameTaken):
        async with harness.ctx.uow() as uow:
            await uow.users.add(clash)


class _FailingLedger(TortoiseLedgerRepository):
    async def add(self, entries: Sequence[LedgerEntry]) -> None:
        raise RuntimeError("the disk caught fire after the user row was written")


async def test_a_command_failing_half_way_leaves_no_trace_and_publishes_nothing(
    harness: Harness,
) -> None:
    database: Database = harness.database  # type: ignore[attr-defined]
    bus = RecordingPublisher()

    def failing_uow() -> TortoiseUnitOfWork:
        uow = TortoiseUnitOfWork(database, bus)
        uow.ledger = _FailingLedger(uow)
        return uow

    ctx = ServiceContext(failing_uow, harness.ctx.clock, harness.ctx.ids, harness.ctx.hasher)
    alice = await harness.user("alice")
    market = await harness.market(alice)
    before = await harness.snapshot()
    with pytest.raises(RuntimeError):
        await accounts.register(ctx, accounts.Registration("bob", "bob@example.com", "pw-123456"))
    with pytest.raises(RuntimeError):
        await harness_market(ctx, alice, market.closes_at)
    after = await harness.snapshot()
    assert (after.users, after.markets, after.platform) == (
        before.users,
        before.markets,
        before.platform,
    )
    assert bus.published == []
    await harness.assert_invariants()


async def harness_market(ctx: ServiceContext, creator: User, closes_at: object) -> None:
    await Harness(ctx, None, ctx.clock).market(creator)  # type: ignore[arg-type]


def _raised_from(error: BaseException, cause: BaseException) -> BaseException:
    error.__cause__ = cause
    return error


OUT_OF_REACH: dict[str, BaseException] = {
    "refused": ConnectionRefusedError(111, "Connect call failed"),
    "reset": ConnectionResetError(104, "Connection reset by peer"),
    "gone mid-query": asyncpg.ConnectionDoesNotExistError("connection was closed"),
    "shut down by the admin": asyncpg.AdminShutdownError("terminating connection"),
    "starting up": asyncpg.CannotConnectNowError("the database system is starting up"),
    "too many connections": asyncpg.TooManyConnectionsError("too many clients"),
    "a closed connection": asyncpg.InterfaceError("connection is closed"),
    "wrapped by tortoise": _raised_from(
        OperationalError("boom"), asyncpg.AdminShutdownError("terminating connection")
    ),
    "sqlite locked": sqlite3.OperationalError("database is locked"),
    "a connection the shutdown cut off": asyncpg.InternalClientError(
        "cannot switch to state 12; another operation (2) is in progress"
    ),
}
NOT_OUT_OF_REACH: dict[str, BaseException] = {
    "a constraint": IntegrityError("duplicate key"),
    "bad sql": asyncpg.PostgresSyntaxError("syntax error"),
    "not a database": sqlite3.DatabaseError("file is not a database"),
}


async def _raising(error: BaseException) -> None:
    raise error


@pytest.mark.parametrize("case", OUT_OF_REACH)
async def test_a_database_out_of_reach_is_service_unavailable(case: str) -> None:
    with pytest.raises(ServiceUnavailable):
        await translate_errors(_raising)(OUT_OF_REACH[case])


@pytest.mark.parametrize("case", NOT_OUT_OF_REACH)
async def test_other_driver_errors_stay_internal(case: str) -> None:
    with pytest.raises(PersistenceError):
        await translate_errors(_raising)(NOT_OUT_OF_REACH[case])


async def _read_and_leave(harness: Harness, user_id: str) -> None:
    """A read-only unit of work: it ends without a commit, so its exit rolls back."""
    async with harness.ctx.uow() as uow:
        await uow.users.get(user_id)


async def test_a_cancellation_during_the_exit_of_a_unit_of_work_stays_a_cancellation(
    harness: Harness,
) -> None:
    """The sweeper stops on cancel: a CancelledError raised anywhere in a unit of work,
    its rollback included, must come out as a CancelledError, never as a
    PersistenceError (which the sweeper would log and retry). Cancels after 0, 1, 2,
    ... loop turns until the unit of work finishes first, so every await is hit."""
    alice = await harness.user("alice")
    for turns in range(10_000):
        task = asyncio.create_task(_read_and_leave(harness, alice.id))
        for _ in range(turns):
            await asyncio.sleep(0)
        if task.done():
            break
        task.cancel()
        (outcome,) = await asyncio.gather(task, return_exceptions=True)
        assert outcome is None or isinstance(outcome, asyncio.CancelledError), (turns, outcome)
    assert task.done() and task.exception() is None
    await harness.assert_invariants()
