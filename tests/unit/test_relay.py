"""The relay to a market's owner over real Unix sockets: reached, unreachable (the
request runs here), lost mid-request (the coded SERVICE_UNAVAILABLE answer)."""

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
from web.affinity import MarketLocator, WorkerSlot, owner
from web.relay import FORWARDED_FOR, FORWARDED_ID, Forwarder, UnixHttpClient

ANSWER = b'{"data":{"ok":true}}'
REQUEST = b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
    return head + await reader.readexactly(length)


def answering(keep_alive: bool = True, seen: list[bytes] | None = None) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await read_request(reader)
                if seen is not None:
                    seen.append(request)
                close = b"" if keep_alive else b"connection: close\r\n"
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n%s\r\n%s"
                    % (len(ANSWER), close, ANSWER)
                )
                if not keep_alive:
                    break
        except asyncio.IncompleteReadError:
            pass
        writer.close()

    return handle


async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """An owner that dies once it has the request."""
    await read_request(reader)
    writer.close()


@asynccontextmanager
async def unix_server(path: Path, handle: Handler) -> AsyncIterator[list[int]]:
    """A server at ``path``; yields the count of connections it accepted (one item)."""
    accepted = [0]
    writers: list[asyncio.StreamWriter] = []

    async def counted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted[0] += 1
        writers.append(writer)
        await handle(reader, writer)

    server = await asyncio.start_unix_server(counted, path)
    try:
        yield accepted
    finally:
        server.close()
        await server.wait_closed()
        for writer in writers:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def test_an_owner_answers_on_one_kept_connection(tmp_path: Path) -> None:
    path = tmp_path / "worker-1.sock"
    client = UnixHttpClient()
    async with unix_server(path, answering()) as accepted:
        assert await client.post(path, REQUEST) == (200, ANSWER)
        assert await client.post(path, REQUEST) == (200, ANSWER)
        assert accepted == [1]
    client.close()


async def test_a_connection_the_owner_closed_is_not_reused(tmp_path: Path) -> None:
    path = tmp_path / "worker-1.sock"
    client = UnixHttpClient()
    async with unix_server(path, answering(keep_alive=False)) as accepted:
        for _ in range(3):
            assert await client.post(path, REQUEST) == (200, ANSWER)
        assert accepted == [3]


async def test_an_unreachable_owner_is_none_nothing_sent(tmp_path: Path) -> None:
    client = UnixHttpClient()
    assert await client.post(tmp_path / "missing.sock", REQUEST) is None
    stale = tmp_path / "stale.sock"  # a dead worker's socket file, nobody listening
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(stale))
    assert await client.post(stale, REQUEST) is None


def market_of(slot: int, workers: int) -> str:
    return next(m for m in (f"market-{i}" for i in itertools.count()) if owner(m, workers) == slot)


def forwarder(tmp_path: Path, outcomes: list[str]) -> Forwarder:
    return Forwarder(WorkerSlot(0, 2, tmp_path), MarketLocator(2000), outcomes.append)


def request_scope(market_id: str) -> tuple[dict[str, Any], bytes, Any]:
    query = "mutation($i: LmsrTradeInput!) {\n  t: lmsrTrade(input: $i) { prices } }"
    variables = {"i": {"marketId": market_id}}
    body = orjson.dumps({"query": query, "variables": variables})
    scope = {
        "path": "/graphql",
        "client": ("10.0.0.9", 4000),
        "headers": [(b"authorization", b"Bearer t")],
        "state": {"request_id": "r-1"},
    }
    return scope, body, (query, variables, None)


async def test_a_mutation_on_another_workers_market_goes_there(tmp_path: Path) -> None:
    outcomes: list[str] = []
    relay = forwarder(tmp_path, outcomes)
    scope, body, (query, variables, name) = request_scope(market_of(1, 2))
    assert relay.destination(*request_scope(market_of(0, 2))[2]) is None  # its own
    destination = relay.destination(query, variables, name)
    assert destination is not None and destination[0] == 1
    seen: list[bytes] = []
    async with unix_server(tmp_path / "worker-1.sock", answering(seen=seen)):
        assert await relay.forward(scope, body, *destination) == (200, ANSWER)
    assert outcomes == ["forwarded"]
    assert seen[0].endswith(b"\r\n\r\n" + body)
    head = seen[0].lower()
    for header in (FORWARDED_FOR + b": 10.0.0.9", FORWARDED_ID + b": r-1", b"bearer t"):
        assert header in head
    relay.client.close()


async def relay_to_slot_1(
    tmp_path: Path, outcomes: list[str]
) -> Callable[[], Awaitable[tuple[int, bytes] | None]]:
    """Slot 0's relay of a mutation on a market slot 1 owns."""
    relay = forwarder(tmp_path, outcomes)
    scope, body, found = request_scope(market_of(1, 2))
    destination = relay.destination(*found)
    assert destination is not None
    return lambda: relay.forward(scope, body, *destination)


async def test_an_unreachable_owner_leaves_the_request_here(tmp_path: Path) -> None:
    outcomes: list[str] = []
    forward = await relay_to_slot_1(tmp_path, outcomes)
    assert await forward() is None
    assert outcomes == ["unreachable"]


async def test_an_owner_dying_mid_request_is_service_unavailable(tmp_path: Path) -> None:
    outcomes: list[str] = []
    forward = await relay_to_slot_1(tmp_path, outcomes)
    async with unix_server(tmp_path / "worker-1.sock", hang_up):
        status, answer = await forward() or (0, b"")
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
