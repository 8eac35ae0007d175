"""``TCP_NODELAY`` on every connection the server accepts.

asyncio turns Nagle's algorithm off only on sockets whose ``proto`` attribute says
TCP. uvicorn's ``--workers N`` binds its socket as ``socket.socket(family)``, whose
``proto`` is 0, and the workers' accepted connections inherit that: Nagle's algorithm
stays on, and a response written in two parts waits for the client's delayed ACK
(40 ms on Linux) before its second part leaves. Measured with ``bench/api.py`` on
PostgreSQL with 2 workers: p50 48 ms and 266 trades/s with it on, 25 ms and 565
trades/s with it off (docs/BENCHMARKS.md). So the HTTP protocol turns it off itself,
whatever socket the connection came from; a WebSocket starts as an HTTP connection
and keeps the option.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.auto import AutoHTTPProtocol


def no_delay(transport: asyncio.BaseTransport) -> None:
    """Turn Nagle's algorithm off on ``transport``'s socket, if it is TCP."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's HTTP protocol (httptools when installed), with ``TCP_NODELAY`` set."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        no_delay(transport)
        super().connection_made(transport)


HTTP_PROTOCOL = f"{__name__}:NoDelayHTTPProtocol"
"""uvicorn's ``http`` option for it (an import string, so worker processes import it)."""
