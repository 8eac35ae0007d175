"""Start-up checks that the private attributes of Tortoise and its drivers that
persistence/tortoise/driver.py relies on are still there."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import aiosqlite
import pytest
from tortoise.backends.base.client import TransactionalDBClient

from persistence.tortoise.database import Database
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
