"""The lean path of JSON POSTs (``web.jsonposts``) answers byte for byte like Strawberry's
HTTP view: each request is sent once each way to the same app, over ASGI, and the two
answers (status, every header in order, body) are compared, the request id aside."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from resolvers import markets
from tests.api import ops
from tests.api.asgi import Answer, Headers, asgi
from tests.api.conftest import PASSWORD
from tests.harness import FakeHasher
from web.app import BellwetherGraphQL, create_app
from web.edge import Edge
from web.jsonposts import JsonPosts, differences
from web.metrics import Metrics
from web.settings import AppSettings

MINT = "mutation($m: ID!, $q: Int!) { mintCompleteSet(marketId: $m, quantity: $q) { cents } }"
"""A mutation whose answer is the same every time (the positions it returns are not)."""


def post(
    document: str | None = None,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
    *,
    raw: bytes | None = None,
    extra: tuple[tuple[bytes, bytes], ...] = (),
    content_type: bytes = b"application/json",
) -> tuple[str, str, Headers, bytes]:
    body = raw if raw is not None else json.dumps({"query": document, "variables": variables})
    data = body if isinstance(body, bytes) else body.encode()
    headers = [
        (b"host", b"testserver"),
        (b"content-type", content_type),
        (b"content-length", str(len(data)).encode()),
    ]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    return "POST", "/graphql", [*headers, *extra], data


@pytest.fixture
async def app(settings: AppSettings) -> AsyncIterator[Starlette]:
    application = create_app(
        replace(
            settings,
            allowed_origins=("https://app.example",),
            limits=replace(settings.limits, max_body_bytes=10_000),
        ),
        hasher=FakeHasher(),
    )
    async with application.router.lifespan_context(application):
        yield application


def lean_path(app: Starlette) -> JsonPosts:
    posts = app.state.bellwether.json_posts
    assert isinstance(posts, JsonPosts)
    return posts


async def both_ways(app: Starlette, request: tuple[str, str, Headers, bytes]) -> Answer:
    """``request`` sent the lean way, then the general way: the same answer, returned."""
    posts = lean_path(app)
    lean = await asgi(app, *request)
    posts.enabled = False
    try:
        general = await asgi(app, *request)
    finally:
        posts.enabled = True
    assert lean.without_request_id() == general.without_request_id()
    return lean


async def data(app: Starlette, document: str, variables: Any = None, token: Any = None) -> Any:
    answer = await asgi(app, *post(document, variables, token))
    assert answer.status == 200 and "errors" not in answer.json(), answer.body
    return answer.json()["data"]


async def signed_in(app: Starlette, name: str) -> str:
    await data(
        app,
        "mutation($i: RegisterInput!) { register(input: $i) { id } }",
        {"i": {"username": name, "email": f"{name}@example.com", "password": PASSWORD}},
    )
    login = (
        "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }"
    )
    token: str = (await data(app, login, {"u": name, "p": PASSWORD}))["login"]["accessToken"]
    return token


async def test_answers_and_errors_are_the_same_both_ways(app: Starlette) -> None:
    alice = await signed_in(app, "alice")
    market = (await data(app, ops.CREATE_MARKET, {"i": ops.market_input()}, alice))["createMarket"]
    requests = {
        "a query": post("{ __typename }"),
        "variables and nested fields": post(ops.MARKET, {"id": market["id"]}, alice),
        "a mutation": post(MINT, {"m": market["id"], "q": 2}, alice),
        "a parse error": post("{ me { id "),
        "a validation error": post("{ nope }"),
        "a domain error": post(ops.PAUSE, {"id": "nope"}, alice),
        "a forged token": post(ops.ME, token="not.a.jwt"),
        "a depth limit": post(
            "{ markets { edges { node { creator { markets { edges { node "
            "{ creator { markets { totalCount } } } } } } } } } }"
        ),
        "a subscription": post('subscription { marketPrices(marketId: "x") { sequence } }'),
        "an unknown operation name": post(
            raw=b'{"query": "query A { __typename }", "operationName": "B"}'
        ),
        "two operations, none named": post(
            raw=b'{"query": "query A { me { id } } query B { me { id } }"}'
        ),
        "an empty query": post(raw=b'{"query": ""}'),
        "a null query": post(raw=b'{"query": null}'),
        "operation extensions": post(raw=b'{"query": "{ __typename }", "extensions": {"a": 1}}'),
        "unparsable JSON": post(raw=b'{"query": '),
        "an unterminated string": post(raw=b' "a string'),
        "a batch": post(raw=b'[{"query": "{ __typename }"}]'),
        "variables not an object": post(raw=b'{"query": "{ __typename }", "variables": [1]}'),
        "an allowed origin": post("{ __typename }", extra=((b"origin", b"https://app.example"),)),
        "another origin": post(
            "{ __typename }", extra=((b"origin", b"https://elsewhere.example"),)
        ),
        "a body over the limit": post(raw=b'{"query": "' + b" " * 20_000 + b'{ __typename }"}'),
    }
    for name, request in requests.items():
        answer = await both_ways(app, request)
        assert answer.status in (200, 400, 413), name
    assert (await both_ways(app, requests["a query"])).json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("body", [b'"a string"', b"42", b" null", b"true", b'\n"x"'])
@pytest.mark.parametrize("content_type", [b"application/json", b"application/json; charset=utf-8"])
async def test_json_that_is_no_object_is_refused_both_ways(
    app: Starlette, body: bytes, content_type: bytes
) -> None:
    """Strawberry's view read such a body as a dict and answered 500 with no code."""
    answer = await both_ways(app, post(raw=body, content_type=content_type))
    assert answer.status == 400
    assert answer.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "must be a JSON object" in answer.json()["errors"][0]["message"]


