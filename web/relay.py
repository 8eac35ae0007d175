"""Relaying a request to the worker that owns its market (``web.affinity``), over that
worker's Unix socket, on one connection kept open per owner, many requests at once.

Not HTTP: the owner does not parse the request again, nor pass it through the
middleware (the receiving worker did both). A request is one frame: its number on
the connection, the sizes of its two parts, then the parts: ``[client address,
request id, Authorization or null]`` as JSON, and the JSON POST's body as the client
sent it. An answer is the request's number, the HTTP status and the body, passed to
the client as it came. Answers come back in the order their requests end, and the
frames a worker has ready in one turn of its event loop go out in one write. The
owner runs the operation as the lean JSON path does (``web.jsonposts``), with the
client's address (trusted proxies included) and the request id the receiving worker
gave it, and never relays it again. The socket is in a directory only the workers'
user can enter (0700), and it is the only way in: nothing a client sends over TCP
can claim another address or request id. The owner's side is ``web.relayserver``, the
frames' format ``web.relayframes``.

Failures, and what the client gets:

- the owner cannot be reached (its socket missing or refusing: it died, or is being
  replaced), or the request was not sent (the connection failed first), or the owner
  refused it unrun (it is stopping): the request runs here, which is safe (the
  market's row lock guards every batch);
- the connection fails once the request was sent (the owner died mid-request): the
  command may or may not have been made, as when a worker stops mid-batch, so the
  answer is that error (SERVICE_UNAVAILABLE, ``persistence.sequencer.STOPPED``);
- the owner does not answer within the relay's timeout (it hangs): SERVICE_UNAVAILABLE
  again, saying that the command's fate is unknown (:data:`SILENT`); for as long again,
  that owner's markets' requests then run here rather than wait for it.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import orjson
from starlette.types import Scope

from domain.errors import ServiceUnavailable
from persistence.sequencer import STOPPED
from web.affinity import MarketLocator, Named, OrderMarkets, Target, WorkerSlot, owner
from web.relayframes import ANSWER, FAILED, NOT_RUN, NUMBER, Answer, request_frame, take_frames

CHECK_SECONDS = 1.0
"""How often (at most) a connection with requests in flight looks for one past its
deadline: a request times out within this much after its timeout."""


def silent(seconds: float) -> str:
    """The message of a relayed command whose owner did not answer in ``seconds``."""
    return (
        f"the worker running this command did not answer within {seconds:g} s, so it may "
        "or may not have been made: read the current state before trying again"
    )


class OwnerLost(Exception):
    """The connection to the owner failed after the request was sent (or the owner
    failed running it)."""


class OwnerSilent(Exception):
    """The owner did not answer within the timeout (the request was sent)."""


def _answer_length(values: tuple[int, ...]) -> int:
    return values[2]


class _Channel(asyncio.Protocol):
    """One kept connection to an owner: requests by number, each answered by its own."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.transport: asyncio.Transport | None = None
        self.open = False
        self.waiting: dict[int, tuple[asyncio.Future[Answer], float]] = {}
        """Each request in flight: its answer, and its deadline (the loop's time)."""
        self.unsent: list[bytes] = []
        self.unsent_numbers: list[int] = []
        self.numbers = itertools.count()
        self.received = bytearray()
        self.checking: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's are not subclasses of asyncio.Transport).
        transport = cast(asyncio.Transport, transport)
        self.transport, self.open = transport, True

    def request(self, frame: bytes) -> tuple[int, asyncio.Future[Answer]]:
        """``frame``'s number and answer; it is sent with the others of this turn of the
        loop."""
        loop = asyncio.get_running_loop()
        number = next(self.numbers) & 0xFFFFFFFF
        future: asyncio.Future[Answer] = loop.create_future()
        self.waiting[number] = future, loop.time() + self.timeout
        if not self.unsent:
            loop.call_soon(self._flush)
        self.unsent += (NUMBER.pack(number), frame)
        self.unsent_numbers.append(number)
        if self.checking is None:
            self.checking = loop.call_later(self._check_every, self._expire)
        return number, future

    @property
    def _check_every(self) -> float:
        return min(CHECK_SECONDS, self.timeout / 4)

    def _flush(self) -> None:
        if self.open and self.transport is not None and self.unsent:
            self.transport.write(b"".join(self.unsent))
        self.unsent.clear()
        self.unsent_numbers.clear()

    def data_received(self, data: bytes) -> None:
        self.received += data
        for (number, status, _), body in take_frames(self.received, ANSWER, _answer_length):
            waiting = self.waiting.pop(number, None)
            if waiting is not None and not waiting[0].done():
                waiting[0].set_result((status, body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        unsent = set(self.unsent_numbers)
        for number, (future, _) in self.waiting.items():
            if future.done():
                continue
            if number in unsent:  # nothing ran: it runs here
                future.set_result((NOT_RUN, b""))
            else:
                future.set_exception(OwnerLost())
        self.waiting.clear()
        self.unsent.clear()
        if self.checking is not None:
            self.checking.cancel()

    def _expire(self) -> None:
        """Fail the requests past their deadline (the oldest come first)."""
        now = asyncio.get_running_loop().time()
        for number, (future, deadline) in list(self.waiting.items()):
            if deadline > now:
                break
            del self.waiting[number]
            if not future.done():
                future.set_exception(OwnerSilent())
        self.checking = None
        if self.waiting and self.open:
            self.checking = asyncio.get_running_loop().call_later(self._check_every, self._expire)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


@dataclass(slots=True)
class RelayClient:
    """Requests to owners' Unix sockets, one kept connection per socket path; an owner
    that let one time out gets none for ``timeout`` seconds (its requests run here)."""

    timeout: float = 15.0
    channels: dict[Path, _Channel] = field(default_factory=dict)
    opening: dict[Path, asyncio.Future[_Channel | None]] = field(default_factory=dict)
    silent_until: dict[Path, float] = field(default_factory=dict)

    async def send(self, path: Path, frame: bytes) -> Answer | None:
        """The owner's answer to ``frame``; None: run it here (the owner could not be
        reached, or did not run it); OwnerLost when the connection failed after the frame
        was sent, OwnerSilent when the owner did not answer in time."""
        loop = asyncio.get_running_loop()
        if self.silent_until and self.silent_until.get(path, 0.0) > loop.time():
            return None
        channel = await self._channel(path)
        if channel is None:
            return None
        number, future = channel.request(frame)
        try:
            status, body = await future
        except OwnerSilent:
            self.silent_until[path] = loop.time() + self.timeout
            raise
        finally:
            if not future.done():  # cancelled: the client went away
                channel.waiting.pop(number, None)
        if status == FAILED:
            raise OwnerLost
        return None if status == NOT_RUN else (status, body)

    async def _channel(self, path: Path) -> _Channel | None:
        channel = self.channels.get(path)
        if channel is not None and channel.open:
            return channel
        opening = self.opening.get(path)
        if opening is None:
            opening = self.opening[path] = asyncio.ensure_future(self._open(path))
            opening.add_done_callback(lambda _: self.opening.pop(path, None))
        return await asyncio.shield(opening)

    async def _open(self, path: Path) -> _Channel | None:
        loop = asyncio.get_running_loop()
        try:
            _, channel = await loop.create_unix_connection(
                lambda: _Channel(self.timeout), str(path)
            )
        except OSError:
            return None
        self.channels[path] = channel
        return channel

    def close(self) -> None:
        for channel in self.channels.values():
            channel.close()
        self.channels.clear()


class Forwarder:
    """Relays a mutation on a market this worker does not own to the market's owner."""

    def __init__(
        self,
        slot: WorkerSlot,
        locator: MarketLocator,
        observe: Callable[[str], None],
        timeout: float = 15.0,
        orders: OrderMarkets | None = None,
    ) -> None:
        self.slot = slot
        self.locator = locator
        self.orders = orders
        """Where a mutation naming an order (``cancelOrder``) finds its market; None:
        such mutations run where they arrive."""
        self.observe = observe
        """Counts each relay by outcome: forwarded, unreachable, lost or silent."""
        self.client = RelayClient(timeout)

    async def destination(
        self, query: str, variables: object, operation_name: object
    ) -> tuple[int, Target] | None:
        """The slot owning the request's market, and where the request names it (or an
        order of it), when that is another worker's; None: this worker runs it."""
        target = self.locator.target(query, operation_name)
        if target is None:
            return None
        market_id = target.named_id(variables if type(variables) is dict else None)
        if market_id is not None and target.named is Named.ORDER:
            market_id = None if self.orders is None else await self.orders.market_of(market_id)
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
            return 200, unknown_fate_answer(target, STOPPED)
        except OwnerSilent:
            self.observe("silent")
            return 200, unknown_fate_answer(target, silent(self.client.timeout))
        self.observe("unreachable" if answer is None else "forwarded")
        return answer


def unknown_fate_answer(target: Target, message: str) -> bytes:
    """The GraphQL answer of a command that may or may not have been made (its worker
    stopped mid-batch, or did not answer)."""
    error = {
        "message": message,
        "locations": [{"line": target.line, "column": target.column}],
        "path": [target.response_key],
        "extensions": {"code": ServiceUnavailable.code},
    }
    return orjson.dumps({"data": None, "errors": [error]})
