"""Copies generated from a dataclass's fields carry every field."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from domain.model import (
    LmsrSide,
    Order,
    OrderStatus,
    OrderType,
    Outcome,
    Side,
    TimeInForce,
    Trade,
    field_copier,
    field_replacer,
)

AT = datetime(2026, 12, 6, tzinfo=UTC)


def test_an_order_copy_carries_every_field_and_is_a_new_object() -> None:
    order = Order(
        "o" * 32, "u" * 32, "m" * 32, "x" * 32, Side.SELL, OrderType.LIMIT, TimeInForce.GTD,
        price_cents=41, quantity=9, created_at=AT, sequence=7, filled_quantity=2,
        status=OrderStatus.PARTIALLY_FILLED, post_only=True, expires_at=AT, client_order_id="k",
        reserved_cents=3, updated_at=AT,
    )  # fmt: skip
    other = Order("", "", "", "", Side.BUY, OrderType.MARKET, TimeInForce.GTC, None, 0, AT, 0)
    alike = [
        f.name
        for f in dataclasses.fields(Order)
        if getattr(order, f.name) == getattr(other, f.name) and f.name != "created_at"
    ]
    assert alike == []  # every field differs from another order's, so each one is checked
    copied = order.copy()
    assert copied == order and copied is not order


def test_a_dataclass_with_a_field_init_does_not_take_has_no_copier() -> None:
    @dataclasses.dataclass
    class Counted:
        n: int
        seen: int = dataclasses.field(default=0, init=False)

    with pytest.raises(TypeError):
        field_copier(Counted)


def test_an_outcome_copy_carries_every_field_and_is_a_new_object() -> None:
    outcome = Outcome("o" * 32, "m" * 32, "Yes", 1, 5, 6, 7, 8, 9, 10, 11)
    assert all(getattr(outcome, f.name) for f in dataclasses.fields(Outcome))  # none falsy
    copied = outcome.copy()
    assert copied == outcome and copied is not outcome


def test_a_numbered_trade_differs_from_its_trade_by_its_sequence_alone() -> None:
    trade = Trade(
        "t" * 32, "m" * 32, "x" * 32, 41, 9, True, Side.SELL, "u" * 32, AT, 369, fee_cents=2,
        maker_user_id="v", taker_order_id="a", maker_order_id="b", lmsr_side=LmsrSide.SELL_NO,
    )  # fmt: skip
    numbered = trade.numbered(12)
    assert numbered == dataclasses.replace(trade, sequence=12) and trade.sequence is None


def test_a_replacer_sets_the_named_fields_in_order_and_copies_the_others() -> None:
    @dataclasses.dataclass(frozen=True)
    class Point:
        x: int
        y: int
        label: str = ""

    moved = field_replacer(Point, "y", "x")(Point(1, 2, "p"), 20, 10)
    assert moved == Point(10, 20, "p")


def test_a_replacer_of_a_field_the_dataclass_lacks_is_refused() -> None:
    with pytest.raises(TypeError):
        field_replacer(Trade, "sequnce")
