"""Login rate limiting: sliding windows kept in process memory.

Each key (a username, a client address) may have at most ``limit`` events
within the last ``window`` seconds. State is per process: with several
workers each keeps its own windows, which still bounds guessing per worker.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from domain.errors import RateLimited

MAX_KEYS = 100_000
"""Beyond this many tracked keys, idle ones are dropped (bounded memory)."""


class SlidingWindow:
    def __init__(
        self, limit: int, window_seconds: float, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._now = now
        self._events: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        events = self._events.get(key)
        if events is None:
            return deque()
        horizon = self._now() - self.window
        while events and events[0] <= horizon:
            events.popleft()
        if not events:
            del self._events[key]
        return events

    def is_exhausted(self, key: str) -> bool:
        return len(self._recent(key)) >= self.limit

    def record(self, key: str) -> None:
        if len(self._events) >= MAX_KEYS:
            self._prune()
        self._events.setdefault(key, deque()).append(self._now())

    def _prune(self) -> None:
        for key in list(self._events):
            self._recent(key)


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """At most ``per_username`` failed logins per username and ``per_address``
    attempts per client address within ``window_seconds``."""

    per_username: int = 10
    per_address: int = 60
    window_seconds: float = 60.0


class LoginGuard:
    """Refuses logins with RATE_LIMITED once a username or an address is over its limit."""

    def __init__(self, limits: LoginLimits, now: Callable[[], float] = time.monotonic) -> None:
        self._failures = SlidingWindow(limits.per_username, limits.window_seconds, now)
        self._attempts = SlidingWindow(limits.per_address, limits.window_seconds, now)

    def attempt(self, username: str, address: str) -> None:
        """Call before checking a password: records the attempt or raises RATE_LIMITED."""
        key = username.casefold()
        if self._failures.is_exhausted(key) or self._attempts.is_exhausted(address):
            raise RateLimited("too many login attempts; wait a minute and try again")
        self._attempts.record(address)

    def failed(self, username: str) -> None:
        self._failures.record(username.casefold())
