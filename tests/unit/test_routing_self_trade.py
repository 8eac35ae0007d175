"""Self-trade prevention in the router (domain/routing.py): the taker's own resting
orders at the levels its shares reached are named for cancelling, and no others,
against a slow reference (the walk's own orders, each checked against the dearest
share the route took; a sale: the cheapest it sold)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import errors, routing
from domain.book_types import RestingOrder
from tests.unit.test_routing import IDS, _book, _next_share, router_market

NOISE = 1e-9
"""Cents: a level this close to the maker's last share's cost may go either way."""


@settings(max_examples=300, deadline=None)
@given(
    *router_market,
    st.booleans(),
    st.integers(1, 40),
    st.one_of(st.none(), st.integers(30, 70)),
)
def test_the_route_names_exactly_the_own_orders_its_shares_reached(
    n: int,
    orders: list[tuple[int, bool, int, int, int]],
    q: list[int],
    b: float,
    buy: bool,
    amount: int,
    limit: int | None,
) -> None:
    exchange = _book(n, orders)
    maker = routing.Maker(tuple(q[:n]), b, 0, True, 0)
    taker = routing.Taker("u0", buy, amount, limit_cents=limit)
    try:
        found = routing.route(exchange, IDS[0], maker, taker)
    except errors.InvalidAmount:
        return
    passed: list[tuple[int, RestingOrder]] = []
    worst = limit if limit is not None else (99 if buy else 1)
    taken = [p for p, qty in exchange.walk(IDS[0], buy, "u0", worst, passed) for _ in range(qty)]
    prices = [float(p) for p in taken[: found.book_shares]]
    if found.maker_shares:
        prices.append(_next_share(maker, found.maker_shares - 1, buy))
    dearest = (max if buy else min)(prices, default=None)
    if dearest is None:
        assert found.own_reached == ()
    for price, resting in passed:
        if dearest is None or abs(price - dearest) < NOISE:
            continue
        reached = price <= dearest if buy else price >= dearest
        assert (resting.order_id in found.own_reached) == reached, (price, dearest)
    assert set(found.own_reached) <= {resting.order_id for _, resting in passed}
