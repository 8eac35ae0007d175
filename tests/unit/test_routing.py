"""The router (domain/routing.py) against a slow obvious reference: a taker filled one
share at a time from the cheaper of the next resting level and the maker's next
share (a tie to the resting order), its total checked after every share."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import errors, lmsr, routing
from domain.book_types import RestingOrder
from domain.exchange import MarketBook
from domain.model import Side
from domain.money import fee_cents

IDS = ("x0", "x1", "x2")


def _book(n: int, orders: list[tuple[int, bool, int, int, int]]) -> MarketBook:
    """Resting orders (outcome, bid?, price, quantity, user) that never cross each other."""
    exchange = MarketBook(IDS[:n], fee_bps=0)
    for sequence, (at, bid, price, qty, user) in enumerate(orders, 1):
        outcome = IDS[at % n]
        best_bid, best_ask = exchange.best(outcome)
        if (bid and best_ask is not None and price >= best_ask) or (
            not bid and best_bid is not None and price <= best_bid
        ):
            continue
        side = Side.BUY if bid else Side.SELL
        order = RestingOrder(f"o{sequence}", f"u{user}", side, price, qty, sequence)
        exchange.add_resting(outcome, order)
    return exchange


def _next_share(maker: routing.Maker, j: int, buy: bool) -> float:
    sign = 1 if buy else -1
    state = lmsr.apply_trade(maker.q, maker.outcome, sign * j, maker.yes)
    return abs(100 * lmsr.trade_cost(state, maker.b, maker.outcome, sign, maker.yes))


def _reference(
    exchange: MarketBook, maker: routing.Maker, taker: routing.Taker
) -> tuple[int, int, int]:
    """(book shares, book cents, maker shares), one share at a time."""
    buy, limit = taker.buy, taker.limit_cents
    worst = limit if limit is not None else (99 if buy else 1)
    prices = [p for p, q in exchange.walk(IDS[0], buy, taker.user_id, worst) for _ in range(q)]
    k = notional = j = 0
    want = taker.shares if taker.shares is not None else 10**6

    def total(k_notional: int, maker_shares: int) -> int:
        fill = maker.fill(maker_shares, buy)
        book_fee = fee_cents(k_notional, maker.fee_bps)
        book = k_notional + book_fee if buy else k_notional - book_fee
        return book + (0 if fill is None else fill.trader_cents)

    while k + j < want:
        book = prices[k] if k < len(prices) else None
        cost = _next_share(maker, j, buy)
        if book is not None and (book <= cost if buy else book >= cost):
            step = (k + 1, notional + book, j)
        elif limit is None or (cost <= limit if buy else cost >= limit):
            step = (k, notional, j + 1)
        else:
            break
        if taker.budget_cents is not None and total(step[1], step[2]) > taker.budget_cents:
            break
        k, notional, j = step
        if taker.target_cents is not None and total(notional, j) >= taker.target_cents:
            break
    fill = maker.fill(j, buy)
    while (
        fill is not None
        and limit is not None
        and (fill.amm_cents > j * limit if buy else fill.amm_cents < j * limit)
    ):
        j -= 1
        fill = maker.fill(j, buy)
    return k, notional, j


order = st.tuples(
    st.integers(0, 2), st.booleans(), st.integers(30, 70), st.integers(1, 8), st.integers(0, 2)
)
router_market = (
    st.integers(2, 3),
    st.lists(order, max_size=12),
    st.lists(st.integers(-40, 40), min_size=3, max_size=3),
    st.sampled_from([10.0, 50.0]),
)
"""The market a router property sees, as its first four arguments: the outcome count n,
resting orders (for :func:`_book`), the maker's q (its first n) and its liquidity b."""


@settings(max_examples=300, deadline=None)
@given(
    *router_market,
    st.sampled_from([0, 100]),
    st.booleans(),
    st.sampled_from(["shares", "limit", "budget", "market", "target"]),
    st.integers(1, 40),
    st.integers(30, 70),
)
def test_the_router_fills_share_by_share_from_the_cheaper_source(
    n: int,
    orders: list[tuple[int, bool, int, int, int]],
    q: list[int],
    b: float,
    fee_bps: int,
    buy: bool,
    kind: str,
    amount: int,
    price: int,
) -> None:
    exchange = _book(n, orders)
    maker = routing.Maker(tuple(q[:n]), b, 0, True, fee_bps)
    budget = 30 * amount if kind in ("budget", "market") and buy else None
    target = 30 * amount if kind == "target" and not buy else None
    taker = routing.Taker(
        "u0",
        buy,
        None if kind in ("budget", "target") or (kind == "market" and not buy) else amount,
        budget,
        target,
        price if kind == "limit" else None,
    )
    if taker.shares is None and budget is None and target is None:
        taker = routing.Taker("u0", buy, amount)
    try:
        found = routing.route(exchange, IDS[0], maker, taker)
    except errors.InvalidAmount:  # no share within the budget, or the target out of reach
        return
    assert (found.book_shares, found.book_cents, found.maker_shares) == _reference(
        exchange, maker, taker
    )
