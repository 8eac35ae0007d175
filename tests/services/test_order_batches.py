"""Batches of orders: placeOrders, cancelOrders, cancelAllOrders (PRODUCT.md section 11)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain import errors
from domain.model import MarketType, OrderStatus, Side
from domain.services import complete_sets, orders
from domain.services.order_batches import (
    MAX_CANCEL_BATCH,
    MAX_PLACE_BATCH,
    cancel_all_orders,
    cancel_orders,
    place_orders,
)
from tests.harness import Harness
from tests.services.test_order_book_trading import _setup, limit


def codes(results: list) -> list[str | None]:  # type: ignore[type-arg]
    return [None if r.error is None else r.error.code for r in results]


async def test_each_item_gets_its_result_in_order_and_failures_change_nothing(
    harness: Harness,
) -> None:
    _, taker, market = await _setup(harness)
    results = await place_orders(
        harness.ctx,
        taker.id,
        [
            limit(market, Side.BUY, 40, 5),
            limit(market, Side.BUY, 200, 5),
            limit(market, Side.SELL, 60, 5),  # taker holds no shares
            limit(market, Side.BUY, 41, 2),
        ],
    )
    assert codes(results) == [None, "INVALID_AMOUNT", "INSUFFICIENT_SHARES", None]
    placed = [r.order for r in results if r.order is not None]
    assert [(o.price_cents, o.status) for o in placed] == [
        (40, OrderStatus.OPEN),
        (41, OrderStatus.OPEN),
    ]
    user = await harness.fetch_user(taker.id)
    assert (user.cash_cents, user.reserved_cents) == (100_000 - 282, 282)
    await harness.assert_invariants()


async def test_a_batch_trades_against_the_book_and_its_own_earlier_items(
    harness: Harness,
) -> None:
    maker, taker, market = await _setup(harness)
    await orders.place_order(harness.ctx, taker.id, limit(market, Side.BUY, 55, 3))
    results = await place_orders(
        harness.ctx,
        maker.id,
        [
            limit(market, Side.SELL, 60, 4),
            limit(market, Side.SELL, 50, 5),  # takes the taker's 3 at 55, rests 2 at 50
            limit(market, Side.BUY, 30, 1),
        ],
    )
    first, second, third = (r.order for r in results)
    assert first is not None and second is not None and third is not None
    assert (second.filled_quantity, second.status) == (3, OrderStatus.PARTIALLY_FILLED)
    bought = await place_orders(harness.ctx, taker.id, [limit(market, Side.BUY, 60, 6)])
    assert bought[0].order is not None and bought[0].order.filled_quantity == 6
    stored = await harness.fetch_market(market.id)
    assert stored.outcomes[0].best_ask_cents is None  # 2 at 50 and 4 at 60 were taken
    await harness.assert_invariants()


async def test_an_atomic_batch_fails_whole_with_the_first_failing_items_code_and_index(
    harness: Harness,
) -> None:
    _, taker, market = await _setup(harness)
    before = await harness.stored()
    with pytest.raises(errors.InsufficientShares, match=r"^item 1: "):
        await place_orders(
            harness.ctx,
            taker.id,
            [
                limit(market, Side.BUY, 40, 5),
                limit(market, Side.SELL, 60, 5),
                limit(market, Side.BUY, 500, 5),
            ],
            atomic=True,
        )
    assert await harness.stored() == before
    placed = await place_orders(
        harness.ctx, taker.id, [limit(market, Side.BUY, 40, 5)] * 2, atomic=True
    )
    assert [r.order is not None for r in placed] == [True, True]
    await harness.assert_invariants()


async def test_an_unknown_market_or_outcome_fails_its_item_only(harness: Harness) -> None:
    _, taker, market = await _setup(harness)
    good = limit(market, Side.BUY, 40, 1)
    results = await place_orders(
        harness.ctx,
        taker.id,
        [
            replace(good, market_id="no-such-market"),
            good,
            replace(good, outcome_id="no-such-outcome"),
        ],
    )
    assert codes(results) == ["NOT_FOUND", None, "NOT_FOUND"]
    await harness.assert_invariants()


async def test_a_client_order_id_repeated_in_a_batch_places_one_order(harness: Harness) -> None:
    _, taker, market = await _setup(harness)
    results = await place_orders(
        harness.ctx,
        taker.id,
        [limit(market, Side.BUY, 40, 5, client_order_id="q1")] * 2,
    )
    first, again = (r.order for r in results)
    assert first is not None and again is not None and first.id == again.id
    retried = await place_orders(
        harness.ctx, taker.id, [limit(market, Side.BUY, 40, 5, client_order_id="q1")]
    )
    assert retried[0].order is not None and retried[0].order.id == first.id
    assert (await harness.fetch_user(taker.id)).reserved_cents == 200


async def test_more_items_than_the_limits_is_query_too_complex(harness: Harness) -> None:
    _, taker, market = await _setup(harness)
    with pytest.raises(errors.QueryTooComplex):
        await place_orders(harness.ctx, taker.id, [limit(market, Side.BUY, 40, 1)] * 101)
    with pytest.raises(errors.QueryTooComplex):
        await cancel_orders(harness.ctx, taker.id, ["x"] * (MAX_CANCEL_BATCH + 1))
    assert MAX_PLACE_BATCH == 100


async def test_cancel_orders_reports_each_id(harness: Harness) -> None:
    maker, taker, market = await _setup(harness)
    mine = await orders.place_order(harness.ctx, taker.id, limit(market, Side.BUY, 40, 5))
    other = await orders.place_order(harness.ctx, maker.id, limit(market, Side.SELL, 70, 5))
    filled = await orders.place_order(harness.ctx, taker.id, limit(market, Side.BUY, 70, 5))
    results = await cancel_orders(
        harness.ctx, taker.id, [mine.id, other.id, "nope", filled.id, mine.id]
    )
    assert codes(results) == [
        None,
        "FORBIDDEN",
        "NOT_FOUND",
        "ORDER_NOT_CANCELLABLE",
        "ORDER_NOT_CANCELLABLE",
    ]
    assert results[0].order is not None and results[0].order.status is OrderStatus.CANCELLED
    assert (await harness.fetch_user(taker.id)).reserved_cents == 0
    await harness.assert_invariants()


async def test_cancel_all_cancels_in_one_market_or_everywhere(harness: Harness) -> None:
    maker, taker, market = await _setup(harness)
    other = await harness.market(maker, MarketType.ORDER_BOOK)
    await complete_sets.mint_complete_set(harness.ctx, maker.id, other.id, 10)
    await orders.place_order(harness.ctx, maker.id, limit(market, Side.SELL, 70, 5))
    await orders.place_order(harness.ctx, maker.id, limit(market, Side.BUY, 30, 5))
    await orders.place_order(harness.ctx, maker.id, limit(other, Side.SELL, 70, 5))
    kept = await orders.place_order(harness.ctx, taker.id, limit(market, Side.BUY, 20, 5))
    in_one = await cancel_all_orders(harness.ctx, maker.id, market.id)
    assert sorted(o.price_cents or 0 for o in in_one) == [30, 70]
    assert all(o.status is OrderStatus.CANCELLED for o in in_one)
    everywhere = await cancel_all_orders(harness.ctx, maker.id)
    assert [o.market_id for o in everywhere] == [other.id]
    assert await cancel_all_orders(harness.ctx, maker.id) == []
    with pytest.raises(errors.NotFound):
        await cancel_all_orders(harness.ctx, maker.id, "no-such-market")
    user = await harness.fetch_user(maker.id)
    assert user.reserved_cents == 0
    stored = await harness.fetch_market(market.id)
    assert stored.outcomes[0].best_bid_cents == kept.price_cents
    await harness.assert_invariants()
