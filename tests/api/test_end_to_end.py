"""The seed chapter's end-to-end demo, extended, over real HTTP against uvicorn."""

from __future__ import annotations

import pytest

from tests.api import ops
from tests.api.conftest import Api

SUBSIDY_B100_N2 = 6932  # ceil(100 * 100 * ln 2)


async def test_two_traders_both_market_types_resolve_and_settle(live_api: Api) -> None:
    api = live_api
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")

    lmsr = await ops.create_market(api, alice, "LMSR", liquidityParameter=100.0)
    book = await ops.create_market(api, alice, "ORDER_BOOK")
    assert lmsr["prices"] == [0.5, 0.5]

    bought = await ops.buy_yes(api, bob, lmsr["id"], 20)
    assert bought["prices"][0] > 0.5

    await api.data(ops.MINT, {"m": book["id"], "q": 10}, alice)
    await api.data(ops.PLACE_ORDER, ops.limit(book, "SELL", 10, 65), alice)
    taken = (await api.data(ops.PLACE_ORDER, ops.limit(book, "BUY", 10, 70), bob))["placeOrder"]
    assert (taken["status"], [t["priceCents"] for t in taken["trades"]]) == ("FILLED", [65])

    positions = (await api.data(ops.POSITIONS, {"m": None}, bob))["myPositions"]
    by_market = {p["market"]["id"]: p for p in positions}
    assert by_market[lmsr["id"]]["shares"] == 20
    assert by_market[book["id"]]["shares"] == 10
    assert by_market[book["id"]]["averageCostCents"] == 65
    assert by_market[book["id"]]["currentPrice"] == pytest.approx(0.65)  # the last trade
    assert by_market[book["id"]]["unrealizedPnlCents"] == pytest.approx(0)

    lmsr_yes, book_no = lmsr["outcomes"][0]["id"], book["outcomes"][1]["id"]
    await api.data(ops.RESOLVE, {"id": lmsr["id"], "w": lmsr_yes}, alice)
    await api.data(ops.RESOLVE, {"id": book["id"], "w": book_no}, alice)

    bob_cash = (await ops.me(api, bob))["balanceCents"]
    assert bob_cash == 100_000 - bought["costOrPayoutCents"] + 20 * 100 - 650
    alice_user = await ops.me(api, alice)
    # alice: paid the subsidy, got the LMSR pool back, sold YES at 65, kept 10 NO that won.
    lmsr_pool_left = SUBSIDY_B100_N2 + bought["costOrPayoutCents"] - 2000
    assert alice_user["balanceCents"] == (
        100_000 - SUBSIDY_B100_N2 + lmsr_pool_left - 1000 + 650 + 1000
    )
    assert (await api.data(ops.POSITIONS, {"m": None}, bob))["myPositions"] == []

    history = await api.data(
        'query($id: ID!) { market(id: $id) { status priceHistory(resolution: "1m") { prices } } }',
        {"id": lmsr["id"]},
    )
    assert history["market"]["status"] == "RESOLVED"
    assert history["market"]["priceHistory"][-1]["prices"] == [1.0, 0.0]
    trades = await api.data("{ myTrades { totalCount edges { node { isAmmTrade } } } }", token=bob)
    assert trades["myTrades"]["totalCount"] == 2
    assert sorted(e["node"]["isAmmTrade"] for e in trades["myTrades"]["edges"]) == [False, True]
