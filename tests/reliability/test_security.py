"""Attacks over real HTTP and WebSocket connections to a real uvicorn server.

Forged credentials of every kind, the permission matrix of
``tests/api/test_permissions.py`` replayed over the wire, private data of other
users, query bombs, oversized bodies, login brute force, and the legacy
WebSocket protocol. Every answer is a coded error (or redacted data), never a
5xx, never a stack trace, and fast.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from bench.load_ops import classify
from tests.api import ops
from tests.api.conftest import SECRET, Api, LiveServer, make_admin
from tests.api.test_permissions import MATRIX, ROLES, World
from tests.api.wsclient import (
    LEGACY_WS,
    TRANSPORT_WS,
    LiveClient,
    error_codes,
    live_client,
    refused_at_connection_init,
)
from web.settings import AppSettings

MY_ORDERS_SUB = "subscription { myOrderUpdates { id status } }"
PRIVATE = """{ me { id email balanceCents }
  myOrders { edges { node { id } } } myTrades { edges { node { id } } }
  myPositions { shares outcome { id } } }"""


@pytest.fixture
def settings(settings: AppSettings) -> AppSettings:
    return replace(
        settings,
        login_limit_per_username=5,
        login_limit_per_address=30,
        max_subscriptions_per_connection=5,
        starting_balance_cents=10_000_000,
    )


def b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def claims(user_id: str, **change: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"sub": user_id, "iat": now, "exp": now + timedelta(minutes=5), **change}


def hs512(payload: dict[str, Any]) -> str:
    """Signed with the server's own secret, but HS512 (pyjwt refuses so short a key)."""
    body = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in payload.items()}
    signing_input = f"{b64({'alg': 'HS512', 'typ': 'JWT'})}.{b64(body)}"
    mac = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha512).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def forged_tokens(user_id: str, admin_id: str, real: str) -> dict[str, str]:
    """Tokens that must authenticate nobody: each names a real user."""
    header, payload, signature = real.split(".")
    as_admin = b64({"sub": admin_id, "iat": 1, "exp": 4102444800})
    now = int(time.time())
    return {
        "tampered-sub": f"{header}.{as_admin}.{signature}",
        "tampered-signature": f"{header}.{payload}.{signature[::-1]}",
        "alg-none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{as_admin}.",
        "alg-none-signed": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{as_admin}.{signature}",
        "expired": jwt.encode(
            {"sub": user_id, "iat": now - 7200, "exp": now - 3600}, SECRET, algorithm="HS256"
        ),
        "other-secret": jwt.encode(claims(admin_id), "another-secret-" + "y" * 40, "HS256"),
        "hs512-same-secret": hs512(claims(admin_id)),
        "no-exp": jwt.encode({"sub": admin_id, "iat": now}, SECRET, algorithm="HS256"),
        "sub-not-a-string": jwt.encode(claims(admin_id, sub=12), SECRET, algorithm="HS256"),
        "garbage": "a.b.c",
    }


async def check_clean(response: httpx.Response) -> str:
    result, _ = classify(response.status_code, response.text)
    assert result not in ("http-5xx", "not-graphql", "uncoded", "stack-trace"), response.text
    assert result != "INTERNAL_SERVER_ERROR", response.text
    return result


async def test_forged_tokens_authenticate_nobody(live_api: Api, server: LiveServer) -> None:
    alice_id, alice = await live_api.user("alice")
    admin_id, _ = await live_api.user("root", admin_of=server.app)
    for name, token in forged_tokens(alice_id, admin_id, alice).items():
        headers = {"Authorization": f"Bearer {token}"}
        for query in (ops.ME, ops.GRANT):
            body = {"query": query, "variables": {"u": alice_id, "a": 100}}
            response = await live_api.client.post("/graphql", json=body, headers=headers)
            code = await check_clean(response)
            assert code == "UNAUTHENTICATED", (name, response.text)
    assert (await ops.me(live_api, alice))["bonusBalanceCents"] == 0


