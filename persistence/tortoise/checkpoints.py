"""SQLite WAL checkpoints on a thread of their own, off every commit's path.

The database is opened with a high ``wal_autocheckpoint`` (:data:`BACKSTOP_PAGES`),
so a commit checkpoints only if this thread has fallen far behind or is not
running at all (the ``tortoise`` CLI, a thread that could not open the file):
the WAL never grows without bound.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import threading
import time
import urllib.parse

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 0.25
"""How often the WAL is copied into the database file (and synced): the most a power
cut can lose at ``synchronous=NORMAL``; a process crash loses nothing."""

BACKSTOP_PAGES = 10_000
"""``wal_autocheckpoint``: about 40 MiB of WAL before a commit checkpoints itself."""

FAILURE_LOG_SECONDS = 60.0
"""While checkpoints keep failing, one log line per this many seconds."""


class Checkpointer:
    """PASSIVE checkpoints of one SQLite file every ``interval`` seconds, with a
    connection of its own (opened, used and closed on its thread).

    PASSIVE never waits for readers or the writer: it copies what it can, and the
    writer starts the WAL over once all of it is copied and no reader needs it.
    A failure (the file missing or unreadable, the connection lost) is retried on
    the next tick with a new connection; so is a connection that does not see the file in
    WAL mode (it connected before the file was switched to WAL, and would never
    notice on its own). Only ``sqlite3.Error`` is retried: anything else ends the
    thread, and the ``wal_autocheckpoint`` backstop takes over.
    """

    def __init__(self, filename: str, interval: float = INTERVAL_SECONDS) -> None:
        self.filename = filename
        self.interval = interval
        self.failures = 0
        self.connections = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"checkpoints {self.filename}", daemon=True
        )
        self._thread.start()

    async def stop(self) -> None:
        """Stop after the checkpoint under way, if any (waits for it off the loop).
        Stopping twice, or before starting, does nothing more."""
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            await asyncio.to_thread(thread.join)

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        logged_at = -FAILURE_LOG_SECONDS
        try:
            while not self._stopping.wait(self.interval):
                try:
                    if connection is None:
                        connection = _open_existing(self.filename)
                        self.connections += 1
                    if not checkpoint(connection):
                        connection.close()
                        connection = None
                except sqlite3.Error as error:
                    self.failures += 1
                    if connection is not None:
                        connection.close()
                        connection = None
                    now = time.monotonic()
                    if now - logged_at >= FAILURE_LOG_SECONDS:
                        logged_at = now
                        log.error(
                            "WAL checkpoint of %s failed (%d so far; retried): %s",
                            self.filename,
                            self.failures,
                            error,
                        )
        finally:
            if connection is not None:
                connection.close()


def _open_existing(filename: str) -> sqlite3.Connection:
    """A connection to the file if it exists; never creates an empty one (a file moved
    away while the server runs stays away)."""
    # "file://" and an empty authority: a path of the URL form "sqlite:////abs" keeps a
    # second leading slash, which after a bare "file:" would read as an authority.
    uri = f"file://{urllib.parse.quote(os.path.abspath(filename))}?mode=rw"
    return sqlite3.connect(uri, uri=True, isolation_level=None)


def checkpoint(connection: sqlite3.Connection) -> bool:
    """One PASSIVE checkpoint: False if the connection sees no WAL; raises
    ``sqlite3.Error`` if it could not run."""
    _busy, wal_pages, _copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return bool(wal_pages != -1)
