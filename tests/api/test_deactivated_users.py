"""A deactivated or deleted user's token over real HTTP and WebSocket: UNAUTHENTICATED
wherever it is used (never silently anonymous), and the subscriptions that user holds
end, on this worker and on every other."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
import jwt
import pytest

from tests.api import ops
from tests.api.conftest import SECRET, Api, LiveServer, serving
from tests.api.test_live import MY_ORDERS, PRICES
from tests.api.wsclient import (
    LEGACY_WS,
    TRANSPORT_WS,
    LiveClient,
    error_codes,
    live_client,
    refused_at_connection_init,
)
from web.settings import AppSettings


def ghost_token() -> str:
    """A validly signed token of a user that does not exist (deleted)."""
    claims = {"sub": "f" * 32, "iat": 1_700_000_000, "exp": 4_000_000_000}
    return jwt.encode(claims, SECRET, algorithm="HS256")


async def test_a_deactivated_or_deleted_users_token_is_unauthenticated(
    live_api: Api, server: LiveServer
) -> None:
    bob_id, bob = await live_api.user("bob")
    _, root = await live_api.user("root", admin_of=server.app)
    market = await ops.create_market(live_api, bob, "ORDER_BOOK")
    await live_api.data(ops.DEACTIVATE, {"u": bob_id}, root)
    for token in (bob, ghost_token()):
        assert await live_api.error_code(ops.ME, token=token) == "UNAUTHENTICATED"
        assert await live_api.error_code(ops.POSITIONS, token=token) == "UNAUTHENTICATED"
        minted = await live_api.error_code(ops.MINT, {"m": market["id"], "q": 1}, token)
        assert minted == "UNAUTHENTICATED"


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_deactivated_users_token_is_refused_at_connection_init(
    live_api: Api, server: LiveServer, protocol: str
) -> None:
    bob_id, bob = await live_api.user("bob")
    _, root = await live_api.user("root", admin_of=server.app)
    await live_api.data(ops.DEACTIVATE, {"u": bob_id}, root)
    code = await refused_at_connection_init(server.ws_url, f"Bearer {bob}", protocol)
    assert code in (4403, 1011), "as for a forged token (test_live.py)"


async def ended(ws: LiveClient, ids: set[str]) -> dict[str, list[str]]:
    """The error codes each of ``ids`` ends with (skipping data still in flight)."""
    codes: dict[str, list[str]] = {}
    while set(codes) != ids:
        sub_id, payload = await ws.result()
        if payload.get("errors"):
            codes[sub_id] = error_codes(payload)
    return codes


async def subscribed(ws: LiveClient, market_id: str) -> None:
    await ws.subscribe("p", PRICES, {"m": market_id})
    await ws.data()
    await ws.subscribe("o", MY_ORDERS, {})
    await asyncio.sleep(0.1)


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_deactivation_ends_the_users_subscriptions(
    live_api: Api, server: LiveServer, protocol: str
) -> None:
    bob_id, bob = await live_api.user("bob")
    _, root = await live_api.user("root", admin_of=server.app)
    market = await ops.create_market(live_api, root, "ORDER_BOOK")
    async with (
        live_client(server.ws_url, bob, protocol=protocol) as ws,
        live_client(server.ws_url, root, protocol=protocol) as watcher,
    ):
        await subscribed(ws, market["id"])
        await watcher.subscribe("p", PRICES, {"m": market["id"]})
        await watcher.data()
        await live_api.data(ops.DEACTIVATE, {"u": bob_id}, root)
        codes = await ended(ws, {"p", "o"})
        assert codes == {"p": ["UNAUTHENTICATED"], "o": ["UNAUTHENTICATED"]}
        await ws.subscribe("again", PRICES, {"m": market["id"]})
        assert error_codes((await ws.result())[1]) == ["UNAUTHENTICATED"]
        await live_api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 1, 40), root)
        assert "marketPrices" in await watcher.data(), "other users' subscriptions go on"


@pytest.mark.postgres
async def test_deactivation_on_one_worker_ends_subscriptions_on_the_other(
    settings: AppSettings, own_postgres_database: str
) -> None:
    shared = replace(settings, database_url=own_postgres_database)
    async with (
        serving(shared) as first,
        serving(shared) as second,
        httpx.AsyncClient(base_url=first.url, timeout=10) as client,
    ):
        api = Api(client)
        bob_id, bob = await api.user("bob")
        _, root = await api.user("root", admin_of=first.app)
        market = await ops.create_market(api, root, "ORDER_BOOK")
        async with live_client(second.ws_url, bob) as ws:
            await subscribed(ws, market["id"])
            await api.data(ops.DEACTIVATE, {"u": bob_id}, root)
            codes = await ended(ws, {"p", "o"})
    assert codes == {"p": ["UNAUTHENTICATED"], "o": ["UNAUTHENTICATED"]}
