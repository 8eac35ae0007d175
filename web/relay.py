"""Relaying a request to the worker that owns its market (``web.affinity``), over that
worker's Unix socket, on connections kept open, a few per owner.

Not HTTP: the owner does not parse the request again, nor pass it through the
middleware (the receiving worker did both). A request is one frame, the sizes of its
two parts then the parts: ``[client address, request id, Authorization or null]``
as JSON, and the JSON POST's body as the client sent it; the answer is the HTTP
status and the body. The owner runs the operation as the lean JSON path does
(``web.jsonposts``), with the client's address (trusted proxies included) and the
request id the receiving worker gave it, and never relays it again. The socket is
in a directory only the workers' user can enter (0700), and it is the only way in:
nothing a client sends over TCP can claim another address or request id.

Failures, and what the client gets:

- the owner cannot be reached (its socket missing or refusing: it died, or is being
  replaced) before anything was sent: the request runs here, which is safe (the
  market's row lock guards every batch);
- the connection fails once the request was sent (the owner died mid-request): the
  command may or may not have been made, as when a worker stops mid-batch, so the
  answer is that error (SERVICE_UNAVAILABLE, ``persistence.sequencer.STOPPED``).
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from starlette.types import Scope

from domain.errors import ServiceUnavailable
from persistence.sequencer import STOPPED
from web.affinity import MarketLocator, Target, WorkerSlot, owner, unix_listener

log = logging.getLogger("bellwether.relay")

SIZES = struct.Struct("!II")
"""A frame's two sizes (request: its parts; answer: status, then the body's size)."""
IDLE_PER_OWNER = 64
"""Connections kept open per owner; more are opened when more requests are in flight."""

Answer = tuple[int, bytes]
"""An HTTP status and a JSON body."""
RunRelayed = Callable[[bytes, str, str, str | None], Awaitable[Answer]]
"""Runs a relayed request: (body, client address, request id, Authorization)."""


def request_frame(body: bytes, client: str, request_id: str, authorization: str | None) -> bytes:
    head = orjson.dumps([client, request_id, authorization])
    return SIZES.pack(len(head), len(body)) + head + body


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, str, str, str | None]:
    """The next request on a connection: body, client, request id, Authorization."""
    head_size, body_size = SIZES.unpack(await reader.readexactly(SIZES.size))
    client, request_id, authorization = orjson.loads(await reader.readexactly(head_size))
    return await reader.readexactly(body_size), client, request_id, authorization


class OwnerLost(Exception):
    """The connection to the owner failed after the request was sent."""


@dataclass(slots=True)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def close(self) -> None:
        self.writer.close()


@dataclass(slots=True)
class RelayClient:
    """Requests to owners' Unix sockets, on connections kept per socket path."""

    idle: dict[Path, list[_Connection]] = field(default_factory=dict)

    async def send(self, path: Path, frame: bytes) -> Answer | None:
        """The owner's answer to ``frame``; None when it could not be reached (nothing
        was sent); OwnerLost when the connection failed after the frame was sent."""
        connection = await self._connection(path)
        if connection is None:
            return None
        kept = False
        try:
            connection.writer.write(frame)
            status, size = SIZES.unpack(await connection.reader.readexactly(SIZES.size))
            answer = status, await connection.reader.readexactly(size)
            kept = self._keep(path, connection)
            return answer
        except (OSError, asyncio.IncompleteReadError):
            raise OwnerLost from None
        finally:
            if not kept:
                connection.close()

    async def _connection(self, path: Path) -> _Connection | None:
        idle = self.idle.get(path)
        while idle:
            connection = idle.pop()
            if not connection.reader.at_eof():
                return connection
            connection.close()  # its owner died since
        try:
            reader, writer = await asyncio.open_unix_connection(path)
        except OSError:
            return None
        return _Connection(reader, writer)

    def _keep(self, path: Path, connection: _Connection) -> bool:
        idle = self.idle.setdefault(path, [])
        if len(idle) >= IDLE_PER_OWNER:
            return False
        idle.append(connection)
        return True

    def close(self) -> None:
        for connections in self.idle.values():
            for connection in connections:
                connection.close()
        self.idle.clear()


