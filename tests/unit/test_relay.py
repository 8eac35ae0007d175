"""The relay to a market's owner over real Unix sockets: answered by the owner's relay
server, unreachable (the request runs here), lost mid-request (the coded
SERVICE_UNAVAILABLE answer)."""

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

from persistence.sequencer import STOPPED
from tests.harness import wait_until
from web.affinity import MarketLocator, WorkerSlot, owner
from web.relay import Answer, Forwarder, RelayClient, RelayServer, read_request, request_frame

QUERY = "mutation($i: LmsrTradeInput!) {\n  t: lmsrTrade(input: $i) { prices } }"
Relayed = tuple[bytes, str, str, str | None]


@asynccontextmanager
async def relay_server(path: Path, seen: list[Relayed]) -> AsyncIterator[RelayServer]:
    """An owner's relay server whose run answers with what it was given."""
    received: list[int] = []

    async def run(body: bytes, client: str, request_id: str, auth: str | None) -> Answer:
        seen.append((body, client, request_id, auth))
        return 200, orjson.dumps({"data": {"ran": len(seen)}})

    server = RelayServer(path, run, lambda: received.append(1))
    await server.start()
    try:
        yield server
    finally:
        await server.close()
        assert len(received) == len(seen)


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
        assert len(client.idle[path]) == 1
    assert seen == [(b'{"query": "x"}', "10.0.0.9", f"r-{n}", None) for n in (1, 2)]
    client.close()


async def test_a_connection_to_a_dead_owner_is_not_reused(tmp_path: Path) -> None:
    path = tmp_path / "worker-1.sock"
    client = RelayClient()
    frame = request_frame(b"{}", "10.0.0.9", "r", None)
    async with relay_server(path, []) as first:
        assert (await client.send(path, frame) or (0,))[0] == 200
        assert first.server is not None
        first.server.close()
    for connection in client.idle[path]:  # the owner died: its side of each closes
        connection.reader.feed_eof()
    async with relay_server(path, []):  # its replacement
        assert (await client.send(path, frame) or (0,))[0] == 200
    client.close()


async def test_an_unreachable_owner_is_none_nothing_sent(tmp_path: Path) -> None:
    client = RelayClient()
    frame = request_frame(b"{}", "10.0.0.9", "r", None)
    assert await client.send(tmp_path / "missing.sock", frame) is None
    stale = tmp_path / "stale.sock"  # a dead worker's socket file, nobody listening
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(stale))
    assert await client.send(stale, frame) is None


def market_of(slot: int, workers: int) -> str:
    return next(m for m in (f"market-{i}" for i in itertools.count()) if owner(m, workers) == slot)


def relay_to_slot_1(
    tmp_path: Path, outcomes: list[str]
) -> tuple[Forwarder, Callable[[], Awaitable[Answer | None]]]:
    """Slot 0's relay of a mutation on a market slot 1 owns (the ``forward`` call)."""
    relay = Forwarder(WorkerSlot(0, 2, tmp_path), MarketLocator(2000), outcomes.append)
    variables = {"i": {"marketId": market_of(1, 2)}}
    body = orjson.dumps({"query": QUERY, "variables": variables})
    scope: dict[str, Any] = {"client": ("10.0.0.9", 4000), "state": {"request_id": "r-1"}}
    destination = relay.destination(QUERY, variables, None)
    assert destination is not None and destination[0] == 1
    return relay, lambda: relay.forward(scope, body, "Bearer t", *destination)


async def test_a_mutation_on_another_workers_market_goes_there(tmp_path: Path) -> None:
    outcomes: list[str] = []
    relay, forward = relay_to_slot_1(tmp_path, outcomes)
    assert relay.destination(QUERY, {"i": {"marketId": market_of(0, 2)}}, None) is None
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
    assert orjson.loads(answer) == {
        "data": None,
        "errors": [
            {
                "message": STOPPED,
                "locations": [{"line": 2, "column": 3}],
                "path": ["t"],
                "extensions": {"code": "SERVICE_UNAVAILABLE"},
            }
        ],
    }
    assert outcomes == ["lost"]


async def test_a_stopping_owner_answers_the_request_it_runs(tmp_path: Path) -> None:
    """A worker stopping gracefully (SIGTERM, SIGHUP's replacement) answers the relayed
    requests it took, then closes: the relaying worker then finds nobody there."""
    path = tmp_path / "worker-1.sock"
    started, release = asyncio.Event(), asyncio.Event()

    async def run(body: bytes, client: str, request_id: str, auth: str | None) -> Answer:
        started.set()
        await release.wait()
        return 200, b'{"data":{}}'

    server = RelayServer(path, run, lambda: None)
    await server.start()
    relay = RelayClient()
    frame = request_frame(b"{}", "10.0.0.9", "r", None)
    sending = asyncio.create_task(relay.send(path, frame))
    await started.wait()
    closing = asyncio.create_task(server.close())
    await asyncio.sleep(0.05)
    assert not closing.done()
    release.set()
    assert await sending == (200, b'{"data":{}}')
    await closing
    await wait_until(lambda: relay.idle[path][0].reader.at_eof())
    assert await relay.send(path, frame) is None