async def test_tokens_of_deactivated_and_deleted_users_stop_working(
    live_api: Api, server: LiveServer
) -> None:
    bob_id, bob = await live_api.user("bob")
    _, root = await live_api.user("root", admin_of=server.app)
    market = await ops.create_market(live_api, bob, "ORDER_BOOK")
    await live_api.data(ops.DEACTIVATE, {"u": bob_id}, root)
    assert await live_api.error_code(ops.ME, token=bob) == "UNAUTHENTICATED"
    assert await live_api.error_code(ops.MINT, {"m": market["id"], "q": 1}, bob) == (
        "UNAUTHENTICATED"
    )
    login = 'mutation { login(username: "bob", password: "correct horse battery") { tokenType } }'
    assert await live_api.error_code(login) == "UNAUTHENTICATED"
    ghost = jwt.encode(claims("f" * 32), SECRET, algorithm="HS256")
    assert await live_api.error_code(ops.ME, token=ghost) == "UNAUTHENTICATED"
    assert await live_api.error_code(ops.CREATE_MARKET, {"i": ops.market_input()}, ghost) == (
        "UNAUTHENTICATED"
    )


async def test_the_permission_matrix_holds_over_http(live_api: Api, server: LiveServer) -> None:
    """Every mutation x anonymous, another user, the owner, an admin (the matrix is
    ``tests/api/test_permissions.py``; there in process, here through uvicorn)."""
    owner_id, owner = await live_api.user("owner")
    other_id, other = await live_api.user("other")
    admin_id, admin = await live_api.user("admin", admin_of=server.app)
    world = World(
        live_api,
        {"anonymous": None, "other": other, "owner": owner, "admin": admin},
        {"owner": owner_id, "other": other_id, "admin": admin_id},
    )
    wrong = []
    # One world for every row: the owner is deactivated last, since its token is
    # UNAUTHENTICATED from then on (the rows after it would need a new owner).
    rows = sorted(MATRIX.items(), key=lambda row: row[0] == "deactivateUser")
    for mutation, (setup, expected) in rows:
        for role, want in zip(ROLES, expected, strict=True):
            query, variables = await setup(world, role)
            result = await live_api.run(query, variables, world.tokens[role])
            got = result["errors"][0]["extensions"]["code"] if result.get("errors") else "ok"
            if got != want:
                wrong.append((mutation, role, want, got))
    assert wrong == []


