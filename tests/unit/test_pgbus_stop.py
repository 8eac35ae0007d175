"""Stopping the PostgreSQL bus (no server needed: its listening connection is a fake)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from web.pgbus import PostgresEventBus


class AnswersAsTheBusStops:
    """A listening connection whose health check answers in the very step in which the
    bus's supervisor is cancelled (on a loaded machine, a worker stopping as it checks)."""

    def __init__(self) -> None:
        self.on_query: Callable[[], object] = lambda: None

    def is_closed(self) -> bool:
        return False

    async def fetchval(self, query: str) -> int:
        self.on_query()
        return 1


async def test_a_supervisor_cancelled_as_its_health_check_answers_stops() -> None:
    # asyncio.wait_for of Python 3.11 returned the answer and dropped the cancellation:
    # the supervisor checked on forever, and the worker's shutdown waited for it.
    bus = PostgresEventBus("postgres://127.0.0.1/none", health_interval=0.001)
    connection = AnswersAsTheBusStops()
    bus._listen_conn = connection  # type: ignore[assignment]
    supervisor = asyncio.create_task(bus._supervise())
    connection.on_query = supervisor.cancel
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(supervisor, 2)
