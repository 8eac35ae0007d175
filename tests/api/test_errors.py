"""Every contract error code at least once; a failing command changes nothing."""

from __future__ import annotations

import pytest

from schema.schema import build_schema
from tests.api import ops
from tests.api.conftest import Api


async def test_unauthenticated_without_or_with_a_forged_token(api: Api) -> None:
    variables = {"i": ops.market_input()}
    assert await api.error_code(ops.CREATE_MARKET, variables) == "UNAUTHENTICATED"
    assert await api.error_code(ops.CREATE_MARKET, variables, "not.a.jwt") == "UNAUTHENTICATED"
    _, token = await api.user("alice")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert await api.error_code(ops.ME, token=tampered) == "UNAUTHENTICATED"


async def test_wrong_password_is_unauthenticated(api: Api) -> None:
    await api.user("alice")
    query = 'mutation { login(username: "alice", password: "wrong password") { accessToken } }'
    assert await api.error_code(query) == "UNAUTHENTICATED"


async def test_forbidden_when_not_the_creator(api: Api) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    market = await ops.create_market(api, alice)
    assert await api.error_code(ops.PAUSE, {"id": market["id"]}, bob) == "FORBIDDEN"


async def test_not_found(api: Api) -> None:
    _, alice = await api.user("alice")
    assert await api.error_code(ops.PAUSE, {"id": "nope"}, alice) == "NOT_FOUND"
    assert (await api.data(ops.MARKET, {"id": "nope"}))["market"] is None


@pytest.mark.parametrize(
    "change",
    [{"title": "short"}, {"outcomes": ["Yes", "yes"]}, {"closesAt": "2001-01-01T00:00:00Z"}],
)
async def test_bad_user_input(api: Api, change: dict[str, object]) -> None:
    _, alice = await api.user("alice")
    variables = {"i": {**ops.market_input(), **change}}
    assert await api.error_code(ops.CREATE_MARKET, variables, alice) == "BAD_USER_INPUT"


async def test_parse_validation_and_variable_errors_are_bad_user_input(api: Api) -> None:
    assert await api.error_code("{ me { id ") == "BAD_USER_INPUT"
    assert await api.error_code("{ nope }") == "BAD_USER_INPUT"
    assert await api.error_code(
        "query($f: Int) { markets(first: $f) { totalCount } }", {"f": "x"}
    ) == ("BAD_USER_INPUT")
    assert await api.error_code('{ markets(after: "garbage") { totalCount } }') == "BAD_USER_INPUT"


async def test_invalid_amount_and_nothing_changes(api: Api) -> None:
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    before = await ops.me(api, alice)
    for qty, price in ((0, 50), (5, 100), (10**9, 50), (3 * 10**9, 50), (-(2**40), 50)):
        code = await api.error_code(ops.PLACE_ORDER, ops.limit(market, "BUY", qty, price), alice)
        assert code == "INVALID_AMOUNT"
    assert await ops.me(api, alice) == before


async def test_insufficient_balance_and_shares(api: Api) -> None:
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    big = ops.limit(market, "BUY", 100_000, 99)
    assert await api.error_code(ops.PLACE_ORDER, big, alice) == "INSUFFICIENT_BALANCE"
    sell = ops.limit(market, "SELL", 1, 50)
    assert await api.error_code(ops.PLACE_ORDER, sell, alice) == "INSUFFICIENT_SHARES"
    redeem = {"m": market["id"], "q": 1}
    assert await api.error_code(ops.REDEEM, redeem, alice) == "INSUFFICIENT_SHARES"


async def test_market_paused_closed_and_resolved(api: Api) -> None:
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    order = ops.limit(market, "BUY", 1, 50)
    await api.data(ops.PAUSE, {"id": market["id"]}, alice)
    assert await api.error_code(ops.PLACE_ORDER, order, alice) == "MARKET_PAUSED"
    await api.data(ops.CLOSE, {"id": market["id"]}, alice)
    assert await api.error_code(ops.PLACE_ORDER, order, alice) == "MARKET_CLOSED"
    await api.data(ops.VOID, {"id": market["id"]}, alice)
    assert await api.error_code(ops.PLACE_ORDER, order, alice) == "MARKET_RESOLVED"
    assert await api.error_code(ops.PAUSE, {"id": market["id"]}, alice) == "MARKET_RESOLVED"


