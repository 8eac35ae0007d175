"""The users a worker saw signed in and active lately, so that a token's user is read
once per ``ttl`` rather than on every request.

What keeps it right: a deactivation made through this worker forgets the user before
its mutation answers (:meth:`RecentPrincipals.forget`); one made through another
worker arrives on the event bus (``UserDeactivated``) and is forgotten then; a bus
reconnect forgets everyone (events may have been missed); and whatever the bus never
says (a row changed by hand, an admin promoted by ``bellwether create-admin``) holds
at most ``ttl``. A lookup that was under way when something was forgotten is not
kept. Commands never trust it: each checks its actor inside its own transaction, and
the flush refuses an actor deactivated meanwhile. API keys are not kept here: a
revoked key stops working at once on every worker (PRODUCT.md section 11).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from auth.tokens import Principal
from domain.events import DomainEvent, UserDeactivated

MAX_PRINCIPALS = 100_000
"""Users kept per worker; beyond, the least recently looked up are dropped."""


class RecentPrincipals:
    """Active principals of session tokens by user id, each for ``ttl`` seconds
    (``BELLWETHER_PRINCIPAL_CACHE_SECONDS``)."""

    def __init__(
        self,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
        max_size: int = MAX_PRINCIPALS,
    ) -> None:
        self._ttl = ttl
        self._clock = clock
        self._max_size = max_size
        self._kept: dict[str, tuple[Principal, float]] = {}
        self._forgotten = 0
        """Forgets so far: a lookup started before one is not kept."""

    def get(self, user_id: str) -> Principal | None:
        """The user's principal if it was looked up less than ``ttl`` ago."""
        kept = self._kept.get(user_id)
        if kept is None:
            return None
        if self._clock() >= kept[1]:
            del self._kept[user_id]
            return None
        return kept[0]

    def mark(self) -> int:
        """Take before a lookup; hand to :meth:`keep` with its result."""
        return self._forgotten

    def keep(self, principal: Principal, mark: int) -> None:
        """Keep what a lookup found, unless something was forgotten since its ``mark``
        (it may have read the user before a deactivation committed)."""
        if mark != self._forgotten:
            return
        kept = self._kept
        kept.pop(principal.user_id, None)  # re-inserted last: the newest
        kept[principal.user_id] = (principal, self._clock() + self._ttl)
        if len(kept) > self._max_size:
            del kept[next(iter(kept))]

    def forget(self, user_id: str) -> None:
        """The user changed (deactivated): look them up again on their next request."""
        self._forgotten += 1
        self._kept.pop(user_id, None)

    def forget_all(self) -> None:
        """Changes may have been missed (the event bus reconnected)."""
        self._forgotten += 1
        self._kept.clear()

    async def on_events(self, events: Sequence[DomainEvent]) -> None:
        """The event bus listener: forget users deactivated through any worker."""
        for event in events:
            if isinstance(event, UserDeactivated):
                self.forget(event.user_id)

    async def on_reconnect(self) -> None:
        """The event bus reconnected: deactivations may have been missed meanwhile."""
        self.forget_all()
