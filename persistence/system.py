"""The real clock and id generator."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime

_IDS_PER_DRAW = 256


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class RandomIds:
    """Random 128-bit ids as 32 hex digits: opaque, unguessable, no round-trip.

    The bytes come from the OS's CSPRNG (``secrets``) 256 ids at a time: one system
    call per draw rather than per id (a batch of trades takes a hundred ids). A
    forked child starts with none drawn, so it never hands out its parent's."""

    def __init__(self) -> None:
        self._drawn: list[str] = []
        os.register_at_fork(after_in_child=self._drawn.clear)

    def new_id(self) -> str:
        drawn = self._drawn
        if not drawn:
            text = secrets.token_hex(16 * _IDS_PER_DRAW)
            drawn.extend(text[i : i + 32] for i in range(0, len(text), 32))
        return drawn.pop()
