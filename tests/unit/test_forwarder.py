"""Slot 0's relay of a mutation on another worker's market (``web.relay.Forwarder``):
where a request goes (its market's owner, or an order's market's), and what its client
gets when the owner answers, cannot be reached, dies mid-request or stays silent past
the timeout (a coded SERVICE_UNAVAILABLE answer saying the command's fate is unknown).
The relay client and server themselves: tests/unit/test_relay.py."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from persistence.sequencer import STOPPED
from tests.unit.test_relay import Relayed, hang_up, read_request, relay_server
from web.affinity import MarketLocator, OrderMarkets, WorkerSlot, owner
from web.relay import Forwarder, silent
from web.relayframes import Answer

QUERY = "mutation($i: LmsrTradeInput!) {\n  t: lmsrTrade(input: $i) { prices } }"


def market_of(slot: int, workers: int) -> str:
    return next(m for m in (f"market-{i}" for i in itertools.count()) if owner(m, workers) == slot)


def relay_to_slot_1(
    tmp_path: Path, outcomes: list[str], timeout: float = 15.0
) -> tuple[Forwarder, Callable[[], Awaitable[Answer | None]]]:
    """Slot 0's relay of a mutation on a market slot 1 owns (the ``forward`` call)."""
    slot = WorkerSlot(0, 2, tmp_path)
    relay = Forwarder(slot, MarketLocator(2000), outcomes.append, timeout)
    variables = {"i": {"marketId": market_of(1, 2)}}
    body = orjson.dumps({"query": QUERY, "variables": variables})
    scope: dict[str, Any] = {"client": ("10.0.0.9", 4000), "state": {"request_id": "r-1"}}
    target = relay.locator.target(QUERY, None)
    assert target is not None
    return relay, lambda: relay.forward(scope, body, "Bearer t", 1, target)


async def test_a_mutation_naming_an_order_goes_to_its_markets_owner(tmp_path: Path) -> None:
    async def lookup(order_id: str) -> str | None:
        return {"o0": market_of(0, 2), "o1": market_of(1, 2)}.get(order_id)

    relay = Forwarder(WorkerSlot(0, 2, tmp_path), MarketLocator(2000), print)
    cancel = "mutation($id: ID!) { cancelOrder(id: $id) { id } }"
    assert await relay.destination(cancel, {"id": "o1"}, None) is None  # no lookup: here
    relay.orders = OrderMarkets(lookup)
    found = await relay.destination(cancel, {"id": "o1"}, None)
    assert found is not None and found[0] == 1 and found[1].response_key == "cancelOrder"
    assert await relay.destination(cancel, {"id": "o0"}, None) is None  # its own market
    assert await relay.destination(cancel, {"id": "nothing"}, None) is None


async def test_a_mutation_on_another_workers_market_goes_there(tmp_path: Path) -> None:
    outcomes: list[str] = []
    relay, forward = relay_to_slot_1(tmp_path, outcomes)
    assert await relay.destination(QUERY, {"i": {"marketId": market_of(0, 2)}}, None) is None
    found = await relay.destination(QUERY, {"i": {"marketId": market_of(1, 2)}}, None)
    assert found is not None and found[0] == 1
    seen: list[Relayed] = []
    async with relay_server(tmp_path / "worker-1.sock", seen):
        assert await forward() == (200, b'{"data":{"ran":1}}')
    assert outcomes == ["forwarded"]
    assert seen[0][1:] == ("10.0.0.9", "r-1", "Bearer t")
    assert orjson.loads(seen[0][0])["query"] == QUERY
    relay.client.close()


async def test_an_unreachable_owner_leaves_the_request_here(tmp_path: Path) -> None:
    outcomes: list[str] = []
    _, forward = relay_to_slot_1(tmp_path, outcomes)
    assert await forward() is None
    assert outcomes == ["unreachable"]


async def test_an_owner_dying_mid_request_is_service_unavailable(tmp_path: Path) -> None:
    outcomes: list[str] = []
    _, forward = relay_to_slot_1(tmp_path, outcomes)
    server = await asyncio.start_unix_server(hang_up, tmp_path / "worker-1.sock")
    try:
        status, answer = await forward() or (0, b"")
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await server.wait_closed()
    assert status == 200
    assert orjson.loads(answer) == unknown_fate(STOPPED)
    assert outcomes == ["lost"]


def unknown_fate(message: str) -> dict[str, Any]:
    """The answer of QUERY's command when it may or may not have been made."""
    error = {
        "message": message,
        "locations": [{"line": 2, "column": 3}],
        "path": ["t"],
        "extensions": {"code": "SERVICE_UNAVAILABLE"},
    }
    return {"data": None, "errors": [error]}


async def test_a_silent_owner_is_service_unavailable_then_passed_over(tmp_path: Path) -> None:
    """An owner that takes the request and never answers (hung): after the timeout the
    client learns that the command's fate is unknown, and for as long again the
    requests for that owner's markets run here instead of waiting for it."""
    outcomes: list[str] = []
    relay, forward = relay_to_slot_1(tmp_path, outcomes, timeout=0.2)
    taken: list[bytes] = []
    gone = asyncio.Event()

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError):
            while True:
                taken.append(await read_request(reader))
        writer.close()
        gone.set()

    server = await asyncio.start_unix_server(hang, tmp_path / "worker-1.sock")
    try:
        async with asyncio.timeout(5):
            status, answer = await forward() or (0, b"")
        assert len(taken) == 1
        assert (status, orjson.loads(answer)) == (200, unknown_fate(silent(0.2)))
        assert "may or may not have been made" in silent(0.2)
        assert await forward() is None  # passed over: run here
        await asyncio.sleep(0.25)
        with pytest.raises(TimeoutError):  # its turn again: sent, and waited for
            async with asyncio.timeout(0.1):
                await forward()
        assert len(taken) == 2
    finally:
        relay.client.close()
        server.close()
    await gone.wait()
    assert outcomes == ["silent", "unreachable"]
