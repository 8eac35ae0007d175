"""PostgreSQL through a real Unix-domain socket, named in each of libpq's two URL forms:
the pool, migrations, a service call and the event bus's LISTEN all go over it.

The server is a throwaway cluster of this module's own that listens on a socket in its
directory (``tests/pgcluster.py``) as well as on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from domain.events import BookChanged
from persistence.memory import RecordingPublisher
from persistence.tortoise.unit_of_work import TortoiseUnitOfWorkFactory
from tests import dbtools
from tests.bustools import listening
from tests.harness import wait_until
from tests.pgcluster import ThrowawayCluster
from web.pgbus import PostgresEventBus

pytestmark = pytest.mark.postgres
AT = datetime(2030, 1, 1, tzinfo=UTC)


def socket_urls(cluster: ThrowawayCluster) -> dict[str, str]:
    """The cluster's admin URL over its socket, in both forms, port included (it names the
    socket file; the cluster's is not PostgreSQL's default)."""
    directory = str(cluster.socket_directory)
    return {
        "in the host": f"postgres://postgres@{quote(directory, safe='')}:{cluster.port}/postgres",
        "in the query": f"postgres://postgres@/postgres?host={directory}&port={cluster.port}",
    }


@pytest.fixture(params=["in the host", "in the query"])
async def socket_url(
    request: pytest.FixtureRequest, socket_postgres: ThrowawayCluster
) -> AsyncIterator[str]:
    """A new empty database on the cluster, named by a socket URL."""
    admin = socket_urls(socket_postgres)[request.param]
    url = await dbtools.create_empty_postgres_database(admin)
    yield url
    await dbtools.drop_postgres_database(url, socket_postgres.admin_url)


async def test_the_pool_migrates_and_serves_over_the_socket(socket_url: str) -> None:
    async with dbtools.opened(socket_url) as database:
        assert await database.migrate(), "no migration applied"
        harness = dbtools.database_harness(database)
        alice = await harness.user("alice")
        assert (await harness.snapshot()).users[0].id == alice.id
        await harness.assert_invariants()
        # NULL: the pool's connection is on a Unix socket.
        (row,) = await dbtools.fetch_rows(database, "SELECT inet_server_addr() AS addr")
        assert row["addr"] is None


async def test_the_cli_migrates_and_audits_over_the_socket(
    socket_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await asyncio.to_thread(dbtools.run_cli, monkeypatch, socket_url, "migrate") == 0
    assert await asyncio.to_thread(dbtools.run_cli, monkeypatch, socket_url, "audit") == 0
    async with dbtools.opened(socket_url) as database:
        assert await database.migrate() == [], "the CLI migrated it"


async def test_the_bus_listens_over_the_socket(socket_url: str) -> None:
    """An event published in a unit of work's transaction reaches the bus's LISTEN, whose
    connection is on the socket too (no client address)."""
    # No health probe during the test: its SELECT 1 on the LISTEN connection would
    # replace the LISTEN as that backend's query in pg_stat_activity (it runs every
    # health_interval, 1 s by default, and a loaded machine takes longer than that here).
    bus = PostgresEventBus(socket_url, channel="socket_test", health_interval=3600)
    async with dbtools.opened(socket_url) as database, listening(bus) as received:
        await database.migrate()
        units = TortoiseUnitOfWorkFactory(database, RecordingPublisher(), bus.in_transaction)
        event = BookChanged("m", "o", 1, AT)
        async with units() as uow:
            uow.emit(event)
            await uow.commit()
        await wait_until(lambda: bool(received))
        assert received == [event]
        (listener,) = await dbtools.fetch_rows(
            database,
            "SELECT client_addr, client_port FROM pg_stat_activity WHERE query = $1",
            f'LISTEN "{bus.channel}"',
        )
        assert (listener["client_addr"], listener["client_port"]) == (None, -1)  # a socket
