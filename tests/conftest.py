"""Fixtures shared by every test directory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import dbtools


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database for this test session, dropped at the end."""
    url = dbtools.postgres_session_database()
    yield url
    dbtools.run_in_own_loop(lambda: dbtools.drop_postgres_database(url))
