"""API keys over real HTTP and WebSocket: scopes, session-only management, revocation."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.api import ops
from tests.api.conftest import Api, LiveServer
from tests.api.test_deactivated_users import ended, subscribed
from tests.api.wsclient import LEGACY_WS, TRANSPORT_WS, live_client

CREATE = """mutation($n: String!, $s: [ApiKeyScope!]!) { createApiKey(name: $n, scopes: $s) {
  secret apiKey { id name prefix scopes createdAt lastUsedAt revokedAt } } }"""
REVOKE = "mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }"
MY_KEYS = "{ myApiKeys { id name prefix scopes lastUsedAt revokedAt } }"
MY_ORDERS = "subscription { myOrderUpdates { id status } }"


async def create_key(api: Api, token: str, *scopes: str, name: str = "bot") -> dict[str, Any]:
    data = await api.data(CREATE, {"n": name, "s": list(scopes or ("TRADE",))}, token)
    created: dict[str, Any] = data["createApiKey"]
    return created


async def with_key(api: Api, secret: str, query: str, variables: Any = None) -> dict[str, Any]:
    body = {"query": query, "variables": variables or {}}
    response = await api.client.post(
        "/graphql", json=body, headers={"Authorization": f"Key {secret}"}
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def code_of(result: dict[str, Any]) -> str:
    assert result.get("errors"), result
    code: str = result["errors"][0]["extensions"]["code"]
    return code


async def test_a_key_is_shown_once_and_then_only_by_its_prefix(api: Api) -> None:
    _, alice = await api.user("alice")
    created = await create_key(api, alice, "READ", "TRADE", name="market maker")
    secret, key = created["secret"], created["apiKey"]
    assert secret.startswith("bwk_") and len(secret) >= 4 + 43  # 32 random bytes
    assert key["prefix"] == secret[:12] and key["scopes"] == ["READ", "TRADE"]
    assert (key["name"], key["lastUsedAt"], key["revokedAt"]) == ("market maker", None, None)
    listed = (await api.data(MY_KEYS, token=alice))["myApiKeys"]
    assert [k["id"] for k in listed] == [key["id"]]
    assert secret not in json.dumps(listed)


async def test_a_key_authenticates_requests_and_marks_its_last_use(api: Api) -> None:
    alice_id, alice = await api.user("alice")
    secret = (await create_key(api, alice, "READ"))["secret"]
    me = await with_key(api, secret, "{ me { id } }")
    assert me["data"]["me"]["id"] == alice_id
    listed = (await api.data(MY_KEYS, token=alice))["myApiKeys"]
    assert listed[0]["lastUsedAt"] is not None


async def test_a_trade_key_trades_and_a_read_key_is_forbidden_to(api: Api) -> None:
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    trade = (await create_key(api, alice, "TRADE"))["secret"]
    read = (await create_key(api, alice, "READ"))["secret"]
    order = ops.limit(market, "BUY", 2, 40)
    placed = await with_key(api, trade, ops.PLACE_ORDER, order)
    assert placed["data"]["placeOrder"]["status"] == "OPEN"
    assert code_of(await with_key(api, read, ops.PLACE_ORDER, order)) == "FORBIDDEN"
    positions = await with_key(api, read, ops.POSITIONS, {"m": market["id"]})
    assert positions["data"]["myPositions"] == []
    orders = (await api.data("{ myOrders { totalCount } }", token=alice))["myOrders"]
    assert orders["totalCount"] == 1


@pytest.mark.parametrize("scope", ["READ", "TRADE"])
async def test_no_key_can_create_or_revoke_keys(api: Api, scope: str) -> None:
    _, alice = await api.user("alice")
    created = await create_key(api, alice, scope)
    secret, key_id = created["secret"], created["apiKey"]["id"]
    made = await with_key(api, secret, CREATE, {"n": "another", "s": ["TRADE"]})
    assert code_of(made) == "FORBIDDEN"
    assert code_of(await with_key(api, secret, REVOKE, {"id": key_id})) == "FORBIDDEN"
    assert len((await api.data(MY_KEYS, token=alice))["myApiKeys"]) == 1


async def test_a_revoked_key_stops_working_at_once(api: Api) -> None:
    _, alice = await api.user("alice")
    created = await create_key(api, alice, "TRADE")
    secret, key_id = created["secret"], created["apiKey"]["id"]
    assert "errors" not in await with_key(api, secret, "{ me { id } }")
    revoked = (await api.data(REVOKE, {"id": key_id}, alice))["revokeApiKey"]
    assert revoked["revokedAt"] is not None
    assert code_of(await with_key(api, secret, "{ me { id } }")) == "UNAUTHENTICATED"


async def test_key_errors(api: Api) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    key_id = (await create_key(api, alice))["apiKey"]["id"]
    assert await api.error_code(REVOKE, {"id": key_id}, bob) == "FORBIDDEN"
    assert await api.error_code(REVOKE, {"id": "nope"}, alice) == "NOT_FOUND"
    assert await api.error_code(CREATE, {"n": "x", "s": []}, alice) == "BAD_USER_INPUT"
    assert await api.error_code(CREATE, {"n": "x", "s": ["ADMIN"]}) == "BAD_USER_INPUT"
    assert await api.error_code(CREATE, {"n": "x", "s": ["READ"]}) == "UNAUTHENTICATED"
    assert code_of(await with_key(api, "bwk_" + "A" * 43, "{ me { id } }")) == "UNAUTHENTICATED"
    assert code_of(await with_key(api, "not-a-key", "{ me { id } }")) == "UNAUTHENTICATED"


async def test_a_deactivated_users_key_authenticates_nobody(api: Api, server: LiveServer) -> None:
    _, root = await api.user("root", admin_of=server.app)
    alice_id, alice = await api.user("alice")
    secret = (await create_key(api, alice))["secret"]
    await api.data(ops.DEACTIVATE, {"u": alice_id}, root)
    assert code_of(await with_key(api, secret, "{ me { id } }")) == "UNAUTHENTICATED"
    market = await ops.create_market(api, root, "ORDER_BOOK")
    placed = await with_key(api, secret, ops.PLACE_ORDER, ops.limit(market, "BUY", 1, 40))
    assert code_of(placed) == "UNAUTHENTICATED"


async def test_a_key_in_connection_init_subscribes_to_private_feeds(
    server: LiveServer, api: Api
) -> None:
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    secret = (await create_key(api, alice, "READ"))["secret"]
    async with live_client(server.ws_url, authorization=f"Key {secret}") as ws:
        await ws.subscribe("o", MY_ORDERS, {})
        await asyncio.sleep(0.1)
        placed = await api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 3, 20), alice)
        update = (await ws.data())["myOrderUpdates"]
        assert update["id"] == placed["placeOrder"]["id"]


async def test_a_revoked_key_is_refused_at_connection_init(server: LiveServer, api: Api) -> None:
    _, alice = await api.user("alice")
    created = await create_key(api, alice, "READ")
    await api.data(REVOKE, {"id": created["apiKey"]["id"]}, alice)
    async with connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        init = {"authorization": f"Key {created['secret']}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": init}))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                assert message["type"] != "connection_ack"
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


def test_every_mutation_but_signing_up_and_in_checks_the_keys_scope() -> None:
    """IsAuthenticated is where a READ key is refused: no mutation may go without it."""
    from schema.permissions import IsAuthenticated
    from schema.schema import Mutation

    definition = Mutation.__strawberry_definition__  # type: ignore[attr-defined]
    unguarded = {
        field.name for field in definition.fields if IsAuthenticated not in field.permission_classes
    }
    assert unguarded == {"register", "login"}


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_revoking_a_key_ends_the_subscriptions_made_with_it_only(
    server: LiveServer, api: Api, protocol: str
) -> None:
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    created = await create_key(api, alice, "READ")
    key = f"Key {created['secret']}"
    async with (
        live_client(server.ws_url, authorization=key, protocol=protocol) as bot,
        live_client(server.ws_url, alice, protocol=protocol) as session,
    ):
        await subscribed(bot, market["id"])
        await subscribed(session, market["id"])
        await api.data(REVOKE, {"id": created["apiKey"]["id"]}, alice)
        assert await ended(bot, {"p", "o"}) == {"p": ["UNAUTHENTICATED"], "o": ["UNAUTHENTICATED"]}
        placed = await api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 1, 40), alice)
        updates = [await session.data() for _ in range(2)]
        mine = next(u["myOrderUpdates"] for u in updates if "myOrderUpdates" in u)
        assert mine["id"] == placed["placeOrder"]["id"], "the session's subscriptions go on"
