"""Loading a market's books inside a transaction and announcing what changed.

There is no long-lived in-memory book that could drift from storage: every
command that trades loads the resting orders it needs (one query), under the
market lock, runs the pure engine, loads the users and positions of the orders
the engine named (one query each) and settles through :mod:`domain.settlement`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from domain.events import BOOK_EVENT_DEPTH, BookChanged
from domain.model import Market, Order, OrderStatus, Outcome
from domain.orderbook import MatchResult, OrderBook, RestingOrder
from domain.services.work import Work


class LoadedBooks:
    """:class:`OrderBook` s of a market's outcomes plus the resting :class:`Order` rows behind
    them; ``touched`` names the outcomes whose top must be announced."""

    def __init__(self, market: Market, outcomes: Iterable[Outcome], orders: list[Order]) -> None:
        self.market = market
        self.orders = {order.id: order for order in orders}
        self.books = {outcome.id: OrderBook(fee_bps=market.fee_bps) for outcome in outcomes}
        self.touched: set[str] = set()
        for order in orders:
            self.books[order.outcome_id].add_resting(as_resting(order))

    def book(self, outcome_id: str) -> OrderBook:
        return self.books[outcome_id]

    def named(self, result: MatchResult) -> list[Order]:
        """The resting orders a match result names (expired, cancelled, filled)."""
        ids = [o.order_id for o in (*result.expired, *result.self_trade_cancelled)]
        ids.extend(fill.maker_order_id for fill in result.fills)
        return [self.orders[order_id] for order_id in ids]

    def refresh_tops(self, work: Work) -> None:
        """Mirror the top of each touched book on its outcome and announce the change."""
        for outcome in self.market.outcomes:
            if outcome.id in self.touched:
                book = self.books[outcome.id]
                outcome.best_bid_cents = book.best_bid()
                outcome.best_ask_cents = book.best_ask()
                outcome.book_sequence += 1
                work.emit(book_changed(outcome, work.now, book))
        self.touched.clear()


def book_changed(outcome: Outcome, at: datetime, book: OrderBook | None = None) -> BookChanged:
    """The outcome's book as an event: its sequence and top levels (none without ``book``)."""
    bids, asks = book.depth(BOOK_EVENT_DEPTH) if book is not None else ([], [])
    return BookChanged(
        outcome.market_id,
        outcome.id,
        outcome.book_sequence,
        at,
        tuple(bids),
        tuple(asks),
        outcome.last_trade_cents,
    )


def book_of(resting: Iterable[Order], fee_bps: int = 0) -> OrderBook:
    """An engine book holding ``resting`` (limit orders still on the book)."""
    book = OrderBook(fee_bps=fee_bps)
    for order in resting:
        book.add_resting(as_resting(order))
    return book


def as_resting(order: Order) -> RestingOrder:
    assert order.price_cents is not None
    return RestingOrder(
        order_id=order.id,
        user_id=order.user_id,
        side=order.side,
        price_cents=order.price_cents,
        remaining=order.remaining_quantity,
        sequence=order.sequence,
        expires_at=order.expires_at,
    )


async def load_books(
    work: Work, market: Market, outcome: Outcome | None = None, *, expire: bool = True
) -> LoadedBooks:
    """The books of ``outcome`` (or of every outcome), with due GTD orders expired."""
    orders = await work.uow.orders.resting(market.id, None if outcome is None else outcome.id)
    outcomes = market.outcomes if outcome is None else [outcome]
    loaded = LoadedBooks(market, outcomes, [work.track_order(order) for order in orders])
    if not expire:
        return loaded
    expired = [
        (outcome_id, resting)
        for outcome_id, book in loaded.books.items()
        for resting in book.expire(work.now)
    ]
    if expired:
        settle = await work.settlement(market, [loaded.orders[r.order_id] for _, r in expired])
        for outcome_id, resting in expired:
            settle.end(loaded.orders.pop(resting.order_id), OrderStatus.EXPIRED)
            loaded.touched.add(outcome_id)
        loaded.refresh_tops(work)
    return loaded


async def end_all_resting(work: Work, market: Market, status: OrderStatus) -> int:
    """End every resting order of a market (it stopped trading); returns how many."""
    loaded = await load_books(work, market, expire=False)
    orders = list(loaded.orders.values())
    settle = await work.settlement(market, orders)
    for order in orders:
        loaded.book(order.outcome_id).cancel(order.id)
        settle.end(order, status)
        loaded.touched.add(order.outcome_id)
    loaded.refresh_tops(work)
    return len(orders)
