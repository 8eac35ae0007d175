"""The one ASGI middleware every request passes through.

It does, in one frame and with one ``send`` wrapper, what six middleware layers
did, in their order (outermost first):

1. a WebSocket's protocol object is kept in the scope (``web.wswriter``);
2. the client address behind trusted proxies (``TrustedProxies``);
3. a request id, ``X-Request-ID`` on the response, the access log line and the
   HTTP latency metric (``RequestLog``);
4. the security headers on every HTTP response (``web.headers``);
5. CORS: a request with an ``Origin`` goes through Starlette's ``CORSMiddleware``;
   one without (same-origin fetches, API clients) would only get ``Vary: Origin``
   from it, which is added here;
6. the body size limit (``BodyLimit``, 413), the body read once;

then a JSON POST to /graphql goes to ``web.jsonposts`` and anything else to the
app (Starlette's exception middleware and router). Each layer cost a coroutine
frame per request and a ``send`` wrapper per message (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import time

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schema.context import new_request_id
from web.headers import with_security_headers
from web.jsonposts import JsonPosts
from web.metrics import Metrics
from web.middleware import BodyLimit, RequestLog, TrustedProxies, replaying
from web.wswriter import capture_protocol

BODILESS = ("GET", "HEAD", "OPTIONS")
"""Methods whose body is not read (nor limited) here."""
CORS_METHODS = ["GET", "POST"]
CORS_HEADERS = ["authorization", "content-type"]
CORS_EXPOSED = ["x-request-id"]

Headers = list[tuple[bytes, bytes]]


def vary_origin(headers: Headers) -> None:
    """Add ``Origin`` to the response's ``Vary`` (as ``CORSMiddleware`` does to the
    response of a request without ``Origin``: several ``Vary`` become one)."""
    found = [i for i, (name, _) in enumerate(headers) if name == b"vary"]
    if not found:
        headers.append((b"vary", b"Origin"))
        return
    value = b", ".join([*(headers[i][1] for i in found), b"Origin"])
    for i in reversed(found[1:]):
        del headers[i]
    headers[found[0]] = (b"vary", value)


class Edge:
    """The application's one middleware (see the module's docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        trusted_proxies: tuple[str, ...],
        allowed_origins: tuple[str, ...],
        max_body_bytes: int,
        posts: JsonPosts | None = None,
    ) -> None:
        self.app = app
        self.proxies = TrustedProxies(trusted_proxies)
        self.log = RequestLog(metrics)
        self.limit = BodyLimit(max_body_bytes)
        self.posts = posts
        self.cors = CORSMiddleware(
            self._limited,
            allow_origins=list(allowed_origins),
            allow_methods=CORS_METHODS,
            allow_headers=CORS_HEADERS,
            expose_headers=CORS_EXPOSED,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope = self.proxies.scope_for(scope)
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        # Each header's first value, as Starlette's Headers.get reads it.
        origin = dict(reversed(scope["headers"])).get(b"origin")
        tag = (b"x-request-id", request_id.encode())
        status = 500

        async def respond(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                if origin is None:
                    vary_origin(headers)
                headers.append(tag)
                message = {**message, "headers": with_security_headers(headers)}
            await send(message)

        try:
            await (self._limited if origin is None else self.cors)(scope, receive, respond)
        finally:
            self.log.record(scope, request_id, status, time.perf_counter() - started)

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Within CORS: the body limit, then the lean path or the app."""
        if scope.get("method") in BODILESS:
            await self.app(scope, receive, send)
            return
        body = await self.limit.read(scope, receive, send)
        if body is None:
            return
        if self.posts is not None and await self.posts.answer(scope, body, send):
            return
        await self.app(scope, replaying(body, receive), send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        capture_protocol(scope, send)
        scope = self.proxies.scope_for(scope)
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.log.record(scope, request_id, 101, time.perf_counter() - started)
