"""The common GraphQL request, a JSON POST to /graphql, answered without Strawberry's
HTTP view.

Strawberry's view (``AsyncBaseHTTPView.run``) serves every transport. For each
request it makes a Starlette request, a request adapter and a sub-response,
parses the content type with the ``email`` package, looks for a streaming
transport, then builds a Starlette response; the router and Starlette's
exception middleware run before it. For a POST of ``application/json`` whose
body is one operation (a JSON object with a string ``query``, and ``variables``
and ``extensions`` objects or null), :class:`JsonPosts` does what all that comes
to: the same schema execution (limits, error codes, masking, metrics) with the
same context, then the same JSON answer, byte for byte
(tests/api/test_json_posts.py sends each request both ways and compares).
Everything else (another content type, a batch, a body that is not such an
object, another method or path) goes the general way, which also gives the
general way's answers to malformed requests; except a body of JSON that is neither
an object nor a list (a string, a number, null), which Strawberry's view fails on
with a 500: it is refused here, both ways, with 400 BAD_USER_INPUT.

:func:`differences` names what would make the two ways answer differently; the
app refuses to start with any (a view overriding a step this module skips).
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson
from cross_web import HTTPException
from starlette.types import Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import process_result
from strawberry.http.async_base_view import AsyncBaseHTTPView
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from schema.context import Context
from web.middleware import http_refusal
from web.relay import Forwarder

Found = tuple[str, Any, Any, Any]
"""A request's query, variables, operation name and extensions (:func:`operation`)."""
POST_OPERATIONS = frozenset(OperationType.from_http("POST"))
JSON = b"application/json"
SKIPPED_STEPS = (
    (
        AsyncBaseHTTPView,
        ("run", "execute_operation", "execute_single", "parse_http_body", "parse_json"),
    ),
    (AsyncBaseHTTPView, ("process_result", "_handle_errors")),
    (GraphQL, ("get_root_value", "get_sub_response", "create_response")),
)
"""The view's steps this module does instead: a view overriding one is refused."""


class LeanView(Protocol):
    """What :class:`JsonPosts` takes from the app's GraphQL view."""

    schema: BaseSchema
    protocols: Any
    stream_transport_classes_by_protocol: Any

    def context_for(self, scope: Scope, authorization: str | None) -> Context: ...

    def encode_json(self, data: object) -> str: ...

    def decode_json(self, data: str | bytes) -> object: ...


def differences(view: LeanView) -> list[str]:
    """Why the view would answer a JSON POST otherwise than :class:`JsonPosts`; none: alike."""
    found = [
        f"{type(view).__name__} overrides {name}"
        for base, names in SKIPPED_STEPS
        for name in names
        if getattr(type(view), name) is not getattr(base, name)
    ]
    if any(p in view.stream_transport_classes_by_protocol for p in view.protocols):
        found.append("a streaming HTTP transport is on")
    if view.schema.config.enable_experimental_incremental_execution:
        found.append("incremental execution (@defer, @stream) is on")
    probe = {"text": "\u00e9\u2028\U0001f600", "number": 1.5, "list": [None, True]}
    if view.encode_json(probe).encode() != orjson.dumps(probe):
        found.append("the view's encode_json is not orjson's")
    if view.decode_json(orjson.dumps(probe)) != probe:
        found.append("the view's decode_json is not orjson's")
    return found