async def test_no_one_reads_another_users_private_data(live_api: Api, server: LiveServer) -> None:
    _, alice = await live_api.user("alice")
    _, bob = await live_api.user("bob")
    book = await ops.create_market(live_api, alice, "ORDER_BOOK")
    lmsr = await ops.create_market(live_api, alice)
    await live_api.data(ops.MINT, {"m": book["id"], "q": 10}, alice)
    placed = await live_api.data(ops.PLACE_ORDER, ops.limit(book, "SELL", 3, 40), alice)
    await live_api.data(ops.PLACE_ORDER, ops.limit(book, "BUY", 1, 40), bob)
    await ops.buy_yes(live_api, alice, lmsr["id"], 5)
    mine = (await live_api.data(PRIVATE, token=alice))["me"]
    assert mine["email"] == "alice@example.com"
    seen = await live_api.data(PRIVATE, token=bob)
    assert seen["me"]["email"] == "bob@example.com"
    bob_orders = {e["node"]["id"] for e in seen["myOrders"]["edges"]}
    assert placed["placeOrder"]["id"] not in bob_orders and len(bob_orders) == 1
    assert len(seen["myTrades"]["edges"]) == 1, "bob's own fill only"
    assert {p["outcome"]["id"] for p in seen["myPositions"]} == {book["outcomes"][0]["id"]}
    creator = "query($id: ID!) { market(id: $id) { creator { email balanceCents "
    creator += "bonusBalanceCents reservedCents } } }"
    for token in (bob, None):
        shown = (await live_api.data(creator, {"id": book["id"]}, token))["market"]["creator"]
        assert shown == {"email": "", "balanceCents": 0, "bonusBalanceCents": 0, "reservedCents": 0}
    stolen = await live_api.run(ops.CANCEL_ORDER, {"id": placed["placeOrder"]["id"]}, bob)
    assert stolen["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert stolen["data"] is None, "a refused cancel shows nothing of the order"
    assert await live_api.error_code(PRIVATE) == "UNAUTHENTICATED"


def nested(depth: int) -> str:
    inner = "id"
    for _ in range(depth):
        inner = f"market {{ outcomes {{ {inner} }} }}"
    return "{ myPositions { " + inner + " } }"


BOMBS: dict[str, tuple[str, dict[str, Any], str]] = {
    "depth": (nested(12), {}, "QUERY_TOO_COMPLEX"),
    "aliases": (
        "{ " + " ".join(f"a{i}: markets {{ totalCount }}" for i in range(200)) + " }",
        {},
        "QUERY_TOO_COMPLEX",
    ),
    "fragment-cycle": (
        "query { markets { edges { node { ...A } } } } "
        "fragment A on Market { creator { id } ...B } fragment B on Market { id ...A }",
        {},
        "BAD_USER_INPUT",
    ),
    "fragment-fan-out": (
        "query { markets { edges { node { ...F0 } } } } "
        + " ".join(f"fragment F{i} on Market {{ ...F{i + 1} ...F{i + 1} }}" for i in range(30))
        + " fragment F30 on Market { id }",
        {},
        "QUERY_TOO_COMPLEX",
    ),
    "page-size": ("{ markets(first: 1000000) { totalCount } }", {}, "QUERY_TOO_COMPLEX"),
    "recent-trades": (
        "{ markets { edges { node { recentTrades(first: 100000) { id } } } } }",
        {},
        "QUERY_TOO_COMPLEX",
    ),
    "price-history": (
        '{ markets { edges { node { priceHistory(resolution: "1m", first: 1000000) '
        "{ prices } } } } }",
        {},
        "QUERY_TOO_COMPLEX",
    ),
    "directives": ("{ me " + "@include(if: true) " * 1500 + "{ id } }", {}, "QUERY_TOO_COMPLEX"),
    "huge-variable-list": (
        "mutation($i: CreateMarketInput!) { createMarket(input: $i) { id } }",
        {"i": {**ops.market_input(), "outcomes": [f"o{i}" for i in range(5000)]}},
        "BAD_USER_INPUT",
    ),
    "int-overflow": (
        "query($f: Int) { markets(first: $f) { totalCount } }",
        {"f": 2**63},
        "INVALID_AMOUNT",
    ),
}


@pytest.mark.parametrize("bomb", list(BOMBS))
async def test_query_bombs_are_refused_quickly_with_a_code(
    live_api: Api, server: LiveServer, bomb: str
) -> None:
    _, alice = await live_api.user("alice")
    await ops.create_market(live_api, alice)
    query, variables, code = BOMBS[bomb]
    # "Quickly" is not a wall-clock assertion (tests never fail on a loaded machine's
    # timing): a bomb that got through would run for hours, past the suite's timeout.
    response = await live_api.post(query, variables, alice)
    got = await check_clean(response)
    if bomb == "huge-variable-list":  # over the body limit or refused by validation
        assert got in (code, "QUERY_TOO_COMPLEX"), response.text
    else:
        assert got == code, response.text


async def test_a_batch_of_operations_is_not_a_way_around_the_limits(live_api: Api) -> None:
    batch = [{"query": "{ me { id } }"}] * 500
    response = await live_api.client.post("/graphql", json=batch)
    assert response.status_code < 500
    assert "Traceback" not in response.text


async def raw_post(api: Api, headers: bytes, body: bytes) -> bytes:
    """A hand-written request (a declared length the body does not have)."""
    port = api.client.base_url.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        + headers
        + b"connection: close\r\n\r\n"
        + body
    )
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return answer


async def test_oversized_bodies_are_refused_before_they_are_read(live_api: Api) -> None:
    declared = await raw_post(live_api, b"content-length: 1000000000\r\n", b"{}")
    assert declared.startswith(b"HTTP/1.1 413"), declared[:200]
    assert b"QUERY_TOO_COMPLEX" in declared

    async def chunks() -> Any:
        yield b'{"query": "'
        for _ in range(300):
            yield b" " * 1000
        yield b'{ me { id } }"}'

    streamed = await live_api.client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert streamed.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    long_get = await live_api.client.get(
        "/graphql", params={"query": "{ " + "me { id } " * 900 + "}"}
    )
    assert long_get.status_code < 500
    assert (await live_api.data(ops.ME)) == {"me": None}, "the server still serves"


