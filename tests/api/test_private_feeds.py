"""myFills and myAccount over a real WebSocket (PRODUCT.md section 11)."""

from __future__ import annotations

import asyncio

from tests.api import ops
from tests.api.conftest import Api, LiveServer
from tests.api.wsclient import live_client

MY_FILLS = """subscription { myFills { sequence side priceCents quantity feeCents isMaker
  order { id } trade { id quantity } } }"""
MY_ACCOUNT = """subscription { myAccount { sequence user { id balanceCents reservedCents }
  positions { shares outcome { id } } } }"""


async def test_my_fills_shows_each_side_with_a_sequence_per_user(
    server: LiveServer, api: Api
) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    market = await ops.create_market(api, alice, "ORDER_BOOK", feeBps=100)
    await api.data(ops.MINT, {"m": market["id"], "q": 10}, alice)
    ask = await api.data(ops.PLACE_ORDER, ops.limit(market, "SELL", 10, 50), alice)
    async with live_client(server.ws_url, alice) as mine, live_client(server.ws_url, bob) as theirs:
        await mine.subscribe("f", MY_FILLS, {})
        await theirs.subscribe("f", MY_FILLS, {})
        await asyncio.sleep(0.1)
        bought = await api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 4, 55), bob)
        await api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 2, 50), bob)
        maker = [(await mine.data())["myFills"] for _ in range(2)]
        taker = [(await theirs.data())["myFills"] for _ in range(2)]
    assert [f["sequence"] for f in maker] == [1, 2]
    assert [f["sequence"] for f in taker] == [1, 2]
    assert maker[0]["side"] == "SELL" and maker[0]["isMaker"] and maker[0]["feeCents"] == 0
    assert maker[0]["order"]["id"] == ask["placeOrder"]["id"]
    first = taker[0]
    assert (first["side"], first["isMaker"], first["priceCents"], first["quantity"]) == (
        "BUY",
        False,
        50,
        4,
    )
    assert first["feeCents"] == 2  # 1% of 200 cents
    assert first["order"]["id"] == bought["placeOrder"]["id"]
    assert first["trade"]["id"] == maker[0]["trade"]["id"]


async def test_a_market_maker_fill_has_no_order(server: LiveServer, api: Api) -> None:
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice, "LMSR")
    async with live_client(server.ws_url, alice) as ws:
        await ws.subscribe("f", MY_FILLS, {})
        await asyncio.sleep(0.1)
        await ops.buy_yes(api, alice, market["id"], 3)
        fill = (await ws.data())["myFills"]
    assert (fill["order"], fill["quantity"], fill["isMaker"], fill["sequence"]) == (
        None,
        3,
        False,
        1,
    )


async def test_my_account_sends_the_state_then_each_change(server: LiveServer, api: Api) -> None:
    alice_id, alice = await api.user("alice")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    async with live_client(server.ws_url, alice) as ws:
        await ws.subscribe("a", MY_ACCOUNT, {})
        first = (await ws.data())["myAccount"]
        assert (first["sequence"], first["user"]["id"], first["positions"]) == (0, alice_id, [])
        await api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 10, 30), alice)
        reserved = (await ws.data())["myAccount"]
        assert reserved["sequence"] > 0 and reserved["user"]["reservedCents"] == 300
        await api.data(ops.MINT, {"m": market["id"], "q": 2}, alice)
        minted = (await ws.data())["myAccount"]
        assert minted["sequence"] > reserved["sequence"]
        assert sorted(p["shares"] for p in minted["positions"]) == [2, 2]


async def test_private_feeds_need_a_sign_in(server: LiveServer) -> None:
    async with live_client(server.ws_url) as ws:
        await ws.subscribe("f", MY_FILLS, {})
        _, payload = await ws.result()
        assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
