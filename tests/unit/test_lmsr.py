"""Behaviour of the LMSR math: exact examples, stability, rounding, fees, inverses."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain.errors import BadUserInput, InvalidAmount
from domain.lmsr import (
    LmsrFill,
    apply_trade,
    cost,
    inverse_buy_shares,
    inverse_sell_shares,
    max_loss_dollars,
    prices,
    quote_shares,
    quote_spend,
    subsidy_cents,
    trade_cost,
)
from domain.model import MAX_AMOUNT
from domain.money import ceil_cents, fee_cents, floor_cents

FRESH = (0, 0)

outcome_counts = st.integers(min_value=2, max_value=10)
liquidities = st.floats(min_value=0.5, max_value=500, allow_nan=False, allow_infinity=False)
fees = st.integers(min_value=0, max_value=1000)


@st.composite
def markets(draw: st.DrawFn, max_q: int = 300) -> tuple[list[int], float, int]:
    """A state q, a liquidity b and an outcome index."""
    n = draw(outcome_counts)
    q = draw(st.lists(st.integers(-max_q, max_q), min_size=n, max_size=n))
    return q, draw(liquidities), draw(st.integers(0, n - 1))


# Exact examples


def test_ten_yes_on_fresh_binary_costs_513_cents() -> None:
    fill = quote_shares(FRESH, 100, 0, 10, yes=True, buy=True, fee_bps=0)
    assert 100 * trade_cost(FRESH, 100, 0, 10, True) == pytest.approx(512.49, abs=0.01)
    assert (fill.amm_cents, fill.fee_cents, fill.trader_cents) == (513, 0, 513)


def test_ten_yes_then_twenty_no_cost_513_then_1000_cents() -> None:
    first = quote_shares(FRESH, 100, 0, 10, yes=True, buy=True, fee_bps=0)
    after = apply_trade(FRESH, 0, 10, True)
    second = quote_shares(after, 100, 0, 20, yes=False, buy=True, fee_bps=0)
    assert (first.trader_cents, second.trader_cents) == (513, 1000)
    assert apply_trade(after, 0, 20, False) == [10, 20]


def test_spend_1000_cents_on_fresh_binary_buys_19_shares_for_996_cents() -> None:
    fill = quote_spend(FRESH, 100, 0, 1000, yes=True, buy=True, fee_bps=0)
    assert (fill.shares, fill.trader_cents) == (19, 996)
    assert fill.average_price == pytest.approx(996 / 19 / 100)


def test_fee_is_charged_on_top_of_a_buy_and_taken_from_a_sale() -> None:
    buy = quote_shares(FRESH, 100, 0, 10, yes=True, buy=True, fee_bps=100)
    assert (buy.amm_cents, buy.fee_cents, buy.trader_cents) == (513, 6, 519)
    sell = quote_shares([10, 0], 100, 0, 10, yes=True, buy=False, fee_bps=100)
    assert (sell.amm_cents, sell.fee_cents, sell.trader_cents) == (512, 6, 506)


def test_fee_cents_rounds_up_in_exact_integers() -> None:
    assert [fee_cents(a, 100) for a in (0, 1, 100, 101)] == [0, 1, 1, 2]
    assert fee_cents(10**9, 1000) == 10**8


def test_rounding_forgives_float_noise_but_nothing_more() -> None:
    assert ceil_cents(1000.0000000001) == 1000
    assert ceil_cents(1000.01) == 1001
    assert floor_cents(999.9999999999) == 1000
    assert floor_cents(999.99) == 999


def test_no_on_a_binary_market_is_yes_on_the_other_outcome() -> None:
    q = [37, -12]
    assert trade_cost(q, 40, 0, 25, False) == pytest.approx(trade_cost(q, 40, 1, 25, True))
    assert apply_trade(q, 0, 25, False) == apply_trade(q, 1, 25, True)


def test_no_moves_every_other_outcome() -> None:
    assert apply_trade([1, 2, 3], 1, 5, False) == [6, 2, 8]
    assert apply_trade([1, 2, 3], 1, -5, True) == [1, -3, 3]


# Stability


def test_huge_q_over_b_prices_without_overflow() -> None:
    q = [10**6, 0]
    assert math.isfinite(cost(q, 1)) and prices(q, 1) == [1.0, 0.0]
    assert quote_shares(q, 1, 0, 1, yes=True, buy=True, fee_bps=0).trader_cents == 100
    assert quote_shares(q, 1, 0, 1, yes=False, buy=True, fee_bps=0).trader_cents == 0
    assert quote_shares(q, 1, 0, 1, yes=True, buy=False, fee_bps=0).trader_cents == 100
    assert quote_shares(q, 1, 1, 5, yes=True, buy=True, fee_bps=0).trader_cents == 0


def test_huge_sale_against_a_certain_outcome_stays_finite() -> None:
    payout = -trade_cost([1000, 0], 1, 0, -2000, True)
    assert payout == pytest.approx(1000, rel=1e-12)


def test_tiny_liquidity_charges_nearly_a_dollar_for_the_first_share() -> None:
    buy = quote_shares(FRESH, 0.01, 0, 1, yes=True, buy=True, fee_bps=0)
    sell = quote_shares([1, 0], 0.01, 0, 1, yes=True, buy=False, fee_bps=0)
    assert (buy.trader_cents, sell.trader_cents) == (100, 99)


def test_spend_with_extreme_prices_settles_quickly() -> None:
    fill = quote_spend([2 * 10**6, 0], 10**5, 1, 100, yes=True, buy=True, fee_bps=1000)
    assert fill.trader_cents <= 100
    more = quote_shares([2 * 10**6, 0], 10**5, 1, fill.shares + 1, True, True, 1000)
    assert more.trader_cents > 100


# Validation


@pytest.mark.parametrize("amount", [0, -1, MAX_AMOUNT, True, 2.0])
def test_amount_outside_1_to_max_is_invalid(amount: int) -> None:
    with pytest.raises(InvalidAmount):
        quote_shares(FRESH, 100, 0, amount, yes=True, buy=True, fee_bps=0)
    with pytest.raises(InvalidAmount):
        quote_spend(FRESH, 100, 0, amount, yes=True, buy=True, fee_bps=0)


@pytest.mark.parametrize("b", [0.0, -1.0, math.inf, math.nan])
def test_liquidity_must_be_positive_and_finite(b: float) -> None:
    with pytest.raises(ValueError):
        cost(FRESH, b)


def test_unknown_outcome_is_bad_user_input() -> None:
    with pytest.raises(BadUserInput):
        quote_shares(FRESH, 100, 2, 1, yes=True, buy=True, fee_bps=0)


def test_fee_above_ten_percent_is_rejected() -> None:
    with pytest.raises(ValueError):
        quote_shares(FRESH, 100, 0, 1, yes=True, buy=True, fee_bps=1001)


def test_spend_too_small_for_one_share_is_invalid() -> None:
    assert quote_shares(FRESH, 100, 0, 1, yes=True, buy=True, fee_bps=0).trader_cents == 51
    with pytest.raises(InvalidAmount):
        quote_spend(FRESH, 100, 0, 50, yes=True, buy=True, fee_bps=0)


def test_sale_target_beyond_the_bounded_payout_is_invalid() -> None:
    assert inverse_sell_shares(FRESH, 1, 0, 0.70, True) == math.inf
    with pytest.raises(InvalidAmount):
        quote_spend(FRESH, 1, 0, 70, yes=True, buy=False, fee_bps=0)


# Subsidy


def test_subsidy_of_a_b_100_binary_is_6932_cents() -> None:
    assert max_loss_dollars(100, 2) == pytest.approx(69.3147, abs=1e-4)
    assert subsidy_cents(100, 2) == 6932


# Properties


@given(markets(max_q=10**5))
@settings(max_examples=200, deadline=None)
def test_prices_sum_to_one(market: tuple[list[int], float, int]) -> None:
    q, b, _ = market
    assert math.fsum(prices(q, b)) == pytest.approx(1, abs=1e-9)


@given(markets(), st.integers(1, 10**4), st.booleans())
@settings(max_examples=200, deadline=None)
def test_no_costs_its_shares_plus_selling_as_many_yes(
    market: tuple[list[int], float, int], k: int, buy: bool
) -> None:
    q, b, i = market
    k = k if buy else -k
    identity = k + trade_cost(q, b, i, -k, True)
    assert trade_cost(q, b, i, k, False) == pytest.approx(identity, rel=1e-9, abs=1e-9)


@given(markets(), st.integers(1, 10**4), st.booleans(), st.booleans(), fees)
@settings(max_examples=200, deadline=None)
def test_buy_then_sell_never_pays_more_than_it_cost(
    market: tuple[list[int], float, int], k: int, yes: bool, buy_first: bool, fee: int
) -> None:
    q, b, i = market
    opened = quote_shares(q, b, i, k, yes, buy_first, fee)
    after = apply_trade(q, i, k if buy_first else -k, yes)
    closed = quote_shares(after, b, i, k, yes, not buy_first, fee)
    paid, received = (opened, closed) if buy_first else (closed, opened)
    assert received.trader_cents <= paid.trader_cents


@given(markets(max_q=10**4), st.integers(1, 10**4), st.booleans(), st.booleans())
@settings(max_examples=200, deadline=None)
def test_prices_after_a_quote_are_the_prices_of_the_new_state(
    market: tuple[list[int], float, int], k: int, yes: bool, buy: bool
) -> None:
    q, b, i = market
    fill = quote_shares(q, b, i, k, yes, buy, 0)
    fresh = prices(apply_trade(q, i, k if buy else -k, yes), b)
    assert list(fill.prices_after) == pytest.approx(fresh, rel=1e-9, abs=1e-12)


@given(markets(max_q=300), st.integers(-300, 300), st.booleans())
@settings(max_examples=200, deadline=None)
def test_trade_cost_is_the_difference_of_the_cost_function(
    market: tuple[list[int], float, int], k: int, yes: bool
) -> None:
    q, b, i = market
    direct = cost(apply_trade(q, i, k, yes), b) - cost(q, b)
    assert trade_cost(q, b, i, k, yes) == pytest.approx(direct, rel=1e-9, abs=1e-9 * (b + 300))


trades = st.tuples(st.integers(0, 9), st.integers(1, 300), st.booleans(), st.booleans())


@given(outcome_counts, st.floats(min_value=0.01, max_value=500), st.lists(trades, max_size=40))
@settings(max_examples=100, deadline=None)
def test_pool_always_covers_the_winning_outcome(
    n: int, b: float, steps: list[tuple[int, int, bool, bool]]
) -> None:
    q = [0] * n
    pool = subsidy_cents(b, n)
    for raw_outcome, wanted, yes, buy in steps:
        i = raw_outcome % n
        held = q[i] if yes else min(q[j] for j in range(n) if j != i)
        k = wanted if buy else min(wanted, held)
        if k == 0:
            continue
        fill = quote_shares(q, b, i, k, yes, buy, 0)
        pool += fill.amm_cents if buy else -fill.amm_cents
        q = apply_trade(q, i, k if buy else -k, yes)
        assert pool >= 100 * max(q)


@given(markets(max_q=10**4), st.integers(1, 10**7), st.booleans(), fees)
@settings(max_examples=200, deadline=None)
def test_spend_buys_the_most_shares_within_budget(
    market: tuple[list[int], float, int], cents: int, yes: bool, fee: int
) -> None:
    q, b, i = market
    try:
        fill = quote_spend(q, b, i, cents, yes, True, fee)
    except InvalidAmount:
        assert quote_shares(q, b, i, 1, yes, True, fee).trader_cents > cents
        return
    assert isinstance(fill, LmsrFill) and fill.trader_cents <= cents
    assume(fill.shares + 1 < MAX_AMOUNT)
    assert quote_shares(q, b, i, fill.shares + 1, yes, True, fee).trader_cents > cents


@given(markets(max_q=10**4), st.integers(1, 10**6), st.booleans(), fees)
@settings(max_examples=200, deadline=None)
def test_spend_sells_the_fewest_shares_reaching_the_target(
    market: tuple[list[int], float, int], cents: int, yes: bool, fee: int
) -> None:
    q, b, i = market
    try:
        fill = quote_spend(q, b, i, cents, yes, False, fee)
    except InvalidAmount:
        top = quote_shares(q, b, i, MAX_AMOUNT - 1, yes, False, fee)
        assert top.trader_cents < cents
        return
    assert fill.trader_cents >= cents
    if fill.shares > 1:
        assert quote_shares(q, b, i, fill.shares - 1, yes, False, fee).trader_cents < cents


small_markets = st.tuples(
    st.lists(st.integers(0, 30), min_size=2, max_size=4),
    st.floats(min_value=10, max_value=60),
)


@given(small_markets, st.integers(1, 2000), st.booleans(), fees)
@settings(max_examples=40, deadline=None)
def test_spend_buy_agrees_with_brute_force(
    market: tuple[list[int], float], cents: int, yes: bool, fee: int
) -> None:
    q, b = market
    k = 0
    while quote_shares(q, b, 0, k + 1, yes, True, fee).trader_cents <= cents:
        k += 1
    if k == 0:
        with pytest.raises(InvalidAmount):
            quote_spend(q, b, 0, cents, yes, True, fee)
    else:
        assert quote_spend(q, b, 0, cents, yes, True, fee).shares == k


@given(small_markets, st.integers(1, 2000), st.booleans(), fees)
@settings(max_examples=40, deadline=None)
def test_spend_sell_agrees_with_brute_force(
    market: tuple[list[int], float], cents: int, yes: bool, fee: int
) -> None:
    q, b = market
    cap = 3000
    k = 1
    while k <= cap and quote_shares(q, b, 0, k, yes, False, fee).trader_cents < cents:
        k += 1
    try:
        shares = quote_spend(q, b, 0, cents, yes, False, fee).shares
    except InvalidAmount:
        assert k > cap
        return
    assert shares == k or (k > cap and shares > cap)


@given(markets(max_q=10**4), st.floats(min_value=0.01, max_value=10**6), st.booleans())
@settings(max_examples=200, deadline=None)
def test_closed_form_buy_inverse_brackets_the_cost(
    market: tuple[list[int], float, int], dollars: float, yes: bool
) -> None:
    q, b, i = market
    shares = inverse_buy_shares(q, b, i, dollars, yes)
    below, above = math.floor(shares), math.ceil(shares)
    slack = 1e-9 * (dollars + b)
    assert trade_cost(q, b, i, below, yes) <= dollars + slack
    assert trade_cost(q, b, i, above, yes) >= dollars - slack


@given(markets(max_q=10**4), st.floats(min_value=0.01, max_value=10**4), st.booleans())
@settings(max_examples=200, deadline=None)
def test_closed_form_sell_inverse_brackets_the_payout(
    market: tuple[list[int], float, int], dollars: float, yes: bool
) -> None:
    q, b, i = market
    shares = inverse_sell_shares(q, b, i, dollars, yes)
    assume(shares < 10**12)
    below, above = math.floor(shares), math.ceil(shares)
    slack = 1e-6 * (dollars + b)
    assert -trade_cost(q, b, i, -below, yes) <= dollars + slack
    assert -trade_cost(q, b, i, -above, yes) >= dollars - slack
