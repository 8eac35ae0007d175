"""Loading a market's books inside a transaction and announcing what changed.

Every batch of commands that trades (:mod:`domain.services.batching`) loads the
resting orders it needs (one query) under the market lock, or takes the books its
market's last batch kept (:class:`BookCache`) while no one changed them, runs the
pure engine, loads the users of the orders the engine named with their positions
(one query; the makers at the books' heads come with the batch's actors) and
settles through :mod:`domain.settlement`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import datetime

from domain.book_types import CrossFill, MarketMatch, RestingOrder
from domain.events import BOOK_EVENT_DEPTH, BookChanged
from domain.exchange import MarketBook
from domain.market_depth import Depth
from domain.model import Market, Order, OrderStatus, Outcome
from domain.orderbook import OrderBook
from domain.services.work import Work


class LoadedBooks:
    """A market's :class:`MarketBook` (every outcome's book) plus the resting
    :class:`Order` rows behind it. ``touched`` names the outcomes whose books changed;
    once any did, every outcome's view is announced (one book's change moves the
    other outcomes' synthetic levels)."""

    def __init__(self, market: Market, orders: list[Order]) -> None:
        self.market = market
        self.orders = {order.id: order for order in orders}
        self.exchange = book_of(market, orders)
        self.books = self.exchange.books
        self.touched: set[str] = set()

    def book(self, outcome_id: str) -> OrderBook:
        return self.books[outcome_id]

    def named(self, result: MarketMatch) -> list[Order]:
        """The resting orders a match result names (expired, cancelled, filled, legs)."""
        ids = [o.order_id for o in (*result.expired, *result.self_trade_cancelled)]
        for fill in result.fills:
            if isinstance(fill, CrossFill):
                ids.extend(leg.maker_order_id for leg in fill.legs)
            else:
                ids.append(fill.maker_order_id)
        return [self.orders[order_id] for order_id in ids]

    def head_owners(self) -> set[str]:
        """The owners of every outcome's first bid and first ask: the makers a crossing
        order meets first, which a batch loads with its actors (one query for both)."""
        heads = (self.exchange.head(o, bids) for o in self.books for bids in (True, False))
        return {head.user_id for head in heads if head is not None}

    def refresh_tops(self, work: Work) -> None:
        """Mirror each outcome's merged top on it (``MarketBook.best``, the top of its
        merged depth), bump every outcome's book sequence, and have the transaction
        announce every outcome's book as it ends: the views are read once, at commit,
        however many commands of a batch changed the books."""
        if not self.touched:
            return
        for outcome in self.market.outcomes:
            outcome.best_bid_cents, outcome.best_ask_cents = self.exchange.best(outcome.id)
            outcome.book_sequence += 1
        work.announce_at_commit(("books", self.market.id), self.announcements)
        self.touched.clear()

    def announcements(self, at: datetime) -> list[BookChanged]:
        """Every outcome's book as it stands, as events."""
        views = self.exchange.depths(BOOK_EVENT_DEPTH)
        return [book_event(o, at, views[o.id]) for o in self.market.outcomes]


def book_changed(outcome: Outcome, at: datetime, exchange: MarketBook | None = None) -> BookChanged:
    """The outcome's book as an event: its sequence and top levels, own and synthetic
    merged (none without ``exchange``)."""
    if exchange is None:
        return book_event(outcome, at, ([], []))
    return book_event(outcome, at, exchange.depth(outcome.id, BOOK_EVENT_DEPTH))


def book_event(outcome: Outcome, at: datetime, depth: Depth) -> BookChanged:
    """The outcome's book as an event, from its merged levels (bids, asks; best first)."""
    bids, asks = depth
    return BookChanged(
        outcome.market_id,
        outcome.id,
        outcome.book_sequence,
        at,
        tuple(bids),
        tuple(asks),
        outcome.last_trade_cents,
    )


def book_of(market: Market, resting: Iterable[Order]) -> MarketBook:
    """An engine exchange of ``market`` holding ``resting`` (limit orders on its books)."""
    exchange = MarketBook([outcome.id for outcome in market.outcomes], market.fee_bps)
    for order in resting:
        exchange.add_resting(order.outcome_id, as_resting(order))
    return exchange


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


async def load_books(work: Work, market: Market, *, expire: bool = True) -> LoadedBooks:
    """The books of every outcome of ``market`` (one query, once per ``work``: the
    commands of a batch share them), due GTD orders expired."""
    if market.id in work.books:
        return work.books[market.id]
    orders = await work.uow.orders.resting(market.id)
    loaded = work.books[market.id] = LoadedBooks(
        market, [work.track_order(order) for order in orders]
    )
    if expire:
        await _expire_due(work, loaded)
    return loaded


async def _expire_due(work: Work, loaded: LoadedBooks) -> None:
    expired = loaded.exchange.expire(work.now)
    if expired:
        orders = [loaded.orders[r.order_id] for _, r in expired]
        settle = await work.settlement(loaded.market, orders)
        for outcome_id, resting in expired:
            settle.end(loaded.orders.pop(resting.order_id), OrderStatus.EXPIRED)
            loaded.touched.add(outcome_id)
        loaded.refresh_tops(work)


class BookCache:
    """Each market's books as its last batch committed them (:mod:`.batching`), so the
    next batch on the market does not load and build them again.

    A kept book is valid while the market's fee and each outcome's ``book_sequence``,
    read under the market lock, are what they were when it was kept: every change of a
    market's books bumps the sequences (``LoadedBooks.refresh_tops``; the ``orderBook``
    query's views rely on the same rule), whichever command, worker or sweep made it.
    A book is taken out while a batch uses it and put back only after its commit."""

    def __init__(self) -> None:
        self._books: dict[tuple[object, str], tuple[Hashable, LoadedBooks]] = {}
        self.hits = 0
        self.misses = 0

    def take(self, scope: object, market: Market) -> LoadedBooks | None:
        """The kept books of ``market`` if still valid (gone from the cache either way)."""
        kept = self._books.pop((scope, market.id), None)
        if kept is None or kept[0] != _version(market):
            self.misses += 1
            return None
        self.hits += 1
        return kept[1]

    def head_owners(self, scope: object, market_id: str) -> set[str]:
        """``LoadedBooks.head_owners`` of the market's kept books, valid or not (read
        before the lock: they are who the next batch loads with its actors)."""
        kept = self._books.get((scope, market_id))
        return set() if kept is None else kept[1].head_owners()

    def keep(self, scope: object, loaded: LoadedBooks) -> None:
        """Keep books a batch committed (its market object is as stored now)."""
        if not loaded.touched:  # announced: the sequences say what it holds
            self._books[(scope, loaded.market.id)] = (_version(loaded.market), loaded)


def _version(market: Market) -> Hashable:
    return market.fee_bps, tuple((o.id, o.book_sequence) for o in market.outcomes)


async def adopt_books(work: Work, loaded: LoadedBooks, market: Market) -> LoadedBooks:
    """Books kept by :class:`BookCache`, used by ``work`` as if it had loaded them
    (``market`` is this transaction's, locked), due GTD orders expired."""
    loaded.market = market
    orders = list(loaded.orders.values())
    work.uow.orders.remember(orders)
    for order in orders:
        work.track_order(order)
    work.books[market.id] = loaded
    await _expire_due(work, loaded)
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