async def test_wrong_market_type(api: Api) -> None:
    _, alice = await api.user("alice")
    lmsr = await ops.create_market(api, alice, "LMSR")
    book = await ops.create_market(api, alice, "ORDER_BOOK")
    assert await api.data(ops.PLACE_ORDER, ops.limit(lmsr, "BUY", 1, 5), alice)  # hybrid: rests
    quote = {"i": {"marketId": book["id"], "side": "BUY_YES", "amountType": "SHARES", "amount": 1}}
    assert await api.error_code(ops.QUOTE, quote, alice) == "WRONG_MARKET_TYPE"
    assert (
        await api.error_code(
            ops.LMSR_TRADE,
            {"i": {"marketId": book["id"], "side": "BUY_YES", "amountType": "SHARES", "amount": 1}},
            alice,
        )
        == "WRONG_MARKET_TYPE"
    )


async def test_price_limit_exceeded(api: Api) -> None:
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice)
    guarded = {
        "marketId": market["id"],
        "side": "BUY_YES",
        "amountType": "SHARES",
        "amount": 10,
        "limitCents": 100,
    }
    assert await api.error_code(ops.LMSR_TRADE, {"i": guarded}, alice) == "PRICE_LIMIT_EXCEEDED"


async def test_order_not_cancellable(api: Api) -> None:
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    order = (await api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 1, 50), alice))["placeOrder"]
    await api.data(ops.CANCEL_ORDER, {"id": order["id"]}, alice)
    assert await api.error_code(ops.CANCEL_ORDER, {"id": order["id"]}, alice) == (
        "ORDER_NOT_CANCELLABLE"
    )


async def test_username_taken(api: Api) -> None:
    await api.user("alice")
    query = "mutation($i: RegisterInput!) { register(input: $i) { id } }"
    variables = {
        "i": {"username": "ALICE", "email": "other@example.com", "password": "long enough"}
    }
    assert await api.error_code(query, variables) == "USERNAME_TAKEN"


async def test_login_is_rate_limited_per_username(api: Api) -> None:
    await api.user("alice")
    query = 'mutation { login(username: "alice", password: "wrong password") { accessToken } }'
    codes = [await api.error_code(query) for _ in range(6)]
    assert codes == ["UNAUTHENTICATED"] * 5 + ["RATE_LIMITED"]
    good = (
        'mutation { login(username: "alice", password: "correct horse battery") { accessToken } }'
    )
    assert await api.error_code(good) == "RATE_LIMITED"


async def test_query_too_complex(api: Api) -> None:
    aliases = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(20)) + " }"
    tokens = "{ " + " ".join("me { id }" for _ in range(800)) + " }"
    for _ in range(2):  # the second time from the parse and validation caches: the same
        page = "{ markets(first: 101) { totalCount } }"
        assert await api.error_code(page) == "QUERY_TOO_COMPLEX"
        assert await api.error_code(aliases) == "QUERY_TOO_COMPLEX"
        assert await api.error_code(tokens) == "QUERY_TOO_COMPLEX"
        assert await api.error_code("{ me { id ") == "BAD_USER_INPUT"
        assert await api.error_code("{ nope }") == "BAD_USER_INPUT"


async def test_depth_limit() -> None:
    schema = build_schema(max_depth=3)
    shallow = await schema.execute("{ markets { totalCount } }", context_value=None)
    assert shallow.errors is None or shallow.errors[0].extensions["code"] != "QUERY_TOO_COMPLEX"
    deep = await schema.execute("{ markets { edges { node { creator { id } } } } }")
    assert deep.errors is not None
    assert deep.errors[0].extensions == {"code": "QUERY_TOO_COMPLEX"}


async def test_request_body_too_large(api: Api) -> None:
    response = await api.client.post(
        "/graphql",
        content=b'{"query": "' + b" " * 200_000 + b'{ me { id } }"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_a_json_body_that_is_no_object_is_bad_user_input(api: Api) -> None:
    """It was a plain-text 500 from Strawberry's view (it read the body as a dict)."""
    for body in (b'"x"', b"42", b"null", b"false"):
        response = await api.client.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_unexpected_failures_are_masked_with_a_request_id(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from resolvers import markets

    async def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("SELECT secret FROM users -- stack")

    monkeypatch.setattr(markets.markets, "pause_market", boom)
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice)
    result = await api.run(ops.PAUSE, {"id": market["id"]}, alice)
    error = result["errors"][0]
    assert error["message"] == "Internal server error"
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert len(error["extensions"]["requestId"]) == 16
    assert "SELECT" not in str(result)
