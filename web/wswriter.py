"""Writing a finished frame to a WebSocket without waiting: the one module that
reaches into uvicorn's WebSocket protocol object.

:func:`capture_protocol` (called by the outermost middleware) keeps the protocol
object that owns a WebSocket's ASGI ``send`` (uvicorn's ``websockets-sansio``
implementation, what ``bellwether serve`` and the tests run) in the scope.
:meth:`SocketWriter.write_now` then does what that ``send`` does for a text
message (frame it with the connection's own ``websockets`` state, compression
included, and hand it to the transport) synchronously, and only while the
transport takes data: when the client reads slowly, asyncio pauses the
transport and ``write_now`` says no, so the caller keeps the frame for
:meth:`SocketWriter.write`, the ordinary ASGI send that waits for the socket to
drain. Any other server (or a uvicorn whose object lacks what this relies on)
gets the ordinary send for every frame.
"""

from __future__ import annotations

import contextlib
from typing import Any

from starlette.types import Scope, Send
from starlette.websockets import WebSocket
from websockets.protocol import OPEN

SCOPE_KEY = "bellwether.ws_protocol"
NEEDS = ("conn", "transport", "writable", "close_sent", "disconnected")
"""The attributes of uvicorn's WebSocketsSansIOProtocol that write_now uses."""


def text_frame(frame: bytes) -> bytes:
    """``frame`` as a final, unmasked, uncompressed WebSocket text frame (RFC 6455 5.2)."""
    size = len(frame)
    if size < 126:
        return bytes((0x81, size)) + frame
    if size < 1 << 16:
        return bytes((0x81, 126)) + size.to_bytes(2, "big") + frame
    return bytes((0x81, 127)) + size.to_bytes(8, "big") + frame


def capture_protocol(scope: Scope, send: Send) -> None:
    """Remember in ``scope`` who owns a WebSocket's ``send`` (the server's own ``send``,
    before any middleware wraps it: ``web.edge`` calls this first)."""
    owner = getattr(send, "__self__", None)
    if owner is not None and all(hasattr(owner, name) for name in NEEDS):
        scope[SCOPE_KEY] = owner


class SocketWriter:
    """One WebSocket, written to with pre-serialized text frames (UTF-8 bytes)."""

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket
        self._protocol: Any = websocket.scope.get(SCOPE_KEY)

    def write_now(self, frame: bytes, wire: bytes) -> bool:
        """Write ``frame`` at once if the socket takes data now; False to keep it.

        ``wire`` is ``frame`` as one uncompressed WebSocket text frame
        (:func:`text_frame`), the same bytes for every socket without compression."""
        protocol = self._protocol
        if protocol is None:
            return False
        conn = protocol.conn
        if (
            protocol.disconnected
            or protocol.close_sent
            or protocol.transport.is_closing()
            or conn.state is not OPEN
        ):
            return True  # going away: nobody will read it
        if not protocol.writable.is_set():
            return False
        if conn.extensions or conn.expect_continuation_frame:
            conn.send_text(frame)  # compressed with this connection's own context
            protocol.transport.write(b"".join(conn.data_to_send()))
        else:
            protocol.transport.write(wire)
        return True

    async def write(self, frame: bytes) -> None:
        """The ordinary send: waits while the client is not reading."""
        with contextlib.suppress(Exception):  # a closed socket: its handler shuts down
            await self._websocket.send_text(frame.decode())
