"""The PostgreSQL event bus in tests: started with a listener that gathers what it
receives (wait for it with ``tests.harness.wait_until``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
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
