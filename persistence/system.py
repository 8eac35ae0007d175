"""The real clock and id generator."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class RandomIds:
    """Random 128-bit ids as 32 hex digits: opaque, unguessable, no round-trip.

    ``secrets.token_hex`` rather than ``uuid4().hex``: the same randomness without
    building a UUID object (a trade takes several ids)."""

    def new_id(self) -> str:
        return secrets.token_hex(16)
