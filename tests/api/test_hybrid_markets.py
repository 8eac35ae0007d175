"""Hybrid markets over HTTP (PRODUCT.md section 10): a limit order rests on an LMSR
market and shows in its book, and a trade is quoted and made split between that
order and the market maker."""

from __future__ import annotations

from typing import Any

from tests.api import ops
from tests.api.conftest import Api

SPLIT = "marketMakerShares marketMakerCents bookShares bookCents"
QUOTE = f"""query($i: LmsrTradeInput!) {{ quoteLmsr(input: $i) {{
  costOrPayoutCents sharesDelta feeCents pricesAfter {SPLIT} }} }}"""
TRADE = f"""mutation($i: LmsrTradeInput!) {{ lmsrTrade(input: $i) {{
  costOrPayoutCents sharesDelta feeCents prices {SPLIT} trade {{ isAmmTrade }} }} }}"""
BOOK = """query($m: ID!, $o: ID!) { orderBook(marketId: $m, outcomeId: $o) {
  bids { priceCents quantity } asks { priceCents quantity } } }"""


def buy_yes(market: dict[str, Any], shares: int) -> dict[str, Any]:
    return {"i": {"marketId": market["id"], "side": "BUY_YES", "amountType": "SHARES",
                  "amount": shares}}  # fmt: skip


async def test_a_trade_is_quoted_and_made_split_between_a_resting_ask_and_the_maker(
    api: Api,
) -> None:
    _, alice = await api.user("alice")
    _, seller = await api.user("seller")
    _, buyer = await api.user("buyer")
    market = await ops.create_market(api, alice, "LMSR", liquidityParameter=100.0)
    await api.data(ops.MINT, {"m": market["id"], "q": 10}, seller)
    ask = (await api.data(ops.PLACE_ORDER, ops.limit(market, "SELL", 5, 52), seller))["placeOrder"]
    assert ask["status"] == "OPEN"  # the maker pays only 49.875 for a share
    book = await api.data(BOOK, {"m": market["id"], "o": market["outcomes"][0]["id"]})
    assert book["orderBook"] == {"bids": [], "asks": [{"priceCents": 52, "quantity": 5}]}
    quote = (await api.data(QUOTE, buy_yes(market, 10), buyer))["quoteLmsr"]
    split = [8, 408, 2, 104]  # the maker's 9th share would cost 52.12: the ask is cheaper
    assert [quote[k] for k in SPLIT.split()] == split
    done = (await api.data(TRADE, buy_yes(market, 10), buyer))["lmsrTrade"]
    assert [done[k] for k in SPLIT.split()] == split
    assert (done["costOrPayoutCents"], done["sharesDelta"]) == (512, 10)
    assert done["prices"] == quote["pricesAfter"]
    assert (await ops.me(api, buyer))["balanceCents"] == 100_000 - 512
    book = await api.data(BOOK, {"m": market["id"], "o": market["outcomes"][0]["id"]})
    assert book["orderBook"]["asks"] == [{"priceCents": 52, "quantity": 3}]
