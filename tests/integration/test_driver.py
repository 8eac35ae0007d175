"""Start-up checks that the private attributes of Tortoise and its drivers that
persistence/tortoise/driver.py relies on are still there."""

from __future__ import annotations

import importlib.metadata
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import asyncpg
import asyncpg.protocol.protocol as asyncpg_protocol
import pytest
from tortoise.backends.base.client import TransactionalDBClient

from persistence.tortoise.database import Database
from persistence.tortoise.driver import ARRAY_CONTAINERS
from persistence.tortoise.errors import PersistenceError

VERSION = importlib.metadata.version("tortoise-orm")


async def test_the_installed_versions_have_what_the_driver_module_uses(tmp_path: Path) -> None:
    database = await Database.open(f"sqlite:///{tmp_path / 'ok.db'}")
    await database.close()


@pytest.mark.parametrize(
    ("owner", "name"), [(TransactionalDBClient, "_finalized"), (aiosqlite.Connection, "_conn")]
)
async def test_start_up_names_what_is_missing_and_the_tortoise_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, owner: type, name: str
) -> None:
    monkeypatch.delattr(owner, name)
    with pytest.raises(PersistenceError, match=rf"Tortoise ORM {VERSION} lacks \S+\.{name}\b"):
        await Database.open(f"sqlite:///{tmp_path / 'old.db'}")


async def test_start_up_names_what_asyncpg_lacks_and_its_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(asyncpg_protocol, "SizedABC")
    version = importlib.metadata.version("asyncpg")
    with pytest.raises(PersistenceError, match=rf"asyncpg {version} lacks \S+\.SizedABC\b"):
        await Database.open(f"sqlite:///{tmp_path / 'old.db'}")


@pytest.mark.postgres
async def test_array_parameters_told_by_type_encode_as_before(postgres_url: str) -> None:
    """Lists and tuples are arrays, nested lists two-dimensional ones; strings, None and
    datetimes are elements; a string where an array belongs is still refused."""
    at = datetime(2026, 12, 7, tzinfo=UTC)
    database = await Database.open(postgres_url)
    assert asyncpg_protocol.IterableABC == asyncpg_protocol.SizedABC == ARRAY_CONTAINERS
    connection = await asyncpg.connect(postgres_url)
    try:
        assert await connection.fetchval("SELECT $1::text[]", ["a", None, "b"]) == ["a", None, "b"]
        assert await connection.fetchval("SELECT $1::bigint[]", (1, 2)) == [1, 2]
        square = [[1, 2], [3, 4]]
        assert await connection.fetchval("SELECT $1::bigint[]", square) == square
        assert await connection.fetchval("SELECT $1::timestamptz[]", [at]) == [at]
        with pytest.raises(asyncpg.DataError, match="sized iterable container expected"):
            await connection.fetchval("SELECT $1::text[]", "ab")
    finally:
        await connection.close()
        await database.close()
