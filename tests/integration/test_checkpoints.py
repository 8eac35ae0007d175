"""SQLite's WAL is checkpointed by the Checkpointer's thread, not by commits."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from persistence.tortoise.checkpoints import BACKSTOP_PAGES, Checkpointer
from persistence.tortoise.database import Database


def wal_database(path: Path) -> sqlite3.Connection:
    """A WAL database of ~200 KB of rows (~50 pages) that are still in the WAL only."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA wal_autocheckpoint=0")
    connection.execute("CREATE TABLE t (x BLOB)")
    for _ in range(200):
        connection.execute("INSERT INTO t VALUES (randomblob(1000))")
    return connection


async def eventually(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return True
        await asyncio.sleep(0.01)
    return condition()


async def test_the_checkpointer_copies_the_wal_into_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    writer = wal_database(path)
    assert path.stat().st_size < 100_000  # the rows are in the WAL only
    checkpointer = Checkpointer(str(path), interval=0.01)
    checkpointer.start()
    try:
        assert await eventually(lambda: path.stat().st_size > 150_000)
    finally:
        await checkpointer.stop()
        writer.close()
    assert checkpointer.failures == 0


async def test_the_checkpointer_outlives_failures_and_stops_twice(tmp_path: Path) -> None:
    path = tmp_path / "not yet" / "wal.db"  # its folder does not exist: connecting fails
    checkpointer = Checkpointer(str(path), interval=0.01)
    checkpointer.start()
    try:
        assert await eventually(lambda: checkpointer.failures >= 3)
        path.parent.mkdir()
        writer = wal_database(path)
        assert await eventually(lambda: path.stat().st_size > 150_000)
        writer.close()
    finally:
        await checkpointer.stop()
    await checkpointer.stop()
    await Checkpointer(str(path)).stop()  # never started


async def test_the_checkpointer_notices_a_file_switched_to_wal_after_it_connected(
    tmp_path: Path,
) -> None:
    path = tmp_path / "late.db"
    sqlite3.connect(path).execute("CREATE TABLE before_wal (x INTEGER)").connection.close()
    checkpointer = Checkpointer(str(path), interval=0.01)
    checkpointer.start()
    try:
        # A second connection, no failure: the first one checked the file, saw no WAL
        # and was dropped. (A first connection alone proves nothing: it may not have
        # read the file yet, and would then see WAL mode whenever it does.)
        assert await eventually(lambda: checkpointer.connections >= 2)
        assert checkpointer.failures == 0
        writer = wal_database(path)
        assert await eventually(lambda: path.stat().st_size > 150_000)
        writer.close()
    finally:
        await checkpointer.stop()


@pytest.mark.parametrize("url", ["sqlite:///{path}", "sqlite://{relative}"])
async def test_commits_leave_checkpoints_to_the_checkpointer(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = url.format(path=tmp_path / "app.db", relative="app.db")  # "sqlite:////tmp/..."
    database = await Database.open(url)
    reader = await Database.open(url, checkpoints=False)
    try:
        checkpointer = database.checkpointer
        assert checkpointer is not None and reader.checkpointer is None
        connection = database.connection()
        _, rows = await connection.execute_query("PRAGMA wal_autocheckpoint")
        # Commits checkpoint only past the backstop: if the thread is behind or gone.
        assert list(rows[0]) == [BACKSTOP_PAGES]
        await connection.execute_script("CREATE TABLE t (x BLOB)")
        await connection.execute_query("INSERT INTO t VALUES (randomblob(200000))")
        app = tmp_path / "app.db"
        assert await eventually(lambda: app.stat().st_size > 150_000)  # the thread copied it
        assert checkpointer.failures == 0 and checkpointer.connections == 1
    finally:
        await reader.close()
        await database.close()
    assert database.checkpointer is None
