"""A lock for units of work that mostly never wait while holding it."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque


class WriterLock:
    """Mutual exclusion in one event loop, without handing the lock to a waiter.

    ``asyncio.Lock`` reserves a released lock for its first waiter, which takes it
    only when the event loop reaches that waiter's turn; every writer arriving in
    between queues too. On SQLite a unit of work runs without yielding, so the lock
    would never be contended, but one that does wait (a registration, through
    aiosqlite's thread) starts such a queue, and under load it never drains: each
    handover costs a full turn of every other request (measured under ``bench/api.py``:
    docs/BENCHMARKS.md).

    Here a free lock goes to whoever asks; a waiter woken by a release that finds it
    taken again waits again, first in line. Cancelled waiters pass a wake-up on.
    Not fair: a waiter can be passed over for as long as newcomers take the free lock
    and then wait while holding it. Units of work that wait while holding it are the
    rare ones (registration, market creation on SQLite), so in practice a woken waiter
    finds the lock free.
    """

    def __init__(self) -> None:
        self._locked = False
        self._waiters: deque[asyncio.Future[None]] = deque()

    def locked(self) -> bool:
        return self._locked

    async def acquire(self) -> None:
        if not self._locked:
            self._locked = True
            return
        loop = asyncio.get_running_loop()
        woken_before = False
        while self._locked:
            waiter: asyncio.Future[None] = loop.create_future()
            if woken_before:
                self._waiters.appendleft(waiter)
            else:
                self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
                if not waiter.cancelled() and not self._locked:
                    self._wake_next()  # it was woken, then cancelled: wake the next instead
                raise
            woken_before = True
        self._locked = True

    def release(self) -> None:
        if not self._locked:
            raise RuntimeError("release of an unlocked WriterLock")
        self._locked = False
        self._wake_next()

    def _wake_next(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
