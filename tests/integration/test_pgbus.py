"""The LISTEN/NOTIFY bus against a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime

import asyncpg
import pytest

from domain.events import BookChanged, DomainEvent, PricesChanged
from persistence.memory import RecordingPublisher
from persistence.tortoise.errors import PersistenceError
from persistence.tortoise.sql import Statement
from persistence.tortoise.unit_of_work import TortoiseUnitOfWorkFactory
from tests import dbtools
from tests.bustools import listening
from tests.harness import wait_until
from web.bus import only
from web.pgbus import PostgresEventBus

pytestmark = pytest.mark.postgres
AT = datetime(2030, 1, 1, tzinfo=UTC)


async def _dsn() -> str:
    dsn = os.environ.get(
        "BELLWETHER_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
    )
    try:
        conn = await asyncpg.connect(dsn, timeout=3)
    except (OSError, asyncpg.PostgresError) as error:
        if os.environ.get("BELLWETHER_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required but unreachable: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    await conn.close()
    return dsn


@pytest.fixture
async def bus() -> AsyncIterator[tuple[PostgresEventBus, list[DomainEvent]]]:
    channel = f"test_{os.getpid()}_{id(object())}"
    bus = PostgresEventBus(await _dsn(), channel=channel, health_interval=0.1)
    async with listening(bus) as received:
        yield bus, received


async def test_published_events_reach_listeners_in_order(
    bus: tuple[PostgresEventBus, list[DomainEvent]],
) -> None:
    publisher, received = bus
    events: list[DomainEvent] = [
        PricesChanged("m", (0.5, 0.5), None, 0, i, AT) for i in range(1, 50)
    ]
    await publisher.publish(events)
    await wait_until(lambda: len(received) == len(events))
    assert received == events


async def test_listener_reconnects_after_its_connection_is_killed(
    bus: tuple[PostgresEventBus, list[DomainEvent]],
) -> None:
    publisher, received = bus
    reconnected = asyncio.Event()

    async def on_reconnect() -> None:
        reconnected.set()

    publisher.on_reconnect(on_reconnect)
    conn = await asyncpg.connect(await _dsn())
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query = $1 AND pid <> pg_backend_pid()",
            f'LISTEN "{publisher.channel}"',
        )
    finally:
        await conn.close()
    async with asyncio.timeout(10):
        await reconnected.wait()
    event = BookChanged("m", "o", 1, AT)
    await publisher.publish([event])
    await wait_until(lambda: event in received)
    assert publisher.reconnects >= 1


class CutOnce(PostgresEventBus):
    """Its first NOTIFY meets what asyncpg raises on a connection that a server shutdown
    cut mid-operation (seen while PostgreSQL restarted under load)."""

    cut = False

    async def _notify(self, payloads: Sequence[str]) -> None:
        if not self.cut:
            self.cut = True
            raise asyncpg.InternalClientError(
                "cannot switch to state 12; another operation (2) is in progress"
            )
        await super()._notify(payloads)


async def test_a_publish_on_a_cut_connection_is_retried_never_raised() -> None:
    """``publish`` runs after the command committed: a connection cut mid-operation must
    not make it raise (the API would answer INTERNAL_SERVER_ERROR for a stored order)."""
    bus = CutOnce(await _dsn(), channel=f"test_{os.getpid()}_{id(object())}")
    async with listening(bus) as received:
        event = BookChanged("m", "o", 1, AT)
        await bus.publish([event])
        await wait_until(lambda: event in received)
        assert bus.cut and bus.dropped_publishes == 0


async def test_events_no_listener_wants_are_not_decoded_nor_dispatched() -> None:
    """Every worker receives every event; it decodes those some listener wants at the
    time they arrive (a listener may be handed others), and dispatches nothing when none
    is wanted."""
    bus = PostgresEventBus(await _dsn(), channel=f"test_{os.getpid()}_{id(object())}")
    books: list[Sequence[DomainEvent]] = []
    prices: list[Sequence[DomainEvent]] = []
    wanted = {BookChanged}

    async def on_books(events: Sequence[DomainEvent]) -> None:
        books.append(events)

    async def on_prices(events: Sequence[DomainEvent]) -> None:
        prices.append(events)

    bus.add_listener(on_books, only(BookChanged))
    bus.add_listener(on_prices, lambda kind: kind in wanted)
    await bus.start()
    try:
        book, price = BookChanged("m", "o", 1, AT), PricesChanged("m", (0.5, 0.5), None, 0, 1, AT)
        await bus.publish([price])
        await bus.publish([book, price])
        await wait_until(lambda: bool(books))
        assert books == [[book]] and prices == [[book]], "the price is decoded for no one"
        wanted.add(PricesChanged)
        later = replace(price, sequence=2)
        await bus.publish([later])
        await wait_until(lambda: len(prices) == 2)
        assert prices[1] == [later] and books[1] == [later]
    finally:
        await bus.stop()


@pytest.fixture
async def units(
    postgres_url: str,
) -> AsyncIterator[tuple[TortoiseUnitOfWorkFactory, PostgresEventBus, list[DomainEvent]]]:
    """Units of work whose events ride their transaction as the NOTIFY of a bus on
    their database (NOTIFY reaches the listeners of the same database)."""
    bus = PostgresEventBus(postgres_url, channel=f"test_{os.getpid()}_{id(object())}")
    async with listening(bus) as received, dbtools.opened(postgres_url) as database:
        yield (
            TortoiseUnitOfWorkFactory(database, RecordingPublisher(), bus.in_transaction),
            bus,
            received,
        )


Units = tuple[TortoiseUnitOfWorkFactory, PostgresEventBus, list[DomainEvent]]


async def _committed(units: TortoiseUnitOfWorkFactory, events: Sequence[DomainEvent]) -> None:
    async with units() as uow:
        for event in events:
            uow.emit(event)
        await uow.commit()


async def test_a_committed_unit_of_work_notifies_in_its_transaction(units: Units) -> None:
    """Its events reach the listeners, this process's included, through the bus's LISTEN;
    the bus's own publish connection is never opened."""
    factory, publisher, received = units
    events: list[DomainEvent] = [
        PricesChanged("m", (0.5, 0.5), None, 0, i, AT) for i in range(1, 400)
    ]  # more than one payload
    await _committed(factory, events)
    await wait_until(lambda: len(received) == len(events))
    assert received == events
    assert publisher.dropped_publishes == 0 and publisher._publish_conn is None


async def test_a_rolled_back_unit_of_work_notifies_nothing(units: Units) -> None:
    factory, _, received = units
    async with factory() as uow:
        uow.emit(BookChanged("m", "o", 1, AT))
    # Notifications arrive in commit order: once the later one is here, the first never comes.
    later = BookChanged("m", "o", 2, AT)
    await _committed(factory, [later])
    await wait_until(lambda: bool(received))
    assert received == [later]


async def test_a_failing_combined_write_notifies_nothing(units: Units) -> None:
    """The NOTIFY is part of the combined write: when one of its writes fails, none
    of it happens and the command fails."""
    factory, _, received = units
    insert = Statement("INSERT INTO platform (id, issued_cents) VALUES ($1, 0)")
    async with factory() as uow:
        await uow.sql.execute(Statement("DELETE FROM platform WHERE id = $1"), (7,))
        uow.defer(insert, (7,))
        uow.defer(insert, (7,))  # the same key twice: a unique violation
        uow.emit(BookChanged("m", "o", 1, AT))
        with pytest.raises(PersistenceError):
            await uow.commit()
    later = BookChanged("m", "o", 2, AT)
    await _committed(factory, [later])
    await wait_until(lambda: bool(received))
    assert received == [later]
