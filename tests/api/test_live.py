"""Subscriptions over a real WebSocket on a real uvicorn server, both protocols."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.api import ops
from tests.api.conftest import Api, LiveServer
from tests.api.wsclient import LEGACY_WS, TRANSPORT_WS, error_codes, live_client
from web.settings import AppSettings

PRICES = """subscription($m: ID!) { marketPrices(marketId: $m) {
  marketId prices sequence volumeCents lastTradePriceCents } }"""
BOOK = """subscription($m: ID!, $o: ID!) { orderBookUpdates(marketId: $m, outcomeId: $o) {
  bids { priceCents quantity } asks { priceCents quantity } sequence } }"""
TRADES = """subscription($m: ID!) { marketTrades(marketId: $m) {
  priceCents quantity sequence market { id } } }"""
MY_ORDERS = "subscription { myOrderUpdates { id status filledQuantity } }"
STATUS = "subscription($m: ID!) { marketStatus(marketId: $m) { marketId status } }"


@pytest.fixture
def settings(settings: AppSettings) -> AppSettings:
    return replace(
        settings, max_subscriptions_per_connection=3, allowed_origins=("https://app.example",)
    )


async def test_market_prices_sends_the_snapshot_then_each_trade(
    server: LiveServer, live_api: Api
) -> None:
    _, alice = await live_api.user("alice")
    _, bob = await live_api.user("bob")
    market = await ops.create_market(live_api, alice)
    async with live_client(server.ws_url) as ws:
        await ws.subscribe("p", PRICES, {"m": market["id"]})
        await ws.subscribe("t", TRADES, {"m": market["id"]})
        snapshot = (await ws.data())["marketPrices"]
        assert snapshot["prices"] == [0.5, 0.5]
        traded = await ops.buy_yes(live_api, bob, market["id"], 20)
        seen: dict[str, Any] = {}
        for _ in range(2):
            seen.update(await ws.data())
        update = seen["marketPrices"]
        assert update["sequence"] == snapshot["sequence"] + 1
        assert update["prices"] == pytest.approx(traded["prices"])
        assert update["lastTradePriceCents"] == traded["trade"]["priceCents"]
        first = seen["marketTrades"]
        assert (first["quantity"], first["market"]["id"]) == (20, market["id"])
        await ops.buy_yes(live_api, bob, market["id"], 5)
        later = [await ws.data() for _ in range(2)]
        trade = next(d["marketTrades"] for d in later if "marketTrades" in d)
        assert trade["sequence"] == first["sequence"] + 1


async def test_order_book_and_my_orders_update_after_trades(
    server: LiveServer, live_api: Api
) -> None:
    _, alice = await live_api.user("alice")
    _, bob = await live_api.user("bob")
    market = await ops.create_market(live_api, alice, "ORDER_BOOK")
    yes = market["outcomes"][0]["id"]
    await live_api.data(ops.MINT, {"m": market["id"], "q": 10}, alice)
    async with live_client(server.ws_url, alice) as ws:
        await ws.subscribe("b", BOOK, {"m": market["id"], "o": yes})
        first = (await ws.data())["orderBookUpdates"]
        assert (first["bids"], first["asks"]) == ([], [])
        await ws.subscribe("o", MY_ORDERS, {})
        await asyncio.sleep(0.1)
        placed = await live_api.data(ops.PLACE_ORDER, ops.limit(market, "SELL", 5, 55), alice)
        updates = [await ws.data() for _ in range(2)]
        book = next(u["orderBookUpdates"] for u in updates if "orderBookUpdates" in u)
        assert book["asks"] == [{"priceCents": 55, "quantity": 5}]
        assert book["sequence"] == first["sequence"] + 1
        mine = next(u["myOrderUpdates"] for u in updates if "myOrderUpdates" in u)
        assert (mine["id"], mine["status"]) == (placed["placeOrder"]["id"], "OPEN")
        await live_api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 5, 60), bob)
        later = [await ws.data() for _ in range(2)]
        filled = next(u["myOrderUpdates"] for u in later if "myOrderUpdates" in u)
        assert (filled["status"], filled["filledQuantity"]) == ("FILLED", 5)
        emptied = next(u["orderBookUpdates"] for u in later if "orderBookUpdates" in u)
        assert (emptied["asks"], emptied["sequence"]) == ([], book["sequence"] + 1)


async def test_market_status_sends_the_status_then_each_change(
    server: LiveServer, live_api: Api
) -> None:
    _, alice = await live_api.user("alice")
    market = await ops.create_market(live_api, alice)
    async with live_client(server.ws_url) as ws:
        await ws.subscribe("s", STATUS, {"m": market["id"]})
        assert (await ws.data())["marketStatus"] == {"marketId": market["id"], "status": "OPEN"}
        for mutation, status in (
            (ops.PAUSE, "PAUSED"),
            (ops.RESUME, "OPEN"),
            (ops.CLOSE, "CLOSED"),
        ):
            await live_api.data(mutation, {"id": market["id"]}, alice)
            assert (await ws.data())["marketStatus"]["status"] == status


async def test_my_order_updates_shows_only_the_callers_orders(
    server: LiveServer, live_api: Api
) -> None:
    _, alice = await live_api.user("alice")
    _, bob = await live_api.user("bob")
    market = await ops.create_market(live_api, alice, "ORDER_BOOK")
    async with live_client(server.ws_url, alice) as ws:
        await ws.subscribe("o", MY_ORDERS, {})
        await asyncio.sleep(0.1)
        await live_api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 2, 30), bob)
        mine = await live_api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 3, 20), alice)
        update = (await ws.data())["myOrderUpdates"]
        assert update["id"] == mine["placeOrder"]["id"]
        await ws.nothing_for(0.2)


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_my_order_updates_needs_a_token(server: LiveServer, protocol: str) -> None:
    async with live_client(server.ws_url, protocol=protocol) as ws:
        await ws.subscribe("o", MY_ORDERS, {})
        _, payload = await ws.result()
        assert "UNAUTHENTICATED" in error_codes(payload)


async def test_the_legacy_protocol_serves_snapshots_updates_and_signed_in_feeds(
    server: LiveServer, live_api: Api
) -> None:
    _, alice = await live_api.user("alice")
    market = await ops.create_market(live_api, alice, "ORDER_BOOK")
    async with live_client(server.ws_url, alice, protocol=LEGACY_WS) as ws:
        await ws.subscribe("p", PRICES, {"m": market["id"]})
        snapshot = (await ws.data())["marketPrices"]
        await ws.subscribe("o", MY_ORDERS, {})
        await asyncio.sleep(0.1)
        placed = await live_api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 4, 40), alice)
        updates = [await ws.data() for _ in range(2)]
        mine = next(u["myOrderUpdates"] for u in updates if "myOrderUpdates" in u)
        assert mine["id"] == placed["placeOrder"]["id"]
        prices = next(u["marketPrices"] for u in updates if "marketPrices" in u)
        assert prices["sequence"] == snapshot["sequence"] + 1


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_forged_token_is_refused_at_connection_init(
    server: LiveServer, protocol: str
) -> None:
    async with connect(server.ws_url, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"authorization": "Bearer forged"}}
        await ws.send(json.dumps(init))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                assert message["type"] != "connection_ack"
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code in (4403, 1011)


async def test_the_legacy_protocol_refuses_operations_before_connection_init(
    server: LiveServer,
) -> None:
    async with connect(server.ws_url, subprotocols=[LEGACY_WS]) as ws:  # type: ignore[list-item]
        start = {"id": "o", "type": "start", "payload": {"query": MY_ORDERS}}
        await ws.send(json.dumps(start))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401


async def test_origins_not_listed_are_refused(server: LiveServer) -> None:
    async with live_client(server.ws_url, origin="https://app.example") as ws:
        assert ws.protocol == TRANSPORT_WS
    with pytest.raises(InvalidStatus):
        async with live_client(server.ws_url, origin="https://evil.example"):
            pass


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_subscriptions_per_connection_are_limited(
    server: LiveServer, live_api: Api, protocol: str
) -> None:
    _, alice = await live_api.user("alice")
    market = await ops.create_market(live_api, alice)
    async with live_client(server.ws_url, protocol=protocol) as ws:
        for sub_id in ("1", "2", "3"):
            await ws.subscribe(sub_id, PRICES, {"m": market["id"]})
            assert (await ws.result())[0] == sub_id
        await ws.subscribe("4", PRICES, {"m": market["id"]})
        sub_id, payload = await ws.result()
        assert (sub_id, error_codes(payload)) == ("4", ["RATE_LIMITED"])
        await ws.complete("1")
        await asyncio.sleep(0.1)
        await ws.subscribe("5", PRICES, {"m": market["id"]})
        assert (await ws.data())["marketPrices"]["marketId"] == market["id"]


async def test_a_failed_trade_publishes_nothing(server: LiveServer, live_api: Api) -> None:
    _, alice = await live_api.user("alice")
    _, bob = await live_api.user("bob")
    market = await ops.create_market(live_api, alice)
    hub = server.app.state.bellwether.hub
    async with live_client(server.ws_url) as ws:
        await ws.subscribe("p", PRICES, {"m": market["id"]})
        await ws.subscribe("t", TRADES, {"m": market["id"]})
        snapshot = (await ws.data())["marketPrices"]
        received = hub.received
        too_big = {"marketId": market["id"], "side": "BUY_YES", "amountType": "SHARES"}
        code = await live_api.error_code(ops.LMSR_TRADE, {"i": {**too_big, "amount": 10**6}}, bob)
        assert code == "INSUFFICIENT_BALANCE"
        await ws.nothing_for(0.3)
        assert hub.received == received
        await ops.buy_yes(live_api, bob, market["id"], 3)
        updates = [await ws.data() for _ in range(2)]
        prices = next(u["marketPrices"] for u in updates if "marketPrices" in u)
        assert prices["sequence"] == snapshot["sequence"] + 1


async def test_a_slow_subscriber_does_not_hold_up_a_fast_one(
    server: LiveServer, live_api: Api
) -> None:
    _, alice = await live_api.user("alice")
    _, bob = await live_api.user("bob")
    market = await ops.create_market(live_api, alice)
    trades = 25
    async with (
        live_client(server.ws_url) as slow,
        live_client(server.ws_url) as fast,
    ):
        await slow.subscribe("p", PRICES, {"m": market["id"]})
        await fast.subscribe("p", PRICES, {"m": market["id"]})
        start = (await fast.data())["marketPrices"]["sequence"]
        for _ in range(trades):
            await ops.buy_yes(live_api, bob, market["id"], 1)
        last = start
        while last < start + trades:
            last = (await fast.data(wait=2))["marketPrices"]["sequence"]
        sequences = []
        while not sequences or sequences[-1] < start + trades:
            sequences.append((await slow.data())["marketPrices"]["sequence"])
        assert sequences == sorted(set(sequences))
        assert sequences[-1] == start + trades


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_every_refusal_of_a_pipelined_flood_says_rate_limited(
    server: LiveServer, live_api: Api, protocol: str
) -> None:
    _, alice = await live_api.user("alice")
    market = await ops.create_market(live_api, alice)
    async with live_client(server.ws_url, protocol=protocol) as ws:
        flood = 40  # beyond Strawberry's own backstop (2 * 3 + 10) as well as our limit of 3
        await asyncio.gather(
            *(ws.subscribe(str(n), PRICES, {"m": market["id"]}) for n in range(flood))
        )
        outcomes = [await ws.result() for _ in range(flood)]
        served = [sub_id for sub_id, payload in outcomes if not payload.get("errors")]
        refused = [error_codes(payload) for _, payload in outcomes if payload.get("errors")]
        assert len(served) == 3
        assert refused == [["RATE_LIMITED"]] * (flood - 3)