class Forwarder:
    """Relays a mutation on a market this worker does not own to the market's owner."""

    def __init__(
        self, slot: WorkerSlot, locator: MarketLocator, observe: Callable[[str], None]
    ) -> None:
        self.slot = slot
        self.locator = locator
        self.observe = observe
        """Counts each relay by outcome: forwarded, unreachable or lost."""
        self.client = RelayClient()

    def destination(
        self, query: str, variables: object, operation_name: object
    ) -> tuple[int, Target] | None:
        """The slot owning the request's market, and where the request names it, when
        that is another worker's; None: this worker runs it."""
        target = self.locator.target(query, operation_name)
        if target is None:
            return None
        market_id = target.market_id(variables if type(variables) is dict else None)
        if market_id is None:
            return None
        slot = owner(market_id, self.slot.workers)
        return None if slot == self.slot.slot else (slot, target)

    async def forward(
        self, scope: Scope, body: bytes, authorization: str | None, slot: int, target: Target
    ) -> Answer | None:
        """The owner's answer; None: run it here (the owner is unreachable)."""
        client = scope.get("client")
        frame = request_frame(
            body, client[0] if client else "unknown", scope["state"]["request_id"], authorization
        )
        try:
            answer = await self.client.send(self.slot.socket_path(slot), frame)
        except OwnerLost:
            self.observe("lost")
            return 200, lost_answer(target)
        self.observe("unreachable" if answer is None else "forwarded")
        return answer


def lost_answer(target: Target) -> bytes:
    """The GraphQL answer of a command whose worker stopped mid-batch (its fate unknown)."""
    error = {
        "message": STOPPED,
        "locations": [{"line": target.line, "column": target.column}],
        "path": [target.response_key],
        "extensions": {"code": ServiceUnavailable.code},
    }
    return orjson.dumps({"data": None, "errors": [error]})


class RelayServer:
    """The owner's side: runs the requests other workers relay to its Unix socket."""

    def __init__(self, path: Path, run: RunRelayed, received: Callable[[], Any]) -> None:
        self.path = path
        self.run = run
        self.received = received
        self.server: asyncio.Server | None = None
        self._running: dict[asyncio.StreamWriter, bool] = {}
        """Each open connection, and whether it is running a request."""
        self._closing = False
        self._idle = asyncio.Event()

    async def start(self) -> None:
        """Listen (in place of a dead predecessor's socket), before the worker serves."""
        self.server = await asyncio.start_unix_server(self._serve, sock=unix_listener(self.path))

    async def close(self) -> None:
        """Stop listening, close the connections waiting for a request, and wait until
        those running one have answered it (a worker stopping gracefully answers what it
        took, as uvicorn does for its HTTP requests)."""
        self._closing = True
        if self.server is not None:
            self.server.close()
        for writer, running in list(self._running.items()):
            if not running:
                writer.close()
        if any(self._running.values()):
            self._idle.clear()
            await self._idle.wait()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._running[writer] = False
        try:
            while not self._closing:
                body, client, request_id, authorization = await read_request(reader)
                self._running[writer] = True
                self.received()
                status, answer = await self.run(body, client, request_id, authorization)
                writer.write(SIZES.pack(status, len(answer)) + answer)
                self._running[writer] = False
        except (asyncio.IncompleteReadError, OSError):
            pass  # the relaying worker closed the connection (or died), or this one stops
        except Exception:
            # A bug: the relaying worker sees the connection close and answers
            # SERVICE_UNAVAILABLE, as for an owner that died mid-request.
            log.exception("a relayed request failed")
        finally:
            del self._running[writer]
            writer.close()
            if not any(self._running.values()):
                self._idle.set()
