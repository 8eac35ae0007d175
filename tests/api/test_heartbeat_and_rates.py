"""The dead-man switch and the order-rate limit over real HTTP (PRODUCT.md section 11)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from tests.api import ops
from tests.api.conftest import Api
from tests.api.test_batches import CANCEL_ALL, CANCEL_MANY, PLACE_MANY, bids

HEARTBEAT = "mutation($t: Int!) { heartbeat(timeoutSeconds: $t) { timeoutSeconds expiresAt } }"
OPEN_ORDERS = "{ myOrders(status: OPEN) { totalCount } }"


async def open_orders(api: Api, token: str) -> int:
    count: int = (await api.data(OPEN_ORDERS, token=token))["myOrders"]["totalCount"]
    return count


async def until_no_open_orders(api: Api, token: str, within: float = 15) -> None:
    """Poll (the watch runs every second) until the caller has no open order."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while await open_orders(api, token):
        assert loop.time() < deadline, "open orders outlived the heartbeat"
        await asyncio.sleep(0.2)


async def test_heartbeat_arms_and_zero_disarms(api: Api) -> None:
    _, alice = await api.user("alice")
    armed = (await api.data(HEARTBEAT, {"t": 30}, alice))["heartbeat"]
    assert armed["timeoutSeconds"] == 30
    assert datetime.fromisoformat(armed["expiresAt"]) > datetime.now(tz=None).astimezone()
    off = (await api.data(HEARTBEAT, {"t": 0}, alice))["heartbeat"]
    assert off == {"timeoutSeconds": 0, "expiresAt": None}
    for bad in (4, 301, -5):
        assert await api.error_code(HEARTBEAT, {"t": bad}, alice) == "INVALID_AMOUNT"
    assert await api.error_code(HEARTBEAT, {"t": 5}) == "UNAUTHENTICATED"


async def test_a_lapsed_heartbeat_cancels_the_callers_open_orders(api: Api) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    await api.data(PLACE_MANY, {"i": bids(market, 30, 31, 32)}, alice)
    await api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 1, 20), bob)
    await api.data(HEARTBEAT, {"t": 5}, alice)
    await until_no_open_orders(api, alice)
    assert (await ops.me(api, alice))["reservedCents"] == 0
    assert await open_orders(api, bob) == 1


@pytest.mark.parametrize(
    "settings", [{"order_rate_per_second": 0.001, "order_burst": 5}], indirect=True
)
async def test_order_operations_beyond_the_burst_are_rate_limited(api: Api) -> None:
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    placed = (await api.data(PLACE_MANY, {"i": bids(market, 30, 31, 32)}, alice))["placeOrders"]
    assert await api.error_code(PLACE_MANY, {"i": bids(market, 33, 34, 35)}, alice) == (
        "RATE_LIMITED"
    )
    assert await open_orders(api, alice) == 3, "a refused batch places nothing"
    ids = [p["order"]["id"] for p in placed]
    await api.data(CANCEL_MANY, {"ids": ids[:2]}, alice)
    assert await api.error_code(ops.CANCEL_ORDER, {"id": ids[2]}, alice) == "RATE_LIMITED"
    assert len((await api.data(CANCEL_ALL, {}, alice))["cancelAllOrders"]) == 1
    assert await open_orders(api, alice) == 0
