"""Loading an outcome's book inside a transaction and applying what it returns.

There is no long-lived in-memory book that could drift from storage: every
command that trades loads the resting orders it needs, under the market lock,
and writes back what changed.
"""

from __future__ import annotations

from domain import ledger
from domain import positions as shares
from domain.events import BookChanged
from domain.ledger import Reason
from domain.model import Market, Order, OrderStatus, Outcome, Side
from domain.orderbook import OrderBook, RestingOrder
from domain.services.work import Work


class LoadedBook:
    """An outcome's :class:`OrderBook` plus the resting :class:`Order` rows behind it."""

    def __init__(self, market: Market, outcome: Outcome, orders: list[Order]) -> None:
        self.market = market
        self.outcome = outcome
        self.orders = {order.id: order for order in orders}
        self.book = OrderBook(fee_bps=market.fee_bps)
        for order in orders:
            self.book.add_resting(as_resting(order))

    def refresh_top(self, work: Work) -> None:
        """Mirror the top of the book on the outcome and announce the change."""
        self.outcome.best_bid_cents = self.book.best_bid()
        self.outcome.best_ask_cents = self.book.best_ask()
        self.outcome.book_sequence += 1
        work.emit(
            BookChanged(self.market.id, self.outcome.id, self.outcome.book_sequence, work.now)
        )


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


async def load_book(work: Work, market: Market, outcome: Outcome) -> LoadedBook:
    orders = await work.uow.orders.resting(market.id, outcome.id)
    loaded = LoadedBook(market, outcome, [work.track_order(order) for order in orders])
    expired = loaded.book.expire(work.now)
    for resting in expired:
        await end_order(work, loaded.orders.pop(resting.order_id), OrderStatus.EXPIRED)
    if expired:
        loaded.refresh_top(work)
    return loaded


async def end_order(work: Work, order: Order, status: OrderStatus) -> None:
    """Cancel or expire a resting order and release what it still reserves."""
    await work.user(order.user_id)
    if order.side is Side.BUY:
        work.journal.move(
            ledger.reserved(order.user_id),
            ledger.cash(order.user_id),
            order.reserved_cents,
            Reason.RELEASE,
            market_id=order.market_id,
            order_id=order.id,
        )
        order.reserved_cents = 0
    else:
        position = await work.position(order.user_id, order.market_id, order.outcome_id)
        shares.release_shares(position, order.remaining_quantity)
    order.status = status
    work.order_changed(order)


async def end_all_resting(work: Work, market: Market, status: OrderStatus) -> int:
    """End every resting order of a market (it stopped trading); returns how many."""
    orders = [work.track_order(order) for order in await work.uow.orders.resting(market.id)]
    for order in orders:
        await end_order(work, order, status)
    touched = {order.outcome_id for order in orders}
    for outcome in market.outcomes:
        if outcome.id in touched:
            outcome.best_bid_cents = outcome.best_ask_cents = None
            outcome.book_sequence += 1
            work.emit(BookChanged(market.id, outcome.id, outcome.book_sequence, work.now))
    return len(orders)
