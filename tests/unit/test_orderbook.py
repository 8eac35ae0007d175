"""Behaviour of the matching engine, run against the fast book and the reference book."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import pytest

from domain.errors import NotFound, PriceLimitExceeded
from domain.model import OrderStatus, OrderType, Side, TimeInForce
from domain.orderbook import Fill, IncomingOrder, MatchResult, OrderBook, PriceLevel, RestingOrder
from tests.reference_book import ReferenceBook

NOW = datetime(2030, 1, 1, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
BUY, SELL = Side.BUY, Side.SELL
_sequence = itertools.count(1)


class Book(Protocol):
    def add_resting(self, order: RestingOrder) -> None: ...
    def submit(self, order: IncomingOrder, now: datetime) -> MatchResult[Fill]: ...
    def cancel(self, order_id: str) -> RestingOrder: ...
    def expire(self, now: datetime) -> list[RestingOrder]: ...
    def get(self, order_id: str) -> RestingOrder | None: ...
    def best_bid(self) -> int | None: ...
    def best_ask(self) -> int | None: ...
    def depth(self, levels: int) -> tuple[list[PriceLevel], list[PriceLevel]]: ...
    def orders(self) -> list[RestingOrder]: ...
    def check_invariants(self) -> None: ...
    def __len__(self) -> int: ...


@pytest.fixture(params=[OrderBook, ReferenceBook], ids=["fast", "reference"])
def book(request: pytest.FixtureRequest) -> Iterator[Book]:
    built: Book = request.param(fee_bps=0)
    yield built
    built.check_invariants()


@pytest.fixture(params=[OrderBook, ReferenceBook], ids=["fast", "reference"])
def fee_book(request: pytest.FixtureRequest) -> Book:
    built: Book = request.param(fee_bps=200)
    return built


def limit(oid: str, user: str, side: Side, price: int, qty: int, **kw: Any) -> IncomingOrder:
    kw.setdefault("time_in_force", TimeInForce.GTC)
    return IncomingOrder(
        oid, user, side, OrderType.LIMIT, price, qty, sequence=next(_sequence), **kw
    )


def market(oid: str, user: str, side: Side, qty: int, **kw: Any) -> IncomingOrder:
    kw.setdefault("time_in_force", TimeInForce.IOC)
    return IncomingOrder(
        oid, user, side, OrderType.MARKET, None, qty, sequence=next(_sequence), **kw
    )


def rest(book: Book, oid: str, user: str, side: Side, price: int, qty: int, **kw: Any) -> None:
    assert book.submit(limit(oid, user, side, price, qty, **kw), NOW).status is OrderStatus.OPEN


def trades(result: MatchResult[Fill]) -> list[tuple[str, int, int]]:
    return [(f.maker_order_id, f.price_cents, f.quantity) for f in result.fills]


def test_non_crossing_limit_rests_open(book: Book) -> None:
    result = book.submit(limit("b1", "u1", BUY, 40, 5), NOW)
    assert (result.status, result.filled_quantity, result.fills) == (OrderStatus.OPEN, 0, ())
    assert result.rested == RestingOrder("b1", "u1", BUY, 40, 5, result.rested.sequence)  # type: ignore[union-attr]
    assert (book.best_bid(), book.best_ask(), len(book)) == (40, None, 1)


def test_buy_takes_best_ask_first_at_the_makers_price(book: Book) -> None:
    rest(book, "a55", "m", SELL, 55, 2)
    rest(book, "a50", "m", SELL, 50, 2)
    result = book.submit(limit("b", "t", BUY, 60, 3), NOW)
    assert trades(result) == [("a50", 50, 2), ("a55", 55, 1)]
    assert result.status is OrderStatus.FILLED
    assert result.fills[1].maker_remaining == 1


def test_earlier_order_at_the_same_price_fills_first(book: Book) -> None:
    rest(book, "first", "m1", BUY, 45, 1)
    rest(book, "second", "m2", BUY, 45, 1)
    assert trades(book.submit(limit("s", "t", SELL, 45, 1), NOW)) == [("first", 45, 1)]


def test_sell_takes_highest_bids_and_stops_at_its_limit(book: Book) -> None:
    rest(book, "b40", "m", BUY, 40, 5)
    rest(book, "b42", "m", BUY, 42, 5)
    result = book.submit(limit("s", "t", SELL, 41, 8), NOW)
    assert trades(result) == [("b42", 42, 5)]
    assert result.status is OrderStatus.PARTIALLY_FILLED
    assert result.rested is not None and result.rested.remaining == 3
    assert (book.best_bid(), book.best_ask()) == (40, 41)


def test_ioc_remainder_is_cancelled_not_rested(book: Book) -> None:
    rest(book, "a", "m", SELL, 50, 2)
    result = book.submit(limit("b", "t", BUY, 50, 5, time_in_force=TimeInForce.IOC), NOW)
    assert (result.status, result.filled_quantity, result.rested) == (
        OrderStatus.CANCELLED,
        2,
        None,
    )
    assert len(book) == 0


def test_market_order_sweeps_levels_and_never_rests(book: Book) -> None:
    rest(book, "a1", "m", SELL, 10, 1)
    rest(book, "a2", "m", SELL, 99, 1)
    result = book.submit(market("b", "t", BUY, 3, time_in_force=TimeInForce.GTC), NOW)
    assert trades(result) == [("a1", 10, 1), ("a2", 99, 1)]
    assert (result.status, result.rested, len(book)) == (OrderStatus.CANCELLED, None, 0)


def test_market_order_on_an_empty_book_is_cancelled(book: Book) -> None:
    result = book.submit(market("s", "t", SELL, 3), NOW)
    assert (result.status, result.filled_quantity) == (OrderStatus.CANCELLED, 0)


def test_fok_fills_completely_across_levels(book: Book) -> None:
    rest(book, "a1", "m", SELL, 50, 2)
    rest(book, "a2", "m", SELL, 51, 2)
    result = book.submit(limit("b", "t", BUY, 51, 4, time_in_force=TimeInForce.FOK), NOW)
    assert result.status is OrderStatus.FILLED and len(book) == 0


def test_fok_that_cannot_fill_raises_and_changes_nothing(book: Book) -> None:
    rest(book, "a1", "m", SELL, 50, 2)
    rest(book, "own", "t", SELL, 50, 5)
    rest(book, "gtd", "m", SELL, 50, 5, time_in_force=TimeInForce.GTD, expires_at=LATER)
    before = (book.orders(), book.depth(10))
    fok = limit("b", "t", BUY, 50, 3, time_in_force=TimeInForce.FOK)
    with pytest.raises(PriceLimitExceeded):
        book.submit(fok, LATER)  # own and expired orders do not count
    with pytest.raises(PriceLimitExceeded):
        book.submit(market("m", "t", BUY, 3, time_in_force=TimeInForce.FOK), LATER)
    assert (book.orders(), book.depth(10)) == before


def test_fok_feasibility_respects_the_budget(book: Book) -> None:
    rest(book, "a", "m", SELL, 50, 10)
    fok = market("b", "t", BUY, 4, time_in_force=TimeInForce.FOK, budget_cents=199)
    with pytest.raises(PriceLimitExceeded):
        book.submit(fok, NOW)
    ok = market("b2", "t", BUY, 4, time_in_force=TimeInForce.FOK, budget_cents=200)
    assert book.submit(ok, NOW).status is OrderStatus.FILLED


@pytest.mark.parametrize("owner", ["m", "t"])
def test_post_only_that_would_cross_is_rejected_and_changes_nothing(book: Book, owner: str) -> None:
    rest(book, "a", owner, SELL, 50, 1)
    with pytest.raises(PriceLimitExceeded):
        book.submit(limit("b", "t", BUY, 50, 1, post_only=True), NOW)
    assert [o.order_id for o in book.orders()] == ["a"]


def test_post_only_that_does_not_cross_rests(book: Book) -> None:
    rest(book, "a", "m", SELL, 50, 1)
    result = book.submit(limit("b", "t", BUY, 49, 1, post_only=True), NOW)
    assert result.status is OrderStatus.OPEN and book.best_bid() == 49


def test_post_only_crossing_only_expired_orders_removes_them_and_rests(book: Book) -> None:
    rest(book, "a", "m", SELL, 50, 1, time_in_force=TimeInForce.GTD, expires_at=LATER)
    result = book.submit(limit("b", "t", BUY, 55, 1, post_only=True), LATER)
    assert [o.order_id for o in result.expired] == ["a"]
    assert (result.status, book.best_bid(), book.best_ask()) == (OrderStatus.OPEN, 55, None)


def test_self_trade_cancels_own_resting_order_and_matching_continues(book: Book) -> None:
    rest(book, "own", "t", SELL, 50, 3)
    rest(book, "other", "m", SELL, 50, 3)
    rest(book, "own2", "t", SELL, 52, 3)
    result = book.submit(limit("b", "t", BUY, 52, 2), NOW)
    assert [o.order_id for o in result.self_trade_cancelled] == ["own"]
    assert trades(result) == [("other", 50, 2)]
    assert book.get("own2") is not None  # never reached: left alone


def test_expired_order_met_while_matching_is_removed_and_skipped(book: Book) -> None:
    rest(book, "old", "m", SELL, 50, 3, time_in_force=TimeInForce.GTD, expires_at=LATER)
    rest(book, "live", "m", SELL, 51, 3)
    result = book.submit(limit("b", "t", BUY, 51, 2), LATER)  # expires_at <= now counts
    assert [o.order_id for o in result.expired] == ["old"]
    assert trades(result) == [("live", 51, 2)]


def test_expire_removes_due_gtd_orders_in_expiry_order(book: Book) -> None:
    gtd = TimeInForce.GTD
    rest(book, "late", "m", BUY, 40, 1, time_in_force=gtd, expires_at=LATER + timedelta(1))
    rest(book, "soon", "m", BUY, 41, 1, time_in_force=gtd, expires_at=LATER)
    rest(book, "keep", "m", BUY, 42, 1, expires_at=LATER)  # GTC ignores expires_at
    assert [o.order_id for o in book.expire(NOW)] == []
    assert [o.order_id for o in book.expire(LATER + timedelta(2))] == ["soon", "late"]
    assert book.get("keep") == RestingOrder("keep", "m", BUY, 42, 1, book.get("keep").sequence)  # type: ignore[union-attr]


def test_fee_is_rounded_up(fee_book: Book) -> None:
    fee_book.add_resting(RestingOrder("a", "m", SELL, 33, 3, sequence=1))
    result = fee_book.submit(market("b", "t", BUY, 3), NOW)
    assert result.fills[0].fee_cents == 2  # ceil(99 * 200 / 10000) = ceil(1.98)


def test_fee_is_rounded_up_once_per_order_not_per_fill(fee_book: Book) -> None:
    for i in range(10):
        fee_book.add_resting(RestingOrder(f"a{i}", f"m{i}", SELL, 33, 1, sequence=i + 1))
    result = fee_book.submit(market("b", "t", BUY, 10), NOW)
    # notional 330 at 2%: ceil(6.6) = 7, where rounding each 33-cent fill up would take 10
    assert sum(f.fee_cents for f in result.fills) == 7
    assert [f.fee_cents for f in result.fills] == [1, 1, 0, 1, 1, 0, 1, 1, 0, 1]


def test_budget_buys_only_what_it_can_afford_including_the_fee(fee_book: Book) -> None:
    fee_book.add_resting(RestingOrder("a1", "m", SELL, 40, 2, sequence=1))
    fee_book.add_resting(RestingOrder("a2", "m", SELL, 50, 5, sequence=2))
    # 2 @ 40 then 2 @ 50: notional 180 + ceil(3.6) = 184 <= 200; a third @ 50 would be 234
    result = fee_book.submit(market("b", "t", BUY, 10, budget_cents=200), NOW)
    assert trades(result) == [("a1", 40, 2), ("a2", 50, 2)]
    assert (result.status, result.filled_quantity) == (OrderStatus.CANCELLED, 4)


def test_zero_budget_buys_nothing(book: Book) -> None:
    rest(book, "a", "m", SELL, 1, 1)
    result = book.submit(market("b", "t", BUY, 1, budget_cents=0), NOW)
    assert (result.filled_quantity, result.status, len(book)) == (0, OrderStatus.CANCELLED, 1)


def test_limit_with_budget_rests_its_remainder(book: Book) -> None:
    rest(book, "a", "m", SELL, 50, 5)
    result = book.submit(limit("b", "t", BUY, 49, 3, budget_cents=1), NOW)
    assert result.status is OrderStatus.OPEN and book.best_bid() == 49


def test_cancel_returns_the_order_and_updates_the_book(book: Book) -> None:
    rest(book, "b1", "u", BUY, 40, 2)
    rest(book, "b2", "u", BUY, 41, 3)
    cancelled = book.cancel("b2")
    assert (cancelled.order_id, cancelled.remaining) == ("b2", 3)
    assert (book.best_bid(), book.get("b2"), len(book)) == (40, None, 1)
    with pytest.raises(NotFound):
        book.cancel("b2")


def test_cancelled_order_is_skipped_by_matching(book: Book) -> None:
    rest(book, "a1", "m", SELL, 50, 2)
    rest(book, "a2", "m", SELL, 50, 2)
    book.cancel("a1")
    assert trades(book.submit(market("b", "t", BUY, 1), NOW)) == [("a2", 50, 1)]


def test_depth_aggregates_levels_best_first(book: Book) -> None:
    for oid, side, price, qty in [("b1", BUY, 40, 1), ("b2", BUY, 40, 2), ("b3", BUY, 38, 4),
                                  ("a1", SELL, 60, 5), ("a2", SELL, 61, 1)]:  # fmt: skip
        rest(book, oid, "m", side, price, qty)
    bids, asks = book.depth(1)
    assert (bids, asks) == ([PriceLevel(40, 3, 2)], [PriceLevel(60, 5, 1)])
    assert book.depth(5)[0] == [PriceLevel(40, 3, 2), PriceLevel(38, 4, 1)]


def test_add_resting_respects_sequence_even_when_loaded_out_of_order(book: Book) -> None:
    book.add_resting(RestingOrder("later", "m", SELL, 50, 1, sequence=20))
    book.add_resting(RestingOrder("earlier", "m", SELL, 50, 1, sequence=10))
    assert trades(book.submit(market("b", "t", BUY, 1), NOW)) == [("earlier", 50, 1)]


def test_add_resting_rejects_a_crossing_order_and_a_duplicate_id(book: Book) -> None:
    book.add_resting(RestingOrder("a", "m", SELL, 50, 1, sequence=1))
    with pytest.raises(ValueError):
        book.add_resting(RestingOrder("b", "m", BUY, 50, 1, sequence=2))
    with pytest.raises(ValueError):
        book.add_resting(RestingOrder("a", "m", SELL, 60, 1, sequence=3))


def test_rested_order_is_a_snapshot_the_book_does_not_change(book: Book) -> None:
    rested = book.submit(limit("a", "m", SELL, 50, 5), NOW).rested
    book.submit(market("b", "t", BUY, 2), NOW)
    assert rested is not None and rested.remaining == 5
    assert book.get("a").remaining == 3  # type: ignore[union-attr]


def test_fills_and_results_are_immutable_values(book: Book) -> None:
    rest(book, "a", "m", SELL, 50, 5)
    result = book.submit(limit("b", "t", BUY, 50, 2), NOW)
    with pytest.raises(AttributeError):
        result.fills[0].quantity = 5  # type: ignore[misc]
    with pytest.raises(AttributeError):
        result.status = OrderStatus.OPEN  # type: ignore[misc]
    assert result.fills[0].maker_remaining == 3 and book.depth(1)[1] == [PriceLevel(50, 3, 1)]


def test_a_sweep_across_levels_leaves_the_next_best_price(book: Book) -> None:
    for oid, price in (("a50", 50), ("a51", 51), ("a53", 53)):
        rest(book, oid, "m", SELL, price, 2)
    book.cancel("a51")
    result = book.submit(limit("b", "t", BUY, 53, 3), NOW)
    assert trades(result) == [("a50", 50, 2), ("a53", 53, 1)]
    assert (result.status, book.best_ask(), book.best_bid()) == (OrderStatus.FILLED, 53, None)


@pytest.mark.parametrize(
    "order",
    [
        limit("x", "u", BUY, 0, 1),
        limit("x", "u", BUY, 100, 1),
        limit("x", "u", BUY, 50, 0),
        limit("x", "u", BUY, 50, 1, time_in_force=TimeInForce.GTD),
        limit("x", "u", SELL, 50, 1, budget_cents=10),
        IncomingOrder("x", "u", BUY, OrderType.MARKET, 50, 1, TimeInForce.IOC, 1),
        market("x", "u", BUY, 1, post_only=True),
        market("x", "u", BUY, -1),
        limit("dup", "u", BUY, 40, 1),
    ],
)
def test_invalid_input_raises_value_error(book: Book, order: IncomingOrder) -> None:
    rest(book, "dup", "u", BUY, 40, 1)
    with pytest.raises(ValueError):
        book.submit(order, NOW)
    assert len(book) == 1


def test_a_resting_orders_copy_carries_every_field() -> None:
    values: dict[str, Any] = {
        "order_id": "o1", "user_id": "ann", "side": Side.SELL, "price_cents": 41,
        "remaining": 7, "sequence": 9, "expires_at": datetime(2030, 1, 2, tzinfo=UTC),
    }  # fmt: skip
    assert set(values) == {field.name for field in dataclasses.fields(RestingOrder)}
    order = RestingOrder(**values)
    copied = order.copy()
    assert copied == order
    assert copied is not order
