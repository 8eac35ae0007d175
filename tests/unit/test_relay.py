"""The relay to a market's owner over real Unix sockets: answered by the owner's relay
server (many requests at once on one kept connection), unreachable or refused unrun (the
request runs here), lost mid-request or failed in the owner (its fate unknown). What a
relaying worker's client gets of each: tests/unit/test_forwarder.py."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import orjson
import pytest

from tests.harness import wait_until
from web.relay import OwnerLost, RelayClient
from web.relayframes import REQUEST, Answer, request_frame
from web.relayserver import RelayServer

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


def test_the_relay_behaves_the_same_on_uvloop(tmp_path: Path) -> None:
    """Each request worker of several runs uvloop (``web.serve.request_worker_loop``),
    whose transports are not asyncio's own classes: the same exchanges on it."""
    uvloop = pytest.importorskip("uvloop")
    from tests.unit.test_forwarder import (  # inside: not collected twice
        test_a_silent_owner_is_service_unavailable_then_passed_over,
        test_an_owner_dying_mid_request_is_service_unavailable,
    )

    scenarios = (
        test_an_owner_answers_on_one_kept_connection,
        test_requests_in_flight_together_get_each_its_own_answer,
        test_a_request_not_yet_written_when_its_connection_fails_runs_here,
        test_an_owner_failing_one_request_fails_that_one_alone,
        test_an_owner_dying_mid_request_is_service_unavailable,
        test_a_silent_owner_is_service_unavailable_then_passed_over,
        test_a_stopping_owner_answers_what_it_runs_and_leaves_the_rest_unrun,
    )
    for number, scenario in enumerate(scenarios):
        place = tmp_path / str(number)  # a Unix socket's path is short
        place.mkdir()
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            assert isinstance(runner.get_loop(), uvloop.Loop)
            runner.run(within(10, scenario(place)))


async def within(seconds: float, scenario: Awaitable[None]) -> None:
    """``scenario``, failing instead of hanging (a transport refused: nothing answers)."""
    async with asyncio.timeout(seconds):
        await scenario
