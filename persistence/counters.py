"""The in-memory :class:`domain.ports.SharedCounters`: one process's buckets and deadlines
(the memory backend, which serves from one process, and the tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.ports import Clock, Rate


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated_at: float
    full_at: float


class InMemorySharedCounters:
    """Token buckets as the database adapter keeps them (``persistence.tortoise.counters``)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._deadlines: dict[str, float] = {}

    def _refilled(self, key: str, rate: Rate, now: float) -> float:
        bucket = self._buckets.get(key)
        if bucket is None:
            return float(rate.burst)
        elapsed = max(0.0, now - bucket.updated_at)
        return min(float(rate.burst), bucket.tokens + elapsed * rate.per_second)

    async def take(self, key: str, rate: Rate, cost: int = 1) -> bool:
        now = self._clock.now().timestamp()
        tokens = self._refilled(key, rate, now)
        if tokens < cost:
            return False
        left = tokens - cost
        previous = self._buckets.get(key)
        updated_at = now if previous is None else max(previous.updated_at, now)
        self._buckets[key] = _Bucket(left, updated_at, now + (rate.burst - left) / rate.per_second)
        return True

    async def give_back(self, key: str, rate: Rate, cost: int = 1) -> None:
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.tokens = min(float(rate.burst), bucket.tokens + cost)
            bucket.full_at -= cost / rate.per_second

    async def set_deadline(self, key: str, due: datetime | None) -> None:
        if due is None:
            self._deadlines.pop(key, None)
        else:
            self._deadlines[key] = due.timestamp()

    async def claim_due(self, prefix: str, now: datetime) -> list[str]:
        limit = now.timestamp()
        due = [k for k, at in self._deadlines.items() if k.startswith(prefix) and at <= limit]
        for key in due:
            del self._deadlines[key]
        return due

    async def prune(self, now: datetime) -> None:
        limit = now.timestamp()
        self._buckets = {k: b for k, b in self._buckets.items() if b.full_at > limit}
