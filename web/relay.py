"""Relaying a request to the worker that owns its market (``web.affinity``), over that
worker's Unix socket: HTTP/1.1 on kept-alive connections, a few per owner.

The relayed request carries the client's address and the request id in headers that a
worker reads only from its Unix socket (:func:`relayed_request`), which only the
workers can reach (a 0700 directory), so a TCP client cannot choose the address it is
counted under. The owner runs it as any request, and does not relay it again.

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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from starlette.types import Scope

from domain.errors import ServiceUnavailable
from persistence.sequencer import STOPPED
from web.affinity import MarketLocator, Target, WorkerSlot, owner

FORWARDED_FOR = b"x-bellwether-forwarded-for"
"""The client's address, as the relaying worker resolved it (trusted proxies included)."""
FORWARDED_ID = b"x-bellwether-request-id"
"""The relaying worker's request id: the owner's errors and logs carry the same."""
IDLE_SECONDS = 2.0
"""A kept connection idle longer is closed rather than reused: uvicorn closes idle
connections after 5 s (``timeout_keep_alive``), and a request written on a connection
the owner is closing would be lost."""
IDLE_PER_OWNER = 64
RELAYED = "bellwether.relayed"
"""The scope's state key marking a request another worker relayed here."""


@dataclass(frozen=True, slots=True)
class Relayed:
    """A request another worker relayed here: its client's address and request id."""

    client: str
    request_id: str


def relayed_request(scope: Scope) -> Relayed | None:
    """The relay's headers of a request that came over a Unix socket (uvicorn gives
    such a connection no client and a server without port); None for any other."""
    server = scope.get("server")
    if scope.get("client") is not None or server is None or server[1] is not None:
        return None
    first = dict(reversed(scope["headers"]))
    client, request_id = first.get(FORWARDED_FOR), first.get(FORWARDED_ID)
    if client is None or request_id is None:
        return None
    return Relayed(client.decode("latin-1"), request_id.decode("latin-1"))


class OwnerLost(Exception):
    """The connection to the owner failed after the request was sent."""


@dataclass(slots=True)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def usable(self, now: float) -> bool:
        return not self.reader.at_eof() and now - self.idle_since < IDLE_SECONDS

    def close(self) -> None:
        self.writer.close()


@dataclass(slots=True)
class UnixHttpClient:
    """POSTs over Unix sockets, on connections kept per socket path."""

    idle: dict[Path, list[_Connection]] = field(default_factory=dict)

    async def post(self, path: Path, request: bytes) -> tuple[int, bytes] | None:
        """Send ``request`` (a whole HTTP/1.1 request) to the server at ``path``: its
        status and body; None when it could not be reached (nothing sent); OwnerLost
        when the connection failed after the request was sent."""
        connection = await self._connection(path)
        if connection is None:
            return None
        kept = False
        try:
            connection.writer.write(request)
            status, body, keep_alive = await _response(connection.reader)
            if keep_alive:
                self._keep(path, connection)
                kept = True
            return status, body
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            raise OwnerLost from None
        finally:
            if not kept:
                connection.close()

    async def _connection(self, path: Path) -> _Connection | None:
        idle = self.idle.get(path)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.usable(now):
                return connection
            connection.close()
        try:
            reader, writer = await asyncio.open_unix_connection(path)
        except OSError:
            return None
        return _Connection(reader, writer)

    def _keep(self, path: Path, connection: _Connection) -> None:
        idle = self.idle.setdefault(path, [])
        if len(idle) >= IDLE_PER_OWNER:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        idle.append(connection)

    def close(self) -> None:
        for connections in self.idle.values():
            for connection in connections:
                connection.close()
        self.idle.clear()


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body and whether the connection stays open, of a response with a
    ``content-length`` (every answer of the lean path has one)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = dict(line.lower().split(b": ", 1) for line in lines[1:] if b": " in line)
    length = headers.get(b"content-length")
    if length is None:
        raise ValueError("a response without content-length")
    body = await reader.readexactly(int(length))
    return status, body, headers.get(b"connection") != b"close"


Observe = Callable[[str], None]


class Forwarder:
    """Relays a mutation on a market this worker does not own to the market's owner."""

    def __init__(
        self, slot: WorkerSlot, locator: MarketLocator, observe: Observe = lambda _: None
    ) -> None:
        self.slot = slot
        self.locator = locator
        self.observe = observe
        self.client = UnixHttpClient()

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
        self, scope: Scope, body: bytes, slot: int, target: Target
    ) -> tuple[int, bytes] | None:
        """The owner's status and body; None: run it here (the owner is unreachable)."""
        try:
            answer = await self.client.post(self.slot.socket_path(slot), relayed(scope, body))
        except OwnerLost:
            self.observe("lost")
            return 200, lost_answer(target)
        self.observe("unreachable" if answer is None else "forwarded")
        return answer


def relayed(scope: Scope, body: bytes) -> bytes:
    """The HTTP/1.1 request relaying ``scope``'s POST (its path and ``authorization``)."""
    first = dict(reversed(scope["headers"]))
    client = scope.get("client")
    lines = [
        b"POST " + scope["path"].encode() + b" HTTP/1.1",
        b"host: bellwether",
        b"content-type: application/json",
        b"content-length: " + str(len(body)).encode(),
        FORWARDED_FOR + b": " + (client[0] if client else "unknown").encode("latin-1"),
        FORWARDED_ID + b": " + scope["state"]["request_id"].encode("latin-1"),
    ]
    authorization = first.get(b"authorization")
    if authorization is not None:
        lines.append(b"authorization: " + authorization)
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def lost_answer(target: Target) -> bytes:
    """The GraphQL answer of a command whose worker stopped mid-batch (its fate unknown)."""
    error = {
        "message": STOPPED,
        "locations": [{"line": target.line, "column": target.column}],
        "path": [target.response_key],
        "extensions": {"code": ServiceUnavailable.code},
    }
    return orjson.dumps({"data": None, "errors": [error]})
