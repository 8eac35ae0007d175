"""A GraphQL-over-WebSocket client for the tests: graphql-transport-ws and legacy graphql-ws."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
KEEP_ALIVE = {"ping", "pong", "ka"}


class LiveClient:
    def __init__(self, ws: ClientConnection, protocol: str) -> None:
        self.ws = ws
        self.protocol = protocol

    async def subscribe(self, sub_id: str, query: str, variables: dict[str, Any]) -> None:
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        payload = {"query": query, "variables": variables}
        await self.ws.send(json.dumps({"id": sub_id, "type": kind, "payload": payload}))

    async def complete(self, sub_id: str) -> None:
        kind = "complete" if self.protocol == TRANSPORT_WS else "stop"
        await self.ws.send(json.dumps({"id": sub_id, "type": kind}))

    async def message(self, wait: float = 5) -> dict[str, Any]:
        """The next message that is not a keep-alive."""
        while True:
            message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), wait))
            if message["type"] not in KEEP_ALIVE:
                return message

    async def result(self, wait: float = 5) -> tuple[str, dict[str, Any]]:
        """(subscription id, payload) of the next result or error (skipping completions)."""
        message = await self.message(wait)
        while message["type"] == "complete":
            message = await self.message(wait)
        assert message["type"] in ("next", "data", "error"), message
        payload = message["payload"]
        if message["type"] == "error":
            payload = {"errors": payload if isinstance(payload, list) else [payload]}
        return message["id"], payload

    async def data(self, wait: float = 5) -> dict[str, Any]:
        """The data of the next result, which must not carry errors."""
        _, payload = await self.result(wait)
        assert not payload.get("errors"), payload
        data: dict[str, Any] = payload["data"]
        return data

    async def nothing_for(self, seconds: float) -> None:
        try:
            message = await self.message(seconds)
        except TimeoutError:
            return
        raise AssertionError(f"expected silence, got {message}")


def error_codes(payload: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code", "") for e in payload.get("errors") or []]


@asynccontextmanager
async def live_client(
    ws_url: str,
    token: str | None = None,
    protocol: str = TRANSPORT_WS,
    origin: str | None = None,
    authorization: str | None = None,
) -> AsyncIterator[LiveClient]:
    """``token`` goes as ``Bearer <token>``; ``authorization`` as it is (``Key <secret>``)."""
    headers = {"Origin": origin} if origin else None
    async with connect(
        ws_url,
        subprotocols=[protocol],  # type: ignore[list-item]
        additional_headers=headers,
        ping_interval=None,  # a starved test machine must not fail a test on a late pong
    ) as ws:
        if token:
            authorization = f"Bearer {token}"
        payload = {"authorization": authorization} if authorization else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        client = LiveClient(ws, protocol)
        ack = await client.message()
        assert ack["type"] == "connection_ack", ack
        yield client


async def refused_at_connection_init(ws_url: str, authorization: str, protocol: str) -> int:
    """Open a socket, send ``connection_init`` with ``authorization``, and return the close
    code once the server closes it (it must never acknowledge)."""
    async with connect(
        ws_url,
        subprotocols=[protocol],  # type: ignore[list-item]
        ping_interval=None,
    ) as ws:
        init = {"type": "connection_init", "payload": {"authorization": authorization}}
        await ws.send(json.dumps(init))
        try:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                assert message["type"] != "connection_ack", message
        except ConnectionClosed as closed:
            assert closed.rcvd is not None
            return closed.rcvd.code
