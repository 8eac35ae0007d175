"""What the one middleware (``web.edge``) does to each request: request ids and JSON-line
request logs, the body size limit, the client address behind trusted proxies (security
headers: ``web.headers``); and the JSON error bodies of refused requests."""

from __future__ import annotations

import ipaddress
import json
import logging
from typing import Any

from cross_web import HTTPException
from starlette.types import Message, Receive, Scope, Send

from web.metrics import Metrics

access_log = logging.getLogger("bellwether.access")


def graphql_error_body(message: str, code: str) -> bytes:
    return json.dumps(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    ).encode()


async def send_json(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def http_refusal(error: HTTPException) -> tuple[int, bytes]:
    """The status and GraphQL error body (BAD_USER_INPUT) of a request Strawberry's
    HTTP view refuses (``cross_web.HTTPException``: unparsable JSON, a wrong method...)."""
    return error.status_code, graphql_error_body(error.reason, "BAD_USER_INPUT")


KNOWN_PATHS = frozenset({"/graphql", "/healthz", "/metrics", "/"})


class RequestLog:
    """One JSON line per request with its id and latency, and the HTTP latency metric.

    Each request gets an id (``X-Request-ID``, also in the GraphQL context and error
    extensions): ``web.edge`` makes it and calls :meth:`record` when the request ends."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def record(self, scope: Scope, request_id: str, status: int, seconds: float) -> None:
        path = scope.get("path", "")
        self.metrics.observe_http(path if path in KNOWN_PATHS else "other", status, seconds)
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope.get("method", "WS"),
                    "path": path,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "client": (scope.get("client") or ("-",))[0],
                },
            )


class BodyLimit:
    """Refuses request bodies over ``max_bytes`` with 413 and a GraphQL error body
    (QUERY_TOO_COMPLEX) before the app reads them; small bodies are read whole, once."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    async def read(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The request's body; None when it was refused (413 sent) or the client left."""
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _refuse(self, send: Send) -> None:
        message = f"request body larger than {self.max_bytes} bytes"
        await send_json(send, 413, graphql_error_body(message, "QUERY_TOO_COMPLEX"))


def replaying(body: bytes, receive: Receive) -> Receive:
    """``receive`` for an app after the body was read: the body first, as one message."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """The request's client address from ``X-Forwarded-For`` when, and only when, the
    peer is one of ``trusted`` (addresses or networks): the client is the nearest
    address in that header that is not itself a trusted proxy. From any other peer the
    header is ignored, so a client cannot rotate the address it is counted under.

    uvicorn's own ``proxy_headers`` (which trusts loopback by default) is switched off
    (``web.serve.UVICORN_OPTIONS``); this is the one place that reads the header.
    """

    def __init__(self, trusted: tuple[str, ...]) -> None:
        self.trusted: tuple[Network, ...] = tuple(
            ipaddress.ip_network(item, strict=False) for item in trusted
        )

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def client(self, peer: str, forwarded: str) -> str:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                try:
                    return str(ipaddress.ip_address(hop))
                except ValueError:
                    return peer  # a garbled header: count the proxy itself
        return hops[0] if hops else peer

    def scope_for(self, scope: Scope) -> Scope:
        """``scope``, or a copy of it naming the client behind a trusted proxy."""
        peer = scope.get("client")
        if self.trusted and peer and self._is_trusted(peer[0]):
            forwarded = dict(scope.get("headers", [])).get(b"x-forwarded-for")
            if forwarded:
                address = self.client(peer[0], forwarded.decode("latin-1"))
                return {**scope, "client": (address, 0)}
        return scope


class JsonLines(logging.Formatter):
    """One JSON object per log record (structured logs)."""

    FIELDS = ("request_id", "method", "path", "status", "duration_ms", "client")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self.FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["stack"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines())
    root = logging.getLogger("bellwether")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
