"""Every mutation's happy path over HTTP (in process)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from tests.api import ops
from tests.api.conftest import Api


async def test_register_returns_the_new_user_with_private_fields(api: Api) -> None:
    data = await api.data(
        "mutation($i: RegisterInput!) { register(input: $i) "
        "{ id username email balanceCents isAdmin isActive } }",
        {"i": {"username": "carol", "email": "carol@example.com", "password": "long enough"}},
    )
    user = data["register"]
    assert user["username"] == "carol"
    assert user["email"] == "carol@example.com"
    assert user["balanceCents"] == 100_000
    assert (user["isAdmin"], user["isActive"]) == (False, True)


async def test_login_returns_a_bearer_token_that_expires(api: Api) -> None:
    await api.user("alice")
    data = await api.data(
        'mutation { login(username: "alice", password: "correct horse battery") '
        "{ accessToken tokenType expiresAt user { username email } } }"
    )
    payload = data["login"]
    assert payload["tokenType"] == "bearer"
    assert payload["accessToken"].count(".") == 2
    assert payload["user"] == {"username": "alice", "email": "alice@example.com"}


async def test_create_lmsr_market_charges_the_subsidy(api: Api) -> None:
    _, token = await api.user("alice")
    market = await ops.create_market(api, token, "LMSR", liquidityParameter=100.0)
    assert market["status"] == "OPEN"
    assert market["prices"] == [0.5, 0.5]
    assert market["liquidityParameter"] == 100.0
    assert market["creator"]["username"] == "alice"
    assert (await ops.me(api, token))["balanceCents"] == 100_000 - 6932  # ceil(100*100*ln 2)


async def test_create_order_book_market_is_free(api: Api) -> None:
    _, token = await api.user("alice")
    market = await ops.create_market(api, token, "ORDER_BOOK", feeBps=50)
    assert (market["marketType"], market["feeBps"], market["liquidityParameter"]) == (
        "ORDER_BOOK",
        50,
        None,
    )
    assert (await ops.me(api, token))["balanceCents"] == 100_000


async def test_lmsr_trade_and_quote_agree(api: Api) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    market = await ops.create_market(api, alice)
    trade_input = {
        "marketId": market["id"],
        "side": "BUY_YES",
        "amountType": "SHARES",
        "amount": 20,
    }
    quote = (await api.data(ops.QUOTE, {"i": trade_input}))["quoteLmsr"]
    result = (await api.data(ops.LMSR_TRADE, {"i": trade_input}, bob))["lmsrTrade"]
    assert result["costOrPayoutCents"] == quote["costOrPayoutCents"] > 1000
    assert result["sharesDelta"] == quote["sharesDelta"] == 20
    assert (result["newPositionYes"], result["newPositionNo"]) == (20, 0)
    assert result["prices"][0] > 0.5
    assert result["trade"]["isAmmTrade"] is True
    assert result["trade"]["market"]["id"] == market["id"]
    balance = (await ops.me(api, bob))["balanceCents"]
    assert balance == 100_000 - result["costOrPayoutCents"]


async def test_place_and_cancel_order_release_the_reservation(api: Api) -> None:
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    order = (await api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 10, 40), alice))["placeOrder"]
    assert (order["status"], order["remainingQuantity"], order["priceCents"]) == ("OPEN", 10, 40)
    assert (await ops.me(api, alice))["reservedCents"] == 400
    cancelled = (await api.data(ops.CANCEL_ORDER, {"id": order["id"]}, alice))["cancelOrder"]
    assert cancelled["status"] == "CANCELLED"
    user = await ops.me(api, alice)
    assert (user["reservedCents"], user["balanceCents"]) == (0, 100_000)


async def test_crossing_orders_trade_at_the_makers_price(api: Api) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    await api.data(ops.MINT, {"m": market["id"], "q": 10}, alice)
    await api.data(ops.PLACE_ORDER, ops.limit(market, "SELL", 10, 60), alice)
    taken = (await api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 4, 70), bob))["placeOrder"]
    assert (taken["status"], taken["filledQuantity"]) == ("FILLED", 4)
    assert [(t["priceCents"], t["quantity"]) for t in taken["trades"]] == [(60, 4)]
    book = (await api.data(ops.ORDER_BOOK, {"m": market["id"], "o": market["outcomes"][0]["id"]}))[
        "orderBook"
    ]
    assert book["asks"] == [{"priceCents": 60, "quantity": 6, "orders": 1}]
    assert (book["lastTradeCents"], book["bestAskCents"], book["bestBidCents"]) == (60, 60, None)


async def test_the_order_book_answers_each_change_and_one_state_alike(api: Api) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    key = {"m": market["id"], "o": market["outcomes"][0]["id"]}

    async def book() -> tuple[Any, ...]:
        found = (await api.data(ops.ORDER_BOOK, key))["orderBook"]
        levels = [(level["priceCents"], level["quantity"]) for level in found["asks"]]
        return found["sequence"], levels, found["lastTradeCents"]

    await api.data(ops.MINT, {"m": market["id"], "q": 10}, alice)
    placed = await api.data(ops.PLACE_ORDER, ops.limit(market, "SELL", 10, 60), alice)
    first = await book()
    assert first[1:] == ([(60, 10)], None) and await book() == first
    await api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 4, 70), bob)
    filled = await book()
    assert filled[1:] == ([(60, 6)], 60) and filled[0] > first[0]
    await api.data(ops.CANCEL_ORDER, {"id": placed["placeOrder"]["id"]}, alice)
    cancelled = await book()
    assert cancelled[1:] == ([], 60) and cancelled[0] > filled[0]


async def test_client_order_id_makes_placing_idempotent(api: Api) -> None:
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    variables = ops.limit(market, "BUY", 5, 30, clientOrderId="retry-1")
    first = (await api.data(ops.PLACE_ORDER, variables, alice))["placeOrder"]
    again = (await api.data(ops.PLACE_ORDER, variables, alice))["placeOrder"]
    assert first["id"] == again["id"]
    assert (await ops.me(api, alice))["reservedCents"] == 150


async def test_mint_and_redeem_complete_sets(api: Api) -> None:
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    minted = (await api.data(ops.MINT, {"m": market["id"], "q": 5}, alice))["mintCompleteSet"]
    assert (minted["quantity"], minted["cents"]) == (5, 500)
    assert sorted(p["shares"] for p in minted["positions"]) == [5, 5]
    redeemed = (await api.data(ops.REDEEM, {"m": market["id"], "q": 2}, alice))["redeemCompleteSet"]
    assert (redeemed["cents"], sorted(p["shares"] for p in redeemed["positions"])) == (200, [3, 3])
    assert (await ops.me(api, alice))["balanceCents"] == 100_000 - 300


async def test_pause_resume_and_close(api: Api) -> None:
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    assert (await api.data(ops.PAUSE, {"id": market["id"]}, alice))["pauseMarket"]["status"] == (
        "PAUSED"
    )
    assert (await api.data(ops.RESUME, {"id": market["id"]}, alice))["resumeMarket"][
        "status"
    ] == "OPEN"
    assert (await api.data(ops.CLOSE, {"id": market["id"]}, alice))["closeMarket"]["status"] == (
        "CLOSED"
    )


async def test_resolve_pays_winners_and_returns_the_rest_to_the_creator(api: Api) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    market = await ops.create_market(api, alice)
    bought = await ops.buy_yes(api, bob, market["id"], 20)
    yes = market["outcomes"][0]["id"]
    result = (await api.data(ops.RESOLVE, {"id": market["id"], "w": yes}, alice))["resolveMarket"]
    assert (result["totalPayoutCents"], result["winnersCount"]) == (2000, 1)
    assert result["market"]["status"] == "RESOLVED"
    assert result["market"]["winningOutcome"]["id"] == yes
    assert result["market"]["prices"] == [1.0, 0.0]
    bob_cash = (await ops.me(api, bob))["balanceCents"]
    assert bob_cash == 100_000 - bought["costOrPayoutCents"] + 2000
    alice_cash = (await ops.me(api, alice))["balanceCents"]
    assert alice_cash == 100_000 - 6932 + result["refundedCents"]


async def test_void_refunds_cost_basis(api: Api) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    market = await ops.create_market(api, alice)
    await ops.buy_yes(api, bob, market["id"], 20)
    result = (await api.data(ops.VOID, {"id": market["id"]}, alice))["voidMarket"]
    assert result["market"]["status"] == "VOIDED"
    assert result["totalPayoutCents"] == 0
    assert (await ops.me(api, bob))["balanceCents"] == 100_000
    assert (await ops.me(api, alice))["balanceCents"] == 100_000


async def test_admin_grants_bonus_and_deactivates(api: Api, app: Starlette) -> None:
    _, admin = await api.user("root", admin_of=app)
    bob_id, bob = await api.user("bob")
    granted = (await api.data(ops.GRANT, {"u": bob_id, "a": 500}, admin))["grantBonus"]
    assert granted["bonusBalanceCents"] == 500
    assert (await ops.me(api, bob))["bonusBalanceCents"] == 500
    gone = (await api.data(ops.DEACTIVATE, {"u": bob_id}, admin))["deactivateUser"]
    assert gone["isActive"] is False
    assert await api.error_code("{ me { id } }", token=bob) == "UNAUTHENTICATED"
    assert await api.error_code(ops.POSITIONS, token=bob) == "UNAUTHENTICATED"
