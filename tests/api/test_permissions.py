"""Who may call each mutation: anonymous, another user, the owner, an admin.

The owner is the market's creator (lifecycle), the order's owner (cancel), or
the user acted upon (admin actions). Admins may manage any market but not
cancel someone else's order (only the owner may cancel).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from itertools import count
from typing import Any

import pytest
from starlette.applications import Starlette

from tests.api import ops
from tests.api.conftest import Api

OK = "ok"
U, F = "UNAUTHENTICATED", "FORBIDDEN"
ROLES = ("anonymous", "other", "owner", "admin")
_names = count()


@dataclass
class World:
    api: Api
    tokens: dict[str, str | None]
    ids: dict[str, str]

    async def market(self, kind: str = "LMSR", **extra: Any) -> dict[str, Any]:
        token = self.tokens["owner"]
        assert token is not None
        return await ops.create_market(self.api, token, kind, **extra)

    async def proposed(self, holder: str | None = None) -> dict[str, Any]:
        """A market of the owner's with a proposed resolution; ``holder`` holds a share."""
        market = await self.market(disputeWindowSeconds=3600)
        if holder is not None:
            await ops.buy_yes(self.api, holder, market["id"], 1)
        variables = {"id": market["id"], "w": market["outcomes"][0]["id"]}
        await self.api.data(ops.RESOLVE, variables, self.tokens["owner"])
        return market


Setup = Callable[[World, str], Awaitable[tuple[str, dict[str, Any]]]]


async def register(w: World, role: str) -> tuple[str, dict[str, Any]]:
    name = f"new{next(_names)}"
    query = "mutation($i: RegisterInput!) { register(input: $i) { id } }"
    return query, {"i": {"username": name, "email": f"{name}@x.org", "password": "long enough"}}


async def login(w: World, role: str) -> tuple[str, dict[str, Any]]:
    query = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { tokenType } }"
    return query, {"u": "owner", "p": "correct horse battery"}


async def create_market(w: World, role: str) -> tuple[str, dict[str, Any]]:
    return "mutation($i: CreateMarketInput!) { createMarket(input: $i) { id } }", {
        "i": ops.market_input()
    }


async def place_order(w: World, role: str) -> tuple[str, dict[str, Any]]:
    return ops.PLACE_ORDER, ops.limit(await w.market("ORDER_BOOK"), "BUY", 1, 10)


async def cancel_order(w: World, role: str) -> tuple[str, dict[str, Any]]:
    market = await w.market("ORDER_BOOK")
    placed = await w.api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 1, 10), w.tokens["owner"])
    return "mutation($id: ID!) { cancelOrder(id: $id) { id } }", {"id": placed["placeOrder"]["id"]}


async def lmsr_trade(w: World, role: str) -> tuple[str, dict[str, Any]]:
    market = await w.market()
    trade = {"marketId": market["id"], "side": "BUY_YES", "amountType": "SHARES", "amount": 1}
    return "mutation($i: LmsrTradeInput!) { lmsrTrade(input: $i) { sharesDelta } }", {"i": trade}


async def mint(w: World, role: str) -> tuple[str, dict[str, Any]]:
    market = await w.market("ORDER_BOOK")
    return "mutation($m: ID!) { mintCompleteSet(marketId: $m, quantity: 1) { cents } }", {
        "m": market["id"]
    }


async def redeem(w: World, role: str) -> tuple[str, dict[str, Any]]:
    market = await w.market("ORDER_BOOK")
    if w.tokens[role] is not None:
        await w.api.data(ops.MINT, {"m": market["id"], "q": 1}, w.tokens[role])
    return "mutation($m: ID!) { redeemCompleteSet(marketId: $m, quantity: 1) { cents } }", {
        "m": market["id"]
    }