async def test_masked_failures_are_the_same_both_ways(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("SELECT secret FROM users")

    monkeypatch.setattr(markets.markets, "pause_market", boom)
    alice = await signed_in(app, "alice")
    market = (await data(app, ops.CREATE_MARKET, {"i": ops.market_input()}, alice))["createMarket"]
    answer = await both_ways(app, post(ops.PAUSE, {"id": market["id"]}, alice))
    error = answer.json()["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["requestId"] == dict(answer.headers)[b"x-request-id"].decode()


async def never_routed(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError(f"{scope['method']} {scope['path']} went the general way")


async def test_json_posts_of_one_operation_skip_the_router_and_the_view(app: Starlette) -> None:
    edge = Edge(
        never_routed,
        metrics=Metrics(),
        trusted_proxies=(),
        allowed_origins=(),
        max_body_bytes=10_000,
        posts=lean_path(app),
    )
    answer = await asgi(edge, *post("{ __typename }"))
    assert answer.json() == {"data": {"__typename": "Query"}}
    refused = await asgi(edge, *post(raw=b'{"query": ""}'))
    assert refused.status == 400 and refused.json()["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT"
    }
    for request in (
        post("{ __typename }", content_type=b"application/json; charset=utf-8"),
        post(raw=b'[{"query": "{ __typename }"}]'),
        post(raw=b'"a string'),
    ):
        with pytest.raises(AssertionError, match="went the general way"):
            await asgi(edge, *request)


async def test_a_view_that_answers_otherwise_is_refused(app: Starlette) -> None:
    view = lean_path(app).view
    assert isinstance(view, BellwetherGraphQL)
    assert differences(view) == []

    class Stricter(BellwetherGraphQL):
        async def process_result(self, request: Any, result: Any) -> Any:
            return {"data": None}

    stricter = Stricter(app.state.bellwether, schema=view.schema)
    assert differences(stricter) == ["Stricter overrides process_result"]
    with pytest.raises(RuntimeError, match="overrides process_result"):
        JsonPosts(stricter)
