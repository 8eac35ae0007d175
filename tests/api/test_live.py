"""Subscriptions over a real WebSocket (graphql-transport-ws) on a real uvicorn server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.api import ops
from tests.api.conftest import Api, LiveServer

PROTOCOL = "graphql-transport-ws"


@asynccontextmanager
async def socket(server: LiveServer, token: str | None = None) -> AsyncIterator[ClientConnection]:
    async with connect(server.ws_url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert ack["type"] == "connection_ack", ack
        yield ws


async def subscribe(
    ws: ClientConnection, sub_id: str, query: str, variables: dict[str, Any]
) -> None:
    message = {
        "id": sub_id,
        "type": "subscribe",
        "payload": {"query": query, "variables": variables},
    }
    await ws.send(json.dumps(message))


async def next_payload(ws: ClientConnection) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if message["type"] in ("ping", "pong"):
            continue
        assert message["type"] in ("next", "error"), message
        payload: dict[str, Any] = message["payload"]
        return payload


PRICES = """subscription($m: ID!) { marketPrices(marketId: $m) {
  marketId prices sequence volumeCents lastTradePriceCents } }"""
BOOK = """subscription($m: ID!, $o: ID!) { orderBookUpdates(marketId: $m, outcomeId: $o) {
  bids { priceCents quantity } asks { priceCents quantity } sequence } }"""
TRADES = (
    "subscription($m: ID!) { marketTrades(marketId: $m) { priceCents quantity market { id } } }"
)
MY_ORDERS = "subscription { myOrderUpdates { id status filledQuantity } }"


async def test_market_prices_sends_the_snapshot_then_each_trade(
    server: LiveServer, live_api: Api
) -> None:
    _, alice = await live_api.user("alice")
    _, bob = await live_api.user("bob")
    market = await ops.create_market(live_api, alice)
    async with socket(server) as ws:
        await subscribe(ws, "p", PRICES, {"m": market["id"]})
        await subscribe(ws, "t", TRADES, {"m": market["id"]})
        snapshot = (await next_payload(ws))["data"]["marketPrices"]
        assert snapshot["prices"] == [0.5, 0.5]
        traded = await ops.buy_yes(live_api, bob, market["id"], 20)
        seen: dict[str, Any] = {}
        for _ in range(2):
            data = (await next_payload(ws))["data"]
            seen.update(data)
        update = seen["marketPrices"]
        assert update["sequence"] == snapshot["sequence"] + 1
        assert update["prices"] == pytest.approx(traded["prices"])
        assert update["lastTradePriceCents"] == traded["trade"]["priceCents"]
        assert seen["marketTrades"]["quantity"] == 20


async def test_order_book_and_my_orders_update_after_trades(
    server: LiveServer, live_api: Api
) -> None:
    _, alice = await live_api.user("alice")
    _, bob = await live_api.user("bob")
    market = await ops.create_market(live_api, alice, "ORDER_BOOK")
    yes = market["outcomes"][0]["id"]
    await live_api.data(ops.MINT, {"m": market["id"], "q": 10}, alice)
    async with socket(server, alice) as ws:
        await subscribe(ws, "b", BOOK, {"m": market["id"], "o": yes})
        first = (await next_payload(ws))["data"]["orderBookUpdates"]
        assert (first["bids"], first["asks"]) == ([], [])
        await subscribe(ws, "o", MY_ORDERS, {})
        await asyncio.sleep(0.1)
        placed = await live_api.data(ops.PLACE_ORDER, ops.limit(market, "SELL", 5, 55), alice)
        updates: list[dict[str, Any]] = [(await next_payload(ws))["data"] for _ in range(2)]
        book = next(u["orderBookUpdates"] for u in updates if "orderBookUpdates" in u)
        assert book["asks"] == [{"priceCents": 55, "quantity": 5}]
        assert book["sequence"] > first["sequence"]
        mine = next(u["myOrderUpdates"] for u in updates if "myOrderUpdates" in u)
        assert (mine["id"], mine["status"]) == (placed["placeOrder"]["id"], "OPEN")
        await live_api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 5, 60), bob)
        later = [(await next_payload(ws))["data"] for _ in range(2)]
        filled = next(u["myOrderUpdates"] for u in later if "myOrderUpdates" in u)
        assert (filled["status"], filled["filledQuantity"]) == ("FILLED", 5)


async def test_my_order_updates_needs_a_token(server: LiveServer) -> None:
    async with socket(server) as ws:
        await subscribe(ws, "o", MY_ORDERS, {})
        payload = await next_payload(ws)
        errors = payload if isinstance(payload, list) else payload.get("errors", payload)
        assert "UNAUTHENTICATED" in json.dumps(errors)


async def test_a_forged_token_closes_the_connection(server: LiveServer) -> None:
    async with connect(server.ws_url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"authorization": "Bearer forged"}}
        await ws.send(json.dumps(init))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4403
