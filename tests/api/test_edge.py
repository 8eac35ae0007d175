"""The one middleware (``web.edge``), in front of small ASGI apps: the headers every
response gets, CORS as Starlette's middleware gives it, the log line and the metric of
each request, WebSockets left to the server's own ``send``."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.api.asgi import Headers, asgi
from web.edge import CORS_EXPOSED, CORS_HEADERS, CORS_METHODS, Edge
from web.headers import EVERY_RESPONSE
from web.metrics import Metrics
from web.wswriter import NEEDS, SCOPE_KEY

ORIGIN = b"https://app.example"


def answering(headers: Headers, status: int = 200) -> ASGIApp:
    """An app answering every HTTP request with ``headers`` and a short body."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": list(headers)})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def edge(app: ASGIApp, metrics: Metrics | None = None, **options: Any) -> Edge:
    settings: dict[str, Any] = {
        "trusted_proxies": (),
        "allowed_origins": (ORIGIN.decode(),),
        "max_body_bytes": 100,
        **options,
    }
    return Edge(app, metrics=metrics or Metrics(), **settings)


def starlette_cors(app: ASGIApp) -> CORSMiddleware:
    """Starlette's CORS middleware as the app configured it before ``web.edge``."""
    return CORSMiddleware(
        app,
        allow_origins=[ORIGIN.decode()],
        allow_methods=CORS_METHODS,
        allow_headers=CORS_HEADERS,
        expose_headers=CORS_EXPOSED,
    )


def own_headers(headers: Headers) -> Headers:
    """``headers`` without those the edge adds after CORS (request id, security)."""
    added = {b"x-request-id", *(name for name, _ in EVERY_RESPONSE)}
    return [(name, value) for name, value in headers if name not in added]


@pytest.mark.parametrize(
    "response_headers",
    [
        [],
        [(b"vary", b"Accept-Encoding")],
        [(b"vary", b"Accept"), (b"content-type", b"text/plain"), (b"vary", b"Cookie")],
    ],
)
@pytest.mark.parametrize("origin", [None, ORIGIN, b"https://elsewhere.example"])
async def test_cors_headers_are_those_of_starlettes_middleware(
    response_headers: Headers, origin: bytes | None
) -> None:
    request = [(b"origin", origin)] if origin else []
    app = answering(response_headers)
    ours = await asgi(edge(app), "GET", "/x", request)
    theirs = await asgi(starlette_cors(app), "GET", "/x", request)
    assert own_headers(ours.headers) == theirs.headers


async def test_every_response_gets_a_request_id_and_the_security_headers_once() -> None:
    own_policy = (b"content-security-policy", b"default-src 'none'")
    answer = await asgi(edge(answering([own_policy])), "GET", "/x", [])
    names = [name for name, _ in answer.headers]
    assert len(names) == len(set(names))
    assert len(dict(answer.headers)[b"x-request-id"]) == 16
    assert dict(answer.headers)[b"content-security-policy"] == own_policy[1]
    assert dict(answer.headers)[b"x-frame-options"] == b"DENY"


async def test_bodies_over_the_limit_are_refused_before_the_app_runs() -> None:
    async def never(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("the app ran")

    declared = [(b"content-length", b"101")]
    refused = await asgi(edge(never), "POST", "/graphql", declared, b"x" * 101)
    assert refused.status == 413
    assert refused.json()["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX"}
    read = await asgi(edge(never), "POST", "/graphql", [], b"x" * 101)
    assert read.status == 413


async def test_each_request_is_logged_once_with_its_id_and_measured(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bellwether.access")
    metrics = Metrics()
    answer = await asgi(edge(answering([], status=404), metrics), "GET", "/nowhere", [])
    (record,) = [r for r in caplog.records if r.name == "bellwether.access"]
    assert record.__dict__["request_id"] == dict(answer.headers)[b"x-request-id"].decode()
    assert (record.__dict__["method"], record.__dict__["path"]) == ("GET", "/nowhere")
    assert (record.__dict__["status"], record.__dict__["client"]) == (404, "127.0.0.1")
    text = metrics.render().decode()
    assert 'bellwether_http_request_seconds_count{path="other",status="404"} 1.0' in text


async def test_the_client_behind_a_trusted_proxy_is_the_one_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bellwether.access")
    forwarded = [(b"x-forwarded-for", b"198.51.100.7, 127.0.0.1")]
    await asgi(edge(answering([]), trusted_proxies=("127.0.0.0/8",)), "GET", "/", forwarded)
    (record,) = [r for r in caplog.records if r.name == "bellwether.access"]
    assert record.__dict__["client"] == "198.51.100.7"


class ServerSocket:
    """Stands in for the server's WebSocket protocol object (what ``web.wswriter`` uses)."""

    def __init__(self) -> None:
        for name in NEEDS:
            setattr(self, name, None)
        self.sent: list[Message] = []

    async def send(self, message: Message) -> None:
        self.sent.append(message)


async def test_websockets_get_the_servers_own_send_and_an_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bellwether.access")
    server = ServerSocket()
    seen: list[tuple[Scope, Send]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope, send))

    async def receive() -> Message:
        raise AssertionError("not read")

    scope = {"type": "websocket", "path": "/graphql", "headers": [], "client": ("10.0.0.1", 1)}
    await edge(app)(scope, receive, server.send)
    ((passed, send),) = seen
    assert send == server.send and passed[SCOPE_KEY] is server
    (record,) = [r for r in caplog.records if r.name == "bellwether.access"]
    assert (record.__dict__["method"], record.__dict__["status"]) == ("WS", 101)
    assert record.__dict__["request_id"] == passed["state"]["request_id"]
