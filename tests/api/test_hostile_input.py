"""Hostile input over real HTTP: every value GraphQL lets through gets a coded answer,
the same on SQLite and PostgreSQL, and nothing changes (issue 12, items 1 and 4-6)."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from typing import Any

import pytest

from persistence.tortoise.snapshot import audit_database
from tests import dbtools
from tests.api import ops
from tests.api.conftest import Api
from web.settings import AppSettings

NUL = "a\u0000b"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
async def settings(
    settings: AppSettings, backend: str, request: pytest.FixtureRequest
) -> AppSettings:
    if backend == "sqlite":
        return settings
    url: str = request.getfixturevalue("postgres_url")
    async with dbtools.opened(url) as database:
        await dbtools.truncate(database)
    return replace(settings, database_url=url)


async def _book_market(api: Api) -> tuple[str, dict[str, Any]]:
    _, alice = await api.user("alice")
    return alice, await ops.create_market(api, alice, "ORDER_BOOK")


@pytest.mark.parametrize(
    "expires_at",
    ["9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59Z", "3000-01-01T00:00:00Z", "0001-01-01"],
)
async def test_a_time_outside_the_range_in_utc_is_bad_user_input(api: Api, expires_at: str) -> None:
    alice, market = await _book_market(api)
    before = await ops.me(api, alice)
    order = ops.limit(market, "BUY", 1, 40, timeInForce="GTD", expiresAt=expires_at)
    assert await api.error_code(ops.PLACE_ORDER, order, alice) == "BAD_USER_INPUT"
    literal = order["i"] | {"side": "BUY", "orderType": "LIMIT", "timeInForce": "GTD"}
    inline = (
        f'mutation {{ placeOrder(input: {{ marketId: "{market["id"]}", '
        f'outcomeId: "{literal["outcomeId"]}", side: BUY, orderType: LIMIT, quantity: 1, '
        f'priceCents: 40, timeInForce: GTD, expiresAt: "{expires_at}" }}) {{ id }} }}'
    )
    assert await api.error_code(inline, token=alice) == "BAD_USER_INPUT"
    closing = {"i": ops.market_input(closesAt=expires_at)}
    assert await api.error_code(ops.CREATE_MARKET, closing, alice) == "BAD_USER_INPUT"
    assert await ops.me(api, alice) == before
    book = await api.data(ops.ORDER_BOOK, {"m": market["id"], "o": literal["outcomeId"]})
    assert book["orderBook"]["bids"] == []


async def test_a_far_time_with_an_offset_is_stored_in_utc(api: Api) -> None:
    alice, market = await _book_market(api)
    far = "2999-12-31T20:00:00-03:00"
    order = ops.limit(market, "BUY", 1, 40, timeInForce="GTD", expiresAt=far)
    placed = (await api.data(ops.PLACE_ORDER, order, alice))["placeOrder"]
    assert placed["expiresAt"].startswith("2999-12-31T23:00:00")
    assert (await api.data(ops.CANCEL_ORDER, {"id": placed["id"]}, alice))["cancelOrder"]


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_stored_time_beyond_the_range_takes_nothing_down(
    api: Api, settings: AppSettings
) -> None:
    """A row written before the range check (a GTD order expiring in the year 10000 in
    UTC) must still read: the audit, the book, the cancel, the market's resolution."""
    alice, market = await _book_market(api)
    order = ops.limit(market, "BUY", 2, 40, timeInForce="GTD", expiresAt="2999-01-01T00:00:00Z")
    placed = (await api.data(ops.PLACE_ORDER, order, alice))["placeOrder"]
    path = settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as raw:
        raw.execute(
            "UPDATE orders SET expires_at = ? WHERE id = ?",
            ("9999-12-31T23:59:59-14:00", placed["id"]),
        )
    async with dbtools.opened(settings.database_url) as database:
        assert await audit_database(database) == []
    outcome = market["outcomes"][0]["id"]
    book = (await api.data(ops.ORDER_BOOK, {"m": market["id"], "o": outcome}))["orderBook"]
    assert book["bids"] == [{"priceCents": 40, "quantity": 2, "orders": 1}]
    cancelled = (await api.data(ops.CANCEL_ORDER, {"id": placed["id"]}, alice))["cancelOrder"]
    assert cancelled["status"] == "CANCELLED"
    await api.data(ops.CLOSE, {"id": market["id"]}, alice)
    await api.data(ops.RESOLVE, {"id": market["id"], "w": outcome}, alice)


