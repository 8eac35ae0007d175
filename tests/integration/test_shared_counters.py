"""The shared counters (``domain.ports.SharedCounters``) on memory, SQLite and PostgreSQL:
token buckets and deadlines behave the same on each, and on PostgreSQL two workers
(two Database instances, as two processes would have) share one bucket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from domain.ports import Rate, SharedCounters
from persistence.counters import InMemorySharedCounters
from persistence.memory import RecordingPublisher
from persistence.tortoise.counters import TortoiseSharedCounters
from persistence.tortoise.database import Database
from persistence.tortoise.unit_of_work import TortoiseUnitOfWorkFactory
from tests import dbtools
from tests.clock import ManualClock
from tests.harness import START

FIVE_A_MINUTE = Rate(burst=5, per_second=5 / 60)


def on_database(database: Database, clock: ManualClock) -> TortoiseSharedCounters:
    return TortoiseSharedCounters(TortoiseUnitOfWorkFactory(database, RecordingPublisher()), clock)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def counters(
    request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[SharedCounters]:
    if request.param == "memory":
        yield InMemorySharedCounters(clock)
        return
    if request.param == "sqlite":
        database = await dbtools.sqlite_database(tmp_path)
    else:
        database = await Database.open(request.getfixturevalue("postgres_url"))
        await dbtools.truncate(database)
    try:
        yield on_database(database, clock)
    finally:
        await database.close()


@pytest.mark.parametrize(("burst", "per_second"), [(0, 1.0), (5, 0.0), (5, float("nan"))])
def test_a_rate_that_could_never_refill_is_refused(burst: int, per_second: float) -> None:
    with pytest.raises(ValueError, match="a rate needs"):
        Rate(burst, per_second)


async def takes(counters: SharedCounters, key: str, times: int, cost: int = 1) -> list[bool]:
    return [await counters.take(key, FIVE_A_MINUTE, cost) for _ in range(times)]


async def test_a_bucket_gives_its_burst_then_refuses(counters: SharedCounters) -> None:
    assert await takes(counters, "a", 7) == [True] * 5 + [False] * 2
    assert await takes(counters, "b", 1) == [True], "each key has its own bucket"


async def test_a_bucket_refills_at_its_rate(counters: SharedCounters, clock: ManualClock) -> None:
    await takes(counters, "a", 5)
    clock.advance(seconds=11)
    assert await takes(counters, "a", 1) == [False]
    clock.advance(seconds=1)
    assert await takes(counters, "a", 2) == [True, False]
    clock.advance(seconds=3600)
    assert await takes(counters, "a", 6) == [True] * 5 + [False], "never above the burst"


async def test_a_cost_larger_than_what_is_left_takes_nothing(counters: SharedCounters) -> None:
    assert await takes(counters, "a", 1, cost=4) == [True]
    assert await takes(counters, "a", 1, cost=2) == [False]
    assert await takes(counters, "a", 1, cost=1) == [True]
    assert await takes(counters, "new", 1, cost=6) == [False], "more than the burst, ever"


async def test_given_back_tokens_can_be_taken_again(counters: SharedCounters) -> None:
    await takes(counters, "a", 5)
    await counters.give_back("a", FIVE_A_MINUTE)
    assert await takes(counters, "a", 2) == [True, False]


async def test_pruning_forgets_only_full_buckets(
    counters: SharedCounters, clock: ManualClock
) -> None:
    await takes(counters, "a", 5)
    await counters.prune(clock.now())
    assert await takes(counters, "a", 1) == [False], "an empty bucket is not forgotten"
    await counters.prune(clock.advance(seconds=61))
    assert await takes(counters, "a", 6) == [True] * 5 + [False]


async def test_a_due_deadline_is_claimed_once(counters: SharedCounters, clock: ManualClock) -> None:
    now = clock.now()
    await counters.set_deadline("heartbeat:u1", now + timedelta(seconds=5))
    await counters.set_deadline("heartbeat:u2", now + timedelta(seconds=50))
    await counters.set_deadline("other:u3", now)
    assert await counters.claim_due("heartbeat:", now) == []
    later = now + timedelta(seconds=10)
    assert await counters.claim_due("heartbeat:", later) == ["heartbeat:u1"]
    assert await counters.claim_due("heartbeat:", later) == []
    await counters.set_deadline("heartbeat:u2", None)
    assert await counters.claim_due("heartbeat:", now + timedelta(days=1)) == []
    assert await counters.claim_due("other:", now) == ["other:u3"]


@pytest.mark.postgres
async def test_two_workers_share_one_bucket(postgres_url: str, clock: ManualClock) -> None:
    async with dbtools.opened(postgres_url) as one, dbtools.opened(postgres_url) as two:
        await dbtools.truncate(one)
        workers = (on_database(one, clock), on_database(two, clock))
        attempts = [workers[i % 2].take("shared", FIVE_A_MINUTE) for i in range(40)]
        assert sum(await asyncio.gather(*attempts)) == 5
        now = clock.now()
        for i in range(10):
            await workers[0].set_deadline(f"hb:{i}", now)
        claims = [workers[i % 2].claim_due("hb:", now) for i in range(8)]
        claimed = [key for keys in await asyncio.gather(*claims) for key in keys]
        assert sorted(claimed) == sorted(f"hb:{i}" for i in range(10))


@pytest.mark.postgres
async def test_buckets_are_unlogged_and_deadlines_logged(postgres_url: str) -> None:
    """A take commits without waiting for the write-ahead log; a crash may empty the
    buckets (every limit full again), never the dead-man switches' deadlines."""
    async with dbtools.opened(postgres_url) as database:
        client = database.connection()
        _, rows = await client.execute_query(
            "SELECT relname, relpersistence::text FROM pg_class"
            " WHERE relname IN ('counters', 'deadlines') AND relkind = 'r'"
        )
    assert {row[0]: row[1] for row in rows} == {"counters": "u", "deadlines": "p"}
