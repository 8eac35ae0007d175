"""GraphQL documents and small helpers shared by the API tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.conftest import Api

MARKET_FIELDS = """
  id title status marketType feeBps liquidityParameter volumeCents closesAt resolvedAt
  prices outcomes { id name index price sharesOutstanding }
  winningOutcome { id name } creator { id username }
"""
CREATE_MARKET = (
    f"mutation($i: CreateMarketInput!) {{ createMarket(input: $i) {{ {MARKET_FIELDS} }} }}"
)
MARKET = f"query($id: ID!) {{ market(id: $id) {{ {MARKET_FIELDS} }} }}"
ME = "{ me { id username email balanceCents bonusBalanceCents reservedCents isAdmin isActive } }"
ORDER_FIELDS = """
  id side orderType timeInForce priceCents quantity filledQuantity remainingQuantity status
  postOnly expiresAt clientOrderId createdAt market { id } outcome { id name }
  trades { id priceCents quantity takerSide isAmmTrade }
"""
PLACE_ORDER = f"mutation($i: PlaceOrderInput!) {{ placeOrder(input: $i) {{ {ORDER_FIELDS} }} }}"
CANCEL_ORDER = f"mutation($id: ID!) {{ cancelOrder(id: $id) {{ {ORDER_FIELDS} }} }}"
LMSR_TRADE = """mutation($i: LmsrTradeInput!) { lmsrTrade(input: $i) {
  costOrPayoutCents sharesDelta feeCents newPositionYes newPositionNo prices
  trade { id priceCents quantity isAmmTrade takerSide market { id } outcome { id } } } }"""
QUOTE = """query($i: LmsrTradeInput!) { quoteLmsr(input: $i) {
  costOrPayoutCents sharesDelta feeCents averagePrice pricesAfter } }"""
SET_FIELDS = "quantity cents positions { shares outcome { id } market { id } }"
MINT = (
    "mutation($m: ID!, $q: Int!) { mintCompleteSet(marketId: $m, quantity: $q) "
    f"{{ {SET_FIELDS} }} }}"
)
REDEEM = (
    "mutation($m: ID!, $q: Int!) { redeemCompleteSet(marketId: $m, quantity: $q) "
    f"{{ {SET_FIELDS} }} }}"
)
PAUSE = "mutation($id: ID!) { pauseMarket(id: $id) { id status } }"
RESUME = "mutation($id: ID!) { resumeMarket(id: $id) { id status } }"
CLOSE = "mutation($id: ID!) { closeMarket(id: $id) { id status } }"
RESOLUTION_FIELDS = (
    "market { id status resolvedAt winningOutcome { id } prices } "
    "totalPayoutCents winnersCount refundedCents"
)
RESOLVE = (
    "mutation($id: ID!, $w: ID!) { resolveMarket(id: $id, winningOutcomeId: $w) "
    f"{{ {RESOLUTION_FIELDS} }} }}"
)
VOID = f"mutation($id: ID!) {{ voidMarket(id: $id) {{ {RESOLUTION_FIELDS} }} }}"
GRANT = (
    "mutation($u: ID!, $a: Int!) { grantBonus(userId: $u, amountCents: $a) "
    "{ id bonusBalanceCents } }"
)
DEACTIVATE = "mutation($u: ID!) { deactivateUser(userId: $u) { id isActive } }"
POSITIONS = """query($m: ID) { myPositions(marketId: $m) { shares reservedShares averageCostCents
  currentPrice unrealizedPnlCents outcome { id name } market { id } } }"""
ORDER_BOOK = """query($m: ID!, $o: ID!) { orderBook(marketId: $m, outcomeId: $o) {
  marketId outcomeId bids { priceCents quantity orders } asks { priceCents quantity orders }
  bestBidCents bestAskCents spreadCents lastTradeCents sequence } }"""


def closes_in(days: float = 30) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def market_input(kind: str = "LMSR", **extra: Any) -> dict[str, Any]:
    return {
        "title": "Will the API tests pass before 2031?",
        "marketType": kind,
        "outcomes": ["Yes", "No"],
        "closesAt": closes_in(),
        **extra,
    }


async def create_market(api: Api, token: str, kind: str = "LMSR", **extra: Any) -> dict[str, Any]:
    data = await api.data(CREATE_MARKET, {"i": market_input(kind, **extra)}, token)
    market: dict[str, Any] = data["createMarket"]
    return market


async def me(api: Api, token: str) -> dict[str, Any]:
    data = await api.data(ME, token=token)
    user: dict[str, Any] = data["me"]
    return user


async def buy_yes(api: Api, token: str, market_id: str, shares: int) -> dict[str, Any]:
    data = await api.data(
        LMSR_TRADE,
        {"i": {"marketId": market_id, "side": "BUY_YES", "amountType": "SHARES", "amount": shares}},
        token,
    )
    result: dict[str, Any] = data["lmsrTrade"]
    return result


def limit(market: dict[str, Any], side: str, qty: int, price: int, **extra: Any) -> dict[str, Any]:
    return {
        "i": {
            "marketId": market["id"],
            "outcomeId": market["outcomes"][0]["id"],
            "side": side,
            "orderType": "LIMIT",
            "quantity": qty,
            "priceCents": price,
            **extra,
        }
    }
