"""Requests straight into an ASGI app, and its answers exactly as sent (status, every
header in order, body): for the tests of the middleware and of the lean path."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from starlette.types import Message, Scope

Headers = list[tuple[bytes, bytes]]


@dataclass
class Answer:
    status: int
    headers: Headers
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def without_request_id(self) -> tuple[int, Headers, bytes]:
        """The answer with its request id (header and any masked error's) blanked out."""
        request_id = dict(self.headers)[b"x-request-id"]
        headers = [(k, b"-" if k == b"x-request-id" else v) for k, v in self.headers]
        return self.status, headers, self.body.replace(request_id, b"-")


def request_scope(method: str, path: str, headers: Headers) -> Scope:
    """An HTTP scope as uvicorn makes it."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def asgi(app: Any, method: str, path: str, headers: Headers, body: bytes = b"") -> Answer:
    """One request straight into an ASGI app; its answer as sent."""
    pending = [body]

    async def receive() -> Message:
        if pending:
            return {"type": "http.request", "body": pending.pop(), "more_body": False}
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError("unreachable")

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await app(request_scope(method, path, headers), receive, send)
    start, *rest = sent
    assert start["type"] == "http.response.start"
    body = b"".join(message.get("body", b"") for message in rest)
    return Answer(start["status"], [tuple(h) for h in start["headers"]], body)
