"""Copies generated from a dataclass's fields carry every field."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from domain.model import Order, OrderStatus, OrderType, Side, TimeInForce, field_copier

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
