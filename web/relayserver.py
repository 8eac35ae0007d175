"""The owner's side of the relay (``web.relay``): runs the requests other workers relay
to its Unix socket, many at once on each connection, and answers each as it ends; the
answers ready in one turn of the event loop go out in one write.

A worker stopping gracefully (SIGTERM, SIGHUP's replacement) stops listening, answers
the requests it is running, and refuses those that arrive meanwhile unrun (status
``NOT_RUN``: the relaying worker runs them itself), as uvicorn does for its HTTP
requests. A request whose run fails (a bug) is answered ``FAILED``: the relaying worker
says the command's fate is unknown, as for an owner that died mid-request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import orjson

from web.affinity import unix_listener
from web.relayframes import ANSWER, FAILED, NOT_RUN, REQUEST, Answer, take_frames

log = logging.getLogger("bellwether.relay")

RunRelayed = Callable[[bytes, str, str, str | None], Awaitable[Answer]]
"""Runs a relayed request: (body, client address, request id, Authorization)."""


def _parts_length(values: tuple[int, ...]) -> int:
    return values[1] + values[2]


class _Served(asyncio.Protocol):
    """One relaying worker's connection: its requests run as tasks, answered by number."""

    def __init__(self, server: RelayServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.received = bytearray()
        self.running: set[asyncio.Task[None]] = set()
        """The requests running (held here: the loop keeps only weak references)."""
        self.answers: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's are not subclasses of asyncio.Transport).
        transport = cast(asyncio.Transport, transport)
        self.transport = transport
        self.server.connections.add(self)

    def data_received(self, data: bytes) -> None:
        self.received += data
        for (number, head_size, _), parts in take_frames(self.received, REQUEST, _parts_length):
            self._take(number, parts[:head_size], parts[head_size:])

    def _take(self, number: int, head: bytes, body: bytes) -> None:
        if self.server.closing:
            self._answer(number, NOT_RUN, b"")
            return
        try:
            client, request_id, authorization = orjson.loads(head)
        except (orjson.JSONDecodeError, ValueError, TypeError):
            self._answer(number, FAILED, b"")  # not from a worker of ours
            return
        self.server.received()
        task = asyncio.get_running_loop().create_task(
            self._run(number, body, client, request_id, authorization)
        )
        self.running.add(task)
        task.add_done_callback(self._ended)

    async def _run(
        self, number: int, body: bytes, client: str, request_id: str, authorization: str | None
    ) -> None:
        try:
            status, answer = await self.server.run(body, client, request_id, authorization)
        except Exception:
            log.exception("a relayed request failed")
            status, answer = FAILED, b""
        self._answer(number, status, answer)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self.running.discard(task)
        if self.server.closing and not self.running:
            self.close_after_answers()

    def _answer(self, number: int, status: int, body: bytes) -> None:
        if not self.answers:
            asyncio.get_running_loop().call_soon(self._flush)
        self.answers += (ANSWER.pack(number, status, len(body)), body)

    def _flush(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(self.answers))
        self.answers.clear()

    def close_after_answers(self) -> None:
        """Close once the answers of this turn are written (a transport flushes first)."""
        asyncio.get_running_loop().call_soon(self._close)

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        # The relaying worker closed it (or died): the requests running here finish, and
        # their answers go nowhere, as an HTTP response to a client that went away.
        self.server.connections.discard(self)
        self.server.ended()


class RelayServer:
    """Listens on ``path`` for the requests other workers relay here (see the module)."""

    def __init__(self, path: Path, run: RunRelayed, received: Callable[[], Any]) -> None:
        self.path = path
        self.run = run
        self.received = received
        self.server: asyncio.Server | None = None
        self.connections: set[_Served] = set()
        self.closing = False
        self._idle = asyncio.Event()

    async def start(self) -> None:
        """Listen (in place of a dead predecessor's socket), before the worker serves."""
        loop = asyncio.get_running_loop()
        listener = unix_listener(self.path)
        self.server = await loop.create_unix_server(lambda: _Served(self), sock=listener)

    async def close(self) -> None:
        """Stop listening, close the connections running no request, and wait until the
        others have answered theirs (requests arriving meanwhile are refused unrun)."""
        self.closing = True
        if self.server is not None:
            self.server.close()
        for connection in list(self.connections):
            if not connection.running:
                connection.close_after_answers()
        if self.connections:
            self._idle.clear()
            await self._idle.wait()

    def ended(self) -> None:
        if not self.connections:
            self._idle.set()
