"""The relay to a market's owner over real Unix sockets: answered by the owner's relay
server (many requests at once on one kept connection), unreachable or refused unrun (the
request runs here), lost mid-request or silent past the timeout (a coded
SERVICE_UNAVAILABLE answer saying the command's fate is unknown)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest

from persistence.sequencer import STOPPED
from tests.harness import wait_until
from web.affinity import MarketLocator, OrderMarkets, WorkerSlot, owner
from web.relay import Forwarder, OwnerLost, RelayClient, silent
from web.relayframes import REQUEST, Answer, request_frame
from web.relayserver import RelayServer

QUERY = "mutation($i: LmsrTradeInput!) {\n  t: lmsrTrade(input: $i) { prices } }"
Relayed = tuple[bytes, str, str, str | None]
Run = Callable[[bytes, str, str, str | None], Awaitable[Answer]]


@asynccontextmanager
async def relay_server(
    path: Path, seen: list[Relayed], run: Run | None = None
) -> AsyncIterator[RelayServer]:
    """An owner's relay server whose run (by default) answers with what it was given."""
    received: list[int] = []

    async def echo(body: bytes, client: str, request_id: str, auth: str | None) -> Answer:
        seen.append((body, client, request_id, auth))
        return 200, orjson.dumps({"data": {"ran": len(seen)}})

    server = RelayServer(path, run or echo, lambda: received.append(1))
    await server.start()
    try:
        yield server
    finally:
        await server.close()
        assert len(received) == len(seen)


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """A whole request frame, as an owner reads it."""
    header = await reader.readexactly(REQUEST.size)
    _, head, body = REQUEST.unpack(header)
    return header + await reader.readexactly(head + body)


async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """An owner that dies once it has the request."""
    await read_request(reader)
    writer.close()


async def test_an_owner_answers_on_one_kept_connection(tmp_path: Path) -> None:
    path = tmp_path / "worker-1.sock"
    client = RelayClient()
    seen: list[Relayed] = []
    async with relay_server(path, seen):
        for n in (1, 2):
            frame = request_frame(b'{"query": "x"}', "10.0.0.9", f"r-{n}", None)
            assert await client.send(path, frame) == (200, b'{"data":{"ran":%d}}' % n)
            assert len(client.channels) == 1 and client.channels[path].open
    assert seen == [(b'{"query": "x"}', "10.0.0.9", f"r-{n}", None) for n in (1, 2)]
    client.close()


async def test_requests_in_flight_together_get_each_its_own_answer(tmp_path: Path) -> None:
    """Answers come back as their requests end, not in the order they were sent."""
    path = tmp_path / "worker-1.sock"
    seen: list[Relayed] = []

    async def slower_first(body: bytes, client: str, request_id: str, auth: str | None) -> Answer:
        seen.append((body, client, request_id, auth))
        await asyncio.sleep(0.01 * (20 - int(request_id)))
        return 200, body

    client = RelayClient()
    async with relay_server(path, seen, slower_first):
        bodies = [b'{"n": %d}' % n for n in range(20)]
        answers = await asyncio.gather(
            *(client.send(path, request_frame(b, "c", str(n), None)) for n, b in enumerate(bodies))
        )
    assert answers == [(200, b) for b in bodies]
    assert len(client.channels) == 1
    client.close()


async def test_a_connection_to_a_dead_owner_is_not_reused(tmp_path: Path) -> None:
    path = tmp_path / "worker-1.sock"
    client = RelayClient()
    frame = request_frame(b"{}", "10.0.0.9", "r", None)
    async with relay_server(path, []):
        assert (await client.send(path, frame) or (0,))[0] == 200
    first = client.channels[path]
    await wait_until(lambda: not first.open)  # the owner closed its side
    async with relay_server(path, []):  # its replacement
        assert (await client.send(path, frame) or (0,))[0] == 200
    assert client.channels[path] is not first
    client.close()


async def test_a_request_not_yet_written_when_its_connection_fails_runs_here(
    tmp_path: Path,
) -> None:
    """Frames wait for the end of the loop's turn to go out together: one whose
    connection failed before that never reached the owner, so it runs here (None),
    while one already sent has an unknown fate."""
    path = tmp_path / "worker-1.sock"
    client = RelayClient()
    async with relay_server(path, []):
        assert await client.send(path, request_frame(b"{}", "c", "r", None)) is not None
        channel = client.channels[path]
        sending = asyncio.create_task(client.send(path, request_frame(b"{}", "c", "r", None)))
        await asyncio.sleep(0)  # in the connection's queue, not written yet
        channel.connection_lost(None)
        assert await sending is None
    client.close()


async def test_an_unreachable_owner_is_none_nothing_sent(tmp_path: Path) -> None:
    client = RelayClient()
    frame = request_frame(b"{}", "10.0.0.9", "r", None)
    assert await client.send(tmp_path / "missing.sock", frame) is None
    stale = tmp_path / "stale.sock"  # a dead worker's socket file, nobody listening
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(stale))
    assert await client.send(stale, frame) is None


async def test_an_owner_failing_one_request_fails_that_one_alone(tmp_path: Path) -> None:
    """A bug in the owner's run: that request's fate is unknown (OwnerLost, answered as
    a lost one); the others on the same connection are answered."""
    path = tmp_path / "worker-1.sock"
    seen: list[Relayed] = []

    async def fail_one(body: bytes, client: str, request_id: str, auth: str | None) -> Answer:
        seen.append((body, client, request_id, auth))
        await asyncio.sleep(0.01)
        if request_id == "bad":
            raise RuntimeError("a bug")
        return 200, b"{}"

    client = RelayClient()
    async with relay_server(path, seen, fail_one):
        good, bad = await asyncio.gather(
            client.send(path, request_frame(b"{}", "c", "good", None)),
            client.send(path, request_frame(b"{}", "c", "bad", None)),
            return_exceptions=True,
        )
        assert good == (200, b"{}")
        assert isinstance(bad, OwnerLost)
        assert await client.send(path, request_frame(b"{}", "c", "after", None)) == (200, b"{}")
    client.close()


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


async def test_a_stopping_owner_answers_what_it_runs_and_leaves_the_rest_unrun(
    tmp_path: Path,
) -> None:
    """A worker stopping gracefully (SIGTERM, SIGHUP's replacement) answers the relayed
    requests it took, refuses unrun those arriving meanwhile (the relaying worker runs
    them itself: None, never an unknown fate), then closes: nobody is there after."""
    path = tmp_path / "worker-1.sock"
    started, release = asyncio.Event(), asyncio.Event()
    ran: list[str] = []

    async def run(body: bytes, client: str, request_id: str, auth: str | None) -> Answer:
        ran.append(request_id)
        started.set()
        await release.wait()
        return 200, b'{"data":{}}'

    server = RelayServer(path, run, lambda: None)
    await server.start()
    relay = RelayClient()
    sending = asyncio.create_task(relay.send(path, request_frame(b"{}", "c", "first", None)))
    await started.wait()
    closing = asyncio.create_task(server.close())
    await asyncio.sleep(0.05)
    assert not closing.done()
    assert await relay.send(path, request_frame(b"{}", "c", "late", None)) is None
    release.set()
    assert await sending == (200, b'{"data":{}}')
    await closing
    assert ran == ["first"]
    await wait_until(lambda: not relay.channels[path].open)
    assert await relay.send(path, request_frame(b"{}", "c", "after", None)) is None
    relay.close()
