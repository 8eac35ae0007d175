"""The request context looks its caller up once, inline, whoever asks and however often."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, cast

import pytest

from auth.ratelimit import LoginGuard, LoginLimits
from auth.tokens import TokenService
from domain.errors import Unauthenticated
from domain.model import User
from domain.services import accounts
from domain.services.accounts import Registration
from domain.services.context import ServiceContext, Settings
from persistence.counters import InMemorySharedCounters
from persistence.memory import MemoryStore, SequentialIds
from persistence.memory_queries import InMemoryReadModel
from schema.context import Context
from tests.clock import ManualClock
from tests.harness import START, FakeHasher

TOKENS = TokenService("context-test-secret-" + "x" * 40, timedelta(minutes=5))


class CountingReads(InMemoryReadModel):
    """The in-memory read model, counting user lookups; ``gate`` holds them when set."""

    def __init__(self, store: MemoryStore) -> None:
        super().__init__(store)
        self.user_lookups = 0
        self.gate: asyncio.Event | None = None

    async def users_by_ids(self, ids: Sequence[str]) -> list[User]:
        self.user_lookups += 1
        if self.gate is not None:
            await self.gate.wait()
        return await super().users_by_ids(ids)


async def setup() -> tuple[CountingReads, ServiceContext, str]:
    store = MemoryStore()
    services = ServiceContext(
        uow=store.unit_of_work,
        clock=ManualClock(START),
        ids=SequentialIds(),
        hasher=FakeHasher(),
        settings=Settings(starting_balance_cents=100_000, default_fee_bps=0),
    )
    user = await accounts.register(
        services, Registration("alice", "alice@example.com", "a long password")
    )
    return CountingReads(store), services, user.id


def context(reads: CountingReads, services: ServiceContext, token: str) -> Context:
    return Context(
        services=services,
        reads=reads,
        tokens=TOKENS,
        login_guard=LoginGuard(LoginLimits(10, 60, 60), InMemorySharedCounters(services.clock)),
        live=cast(Any, None),
        authorization=f"Bearer {token}",
    )


async def test_one_lookup_for_every_field_that_asks() -> None:
    reads, services, user_id = await setup()
    ctx = context(reads, services, TOKENS.issue(user_id).token)
    first, second = await asyncio.gather(ctx.principal(), ctx.principal())
    assert first is not None and first == second and first.user_id == user_id
    assert await ctx.principal() == first
    assert (await ctx.user(user_id)).username == "alice"  # the loader was primed
    assert reads.user_lookups == 1


async def test_callers_waiting_on_a_lookup_share_its_result() -> None:
    reads, services, user_id = await setup()
    reads.gate = asyncio.Event()
    ctx = context(reads, services, TOKENS.issue(user_id).token)
    calls = [asyncio.ensure_future(ctx.principal()) for _ in range(3)]
    await asyncio.sleep(0)
    reads.gate.set()
    results = await asyncio.gather(*calls)
    assert {p.user_id for p in results if p is not None} == {user_id} and None not in results
    assert reads.user_lookups == 1


async def test_a_forged_token_fails_every_caller() -> None:
    reads, services, _ = await setup()
    ctx = context(reads, services, "forged.token.value")
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            await ctx.principal()
    assert reads.user_lookups == 0


async def test_a_lookup_cancelled_midway_is_done_again_by_a_waiting_caller() -> None:
    reads, services, user_id = await setup()
    reads.gate = asyncio.Event()
    ctx = context(reads, services, TOKENS.issue(user_id).token)
    first = asyncio.ensure_future(ctx.principal())
    await asyncio.sleep(0)
    waiting = asyncio.ensure_future(ctx.principal())
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    reads.gate.set()
    principal = await waiting  # not cancelled with the first: it looked up again
    assert principal is not None and principal.user_id == user_id
    assert await ctx.principal() == principal
    assert reads.user_lookups == 2


async def test_a_load_cancelled_earlier_on_the_connection_is_read_again() -> None:
    reads, services, user_id = await setup()
    reads.gate = asyncio.Event()
    ctx = context(reads, services, TOKENS.issue(user_id).token)
    cancelled = asyncio.ensure_future(ctx.loaders.users.load(user_id))
    await asyncio.sleep(0.01)  # the batch is under way
    cancelled.cancel()  # a sibling field failed, or the client stopped the operation
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    reads.gate.set()
    user = await ctx.loaders.user_now(user_id)  # a later operation on the same context
    assert user is not None and user.id == user_id
