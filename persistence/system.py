"""The real clock and id generator."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class UuidIds:
    """Random 128-bit ids as 32 hex digits: opaque, unguessable, no round-trip."""

    def new_id(self) -> str:
        return uuid.uuid4().hex


class ManualClock:
    """A clock that moves only when told: for tests, demos and benchmarks."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        from datetime import timedelta

        self._now += timedelta(**delta)
        return self._now
