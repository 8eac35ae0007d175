"""A clock for tests and benchmarks."""

from __future__ import annotations

from datetime import datetime, timedelta


class ManualClock:
    """A clock that moves only when told."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now
