"""Backends for the service-level behaviour suite.

``harness`` is parametrized by backend. The in-memory one is always present;
the database backends are added by tests/integration (see its conftest).
"""

from __future__ import annotations

import pytest

from domain.audit import Snapshot
from domain.services.context import ServiceContext, Settings
from persistence.memory import MemoryStore, SequentialIds
from persistence.system import ManualClock
from tests.harness import START, FakeHasher, Harness


def memory_harness() -> Harness:
    store = MemoryStore()
    clock = ManualClock(START)
    ctx = ServiceContext(
        uow=store.unit_of_work,
        clock=clock,
        ids=SequentialIds(),
        hasher=FakeHasher(),
        settings=Settings(starting_balance_cents=100_000, default_fee_bps=0),
    )

    async def snapshot() -> Snapshot:
        state = store.state
        return Snapshot(
            users=list(state.users.values()),
            markets=list(state.markets.values()),
            orders=list(state.orders.values()),
            positions=list(state.positions.values()),
            entries=list(state.ledger),
            platform=state.platform,
        )

    harness = Harness(ctx, snapshot, clock)
    harness.store = store  # type: ignore[attr-defined]
    return harness


@pytest.fixture
async def harness() -> Harness:
    return memory_harness()
