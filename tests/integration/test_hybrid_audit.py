"""``bellwether audit`` on a database holding a hybrid market: resting orders, a routed
trade, a crossed order filled by the maker, then its resolution."""

from __future__ import annotations

import asyncio

import pytest

from domain.model import AmountType, LmsrSide, Side
from domain.services import amm, complete_sets, orders, resolution
from persistence.tortoise.database import Database
from tests import dbtools
from tests.harness import Harness
from tests.services.test_order_book_trading import limit


async def test_audit_balances_a_hybrid_market_before_and_after_resolution(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    creator, trader, seller = [await harness.user(n) for n in ("creator", "trader", "seller")]
    market = await harness.market(creator, outcomes=("Red", "Green", "Blue"), fee_bps=100)
    seller_id, trader_id = seller.id, trader.id
    await complete_sets.mint_complete_set(harness.ctx, seller_id, market.id, 20)
    await orders.place_order(harness.ctx, seller_id, limit(market, Side.SELL, 36, 10))
    await orders.place_order(harness.ctx, seller_id, limit(market, Side.BUY, 30, 10, 1))
    buy = amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, 40)
    result = await amm.trade(harness.ctx, trader_id, buy)  # the ask, the maker, then the bid
    assert result.quote.book_shares == 10
    [bid] = await harness.ctx.read_model.resting_orders(market.id)
    assert bid.filled_quantity > 0  # crossed: the maker filled it as far as Green fell
    database: Database = harness.database  # type: ignore[attr-defined]
    assert await asyncio.to_thread(dbtools.run_cli, monkeypatch, database.url, "audit") == 0
    await resolution.resolve_market(
        harness.ctx, market.creator_id, market.id, market.outcomes[0].id
    )
    assert await asyncio.to_thread(dbtools.run_cli, monkeypatch, database.url, "audit") == 0
    await harness.assert_invariants()
