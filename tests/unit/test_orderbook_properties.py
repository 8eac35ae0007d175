"""Property tests: the fast book behaves exactly like the reference book.

Random streams of limits, markets (every time in force, post-only, budgets),
cancels, clock ticks and expiries from several users go to both books; results
(fills, statuses, events), errors and the resulting book must be identical, and
the fast book's invariants must hold after every step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeAlias

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.model import OrderType, Side, TimeInForce
from domain.orderbook import Fill, IncomingOrder, MatchResult, OrderBook, RestingOrder
from tests.reference_book import ReferenceBook

START = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Submit:
    user: str
    side: Side
    order_type: OrderType
    price: int
    quantity: int
    tif: TimeInForce
    post_only: bool
    lifetime_s: int
    budget: int | None


@dataclass(frozen=True)
class Cancel:
    pick: int


@dataclass(frozen=True)
class Tick:
    seconds: int


@dataclass(frozen=True)
class Expire:
    pass


Op: TypeAlias = Submit | Cancel | Tick | Expire
Outcome: TypeAlias = MatchResult[Fill] | RestingOrder | list[RestingOrder] | type[Exception]

submits = st.builds(
    Submit,
    user=st.sampled_from(["ann", "bob", "cy"]),
    side=st.sampled_from(Side),
    order_type=st.sampled_from([OrderType.LIMIT] * 4 + [OrderType.MARKET]),
    price=st.sampled_from([*range(44, 57), *range(47, 54), 1, 99]),
    quantity=st.integers(1, 12),
    tif=st.sampled_from(TimeInForce),
    post_only=st.sampled_from([False] * 5 + [True]),
    lifetime_s=st.integers(1, 40),
    budget=st.none() | st.integers(0, 800),
)
others = st.one_of(
    st.builds(Cancel, st.integers(0, 1_000)),
    st.builds(Tick, st.integers(1, 15)),
    st.just(Expire()),
)
ops = st.integers(0, 9).flatmap(lambda kind: submits if kind < 7 else others)


class Pair:
    """Both books, fed the same operations and compared after each one."""

    def __init__(self, fee_bps: int) -> None:
        self.fast = OrderBook(fee_bps)
        self.reference = ReferenceBook(fee_bps)
        self.now = START
        self.sequence = 0

    def apply(self, op: Op) -> None:
        if isinstance(op, Tick):
            self.now += timedelta(seconds=op.seconds)
            return
        if isinstance(op, Submit):
            self.sequence += 1
        fast, reference = self._both(op, self.fast), self._both(op, self.reference)
        assert fast == reference, op
        self.fast.check_invariants()
        self.reference.check_invariants()
        assert _state(self.fast) == _state(self.reference)

    def _both(self, op: Op, book: OrderBook | ReferenceBook) -> Outcome:
        try:
            if isinstance(op, Submit):
                return book.submit(self._order(op), self.now)
            if isinstance(op, Cancel):
                ids = sorted(o.order_id for o in book.orders())
                return book.cancel(ids[op.pick % len(ids)] if ids else "missing")
            return book.expire(self.now)
        except Exception as error:  # the exception's type must agree too
            return type(error)

    def _order(self, op: Submit) -> IncomingOrder:
        market = op.order_type is OrderType.MARKET
        return IncomingOrder(
            order_id=f"o{self.sequence}",
            user_id=op.user,
            side=op.side,
            order_type=op.order_type,
            price_cents=None if market else op.price,
            quantity=op.quantity,
            time_in_force=op.tif,
            sequence=self.sequence,
            post_only=op.post_only,
            expires_at=self.now + timedelta(seconds=op.lifetime_s),
            budget_cents=op.budget if op.side is Side.BUY else None,
        )


def _state(book: OrderBook | ReferenceBook) -> tuple[object, ...]:
    orders = sorted(book.orders(), key=lambda o: o.order_id)
    return orders, book.depth(99), book.best_bid(), book.best_ask(), len(book)


@settings(max_examples=400, deadline=None)
@given(fee_bps=st.sampled_from([0, 100, 250]), stream=st.lists(ops, min_size=10, max_size=120))
def test_fast_book_matches_reference_book(fee_bps: int, stream: list[Op]) -> None:
    pair = Pair(fee_bps)
    for op in stream:
        pair.apply(op)


resting = st.tuples(
    st.sampled_from(["ann", "bob", "cy"]),
    st.sampled_from(Side),
    st.integers(1, 10),
    st.integers(1, 9),
    st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(
    loaded=st.lists(resting, max_size=40),
    order_of_loading=st.randoms(use_true_random=False),
    sweep_side=st.sampled_from(Side),
)
def test_loading_out_of_sequence_gives_the_same_priority(
    loaded: list[tuple[str, Side, int, int, bool]],
    order_of_loading: object,
    sweep_side: Side,
) -> None:
    orders = [
        RestingOrder(f"r{i}", user, side, 50 - off if side is Side.BUY else 50 + off, qty, i,
                     START + timedelta(seconds=i) if gtd else None)
        for i, (user, side, off, qty, gtd) in enumerate(loaded)
    ]  # fmt: skip
    shuffled = list(orders)
    order_of_loading.shuffle(shuffled)  # type: ignore[attr-defined]
    fast, reference = OrderBook(), ReferenceBook()
    for order in shuffled:
        fast.add_resting(order)
    for order in orders:
        reference.add_resting(order)
    fast.check_invariants()
    now = START + timedelta(seconds=len(orders) // 2)
    sweep = IncomingOrder("t", "zed", sweep_side, OrderType.MARKET, None, 60, TimeInForce.IOC, 999)
    assert fast.submit(sweep, now) == reference.submit(sweep, now)
    assert _state(fast) == _state(reference)
    assert fast.expire(now + timedelta(days=1)) == reference.expire(now + timedelta(days=1))
    fast.check_invariants()
