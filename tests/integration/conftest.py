"""``database``: a Tortoise :class:`Database` on SQLite (temp file) and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from persistence.tortoise.database import Database
from tests import dbtools
from tests.harness import Harness


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        opened = await dbtools.sqlite_database(tmp_path)
    else:
        opened = await Database.open(request.getfixturevalue("postgres_url"))
        await dbtools.truncate(opened)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def harness(database: Database) -> Harness:
    return dbtools.database_harness(database)