def lifecycle(name: str, paused: bool = False) -> Setup:
    async def setup(w: World, role: str) -> tuple[str, dict[str, Any]]:
        market = await w.market()
        if paused:
            await w.api.data(ops.PAUSE, {"id": market["id"]}, w.tokens["owner"])
        return f"mutation($id: ID!) {{ {name}(id: $id) {{ id }} }}", {"id": market["id"]}

    return setup


async def resolve(w: World, role: str) -> tuple[str, dict[str, Any]]:
    market = await w.market()
    query = (
        "mutation($id: ID!, $w: ID!) { resolveMarket(id: $id, winningOutcomeId: $w) "
        "{ winnersCount } }"
    )
    return query, {"id": market["id"], "w": market["outcomes"][0]["id"]}


async def void(w: World, role: str) -> tuple[str, dict[str, Any]]:
    market = await w.market()
    return "mutation($id: ID!) { voidMarket(id: $id) { refundedCents } }", {"id": market["id"]}


async def resolve_split(w: World, role: str) -> tuple[str, dict[str, Any]]:
    market = await w.market()
    query = (
        "mutation($id: ID!, $p: [OutcomePayoutInput!]!) "
        "{ resolveMarketSplit(id: $id, payouts: $p) { winnersCount } }"
    )
    payouts = [{"outcomeId": o["id"], "cents": 50} for o in market["outcomes"]]
    return query, {"id": market["id"], "p": payouts}


async def resolve_scalar(w: World, role: str) -> tuple[str, dict[str, Any]]:
    market = await w.market(outcomes=["Long", "Short"], scalar={"lower": 0.0, "upper": 1.0})
    query = "mutation($id: ID!) { resolveScalarMarket(id: $id, value: 0.5) { winnersCount } }"
    return query, {"id": market["id"]}


async def dispute(w: World, role: str) -> tuple[str, dict[str, Any]]:
    market = await w.proposed(holder=w.tokens["other"])
    query = 'mutation($id: ID!) { disputeResolution(id: $id, reason: "wrong") { status } }'
    return query, {"id": market["id"]}


async def unresolve(w: World, role: str) -> tuple[str, dict[str, Any]]:
    market = await w.proposed()
    return "mutation($id: ID!) { unresolveMarket(id: $id) { status } }", {"id": market["id"]}


async def grant(w: World, role: str) -> tuple[str, dict[str, Any]]:
    query = "mutation($u: ID!) { grantBonus(userId: $u, amountCents: 5) { id } }"
    return query, {"u": w.ids["owner"]}


async def deactivate(w: World, role: str) -> tuple[str, dict[str, Any]]:
    return "mutation($u: ID!) { deactivateUser(userId: $u) { id } }", {"u": w.ids["owner"]}


async def create_api_key(w: World, role: str) -> tuple[str, dict[str, Any]]:
    query = 'mutation { createApiKey(name: "bot", scopes: [READ]) { secret } }'
    return query, {}


async def revoke_api_key(w: World, role: str) -> tuple[str, dict[str, Any]]:
    created = await w.api.data(
        'mutation { createApiKey(name: "bot", scopes: [TRADE]) { apiKey { id } } }',
        token=w.tokens["owner"],
    )
    query = "mutation($id: ID!) { revokeApiKey(id: $id) { id } }"
    return query, {"id": created["createApiKey"]["apiKey"]["id"]}


async def place_orders(w: World, role: str) -> tuple[str, dict[str, Any]]:
    order = ops.limit(await w.market("ORDER_BOOK"), "BUY", 1, 10)["i"]
    return "mutation($i: [PlaceOrderInput!]!) { placeOrders(inputs: $i) { order { id } } }", {
        "i": [order]
    }


async def cancel_orders(w: World, role: str) -> tuple[str, dict[str, Any]]:
    """Someone else's id is an item's FORBIDDEN, not the mutation's (per-item results)."""
    _, variables = await cancel_order(w, role)
    return "mutation($ids: [ID!]!) { cancelOrders(ids: $ids) { id } }", {"ids": [variables["id"]]}


