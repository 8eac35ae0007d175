"""SQLite's WAL is checkpointed by the Checkpointer's thread, not by commits."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from persistence.tortoise.database import Database
from persistence.tortoise.sqlite_engine import Checkpointer


def wal_database(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA wal_autocheckpoint=0")
    return connection


async def test_the_checkpointer_copies_the_wal_into_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    writer = wal_database(path)
    writer.execute("CREATE TABLE t (x BLOB)")
    for _ in range(200):
        writer.execute("INSERT INTO t VALUES (randomblob(1000))")
    before = path.stat().st_size  # every page is still in the WAL only
    checkpointer = Checkpointer(str(path), interval=0.01)
    checkpointer.start()
    try:
        for _ in range(200):
            await asyncio.sleep(0.01)
            if path.stat().st_size > before + 100_000:
                break
    finally:
        await checkpointer.stop()
        writer.close()
    assert path.stat().st_size > before + 100_000


async def test_commits_leave_checkpoints_to_the_checkpointer(tmp_path: Path) -> None:
    database = await Database.open(f"sqlite:///{tmp_path}/app.db")
    reader = await Database.open(f"sqlite:///{tmp_path}/app.db", checkpoints=False)
    try:
        assert database.checkpointer is not None and reader.checkpointer is None
        connection = database.connection()
        _, rows = await connection.execute_query("PRAGMA wal_autocheckpoint")
        assert list(rows[0]) == [0]
    finally:
        await reader.close()
        await database.close()
    assert database.checkpointer is None