NUL_CASES = [
    (ops.MARKET, {"id": NUL}, None),
    (ops.ORDER_BOOK, {"m": NUL, "o": NUL}, None),
    (ops.POSITIONS, {"m": NUL}, "alice"),
    ("query($m: ID) { myOrders(marketId: $m) { totalCount } }", {"m": NUL}, "alice"),
    ("query($m: ID) { myTrades(marketId: $m) { totalCount } }", {"m": NUL}, "alice"),
    (ops.CANCEL_ORDER, {"id": NUL}, "alice"),
    (ops.GRANT, {"u": NUL, "a": 5}, "alice"),
    (ops.DEACTIVATE, {"u": NUL}, "alice"),
    (
        "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }",
        {"u": NUL, "p": "correct horse battery"},
        None,
    ),
    (
        ops.PLACE_ORDER,
        {
            "i": {
                **ops.limit({"id": NUL, "outcomes": [{"id": NUL}]}, "BUY", 1, 5)["i"],
                "clientOrderId": NUL,
            }
        },
        "alice",
    ),
    (ops.CREATE_MARKET, {"i": ops.market_input(title=f"A title with {NUL} inside")}, "alice"),
]


@pytest.mark.parametrize(("query", "variables", "who"), NUL_CASES)
async def test_nul_in_any_string_is_bad_user_input(
    api: Api, app: Any, query: str, variables: dict[str, Any], who: str | None
) -> None:
    _, alice = await api.user("alice", admin_of=app)
    token = alice if who else None
    assert await api.error_code(query, variables, token) == "BAD_USER_INPUT"


async def test_nul_in_a_literal_is_bad_user_input(api: Api) -> None:
    assert await api.error_code('{ market(id: "a\\u0000b") { id } }') == "BAD_USER_INPUT"


@pytest.mark.parametrize("b", [1.7e308, -1.7e308, 5e-324, 1e7, 0.0])
async def test_every_float_input_has_a_finite_range(api: Api, b: float) -> None:
    _, alice = await api.user("alice")
    before = await ops.me(api, alice)
    variables = {"i": ops.market_input(liquidityParameter=b)}
    assert await api.error_code(ops.CREATE_MARKET, variables, alice) == "INVALID_AMOUNT"
    inline = (
        'mutation { createMarket(input: { title: "A market with a huge b", marketType: LMSR, '
        f'outcomes: ["Yes", "No"], closesAt: "{ops.closes_in()}", liquidityParameter: {b!r} }})'
        " { id } }"
    )
    assert await api.error_code(inline, token=alice) == "INVALID_AMOUNT"
    assert await ops.me(api, alice) == before


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_subscription_over_http_says_to_use_a_websocket(api: Api, method: str) -> None:
    query = 'subscription { marketPrices(marketId: "m") { sequence } }'
    if method == "POST":
        response = await api.post(query)
    else:
        response = await api.client.get("/graphql", params={"query": query})
    assert response.status_code == 200, response.text
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "WebSocket" in error["message"]


PLACE_MANY = """mutation($i: [PlaceOrderInput!]!) { placeOrders(inputs: $i) {
  order { id } error { code } } }"""


async def test_a_client_order_id_reused_for_another_order_is_a_conflict(api: Api) -> None:
    alice, market = await _book_market(api)
    other = await ops.create_market(api, alice, "ORDER_BOOK")
    first = ops.limit(market, "BUY", 2, 40, clientOrderId="k-1")
    placed = (await api.data(ops.PLACE_ORDER, first, alice))["placeOrder"]
    before = await ops.me(api, alice)
    again = (await api.data(ops.PLACE_ORDER, first, alice))["placeOrder"]
    assert again["id"] == placed["id"]
    explicit = {"i": {**first["i"], "timeInForce": "GTC"}}  # the default, spelled out
    assert (await api.data(ops.PLACE_ORDER, explicit, alice))["placeOrder"]["id"] == placed["id"]
    changes = [
        {"priceCents": 41},
        {"quantity": 3},
        {"side": "SELL"},
        {"timeInForce": "IOC"},
        {"marketId": other["id"], "outcomeId": other["outcomes"][0]["id"]},
        {"outcomeId": market["outcomes"][1]["id"]},
    ]
    for change in changes:
        variables = {"i": {**first["i"], **change}}
        assert await api.error_code(ops.PLACE_ORDER, variables, alice) == "IDEMPOTENCY_CONFLICT"
    batch = [ops.limit(other, "BUY", 1, 30, clientOrderId="k-2")["i"]]
    batch.append({**batch[0], "priceCents": 31})
    results = (await api.data(PLACE_MANY, {"i": batch}, alice))["placeOrders"]
    assert results[1] == {"order": None, "error": {"code": "IDEMPOTENCY_CONFLICT"}}
    assert (await ops.me(api, alice))["reservedCents"] == before["reservedCents"] + 30
    book = await api.data(ops.ORDER_BOOK, {"m": market["id"], "o": market["outcomes"][0]["id"]})
    assert book["orderBook"]["bids"] == [{"priceCents": 40, "quantity": 2, "orders": 1}]