async def test_login_brute_force_meets_rate_limited(live_api: Api) -> None:
    await live_api.user("alice")
    guess = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { tokenType } }"
    attempts = [live_api.post(guess, {"u": "alice", "p": f"guess {i}"}) for i in range(20)]
    codes = [(await check_clean(r)) for r in await asyncio.gather(*attempts)]
    assert codes.count("UNAUTHENTICATED") <= 5, "no more wrong guesses than the limit"
    assert codes.count("RATE_LIMITED") >= 15
    right = {"u": "alice", "p": "correct horse battery"}
    assert (await check_clean(await live_api.post(guess, right))) == "RATE_LIMITED"
    spread = [live_api.post(guess, {"u": f"user{i}", "p": "x"}) for i in range(40)]
    codes = [(await check_clean(r)) for r in await asyncio.gather(*spread)]
    assert codes.count("RATE_LIMITED") >= 40 - 30 + 6, "per client address as well"


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_websockets_accept_no_credential_but_a_valid_connection_init(
    live_api: Api, server: LiveServer, protocol: str
) -> None:
    """The handshake's Authorization header, a deactivated user's token, and a token in
    the subscription's variables authenticate nobody, on either protocol."""
    alice_id, alice = await live_api.user("alice")
    _, root = await live_api.user("root", admin_of=server.app)
    from websockets.asyncio.client import connect

    headers = {"Authorization": f"Bearer {alice}"}
    async with connect(
        server.ws_url,
        subprotocols=[protocol],  # type: ignore[list-item]
        additional_headers=headers,
    ) as raw:
        await raw.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await raw.recv())["type"] == "connection_ack"
        kind = "subscribe" if protocol == TRANSPORT_WS else "start"
        payload = {"query": MY_ORDERS_SUB, "variables": {"authorization": f"Bearer {alice}"}}
        await raw.send(json.dumps({"id": "1", "type": kind, "payload": payload}))
        _, result = await LiveClient(raw, protocol).result()
        assert error_codes(result) == ["UNAUTHENTICATED"], result
    await live_api.data(ops.DEACTIVATE, {"u": alice_id}, root)
    code = await refused_at_connection_init(server.ws_url, f"Bearer {alice}", protocol)
    assert code in (4403, 1011)


async def flood(server: LiveServer, live_api: Api, protocol: str) -> list[dict[str, Any]]:
    """200 subscribe messages sent at once on one connection; the 200 first answers."""
    _, alice = await live_api.user("alice")
    market = await ops.create_market(live_api, alice)
    query = "subscription($m: ID!) { marketPrices(marketId: $m) { sequence } }"
    async with live_client(server.ws_url, protocol=protocol) as ws:
        await asyncio.gather(
            *(ws.subscribe(str(i), query, {"m": market["id"]}) for i in range(200))
        )
        answers = [(await ws.result())[1] for _ in range(200)]
        assert server.app.state.bellwether.hub.subscriber_count <= 5
    assert (await live_api.data(ops.MARKET, {"id": market["id"]}))["market"]["id"]
    return answers


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_flood_of_subscriptions_on_one_connection_is_capped(
    live_api: Api, server: LiveServer, protocol: str
) -> None:
    answers = await flood(server, live_api, protocol)
    served = [a for a in answers if not a.get("errors")]
    assert len(served) <= 5 and len(answers) - len(served) >= 195


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_every_refused_subscription_of_a_flood_says_rate_limited(
    live_api: Api, server: LiveServer, protocol: str
) -> None:
    answers = await flood(server, live_api, protocol)
    refused = [error_codes(a) for a in answers if a.get("errors")]
    assert refused and all(codes == ["RATE_LIMITED"] for codes in refused), refused[-1]


async def test_make_admin_is_needed_for_admin_powers(live_api: Api, server: LiveServer) -> None:
    """A user cannot make themself admin through any input: register ignores extra fields."""
    query = "mutation($i: RegisterInput!) { register(input: $i) { id isAdmin } }"
    sneaky = {"username": "mallory", "email": "m@x.org", "password": "long enough", "isAdmin": True}
    assert await live_api.error_code(query, {"i": sneaky}) == "BAD_USER_INPUT"
    user_id, token = await live_api.user("eve")
    assert await live_api.error_code(ops.GRANT, {"u": user_id, "a": 5}, token) == "FORBIDDEN"
    await make_admin(server.app, user_id)
    assert (await live_api.data(ops.GRANT, {"u": user_id, "a": 5}, token))["grantBonus"]
