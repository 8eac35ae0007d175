"""Reads: pagination, price history, positions and P&L, privacy, and batched loading."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette

from tests.api import ops
from tests.api.conftest import Api

MARKETS_PAGE = """query($first: Int, $after: String) { markets(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }"""


async def test_markets_pages_are_stable_when_new_markets_arrive(api: Api) -> None:
    _, alice = await api.user("alice")
    created = [(await ops.create_market(api, alice, "ORDER_BOOK"))["id"] for _ in range(5)]
    first = (await api.data(MARKETS_PAGE, {"first": 2}))["markets"]
    assert first["totalCount"] == 5
    assert [e["node"]["id"] for e in first["edges"]] == created[::-1][:2]
    assert first["pageInfo"]["hasNextPage"] is True
    await ops.create_market(api, alice, "ORDER_BOOK")
    after = first["pageInfo"]["endCursor"]
    second = (await api.data(MARKETS_PAGE, {"first": 2, "after": after}))["markets"]
    assert [e["node"]["id"] for e in second["edges"]] == created[::-1][2:4]
    last = await api.data(MARKETS_PAGE, {"first": 10, "after": second["pageInfo"]["endCursor"]})
    assert [e["node"]["id"] for e in last["markets"]["edges"]] == created[:1]
    assert last["markets"]["pageInfo"]["hasNextPage"] is False


async def test_malformed_cursor_is_bad_user_input(api: Api) -> None:
    for cursor in ("garbage", "", "YzF8bm90LWEtZGF0ZXx4"):
        assert await api.error_code(MARKETS_PAGE, {"after": cursor}) == "BAD_USER_INPUT"


async def test_my_orders_and_trades_are_paginated(api: Api) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    await api.data(ops.MINT, {"m": market["id"], "q": 10}, alice)
    for price in (60, 61, 62):
        await api.data(ops.PLACE_ORDER, ops.limit(market, "SELL", 1, price), alice)
    await api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 3, 70), bob)
    query = """query($a: String) { myOrders(first: 2, after: $a) { totalCount
      pageInfo { hasNextPage endCursor } edges { node { priceCents status } } } }"""
    page = (await api.data(query, {"a": None}, alice))["myOrders"]
    assert page["totalCount"] == 3
    assert [e["node"]["priceCents"] for e in page["edges"]] == [62, 61]
    rest = (await api.data(query, {"a": page["pageInfo"]["endCursor"]}, alice))["myOrders"]
    assert [e["node"]["priceCents"] for e in rest["edges"]] == [60]
    trades = """{ myTrades { totalCount edges { node { priceCents quantity takerSide
      market { id } outcome { name } } } } }"""
    mine = (await api.data(trades, token=bob))["myTrades"]
    assert mine["totalCount"] == 3
    assert sorted(e["node"]["priceCents"] for e in mine["edges"]) == [60, 61, 62]
    assert {e["node"]["takerSide"] for e in mine["edges"]} == {"BUY"}


async def test_positions_show_average_cost_and_unrealized_pnl(api: Api) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    market = await ops.create_market(api, alice)
    bought = await ops.buy_yes(api, bob, market["id"], 20)
    positions = (await api.data(ops.POSITIONS, {"m": market["id"]}, bob))["myPositions"]
    assert len(positions) == 1
    position = positions[0]
    assert position["shares"] == 20
    assert position["averageCostCents"] == pytest.approx(bought["costOrPayoutCents"] / 20, abs=1)
    price = bought["prices"][0]
    assert position["currentPrice"] == pytest.approx(price)
    expected = (price * 100 - position["averageCostCents"]) * 20
    assert position["unrealizedPnlCents"] == pytest.approx(expected)


async def test_price_history_is_served_downsampled_also_after_resolution(api: Api) -> None:
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice)
    await ops.buy_yes(api, alice, market["id"], 10)
    await api.data(ops.RESOLVE, {"id": market["id"], "w": market["outcomes"][0]["id"]}, alice)
    query = """query($id: ID!, $r: String) { market(id: $id) {
      priceHistory(resolution: $r, first: 10) { at prices } } }"""
    for resolution in ("1m", "5m", "1h", "1d"):
        history = (await api.data(query, {"id": market["id"], "r": resolution}))["market"]
        assert history["priceHistory"][-1]["prices"] == [1.0, 0.0]
    assert await api.error_code(query, {"id": market["id"], "r": "2m"}) == "BAD_USER_INPUT"


async def test_email_and_balances_are_private_to_the_user_and_admins(
    api: Api, app: Starlette
) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    _, root = await api.user("root", admin_of=app)
    market = await ops.create_market(api, alice)
    query = "query($id: ID!) { market(id: $id) { creator { email balanceCents } } }"
    seen_by = {}
    for name, token in (("alice", alice), ("bob", bob), ("root", root), ("anonymous", None)):
        seen_by[name] = (await api.data(query, {"id": market["id"]}, token))["market"]["creator"]
    assert seen_by["alice"]["email"] == seen_by["root"]["email"] == "alice@example.com"
    assert seen_by["bob"] == seen_by["anonymous"] == {"email": "", "balanceCents": 0}


@pytest.fixture
def sql_log() -> Iterator[list[str]]:
    statements: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            statements.append(record.getMessage())

    logger = logging.getLogger("tortoise.db_client")
    handler, level = Collect(logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield statements
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_nested_fields_are_batched_constant_queries(
    api: Api, app: Starlette, sql_log: list[str]
) -> None:
    if app.state.bellwether.settings.is_memory:
        pytest.skip("counts SQL queries")
    query = """{ markets(first: 50) { edges { node {
      outcomes { price } creator { username } } } } }"""
    counts = []
    for n in (1, 10):
        for i in range(n):
            _, token = await api.user(f"maker{n}x{i}")
            await ops.create_market(api, token, "ORDER_BOOK")
        sql_log.clear()
        data = await api.data(query)
        assert len(data["markets"]["edges"]) >= n
        counts.append(len(sql_log))
    assert counts[0] == counts[1] <= 5, counts


async def test_recent_trades_are_a_public_tape_newest_first(api: Api) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    await api.data(ops.MINT, {"m": market["id"], "q": 10}, alice)
    for price in (60, 61):
        await api.data(ops.PLACE_ORDER, ops.limit(market, "SELL", 1, price), alice)
        await api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 1, 70), bob)
    query = """query($id: ID!, $first: Int) { market(id: $id) {
      recentTrades(first: $first) { priceCents quantity takerSide } } }"""
    tape = (await api.data(query, {"id": market["id"], "first": 5}))["market"]["recentTrades"]
    assert [t["priceCents"] for t in tape] == [61, 60]
    assert await api.error_code(query, {"id": market["id"], "first": 101}) == "QUERY_TOO_COMPLEX"
