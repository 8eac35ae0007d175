"""Login rate limiting on the shared counters (``domain.ports.SharedCounters``), so that
every worker counts against the same limits.

Two token buckets: guesses per username (``per_username`` within ``window_seconds``,
refilled evenly) and attempts per client address (``per_address``). A guess is taken
from the username's bucket *before* the password is checked and given back when it
was right, so concurrent wrong guesses can never exceed the limit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from domain.errors import RateLimited
from domain.ports import Rate, SharedCounters

TOO_MANY = "too many login attempts; wait a minute and try again"


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """At most ``per_username`` wrong passwords per username and ``per_address``
    attempts per client address within ``window_seconds`` (refilled evenly)."""

    per_username: int = 10
    per_address: int = 60
    window_seconds: float = 60.0

    def rate(self, count: int) -> Rate:
        return Rate(burst=count, per_second=count / self.window_seconds)


def _username_key(username: str) -> str:
    # Hashed: any string a client sends becomes a short key the database accepts.
    digest = hashlib.sha256(username.casefold().encode("utf-8", "surrogatepass")).hexdigest()
    return f"login:username:{digest[:32]}"


class LoginGuard:
    """Refuses logins with RATE_LIMITED once a username or an address is over its limit."""

    def __init__(self, limits: LoginLimits, counters: SharedCounters) -> None:
        self._counters = counters
        self._per_username = limits.rate(limits.per_username)
        self._per_address = limits.rate(limits.per_address)

    async def attempt(self, username: str, address: str) -> None:
        """Call before checking a password: counts the attempt and the guess, or raises
        RATE_LIMITED."""
        if not await self._counters.take(f"login:address:{address}", self._per_address):
            raise RateLimited(TOO_MANY)
        if not await self._counters.take(_username_key(username), self._per_username):
            raise RateLimited(TOO_MANY)

    async def succeeded(self, username: str) -> None:
        """The password was right: that guess does not count against the username."""
        await self._counters.give_back(_username_key(username), self._per_username)


class OrderRateLimit:
    """A user's order operations (PRODUCT.md section 11), counted once for every worker.

    One token bucket per user: ``per_second`` on average, bursts up to ``burst``. A
    batch takes one token per item, all or none; ``cancelAllOrders`` takes one, so a
    user can always cancel everything.
    """

    def __init__(self, counters: SharedCounters, per_second: float, burst: int) -> None:
        self._counters = counters
        self.rate = Rate(burst=burst, per_second=float(per_second))

    async def spend(self, user_id: str, operations: int = 1, *, refusable: bool = True) -> None:
        """Count ``operations`` order operations or raise RATE_LIMITED (nothing counted).

        Not ``refusable`` (cancelling everything): counted if the bucket holds it, and
        allowed either way."""
        if operations <= 0:
            return
        taken = await self._counters.take(f"orders:{user_id}", self.rate, operations)
        if not taken and refusable:
            raise RateLimited(
                f"order rate limit: {operations} more operation(s) would exceed "
                f"{self.rate.per_second:g} a second on average (bursts of {self.rate.burst}); "
                "retry shortly"
            )
