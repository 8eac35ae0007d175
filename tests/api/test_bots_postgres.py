"""Bots across two workers on one PostgreSQL database (PRODUCT.md section 11).

Two apps, each under its own uvicorn server with its own connection pool and
bus, share one database as two ``bellwether serve`` workers would.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.api import ops
from tests.api.conftest import Workers
from tests.api.test_api_keys import REVOKE, code_of, create_key, with_key
from tests.api.test_batches import PLACE_MANY, bids
from tests.api.test_deactivated_users import ended, subscribed
from tests.api.test_heartbeat_and_rates import HEARTBEAT, open_orders, until_no_open_orders
from tests.api.test_live import TRADES
from tests.api.test_private_feeds import MY_FILLS
from tests.api.wsclient import live_client

pytestmark = pytest.mark.postgres


async def test_a_key_revoked_on_one_worker_stops_at_once_on_the_other(workers: Workers) -> None:
    one, two = workers.apis
    _, alice = await one.user("alice")
    created = await create_key(one, alice, "TRADE")
    assert "errors" not in await with_key(two, created["secret"], "{ me { id } }")
    await one.data(REVOKE, {"id": created["apiKey"]["id"]}, alice)
    assert code_of(await with_key(two, created["secret"], "{ me { id } }")) == "UNAUTHENTICATED"


async def test_a_user_deactivated_on_one_worker_loses_its_keys_on_the_other(
    workers: Workers,
) -> None:
    one, two = workers.apis
    _, root = await one.user("root", admin_of=workers.servers[0].app)
    alice_id, alice = await one.user("alice")
    market = await ops.create_market(one, root, "ORDER_BOOK")
    secret = (await create_key(one, alice, "TRADE"))["secret"]
    order = ops.limit(market, "BUY", 1, 40)
    assert "errors" not in await with_key(two, secret, ops.PLACE_ORDER, order)
    await one.data(ops.DEACTIVATE, {"u": alice_id}, root)
    assert code_of(await with_key(two, secret, "{ me { id } }")) == "UNAUTHENTICATED"
    assert code_of(await with_key(two, secret, ops.PLACE_ORDER, order)) == "UNAUTHENTICATED"


async def test_my_fills_sequences_are_gap_free_across_two_workers(workers: Workers) -> None:
    one, two = workers.apis
    _, alice = await one.user("alice")
    _, bob = await one.user("bob")
    market = await ops.create_market(one, alice, "ORDER_BOOK")
    await one.data(ops.MINT, {"m": market["id"], "q": 20}, alice)
    await one.data(ops.PLACE_ORDER, ops.limit(market, "SELL", 20, 50), alice)
    buy = ops.limit(market, "BUY", 1, 50)
    async with (
        live_client(workers.servers[1].ws_url, bob) as bobs,
        live_client(workers.servers[0].ws_url, alice) as alices,
    ):
        await bobs.subscribe("f", MY_FILLS, {})
        await alices.subscribe("f", MY_FILLS, {})
        await alices.subscribe("t", TRADES, {"m": market["id"]})
        await asyncio.sleep(0.2)
        placed = await asyncio.gather(
            *(api.data(ops.PLACE_ORDER, buy, bob) for api in [one, two] * 5)
        )
        assert all(p["placeOrder"]["status"] == "FILLED" for p in placed)
        taker = [(await bobs.data())["myFills"]["sequence"] for _ in range(10)]
        seen = [await alices.data() for _ in range(20)]
    maker = [s["myFills"]["sequence"] for s in seen if "myFills" in s]
    trades = [s["marketTrades"]["sequence"] for s in seen if "marketTrades" in s]
    assert sorted(taker) == list(range(1, 11))
    assert sorted(maker) == list(range(1, 11))
    assert sorted(trades) == list(range(1, 11)), "Trade.sequence is stored per market"


async def test_a_lapsed_heartbeat_is_acted_on_once_by_two_racing_workers(
    workers: Workers, caplog: pytest.LogCaptureFixture
) -> None:
    one, two = workers.apis
    _, alice = await one.user("alice")
    market = await ops.create_market(one, alice, "ORDER_BOOK")
    await one.data(PLACE_MANY, {"i": bids(market, 30, 31)}, alice)
    await two.data(PLACE_MANY, {"i": bids(market, 32, 33)}, alice)
    caplog.set_level(logging.INFO, logger="bellwether.sweeper")
    await two.data(HEARTBEAT, {"t": 5}, alice)
    await until_no_open_orders(one, alice)
    await asyncio.sleep(2.5)  # both watches look again, twice: nothing is left to claim
    lapses = [r for r in caplog.records if "heartbeats lapsed" in r.getMessage()]
    assert len(lapses) == 1
    assert (await ops.me(two, alice))["reservedCents"] == 0


@pytest.mark.parametrize(
    "settings", [{"order_rate_per_second": 0.001, "order_burst": 6}], indirect=True
)
async def test_the_order_rate_is_shared_by_two_workers(workers: Workers) -> None:
    one, two = workers.apis
    _, alice = await one.user("alice")
    market = await ops.create_market(one, alice, "ORDER_BOOK")
    await one.data(PLACE_MANY, {"i": bids(market, 30, 31, 32)}, alice)
    await two.data(PLACE_MANY, {"i": bids(market, 33, 34, 35)}, alice)
    for api in (one, two):
        limited = await api.error_code(ops.PLACE_ORDER, ops.limit(market, "BUY", 1, 36), alice)
        assert limited == "RATE_LIMITED"
    assert await open_orders(one, alice) == 6


async def test_a_key_revoked_on_one_worker_ends_its_subscriptions_on_the_other(
    workers: Workers,
) -> None:
    one, _ = workers.apis
    _, alice = await one.user("alice")
    market = await ops.create_market(one, alice, "ORDER_BOOK")
    created = await create_key(one, alice, "READ")
    key = f"Key {created['secret']}"
    async with live_client(workers.servers[1].ws_url, authorization=key) as ws:
        await subscribed(ws, market["id"])
        await one.data(REVOKE, {"id": created["apiKey"]["id"]}, alice)
        assert await ended(ws, {"p", "o"}) == {"p": ["UNAUTHENTICATED"], "o": ["UNAUTHENTICATED"]}
