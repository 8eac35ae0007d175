"""Every connection the server accepts has Nagle's algorithm off, whatever socket it
came from (``web.tcp``): uvicorn's ``--workers N`` listens on a socket whose ``proto``
is 0, on which asyncio leaves it on."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import pytest
import uvicorn

from web.serve import UVICORN_OPTIONS


async def app(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[Any]],
    send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def workers_socket() -> socket.socket:
    """A listening socket made the way uvicorn's ``Config.bind_socket`` makes one for
    ``--workers N``: ``proto`` 0."""
    sock = socket.socket(family=socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    assert sock.proto == 0
    return sock


async def accepted_no_delay(options: dict[str, Any]) -> int:
    """TCP_NODELAY of the server's side of one connection, under ``options``."""
    listener = workers_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", **options))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        port = listener.getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        assert (await reader.readline()).startswith(b"HTTP/1.1 200")
        (connection,) = server.server_state.connections
        sock = connection.transport.get_extra_info("socket")  # type: ignore[attr-defined]
        value = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        writer.close()
        await writer.wait_closed()
        return int(value)
    finally:
        server.should_exit = True
        await task
        listener.close()


@pytest.mark.asyncio
async def test_connections_accepted_on_a_workers_socket_have_nagle_off() -> None:
    assert await accepted_no_delay(UVICORN_OPTIONS) == 1


@pytest.mark.asyncio
async def test_without_it_uvicorn_leaves_nagle_on_there() -> None:
    """Why ``web.tcp`` exists: uvicorn's own protocol on such a socket."""
    options = {**UVICORN_OPTIONS, "http": "auto"}
    assert await accepted_no_delay(options) == 0
