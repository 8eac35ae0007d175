"""Fixtures shared by every test directory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import dbtools, pgcluster
from tests.pgcluster import ThrowawayCluster


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database for this test session, dropped at the end."""
    url = dbtools.postgres_session_database()
    yield url
    dbtools.run_in_own_loop(lambda: dbtools.drop_postgres_database(url))


def _throwaway_cluster(*, unix_socket: bool = False) -> Iterator[ThrowawayCluster]:
    """Skip (or fail, in CI) where no cluster can be made."""
    reason = pgcluster.unavailable_reason()
    if reason is not None:
        dbtools.postgres_unavailable(reason)
    with pgcluster.throwaway_cluster(unix_socket=unix_socket) as cluster:
        yield cluster


@pytest.fixture
def throwaway_postgres() -> Iterator[ThrowawayCluster]:
    """A PostgreSQL cluster of this test's own (initdb + pg_ctl on a free port), the only
    kind a test may stop or restart; deleted afterwards."""
    yield from _throwaway_cluster()


@pytest.fixture(scope="module")
def socket_postgres() -> Iterator[ThrowawayCluster]:
    """A PostgreSQL cluster that also listens on a Unix socket (``socket_directory``),
    shared by the tests of one module (none stops it); deleted afterwards."""
    yield from _throwaway_cluster(unix_socket=True)