def operation(body: bytes) -> Found | None:
    """Query, variables, operation name and extensions of a body holding one operation
    as the view accepts it; None for anything else (the view answers it)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict:
        return None
    query, variables, extensions = data.get("query"), data.get("variables"), data.get("extensions")
    if type(query) is not str or not _object_or_null(variables, extensions):
        return None
    return query, variables, data.get("operationName"), extensions


NOT_AN_OBJECT = "The request body must be a JSON object (or a list of them, a batch)"


def not_an_object(body: bytes) -> bool:
    """Whether ``body`` is JSON that is neither an object nor a list (a string, a number,
    true, false, null). Cheap for every other body: its first byte decides."""
    if body[:1] in (b"{", b"["):
        return False
    if body.lstrip()[:1] in (b"{", b"[", b""):
        return False
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return False  # unparsable: the view says so
    return True


def _object_or_null(*values: object) -> bool:
    return all(value is None or type(value) is dict for value in values)


class JsonPosts:
    """Answers JSON POSTs of one operation to ``path`` (see the module's docstring)."""

    def __init__(
        self, view: LeanView, path: str = "/graphql", forwarder: Forwarder | None = None
    ) -> None:
        problems = differences(view)
        if problems:
            raise RuntimeError("JSON POSTs would be answered otherwise: " + "; ".join(problems))
        self.view = view
        self.path = path
        self.enabled = True
        """False sends every request the general way (the tests compare the two)."""
        self.forwarder = forwarder
        """Relays a mutation on another worker's market to it (``web.affinity``)."""

    async def answer(self, scope: Scope, body: bytes, send: Send) -> bool:
        """Answer the request if it is a JSON POST of one operation, or of JSON that is
        no operation at all; False if it is neither (nothing was done, nothing was sent)."""
        if scope["method"] != "POST" or scope["path"] != self.path or scope.get("root_path"):
            return False
        first = dict(reversed(scope["headers"]))  # each header's first value, as Starlette's
        content_type = first.get(b"content-type")
        if content_type is not None and JSON in content_type and not_an_object(body):
            # Both ways: Strawberry's view fails on it (it reads the body as a dict: a 500).
            await send_json_answer(send, *http_refusal(HTTPException(400, NOT_AN_OBJECT)))
            return True
        if not self.enabled or content_type != JSON:
            return False
        found = operation(body)
        if found is None:
            return False
        raw = first.get(b"authorization")
        authorization = None if raw is None else raw.decode("latin-1")
        answer = await self._forwarded(scope, body, found, authorization)
        if answer is None:
            answer = await self._run(found, self.view.context_for(scope, authorization))
        await send_json_answer(send, *answer)
        return True

    async def run_relayed(
        self, body: bytes, client: str, request_id: str, authorization: str | None
    ) -> tuple[int, bytes]:
        """A request another worker relayed here (``web.relay``): it found an operation
        in ``body``, with the client's address and its request id."""
        found = operation(body)
        if found is None:  # not from a worker of ours
            return http_refusal(HTTPException(400, NOT_AN_OBJECT))
        scope = {"client": (client, 0), "state": {"request_id": request_id}}
        return await self._run(found, self.view.context_for(scope, authorization))

    async def _forwarded(
        self, scope: Scope, body: bytes, found: Found, authorization: str | None
    ) -> tuple[int, bytes] | None:
        """The answer of the market's owner, when another worker owns it and answered."""
        if self.forwarder is None:
            return None
        destination = await self.forwarder.destination(found[0], found[1], found[2])
        if destination is None:
            return None
        return await self.forwarder.forward(scope, body, authorization, *destination)

    async def _run(self, found: Found, context: Context) -> tuple[int, bytes]:
        """Status and JSON body of the operation, as the view answers it."""
        try:
            return 200, orjson.dumps(process_result(await self._execute(found, context)))
        except HTTPException as error:
            return http_refusal(error)

    async def _execute(self, found: Found, context: Context) -> Any:
        """The view's ``execute_single`` for a POST, its refusals included."""
        query, variables, operation_name, extensions = found
        try:
            return await self.view.schema.execute(
                query,
                root_value=None,
                variable_values=variables,
                context_value=context,
                operation_name=operation_name,
                allowed_operation_types=POST_OPERATIONS,
                operation_extensions=extensions,
            )
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except InvalidOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason("POST")) from error
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request") from error


async def send_json_answer(send: Send, status: int, body: bytes) -> None:
    """A JSON response with the headers Starlette's ``Response`` gives it, in its order."""
    headers = [(b"content-length", str(len(body)).encode()), (b"content-type", JSON)]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
