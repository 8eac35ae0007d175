"""A service-level test harness that runs on any backend.

The same behaviour suite (tests/services) runs on the in-memory adapters and
on Tortoise over SQLite and PostgreSQL: each backend supplies a
:class:`ServiceContext` and a way to take an audit :class:`Snapshot`.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from domain import audit
from domain.markets import MarketSpec
from domain.model import Market, MarketType, ScalarRange, User
from domain.services import accounts, markets
from domain.services.context import ServiceContext

START = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


class FakeHasher:
    """A fast, maintained stand-in for argon2 in unit tests (never in production)."""

    def hash(self, password: str) -> str:
        return "plain$" + password[::-1]

    def verify(self, password: str, password_hash: str) -> bool:
        return password_hash == self.hash(password)


class Harness:
    def __init__(
        self,
        ctx: ServiceContext,
        snapshot: Callable[[], Awaitable[audit.Snapshot]],
        clock: object,
    ) -> None:
        self.ctx = ctx
        self._snapshot = snapshot
        self.clock = clock

    async def snapshot(self) -> audit.Snapshot:
        return await self._snapshot()

    async def stored(self, *extra: object) -> object:
        """Every stored row in a stable order, with ``extra`` (trades, events published),
        copied: compare two of them to show that a failed command changed nothing."""
        snap = await self.snapshot()
        return copy.deepcopy(
            (
                sorted(snap.users, key=lambda u: u.id),
                sorted(snap.markets, key=lambda m: m.id),
                sorted(snap.orders, key=lambda o: o.id),
                sorted(snap.positions, key=lambda p: (p.user_id, p.outcome_id)),
                sorted(snap.entries, key=lambda e: e.id),
                snap.platform,
                sorted(snap.settlements, key=lambda s: s.id),
                *extra,
            )
        )

    async def assert_invariants(self) -> None:
        problems = audit.check(await self.snapshot())
        assert problems == [], "\n".join(problems)

    async def user(self, name: str = "alice", *, admin: bool = False) -> User:
        registered = await accounts.register(
            self.ctx, accounts.Registration(name, f"{name}@example.com", "correct horse")
        )
        if admin:
            await self.make_admin(registered.id)
        return registered

    async def make_admin(self, user_id: str) -> None:
        async with self.ctx.uow() as uow:
            user = await uow.users.get(user_id)
            assert user is not None
            user.is_admin = True
            await uow.users.save(user)
            await uow.commit()

    async def fetch_user(self, user_id: str) -> User:
        async with self.ctx.uow() as uow:
            user = await uow.users.get(user_id)
        assert user is not None
        return user

    async def fetch_market(self, market_id: str) -> Market:
        async with self.ctx.uow() as uow:
            market = await uow.markets.get(market_id)
        assert market is not None
        return market

    async def market(
        self,
        creator: User,
        market_type: MarketType = MarketType.LMSR,
        *,
        outcomes: tuple[str, ...] = ("Yes", "No"),
        liquidity: float = 100.0,
        fee_bps: int = 0,
        closes_in: timedelta = timedelta(days=30),
        title: str = "Will the test suite pass before 2031?",
        scalar: ScalarRange | None = None,
        dispute_window_seconds: int = 0,
    ) -> Market:
        spec = MarketSpec(
            title=title,
            market_type=market_type,
            outcomes=outcomes,
            closes_at=self.ctx.clock.now() + closes_in,
            liquidity=liquidity,
            fee_bps=fee_bps,
            scalar=scalar,
            dispute_window_seconds=dispute_window_seconds,
        )
        return await markets.create_market(self.ctx, creator.id, spec)


async def wait_until(condition: Callable[[], bool], seconds: float = 5) -> None:
    """Poll ``condition`` (plain values another task changes) until true; TimeoutError after
    ``seconds``."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - polling plain values
            await asyncio.sleep(0.01)
