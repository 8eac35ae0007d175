"""PRODUCT.md section 10 over HTTP: a YES bid and a NO bid mint, opposite asks merge,
and a binary market shows one book (NO as the mirror of YES)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api import ops
from tests.api.conftest import Api

BOOK = """query($m: ID!, $o: ID!) { orderBook(marketId: $m, outcomeId: $o) {
  bids { priceCents quantity orders syntheticQuantity }
  asks { priceCents quantity orders syntheticQuantity }
  bestBidCents bestAskCents } }"""
MY_TRADES = """query($m: ID) { myTrades(marketId: $m) {
  edges { node { priceCents quantity outcome { name } } } } }"""


def order(market: dict[str, Any], outcome: int, side: str, qty: int, price: int) -> dict[str, Any]:
    variables = ops.limit(market, side, qty, price)
    variables["i"]["outcomeId"] = market["outcomes"][outcome]["id"]
    return variables


async def _book(api: Api, market: dict[str, Any], outcome: int) -> dict[str, Any]:
    found = await api.data(BOOK, {"m": market["id"], "o": market["outcomes"][outcome]["id"]})
    result: dict[str, Any] = found["orderBook"]
    return result


async def test_a_yes_bid_at_40_and_a_no_bid_at_65_trade_by_minting(api: Api) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    await api.data(ops.PLACE_ORDER, order(market, 0, "BUY", 10, 40), alice)
    no = await _book(api, market, 1)
    assert no["asks"] == [{"priceCents": 60, "quantity": 10, "orders": 0, "syntheticQuantity": 10}]
    placed = (await api.data(ops.PLACE_ORDER, order(market, 1, "BUY", 10, 65), bob))["placeOrder"]
    assert (placed["status"], placed["filledQuantity"]) == ("FILLED", 10)
    assert [(t["priceCents"], t["quantity"]) for t in placed["trades"]] == [(60, 10)]
    assert (await ops.me(api, bob))["balanceCents"] == 100_000 - 600
    assert (await ops.me(api, alice))["balanceCents"] == 100_000 - 400
    for token, expected in ((alice, ["Yes", 40]), (bob, ["No", 60])):
        mine = (await api.data(MY_TRADES, {"m": market["id"]}, token))["myTrades"]["edges"]
        assert [[e["node"]["outcome"]["name"], e["node"]["priceCents"]] for e in mine] == [expected]
    after = (await api.data(ops.MARKET, {"id": market["id"]}))["market"]
    assert [o["sharesOutstanding"] for o in after["outcomes"]] == [10, 10]
    assert sum(after["prices"]) == pytest.approx(1.0)


async def test_asks_summing_to_at_most_100_merge(api: Api) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    for token in (alice, bob):
        await api.data(ops.MINT, {"m": market["id"], "q": 10}, token)
    await api.data(ops.PLACE_ORDER, order(market, 0, "SELL", 10, 30), alice)
    placed = (await api.data(ops.PLACE_ORDER, order(market, 1, "SELL", 4, 60), bob))["placeOrder"]
    assert [(t["priceCents"], t["quantity"]) for t in placed["trades"]] == [(70, 4)]
    assert (await ops.me(api, bob))["balanceCents"] == 100_000 - 1000 + 280
    after = (await api.data(ops.MARKET, {"id": market["id"]}))["market"]
    assert [o["sharesOutstanding"] for o in after["outcomes"]] == [16, 16]


async def test_a_binary_market_is_one_book_seen_from_either_side(api: Api) -> None:
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    await api.data(ops.MINT, {"m": market["id"], "q": 20}, alice)
    for outcome, side, qty, price in [(0, "BUY", 5, 40), (0, "SELL", 7, 70), (1, "BUY", 3, 25)]:
        await api.data(ops.PLACE_ORDER, order(market, outcome, side, qty, price), alice)
    yes, no = await _book(api, market, 0), await _book(api, market, 1)
    assert (yes["bestBidCents"], yes["bestAskCents"]) == (40, 70)
    assert (no["bestBidCents"], no["bestAskCents"]) == (30, 60)
    assert yes["bestBidCents"] == 100 - no["bestAskCents"]
    mirrored = [(100 - level["priceCents"], level["quantity"]) for level in no["asks"]]
    assert mirrored == [(level["priceCents"], level["quantity"]) for level in yes["bids"]]
    assert [(level["priceCents"], level["syntheticQuantity"]) for level in yes["asks"]] == [
        (70, 0),
        (75, 3),
    ]
    after = (await api.data(ops.MARKET, {"id": market["id"]}))["market"]
    assert after["prices"] == pytest.approx([0.55, 0.45])
