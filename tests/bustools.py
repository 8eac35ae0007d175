"""The PostgreSQL event bus in tests: started with a listener that gathers what it
receives, and a wait for what should arrive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from domain.events import DomainEvent
from web.pgbus import PostgresEventBus


@asynccontextmanager
async def listening(bus: PostgresEventBus) -> AsyncIterator[list[DomainEvent]]:
    """``bus`` started, gathering every event it receives into the list yielded, in the
    order received; stopped afterwards."""
    received: list[DomainEvent] = []

    async def listener(events: Sequence[DomainEvent]) -> None:
        received.extend(events)

    bus.add_listener(listener)
    await bus.start()
    try:
        yield received
    finally:
        await bus.stop()


async def until(condition: Callable[[], bool], within: float = 5) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - polling a plain list
            await asyncio.sleep(0.02)
