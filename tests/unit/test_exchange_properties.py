"""Property tests: the fast exchange behaves exactly like the reference exchange.

Random streams over 2-5 outcomes (limits and market orders of every time in
force, post-only, budgets, cancels, clock ticks, expiries, from three users)
go to both; results, errors, every book's orders and merged tops must agree,
the fast exchange's invariants must hold after every step, and shares are
conserved: a direct fill moves shares, a mint creates one per outcome per set,
a merge destroys one per outcome per set, and cash paid in equals cash paid out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeAlias

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.book_types import CrossFill, IncomingOrder, MarketMatch, MatchResult
from domain.exchange import MarketBook
from domain.model import OrderType, Side, TimeInForce
from tests.reference_market import ReferenceMarket
from tests.unit.test_orderbook_properties import Cancel, Expire, Tick

START = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Submit:
    outcome: int
    user: str
    side: Side
    order_type: OrderType
    offset: int
    quantity: int
    tif: TimeInForce
    post_only: bool
    lifetime_s: int
    budget: int | None


Op: TypeAlias = Submit | Cancel | Tick | Expire

submits = st.builds(
    Submit,
    outcome=st.integers(0, 4),
    user=st.sampled_from(["ann", "bob", "cy", "dee", "eve"]),
    side=st.sampled_from(Side),
    order_type=st.sampled_from([OrderType.LIMIT] * 5 + [OrderType.MARKET]),
    offset=st.integers(-6, 6) | st.sampled_from([-99, 99]),
    quantity=st.integers(1, 9),
    tif=st.sampled_from([TimeInForce.GTC] * 4 + list(TimeInForce)),
    post_only=st.sampled_from([False] * 6 + [True]),
    lifetime_s=st.integers(1, 40),
    budget=st.none() | st.integers(0, 600),
)
others = st.one_of(
    st.builds(Cancel, st.integers(0, 1_000)), st.builds(Tick, st.integers(1, 15)), st.just(Expire())
)
ops = st.integers(0, 9).flatmap(lambda kind: submits if kind < 8 else others)


class Pair:
    def __init__(self, outcomes: int, fee_bps: int) -> None:
        self.ids = [f"x{i}" for i in range(outcomes)]
        self.fast = MarketBook(self.ids, fee_bps)
        self.reference = ReferenceMarket(self.ids, fee_bps)
        self.now = START
        self.sequence = 0
        self.shares_created = 0

    def apply(self, op: Op) -> None:
        if isinstance(op, Tick):
            self.now += timedelta(seconds=op.seconds)
            return
        if isinstance(op, Submit):
            self.sequence += 1
        fast, reference = self._both(op, self.fast), self._both(op, self.reference)
        assert fast == reference, op
        self.fast.check_invariants()
        assert self._state(self.fast) == self._state(self.reference)
        self._check_views()
        if isinstance(fast, MatchResult):
            _check_conservation(fast)

    def _check_views(self) -> None:
        """Every outcome's merged depth, read for all at once or one by one, tops out at
        its merged best bid and ask."""
        views = self.fast.depths(100)
        for k in self.ids:
            bids, asks = views[k]
            assert views[k] == self.fast.depth(k, 100)
            top = (bids[0].price_cents if bids else None, asks[0].price_cents if asks else None)
            assert top == self.fast.best(k)

    def _state(self, market: MarketBook | ReferenceMarket) -> list[object]:
        state: list[object] = []
        for k in self.ids:
            orders = sorted(market.orders(k), key=lambda o: o.order_id)
            state.append((orders, market.best(k)))
        return state

    def _both(self, op: Op, market: MarketBook | ReferenceMarket) -> object:
        try:
            if isinstance(op, Submit):
                outcome = self.ids[op.outcome % len(self.ids)]
                return market.submit(outcome, self._order(op), self.now)
            if isinstance(op, Cancel):
                ids = sorted((o.order_id, k) for k in self.ids for o in market.orders(k))
                if not ids:
                    return None
                order_id, outcome = ids[op.pick % len(ids)]
                return market.cancel(outcome, order_id)
            return market.expire(self.now)
        except Exception as error:  # the exception's type must agree too
            return type(error)

    def _order(self, op: Submit) -> IncomingOrder:
        market = op.order_type is OrderType.MARKET
        fair = 100 // len(self.ids)
        return IncomingOrder(
            order_id=f"o{self.sequence}",
            user_id=op.user,
            side=op.side,
            order_type=op.order_type,
            price_cents=None if market else min(99, max(1, fair + op.offset)),
            quantity=op.quantity,
            time_in_force=op.tif,
            sequence=self.sequence,
            post_only=op.post_only,
            expires_at=self.now + timedelta(seconds=op.lifetime_s),
            budget_cents=op.budget if op.side is Side.BUY else None,
        )


def _check_conservation(result: MarketMatch) -> None:
    """Each cross fill is whole sets: a mint's buyers pay at least 100 cents a set (the
    taker at least 1 cent), a merge's sellers receive exactly 100; every leg fills the
    same quantity and no maker's remainder goes negative."""
    for fill in result.fills:
        assert fill.quantity > 0
        if isinstance(fill, CrossFill):
            paid = fill.price_cents + sum(leg.price_cents for leg in fill.legs)
            assert paid >= 100 if fill.mint else paid == 100
            assert fill.price_cents >= 1
            assert all(leg.maker_remaining >= 0 for leg in fill.legs)
            assert fill.surplus_cents >= 0
        else:
            assert fill.maker_remaining >= 0


@settings(max_examples=300, deadline=None)
@given(
    outcomes=st.integers(2, 5),
    fee_bps=st.sampled_from([0, 100, 250]),
    stream=st.lists(ops, min_size=10, max_size=150),
)
def test_fast_exchange_matches_reference_exchange(
    outcomes: int, fee_bps: int, stream: list[Op]
) -> None:
    pair = Pair(outcomes, fee_bps)
    for op in stream:
        pair.apply(op)


def test_a_binary_book_mirrors_the_other_outcome() -> None:
    market = MarketBook(["yes", "no"])
    order = IncomingOrder("a", "ann", Side.BUY, OrderType.LIMIT, 40, 10, TimeInForce.GTC, 1)
    market.submit("yes", order, START)
    ask = IncomingOrder("b", "bob", Side.SELL, OrderType.LIMIT, 70, 5, TimeInForce.GTC, 2)
    market.submit("yes", ask, START)
    assert market.best("no") == (30, 60)
    bids, asks = market.depth("no", 10)
    assert [(level.price_cents, level.quantity, level.synthetic) for level in bids] == [(30, 5, 5)]
    assert [(level.price_cents, level.quantity, level.synthetic) for level in asks] == [
        (60, 10, 10)
    ]
