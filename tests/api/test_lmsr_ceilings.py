"""LMSR amounts at the ceiling over HTTP: every cents figure an answer carries fits
GraphQL's 32-bit Int, so a trade that would cost more is INVALID_AMOUNT, not an
internal error (STYLE.md, "GraphQL Int is 32 bits")."""

from __future__ import annotations

import pytest

from tests.api import ops
from tests.api.conftest import Api
from tests.api.test_hybrid_markets import QUOTE, TRADE, buy_yes


@pytest.mark.parametrize("shares", [30_000_000, 999_999_999])
async def test_quoting_or_trading_shares_that_cost_beyond_the_ceiling_is_invalid_amount(
    api: Api, shares: int
) -> None:
    _, alice = await api.user("alice")
    _, buyer = await api.user("buyer")
    market = await ops.create_market(api, alice, "LMSR", liquidityParameter=100.0)
    assert await api.error_code(QUOTE, buy_yes(market, shares), buyer) == "INVALID_AMOUNT"
    assert await api.error_code(TRADE, buy_yes(market, shares), buyer) == "INVALID_AMOUNT"
    assert (await ops.me(api, buyer))["balanceCents"] == 100_000
