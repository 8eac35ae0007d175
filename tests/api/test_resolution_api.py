"""Section 12 over real HTTP: each resolution mutation, its errors, settlements and P&L."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette

from tests.api import ops
from tests.api.conftest import Api, LiveServer
from tests.api.wsclient import live_client

MARKET = """id status payouts { outcome { id name } cents } scalar { lower upper unit }
  resolutionValue disputeWindowSeconds disputeWindowEndsAt disputeReason winningOutcome { id }
  outcomes { id name price }"""
RESULT = f"market {{ {MARKET} }} totalPayoutCents winnersCount refundedCents"
CREATE = f"mutation($i: CreateMarketInput!) {{ createMarket(input: $i) {{ {MARKET} }} }}"
RESOLVE = (
    f"mutation($id: ID!, $w: ID!) {{ resolveMarket(id: $id, winningOutcomeId: $w) {{ {RESULT} }} }}"
)
SPLIT = (
    "mutation($id: ID!, $p: [OutcomePayoutInput!]!) "
    f"{{ resolveMarketSplit(id: $id, payouts: $p) {{ {RESULT} }} }}"
)
SCALAR = (
    f"mutation($id: ID!, $v: Float!) {{ resolveScalarMarket(id: $id, value: $v) {{ {RESULT} }} }}"
)
DISPUTE = (
    f"mutation($id: ID!, $r: String!) {{ disputeResolution(id: $id, reason: $r) {{ {MARKET} }} }}"
)
UNRESOLVE = f"mutation($id: ID!) {{ unresolveMarket(id: $id) {{ {MARKET} }} }}"
SETTLEMENTS = """{ mySettlements(first: 10) { totalCount pageInfo { hasNextPage }
  edges { cursor node { market { id status } outcome { id name } shares payoutCents
  costBasisCents realizedPnlCents settledAt } } } }"""


async def _create(api: Api, token: str, **extra: Any) -> dict[str, Any]:
    data = await api.data(CREATE, {"i": ops.market_input("LMSR", **extra)}, token)
    market: dict[str, Any] = data["createMarket"]
    return market


def _split(market: dict[str, Any], *cents: int) -> list[dict[str, Any]]:
    return [
        {"outcomeId": o["id"], "cents": c} for o, c in zip(market["outcomes"], cents, strict=True)
    ]


async def test_split_resolution_pays_each_outcome_and_keeps_settlements(api: Api) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    market = await _create(api, alice)
    bought = await ops.buy_yes(api, bob, market["id"], 10)
    result = (await api.data(SPLIT, {"id": market["id"], "p": _split(market, 50, 50)}, alice))[
        "resolveMarketSplit"
    ]
    assert [p["cents"] for p in result["market"]["payouts"]] == [50, 50]
    assert result["market"]["status"] == "RESOLVED"
    assert result["market"]["winningOutcome"] is None
    assert (result["totalPayoutCents"], result["winnersCount"]) == (500, 1)
    settlements = (await api.data(SETTLEMENTS, token=bob))["mySettlements"]
    assert settlements["totalCount"] == 1
    node = settlements["edges"][0]["node"]
    assert (node["market"]["id"], node["outcome"]["name"]) == (market["id"], "Yes")
    cost = bought["costOrPayoutCents"]
    assert (node["shares"], node["payoutCents"], node["costBasisCents"]) == (10, 500, cost)
    assert node["realizedPnlCents"] == 500 - cost


async def test_payouts_not_summing_to_100_are_bad_user_input(api: Api) -> None:
    _, alice = await api.user("alice")
    market = await _create(api, alice)
    for cents in ((60, 30), (101, -1), (0, 0)):
        variables = {"id": market["id"], "p": _split(market, *cents)}
        assert await api.error_code(SPLIT, variables, alice) == "BAD_USER_INPUT"
    assert (await api.data(ops.MARKET, {"id": market["id"]}))["market"]["status"] == "OPEN"


async def test_scalar_market_shows_its_range_and_resolves_to_a_value(api: Api) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    scalar = {"lower": 0.0, "upper": 10.0, "unit": "%"}
    market = await _create(api, alice, outcomes=["Long", "Short"], scalar=scalar)
    assert market["scalar"] == scalar
    await ops.buy_yes(api, bob, market["id"], 4)
    result = (await api.data(SCALAR, {"id": market["id"], "v": 2.55}, alice))["resolveScalarMarket"]
    assert [p["cents"] for p in result["market"]["payouts"]] == [26, 74]
    assert result["market"]["resolutionValue"] == 2.55
    assert result["totalPayoutCents"] == 4 * 26


async def test_bad_scalar_and_window_inputs_are_bad_user_input(api: Api) -> None:
    _, alice = await api.user("alice")
    for extra in (
        {"outcomes": ["Long", "Short"], "scalar": {"lower": 5.0, "upper": 5.0}},
        {"outcomes": ["A", "B", "C"], "scalar": {"lower": 0.0, "upper": 1.0}},
        {"disputeWindowSeconds": 604801},
        {"disputeWindowSeconds": -1},
    ):
        variables = {"i": ops.market_input("LMSR", **extra)}
        assert await api.error_code(CREATE, variables, alice) == "BAD_USER_INPUT"
    plain = await _create(api, alice)
    assert await api.error_code(SCALAR, {"id": plain["id"], "v": 1.0}, alice) == "BAD_USER_INPUT"


@pytest.mark.parametrize("huge", [1.7e308, 1e16])
async def test_scalar_numbers_beyond_their_range_are_invalid_amount(api: Api, huge: float) -> None:
    _, alice = await api.user("alice")
    before = await ops.me(api, alice)
    for scalar in ({"lower": -huge, "upper": 0.0}, {"lower": 0.0, "upper": huge}):
        variables = {"i": ops.market_input("LMSR", outcomes=["Long", "Short"], scalar=scalar)}
        assert await api.error_code(CREATE, variables, alice) == "INVALID_AMOUNT", scalar
    assert await ops.me(api, alice) == before
    market = await _create(
        api, alice, outcomes=["Long", "Short"], scalar={"lower": 0.0, "upper": 10.0}
    )
    await api.data(ops.CLOSE, {"id": market["id"]}, alice)
    for value in (huge, -huge):
        variables = {"id": market["id"], "v": value}
        assert await api.error_code(SCALAR, variables, alice) == "INVALID_AMOUNT"
    assert (await api.data(ops.MARKET, {"id": market["id"]}))["market"]["status"] == "CLOSED"


async def test_dispute_window_proposal_dispute_and_admin_unresolve(
    api: Api, app: Starlette
) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    _, carol = await api.user("carol")
    _, root = await api.user("root", admin_of=app)
    market = await _create(api, alice, disputeWindowSeconds=3600)
    assert market["disputeWindowSeconds"] == 3600
    await ops.buy_yes(api, bob, market["id"], 5)
    yes = market["outcomes"][0]["id"]
    proposed = (await api.data(RESOLVE, {"id": market["id"], "w": yes}, alice))["resolveMarket"]
    assert proposed["market"]["status"] == "RESOLUTION_PROPOSED"
    assert proposed["market"]["disputeWindowEndsAt"] is not None
    assert [p["cents"] for p in proposed["market"]["payouts"]] == [100, 0]
    assert (proposed["totalPayoutCents"], proposed["winnersCount"]) == (0, 0)
    dispute = {"id": market["id"], "r": "The source says otherwise"}
    assert await api.error_code(DISPUTE, dispute, carol) == "FORBIDDEN"
    disputed = (await api.data(DISPUTE, dispute, bob))["disputeResolution"]
    assert (disputed["status"], disputed["disputeReason"]) == ("DISPUTED", dispute["r"])
    assert await api.error_code(RESOLVE, {"id": market["id"], "w": yes}, alice) == "FORBIDDEN"
    assert await api.error_code(UNRESOLVE, {"id": market["id"]}, alice) == "FORBIDDEN"
    back = (await api.data(UNRESOLVE, {"id": market["id"]}, root))["unresolveMarket"]
    assert (back["status"], back["payouts"], back["disputeWindowEndsAt"]) == ("CLOSED", None, None)
    assert await api.error_code(UNRESOLVE, {"id": market["id"]}, alice) == "BAD_USER_INPUT"


async def test_an_admin_resolving_a_dispute_pays_at_once(api: Api, app: Starlette) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    _, root = await api.user("root", admin_of=app)
    market = await _create(api, alice, disputeWindowSeconds=600)
    await ops.buy_yes(api, bob, market["id"], 5)
    yes, no = (o["id"] for o in market["outcomes"])
    await api.data(RESOLVE, {"id": market["id"], "w": no}, alice)
    await api.data(DISPUTE, {"id": market["id"], "r": "YES happened"}, bob)
    final = (await api.data(RESOLVE, {"id": market["id"], "w": yes}, root))["resolveMarket"]
    assert final["market"]["status"] == "RESOLVED"
    assert final["market"]["winningOutcome"] == {"id": yes}
    assert (final["totalPayoutCents"], final["winnersCount"]) == (500, 1)


async def test_unresolving_a_final_market_is_market_resolved(api: Api, app: Starlette) -> None:
    _, alice = await api.user("alice")
    _, root = await api.user("root", admin_of=app)
    market = await _create(api, alice)
    await api.data(RESOLVE, {"id": market["id"], "w": market["outcomes"][0]["id"]}, alice)
    for token in (alice, root):
        assert await api.error_code(UNRESOLVE, {"id": market["id"]}, token) == "MARKET_RESOLVED"


async def test_positions_show_realized_pnl_of_sales(api: Api) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    market = await _create(api, alice)
    bought = await ops.buy_yes(api, bob, market["id"], 10)
    sell = {"marketId": market["id"], "side": "SELL_YES", "amountType": "SHARES", "amount": 5}
    sold = (await api.data(ops.LMSR_TRADE, {"i": sell}, bob))["lmsrTrade"]
    query = "{ myPositions { shares realizedPnlCents } }"
    positions = (await api.data(query, token=bob))["myPositions"]
    average = (2 * bought["costOrPayoutCents"] * 5 + 10) // 20
    assert positions == [{"shares": 5, "realizedPnlCents": sold["costOrPayoutCents"] - average}]


async def test_market_status_announces_proposal_dispute_unresolve_and_resolution(
    server: LiveServer, live_api: Api, app: Starlette
) -> None:
    _, alice = await live_api.user("alice")
    _, bob = await live_api.user("bob")
    _, root = await live_api.user("root", admin_of=app)
    market = await _create(live_api, alice, disputeWindowSeconds=3600)
    await ops.buy_yes(live_api, bob, market["id"], 2)
    status = "subscription($m: ID!) { marketStatus(marketId: $m) { status } }"
    target = {"id": market["id"], "w": market["outcomes"][0]["id"]}
    async with live_client(server.ws_url) as ws:
        await ws.subscribe("s", status, {"m": market["id"]})
        assert (await ws.data())["marketStatus"]["status"] == "OPEN"
        await live_api.data(RESOLVE, target, alice)
        # Resolving an OPEN market closes it first, then proposes.
        seen = [(await ws.data())["marketStatus"]["status"] for _ in range(2)]
        assert seen == ["CLOSED", "RESOLUTION_PROPOSED"]
        await live_api.data(DISPUTE, {"id": market["id"], "r": "no"}, bob)
        assert (await ws.data())["marketStatus"]["status"] == "DISPUTED"
        await live_api.data(UNRESOLVE, {"id": market["id"]}, root)
        assert (await ws.data())["marketStatus"]["status"] == "CLOSED"
        await live_api.data(RESOLVE, target, alice)
        assert (await ws.data())["marketStatus"]["status"] == "RESOLUTION_PROPOSED"
        await live_api.data(RESOLVE, target, root)
        assert (await ws.data())["marketStatus"]["status"] == "RESOLVED"
