"""The money arithmetic: fees rounded up once per order, budgets that hold, cent rounding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.money import (
    MAX_AMOUNT,
    MAX_FEE_BPS,
    affordable_quantity,
    check_fee_bps,
    fee_cents,
    fill_fee,
    is_amount,
    is_fee_bps,
)

cents = st.integers(min_value=0, max_value=MAX_AMOUNT)
fees = st.integers(min_value=0, max_value=MAX_FEE_BPS)


def test_a_fee_is_rounded_up_to_a_whole_cent() -> None:
    assert [fee_cents(a, 150) for a in (0, 1, 66, 67, 10_000)] == [0, 1, 1, 2, 150]


@given(before=cents, notional=cents, fee_bps=fees)
def test_fills_together_pay_the_fee_of_the_whole_notional(
    before: int, notional: int, fee_bps: int
) -> None:
    assert fee_cents(before, fee_bps) + fill_fee(before, notional, fee_bps) == fee_cents(
        before + notional, fee_bps
    )


@given(budget=cents, price=st.integers(1, 99), fee_bps=fees, spent=cents)
def test_the_affordable_quantity_is_the_most_that_fits_the_budget(
    budget: int, price: int, fee_bps: int, spent: int
) -> None:
    qty = affordable_quantity(budget, price, fee_bps, spent)

    def cost(q: int) -> int:
        total = spent + q * price
        return total + fee_cents(total, fee_bps)

    assert qty == 0 or cost(qty) <= budget
    assert cost(qty + 1) > budget


def test_fee_and_amount_ranges() -> None:
    assert [is_fee_bps(f) for f in (0, MAX_FEE_BPS, -1, MAX_FEE_BPS + 1, True, 1.0)] == [
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    assert [is_amount(a) for a in (1, MAX_AMOUNT - 1, 0, MAX_AMOUNT, True, 2.0)] == [
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    check_fee_bps(MAX_FEE_BPS)
    with pytest.raises(ValueError, match="fee_bps must be in 0"):
        check_fee_bps(MAX_FEE_BPS + 1)