async def cancel_all_orders(w: World, role: str) -> tuple[str, dict[str, Any]]:
    return "mutation { cancelAllOrders { id } }", {}


async def amend_order(w: World, role: str) -> tuple[str, dict[str, Any]]:
    _, variables = await cancel_order(w, role)
    return "mutation($id: ID!) { amendOrder(id: $id, quantity: 2) { id } }", variables


async def heartbeat(w: World, role: str) -> tuple[str, dict[str, Any]]:
    return "mutation { heartbeat(timeoutSeconds: 0) { timeoutSeconds } }", {}


MATRIX: dict[str, tuple[Setup, tuple[str, str, str, str]]] = {
    "register": (register, (OK, OK, OK, OK)),
    "login": (login, (OK, OK, OK, OK)),
    "createMarket": (create_market, (U, OK, OK, OK)),
    "placeOrder": (place_order, (U, OK, OK, OK)),
    "cancelOrder": (cancel_order, (U, F, OK, F)),
    "lmsrTrade": (lmsr_trade, (U, OK, OK, OK)),
    "mintCompleteSet": (mint, (U, OK, OK, OK)),
    "redeemCompleteSet": (redeem, (U, OK, OK, OK)),
    "pauseMarket": (lifecycle("pauseMarket"), (U, F, OK, OK)),
    "resumeMarket": (lifecycle("resumeMarket", paused=True), (U, F, OK, OK)),
    "closeMarket": (lifecycle("closeMarket"), (U, F, OK, OK)),
    "resolveMarket": (resolve, (U, F, OK, OK)),
    "voidMarket": (void, (U, F, OK, OK)),
    "resolveMarketSplit": (resolve_split, (U, F, OK, OK)),
    "resolveScalarMarket": (resolve_scalar, (U, F, OK, OK)),
    "disputeResolution": (dispute, (U, OK, F, F)),  # only holders: here only "other"
    "unresolveMarket": (unresolve, (U, F, OK, OK)),
    "grantBonus": (grant, (U, F, F, OK)),
    "deactivateUser": (deactivate, (U, F, F, OK)),
    "placeOrders": (place_orders, (U, OK, OK, OK)),
    "cancelOrders": (cancel_orders, (U, OK, OK, OK)),
    "cancelAllOrders": (cancel_all_orders, (U, OK, OK, OK)),
    "heartbeat": (heartbeat, (U, OK, OK, OK)),
    "amendOrder": (amend_order, (U, F, OK, F)),
    "createApiKey": (create_api_key, (U, OK, OK, OK)),
    "revokeApiKey": (revoke_api_key, (U, F, OK, F)),
}
CASES = [
    pytest.param(mutation, role, expected[i], id=f"{mutation}-{role}")
    for mutation, (_, expected) in MATRIX.items()
    for i, role in enumerate(ROLES)
]


@pytest.fixture
async def world(api: Api, app: Starlette) -> World:
    owner_id, owner = await api.user("owner")
    other_id, other = await api.user("other")
    admin_id, admin = await api.user("admin", admin_of=app)
    tokens: dict[str, str | None] = {
        "anonymous": None,
        "other": other,
        "owner": owner,
        "admin": admin,
    }
    return World(api, tokens, {"owner": owner_id, "other": other_id, "admin": admin_id})


def test_the_matrix_covers_every_mutation() -> None:
    from schema.schema import build_schema

    mutations = set(build_schema()._schema.type_map["Mutation"].fields)  # type: ignore[union-attr]
    assert mutations == set(MATRIX)


@pytest.mark.parametrize(("mutation", "role", "expected"), CASES)
async def test_permission(world: World, mutation: str, role: str, expected: str) -> None:
    setup, _ = MATRIX[mutation]
    query, variables = await setup(world, role)
    result = await world.api.run(query, variables, world.tokens[role])
    got = result["errors"][0]["extensions"]["code"] if result.get("errors") else OK
    assert got == expected, result
