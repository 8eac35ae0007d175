"""The dead-man switch: heartbeat(timeoutSeconds) and the watch that cancels on a lapse."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from domain import errors
from domain.model import OrderStatus, Side
from domain.ports import SharedCounters
from domain.services import orders
from domain.services.heartbeats import cancel_lapsed, heartbeat
from persistence.counters import InMemorySharedCounters
from persistence.tortoise.database import Database
from tests.clock import ManualClock
from tests.harness import Harness
from tests.integration.test_shared_counters import on_database
from tests.services.test_order_book_trading import _setup, limit


def counters_of(harness: Harness) -> SharedCounters:
    clock: ManualClock = harness.clock  # type: ignore[assignment]
    if getattr(harness, "store", None) is not None:
        return InMemorySharedCounters(clock)
    return on_database(harness.database, clock)  # type: ignore[attr-defined]


async def _resting(harness: Harness) -> tuple[str, list[str]]:
    maker, taker, market = await _setup(harness)
    placed = [
        await orders.place_order(harness.ctx, maker.id, limit(market, Side.SELL, 70, 5)),
        await orders.place_order(harness.ctx, maker.id, limit(market, Side.BUY, 30, 5)),
        await orders.place_order(harness.ctx, taker.id, limit(market, Side.BUY, 20, 5)),
    ]
    return maker.id, [order.id for order in placed]


async def statuses(harness: Harness, ids: list[str]) -> list[OrderStatus]:
    async with harness.ctx.uow() as uow:
        found = [await uow.orders.get(order_id) for order_id in ids]
    return [order.status for order in found if order is not None]


@pytest.mark.parametrize("seconds", [-1, 1, 4, 301, 10_000])
async def test_a_timeout_outside_5_to_300_is_invalid_amount(harness: Harness, seconds: int) -> None:
    with pytest.raises(errors.InvalidAmount):
        await heartbeat(harness.ctx, counters_of(harness), "someone", seconds)


async def test_a_lapsed_heartbeat_cancels_every_open_order_once(harness: Harness) -> None:
    counters, clock = counters_of(harness), harness.clock
    maker_id, ids = await _resting(harness)
    due = await heartbeat(harness.ctx, counters, maker_id, 5)
    assert due == harness.ctx.clock.now() + timedelta(seconds=5)
    clock.advance(seconds=4)  # type: ignore[attr-defined]
    assert await cancel_lapsed(harness.ctx, counters) == 0
    clock.advance(seconds=1)  # type: ignore[attr-defined]
    assert await cancel_lapsed(harness.ctx, counters) == 1
    assert await statuses(harness, ids) == [OrderStatus.CANCELLED] * 2 + [OrderStatus.OPEN]
    assert (await harness.fetch_user(maker_id)).reserved_cents == 0
    assert await cancel_lapsed(harness.ctx, counters) == 0
    await harness.assert_invariants()


async def test_a_new_heartbeat_postpones_and_zero_switches_off(harness: Harness) -> None:
    counters, clock = counters_of(harness), harness.clock
    maker_id, ids = await _resting(harness)
    await heartbeat(harness.ctx, counters, maker_id, 5)
    clock.advance(seconds=4)  # type: ignore[attr-defined]
    await heartbeat(harness.ctx, counters, maker_id, 5)
    clock.advance(seconds=4)  # type: ignore[attr-defined]
    assert await cancel_lapsed(harness.ctx, counters) == 0
    assert await heartbeat(harness.ctx, counters, maker_id, 0) is None
    clock.advance(seconds=600)  # type: ignore[attr-defined]
    assert await cancel_lapsed(harness.ctx, counters) == 0
    assert await statuses(harness, ids) == [OrderStatus.OPEN] * 3


@pytest.mark.parametrize(
    "harness", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_two_workers_racing_for_a_lapse_cancel_once(
    harness: Harness, postgres_url: str
) -> None:
    clock: ManualClock = harness.clock  # type: ignore[assignment]
    maker_id, ids = await _resting(harness)
    other = await Database.open(postgres_url)
    try:
        workers = [on_database(harness.database, clock), on_database(other, clock)]  # type: ignore[attr-defined]
        await heartbeat(harness.ctx, workers[0], maker_id, 5)
        clock.advance(seconds=6)
        claimed = await asyncio.gather(*(cancel_lapsed(harness.ctx, w) for w in workers))
    finally:
        await other.close()
    assert sorted(claimed) == [0, 1]
    assert await statuses(harness, ids) == [OrderStatus.CANCELLED] * 2 + [OrderStatus.OPEN]
    await harness.assert_invariants()
