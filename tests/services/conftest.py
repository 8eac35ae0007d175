"""Backends for the service-level behaviour suite.

``harness`` is parametrized by backend: "memory" (the in-memory adapters),
"sqlite" (Tortoise on a temporary SQLite file per test) and "postgres"
(Tortoise on a database created for the session, truncated between tests;
marked ``postgres``).
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

from domain import errors
from domain.audit import References, Snapshot
from domain.model import AmountType, LmsrSide
from domain.services import complete_sets, markets
from domain.services.books import BookCache
from domain.services.context import ServiceContext, Settings
from persistence.memory import MemoryStore, SequentialIds
from persistence.memory_queries import InMemoryReadModel
from persistence.sequencer import AsyncioSequencer
from tests import dbtools
from tests.clock import ManualClock
from tests.harness import START, FakeHasher, Harness


def memory_harness() -> Harness:
    store = MemoryStore()
    clock = ManualClock(START)
    ctx = ServiceContext(
        reads=InMemoryReadModel(store),
        uow=store.unit_of_work,
        clock=clock,
        ids=SequentialIds(),
        hasher=FakeHasher(),
        settings=Settings(starting_balance_cents=100_000, default_fee_bps=0),
        sequencer=AsyncioSequencer(),
        books=BookCache(),
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
            settlements=list(state.settlements),
            references=References(
                traded=frozenset((t.market_id, t.outcome_id) for t in state.trades),
                charted=frozenset(p.market_id for p in state.price_history),
            ),
        )

    harness = Harness(ctx, snapshot, clock)
    harness.store = store  # type: ignore[attr-defined]
    return harness


def memory_state(harness: Harness) -> object:
    """A copy of a :func:`memory_harness`'s stored rows (and the ledger's length): equal
    before and after a command that failed, which must change nothing."""
    state = harness.store.state  # type: ignore[attr-defined]
    return copy.deepcopy(
        (state.users, state.markets, state.orders, state.positions, len(state.ledger))
    )


async def run_checked(harness: Harness, op: object, command: Awaitable[None]) -> None:
    """Run one generated command on a :func:`memory_harness`: one that is refused must
    change nothing; either way the accounts still balance."""
    before = memory_state(harness)
    try:
        await command
    except errors.DomainError:
        assert memory_state(harness) == before, f"{op} failed but changed state"
    await harness.assert_invariants()


async def mint_or_redeem(
    harness: Harness, kind: str, user_id: str, market_id: str, qty: int
) -> None:
    """A generated "mint" or "redeem" of ``qty`` complete sets."""
    act = complete_sets.mint_complete_set if kind == "mint" else complete_sets.redeem_complete_set
    await act(harness.ctx, user_id, market_id, qty)


async def let_time_pass(harness: Harness, seconds: int) -> None:
    """Advance a :func:`memory_harness`'s clock; the orders then due expire."""
    harness.clock.advance(seconds=seconds)  # type: ignore[attr-defined]
    await markets.expire_due_orders(harness.ctx)


def lmsr_trades(
    user: st.SearchStrategy[int], outcome: st.SearchStrategy[int]
) -> st.SearchStrategy[tuple[Any, ...]]:
    """Generated lmsrTrades: ("lmsr", user, outcome, side, amount type, amount, use bonus)."""
    return st.tuples(
        st.just("lmsr"),
        user,
        outcome,
        st.sampled_from(LmsrSide),
        st.sampled_from(AmountType),
        st.integers(1, 3000),
        st.booleans(),
    )


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    if request.param == "memory":
        yield memory_harness()
        return
    if request.param == "sqlite":
        database = await dbtools.sqlite_database(tmp_path)
    else:
        database = await dbtools.Database.open(request.getfixturevalue("postgres_url"))
        await dbtools.truncate(database)
    try:
        yield dbtools.database_harness(database)
    finally:
        await database.close()
