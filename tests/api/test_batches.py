"""placeOrders, cancelOrders and cancelAllOrders over real HTTP."""

from __future__ import annotations

from typing import Any

from tests.api import ops
from tests.api.conftest import Api

PLACE_MANY = """mutation($i: [PlaceOrderInput!]!, $a: Boolean) {
  placeOrders(inputs: $i, atomic: $a) { order { id status priceCents } error { code message } } }"""
CANCEL_MANY = """mutation($ids: [ID!]!) { cancelOrders(ids: $ids) {
  id order { id status } error { code message } } }"""
CANCEL_ALL = "mutation($m: ID) { cancelAllOrders(marketId: $m) { id status } }"


def bids(market: dict[str, Any], *prices: int) -> list[dict[str, Any]]:
    return [ops.limit(market, "BUY", 1, price)["i"] for price in prices]


async def test_place_orders_returns_one_result_per_input(api: Api) -> None:
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    results = (await api.data(PLACE_MANY, {"i": bids(market, 40, 0, 41)}, alice))["placeOrders"]
    assert [r["error"] and r["error"]["code"] for r in results] == [None, "INVALID_AMOUNT", None]
    assert [r["order"] and r["order"]["priceCents"] for r in results] == [40, None, 41]
    assert (await ops.me(api, alice))["reservedCents"] == 81


async def test_an_atomic_batch_fails_whole_with_the_items_index(api: Api) -> None:
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    result = await api.run(PLACE_MANY, {"i": bids(market, 40, 41, 100), "a": True}, alice)
    error = result["errors"][0]
    assert error["extensions"]["code"] == "INVALID_AMOUNT"
    assert error["message"].startswith("item 2: ")
    assert (await ops.me(api, alice))["reservedCents"] == 0
    orders = await api.data("{ myOrders { totalCount } }", token=alice)
    assert orders["myOrders"]["totalCount"] == 0


async def test_batches_over_the_limit_are_query_too_complex(api: Api) -> None:
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    many = bids(market, *[40] * 101)
    assert await api.error_code(PLACE_MANY, {"i": many}, alice) == "QUERY_TOO_COMPLEX"
    ids = [str(n) for n in range(1001)]
    assert await api.error_code(CANCEL_MANY, {"ids": ids}, alice) == "QUERY_TOO_COMPLEX"


async def test_cancel_orders_and_cancel_all(api: Api) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    placed = (await api.data(PLACE_MANY, {"i": bids(market, 30, 31, 32)}, alice))["placeOrders"]
    ids = [r["order"]["id"] for r in placed]
    theirs = (await api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 1, 20), bob))["placeOrder"]
    results = (await api.data(CANCEL_MANY, {"ids": [ids[0], theirs["id"], "x"]}, alice))[
        "cancelOrders"
    ]
    assert [r["id"] for r in results] == [ids[0], theirs["id"], "x"]
    assert results[0]["order"]["status"] == "CANCELLED"
    assert [r["error"] and r["error"]["code"] for r in results] == [None, "FORBIDDEN", "NOT_FOUND"]
    rest = (await api.data(CANCEL_ALL, {"m": market["id"]}, alice))["cancelAllOrders"]
    assert sorted(o["id"] for o in rest) == sorted(ids[1:])
    assert (await api.data(CANCEL_ALL, {}, alice))["cancelAllOrders"] == []
    assert await api.error_code(CANCEL_ALL, {"m": "nope"}, alice) == "NOT_FOUND"
    assert (await ops.me(api, alice))["reservedCents"] == 0
    assert await api.error_code(CANCEL_ALL, {}) == "UNAUTHENTICATED"


AMEND = """mutation($id: ID!, $p: Int, $q: Int) {
  amendOrder(id: $id, priceCents: $p, quantity: $q) {
    id priceCents quantity filledQuantity remainingQuantity status } }"""


async def test_amend_order_over_http(api: Api) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    placed = await api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 10, 40), alice)
    order_id = placed["placeOrder"]["id"]
    smaller = (await api.data(AMEND, {"id": order_id, "q": 6}, alice))["amendOrder"]
    assert (smaller["quantity"], smaller["status"]) == (6, "OPEN")
    assert (await ops.me(api, alice))["reservedCents"] == 240
    repriced = (await api.data(AMEND, {"id": order_id, "p": 45, "q": 8}, alice))["amendOrder"]
    assert (repriced["priceCents"], repriced["remainingQuantity"]) == (45, 8)
    assert (await ops.me(api, alice))["reservedCents"] == 360
    assert await api.error_code(AMEND, {"id": order_id, "q": 5}, bob) == "FORBIDDEN"
    assert await api.error_code(AMEND, {"id": order_id, "p": 0}, alice) == "INVALID_AMOUNT"
    assert await api.error_code(AMEND, {"id": order_id}, alice) == "BAD_USER_INPUT"
    assert await api.error_code(AMEND, {"id": "nope", "q": 1}, alice) == "NOT_FOUND"
    await api.data(ops.CANCEL_ORDER, {"id": order_id}, alice)
    assert await api.error_code(AMEND, {"id": order_id, "q": 5}, alice) == "ORDER_NOT_CANCELLABLE"
    assert await api.error_code(AMEND, {"id": order_id, "q": 5}) == "UNAUTHENTICATED"


async def test_amend_priority_over_http(api: Api) -> None:
    """A lower quantity keeps the order's place at its price; a higher one loses it."""
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    _, carol = await api.user("carol")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    first = (await api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 10, 40), alice))["placeOrder"]
    await api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 10, 40), bob)
    await api.data(ops.MINT, {"m": market["id"], "q": 10}, carol)
    await api.data(AMEND, {"id": first["id"], "q": 5}, alice)
    sold = await api.data(ops.PLACE_ORDER, ops.limit(market, "SELL", 2, 40), carol)
    assert sold["placeOrder"]["trades"][0]["quantity"] == 2
    assert (await ops.me(api, alice))["reservedCents"] == 3 * 40, "alice kept the front"
    await api.data(AMEND, {"id": first["id"], "q": 8}, alice)
    await api.data(ops.PLACE_ORDER, ops.limit(market, "SELL", 2, 40), carol)
    assert (await ops.me(api, bob))["reservedCents"] == 8 * 40, "bob is now in front"
    assert (await ops.me(api, alice))["reservedCents"] == 6 * 40
