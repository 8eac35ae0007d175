"""One exchange per market: the outcomes' order books matched together.

Units as in :mod:`domain.orderbook`: prices in cents 1..99, quantities in whole
shares, fees and budgets in cents. A complete set (one share of every outcome)
is worth 100 cents, so besides its own book's asks a BUY of outcome k can take
a *synthetic ask*: one resting bid of every other outcome, together a mint of
one set per share (the bids pay their own prices, the taker the rest of 100, at
least 1 cent). A SELL of k can likewise take a *synthetic bid*: one resting ask
of every other outcome, together a merge (the asks receive their prices, the
taker the rest, which must be at least 1 cent).

At every step the incoming order takes the better of its own book's best level
and the synthetic level (made of each other book's first order at its best
price); at an equal price the earlier goes first, a synthetic level's time being
its latest leg's sequence. Self-trade prevention cancels the taker's own orders
at the head of the level it is about to take (for a synthetic level: its own
legs). Due GTD orders of every book are expired first. The synthetic level is
read from the other books' best-price pointers: no scan of a book per step, and
an order whose limit the synthetic level does not reach is matched by its own
:class:`OrderBook` alone. Deterministic, synchronous, no I/O.

This module is the order book's friend: it walks :class:`OrderBook` internals.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TypeAlias

from domain.book_types import (
    NO_ASK,
    NO_BID,
    BookSide,
    CrossFill,
    Fill,
    IncomingOrder,
    Leg,
    MarketMatch,
    MatchResult,
    RestingOrder,
    synthetic_price,
    validate_incoming,
)
from domain.errors import InvariantViolation, PriceLimitExceeded
from domain.market_depth import Depth, merged_depth
from domain.model import (
    MAX_PRICE_CENTS,
    MIN_PRICE_CENTS,
    SHARE_PAYOUT_CENTS,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from domain.money import affordable_quantity, fill_fee
from domain.orderbook import OrderBook

_BUY = Side.BUY
_MARKET = OrderType.MARKET
_IOC = TimeInForce.IOC
_FOK = TimeInForce.FOK
_GTD = TimeInForce.GTD
_FILLED = OrderStatus.FILLED
_CANCELLED = OrderStatus.CANCELLED
_OPEN = OrderStatus.OPEN
_PARTIALLY_FILLED = OrderStatus.PARTIALLY_FILLED
_build = tuple.__new__
_NONE: tuple[RestingOrder, ...] = ()
_BOTH = (False, True)


class MarketBook:
    """The books of a market's outcomes (two or more), matched as one exchange."""

    def __init__(self, outcome_ids: Sequence[str], fee_bps: int = 0) -> None:
        if len(outcome_ids) < 2 or len(set(outcome_ids)) != len(outcome_ids):
            raise ValueError("a market book needs two or more distinct outcomes")
        self.fee_bps = fee_bps
        self.outcome_ids = tuple(outcome_ids)
        self.books = {outcome_id: OrderBook(fee_bps) for outcome_id in outcome_ids}
        self._all = tuple(self.books.values())
        self._others = {
            k: tuple((j, self.books[j]) for j in outcome_ids if j != k) for k in outcome_ids
        }
        # Per outcome and taker side (indexed by ``buy``): the other outcomes' sides a
        # synthetic level is made of, their asks for a SELL (merge), bids for a BUY (mint).
        self._legs = {
            k: tuple(tuple((j, b, b._bids if buy else b._asks) for j, b in others) for buy in _BOTH)
            for k, others in self._others.items()
        }
        self._leg_sides = {
            k: tuple(tuple(side for _, _, side in legs) for legs in both)
            for k, both in self._legs.items()
        }

    def book(self, outcome_id: str) -> OrderBook:
        return self.books[outcome_id]

    def add_resting(self, outcome_id: str, order: RestingOrder) -> None:
        """Load a resting order of ``outcome_id`` without matching."""
        self.books[outcome_id].add_resting(order)

    def cancel(self, outcome_id: str, order_id: str) -> RestingOrder:
        return self.books[outcome_id].cancel(order_id)

    def _expire_due(self, now: datetime) -> tuple[RestingOrder, ...]:
        """:meth:`expire`, cheap when nothing is due (the common case)."""
        for book in self._all:
            if book._expiries and book._expiries[0][0] <= now:
                return tuple(order for _, order in self.expire(now))
        return ()

    def expire(self, now: datetime) -> list[tuple[str, RestingOrder]]:
        """Remove every book's due GTD orders, by (expires_at, sequence)."""
        due = [(k, o) for k, book in self.books.items() for o in book.expire(now)]
        due.sort(key=lambda item: (item[1].expires_at, item[1].sequence))
        return due

    def orders(self, outcome_id: str) -> list[RestingOrder]:
        """Snapshots of the outcome's resting orders."""
        return self.books[outcome_id].orders()

    def get(self, order_id: str) -> tuple[str, RestingOrder] | None:
        for outcome_id, book in self.books.items():
            found = book.get(order_id)
            if found is not None:
                return outcome_id, found
        return None

    def submit(self, outcome_id: str, order: IncomingOrder, now: datetime) -> MarketMatch:
        """Match ``order`` on ``outcome_id`` at ``now`` against direct and synthetic
        liquidity; PriceLimitExceeded for a post-only order that would take or a FOK
        order that cannot fill completely (due orders are expired all the same)."""
        expired = _NONE
        order_id = order.order_id
        for book in self._all:  # one pass: nothing due and no duplicate is the rule
            if order_id in book._index or (book._expiries and book._expiries[0][0] <= now):
                expired = tuple(resting for _, resting in self.expire(now))
                if any(order_id in other._index for other in self._all):
                    raise ValueError(f"duplicate order id {order_id}")
                break
        buy = order.side is _BUY
        limit = order.price_cents
        if limit is None:
            limit = MAX_PRICE_CENTS if buy else MIN_PRICE_CENTS
        # The synthetic level reaches the limit when the legs' best prices sum to at
        # least 100 - limit (a mint: the taker's price is at least 1 cent) or at most
        # 100 - limit (a merge); an empty bid side (NO_BID, 0) has no level, and an
        # empty ask side (NO_ASK, 100) makes the sum too high to reach any limit.
        total = 0
        for side in self._leg_sides[outcome_id][buy]:
            best = side.best
            if best == NO_BID:
                total = -SHARE_PAYOUT_CENTS  # no mint: reaches no limit
                break
            total += best
        if (total < SHARE_PAYOUT_CENTS - limit) if buy else (total > SHARE_PAYOUT_CENTS - limit):
            plain = self.books[outcome_id].submit(order, now)
            if expired:
                return plain._replace(expired=expired + plain.expired)
            return plain
        validate_incoming(order, now, False)
        if order.post_only:
            raise PriceLimitExceeded("a post-only order would take liquidity")
        if order.time_in_force is _FOK and not self._fills_completely(outcome_id, order, limit):
            raise PriceLimitExceeded("a fill-or-kill order cannot fill completely")
        return self._match(outcome_id, order, limit, expired)

    def _fills_completely(self, outcome_id: str, order: IncomingOrder, limit: int) -> bool:
        """Whether :meth:`_match` would fill ``order`` completely (:meth:`walk`)."""
        needed, budget, notional = order.quantity, order.budget_cents, 0
        for price, qty in self.walk(outcome_id, order.side is _BUY, order.user_id, limit):
            if budget is not None:
                qty = min(qty, affordable_quantity(budget, price, self.fee_bps, notional))
                if qty == 0:
                    return False
            qty = min(qty, needed)
            notional += price * qty
            needed -= qty
            if not needed:
                return True
        return False

    def walk(
        self,
        outcome_id: str,
        buy: bool,
        user_id: str,
        limit: int,
        passed: list[tuple[int, RestingOrder]] | None = None,
    ) -> Iterator[tuple[int, int]]:
        """The (price, shares) steps a taker of ``user_id`` with ``limit`` would take, in
        the order :meth:`_match` takes them (direct or synthetic, the better; ties to the
        earlier), passing over the user's own orders (which matching cancels; appended to
        ``passed`` with their level's price as the walk meets them). Walks the live
        orders on private copies of their quantities: changes nothing."""
        book = self.books[outcome_id]
        direct = _Cursor((book._asks if buy else book._bids).live(book._index, limit))
        legs = [
            _Cursor(
                (other._bids if buy else other._asks).live(other._index, NO_BID if buy else NO_ASK)
            )
            for _, other in self._others[outcome_id]
        ]
        while True:
            head = direct.order
            fronts = [leg.order for leg in legs if leg.order is not None]
            synthetic = None
            if len(fronts) == len(legs):
                synthetic = synthetic_price(buy, sum(o.price_cents for o in fronts))
                if synthetic is not None and ((synthetic > limit) if buy else (synthetic < limit)):
                    synthetic = None
            if synthetic is None:
                if head is None:
                    return
                chosen, price = [direct], head.price_cents
            elif head is not None and (
                ((head.price_cents < synthetic) if buy else (head.price_cents > synthetic))
                or (
                    head.price_cents == synthetic
                    and head.sequence < max(o.sequence for o in fronts)
                )
            ):
                chosen, price = [direct], head.price_cents
            else:
                chosen, price = legs, synthetic
            own = [c for c in chosen if c.order is not None and c.order.user_id == user_id]
            if own:
                if passed is not None:
                    passed += [(price, c.order) for c in own if c.order is not None]
                for cursor in own:
                    cursor.next()  # cancelled by self-trade prevention
                continue
            qty = min(c.left for c in chosen)
            yield price, qty
            for cursor in chosen:
                cursor.take(qty)

    def has_orders(self) -> bool:
        """Whether any outcome's book holds a resting order."""
        return any(book._index for book in self._all)

    def best_own(self, outcome_id: str, bids: bool) -> int | None:
        """The best price of an outcome's own bids (or asks), None if there are none."""
        side = self.books[outcome_id]._bids if bids else self.books[outcome_id]._asks
        return None if side.best in (NO_BID, NO_ASK) else side.best

    def head(self, outcome_id: str, bids: bool) -> RestingOrder | None:
        """The first live order at the best price of an outcome's own bids (or asks)."""
        book = self.books[outcome_id]
        side = book._bids if bids else book._asks
        if side.best in (NO_BID, NO_ASK):
            return None
        return _head(book, side)

    def take(self, outcome_id: str, order: RestingOrder, qty: int) -> None:
        """Fill ``qty`` (1..remaining) of :meth:`head`'s ``order`` outside matching (the
        market maker took it); a filled order leaves the book."""
        book = self.books[outcome_id]
        _take(book, book._bids if order.side is _BUY else book._asks, order, qty)

    def best(self, outcome_id: str) -> tuple[int | None, int | None]:
        """The merged best bid and ask of an outcome: its own or the synthetic, the better."""
        book = self.books[outcome_id]
        bid, ask = book.best_bid(), book.best_ask()
        synthetic_bid = self._synthetic(outcome_id, False)
        synthetic_ask = self._synthetic(outcome_id, True)
        if synthetic_bid is not None and (bid is None or synthetic_bid > bid):
            bid = synthetic_bid
        if synthetic_ask is not None and (ask is None or synthetic_ask < ask):
            ask = synthetic_ask
        return bid, ask

    def depth(self, outcome_id: str, levels: int) -> Depth:
        """Up to ``levels`` levels per side of the outcome's own book merged with its
        synthetic levels (what sweeping the other books would give, level by level)."""
        others = [book.depth(MAX_PRICE_CENTS) for _, book in self._others[outcome_id]]
        return merged_depth(self.books[outcome_id].depth(levels), others, levels)

    def depths(self, levels: int) -> dict[str, Depth]:
        """:meth:`depth` of every outcome, reading each book's levels once."""
        own = {outcome_id: book.depth(MAX_PRICE_CENTS) for outcome_id, book in self.books.items()}
        return {
            k: merged_depth(own[k], [own[j] for j, _ in self._others[k]], levels)
            for k in self.outcome_ids
        }

    def check_invariants(self) -> None:
        """Each book's invariants, and no outcome's own best crosses its synthetic level."""
        for outcome_id, book in self.books.items():
            book.check_invariants()
            bid, ask = book.best_bid(), book.best_ask()
            synthetic_ask = self._synthetic(outcome_id, True)
            synthetic_bid = self._synthetic(outcome_id, False)
            if bid is not None and synthetic_ask is not None and bid >= synthetic_ask:
                raise InvariantViolation(f"{outcome_id}: bid {bid} crosses a synthetic ask")
            if ask is not None and synthetic_bid is not None and ask <= synthetic_bid:
                raise InvariantViolation(f"{outcome_id}: ask {ask} crosses a synthetic bid")

    def _synthetic(self, outcome_id: str, taker_is_buy: bool) -> int | None:
        """The synthetic level's price for a taker on ``outcome_id``, None if there is none."""
        total = 0
        for _, book in self._others[outcome_id]:
            best = book._bids.best if taker_is_buy else book._asks.best
            if best in (NO_BID, NO_ASK):
                return None
            total += best
        return synthetic_price(taker_is_buy, total)

    def _match(
        self,
        outcome_id: str,
        order: IncomingOrder,
        limit: int,
        expired: tuple[RestingOrder, ...],
    ) -> MarketMatch:
        """Take the better of direct and synthetic while either crosses ``limit``.

        The synthetic level is read again only after a step changed one of its legs
        (a direct fill or a self-trade cancel in the own book leaves the other books
        as they were), in one pass over the legs' best-price pointers."""
        book = self.books[outcome_id]
        buy = order.side is _BUY
        direct = book._asks if buy else book._bids
        index = book._index
        legs = self._legs[outcome_id][buy]
        fills: list[Fill | CrossFill] = []
        stp: list[RestingOrder] = []
        taker_id, taker_user, fee_bps = order.order_id, order.user_id, self.fee_bps
        needed, budget, notional, spent = order.quantity, order.budget_cents, 0, False
        synthetic, heads, latest, leg_qty, own = _synthetic_level(legs, buy, limit, taker_user)
        stale = False
        while needed:
            if stale:
                synthetic, heads, latest, leg_qty, own = _synthetic_level(
                    legs, buy, limit, taker_user
                )
                stale = False
            price = direct.best
            if (price > limit) if buy else (price < limit):
                if not synthetic:
                    break
                use_direct = False
            else:
                queue = direct.queues[price]
                head = queue[0]
                while index.get(head.order_id) is not head:  # cancelled: dropped lazily
                    queue.popleft()
                    head = queue[0]
                use_direct = not synthetic or (
                    ((price < synthetic) if buy else (price > synthetic))
                    or (price == synthetic and head.sequence < latest)
                )
            if use_direct:
                if head.user_id == taker_user:
                    stp.append(head)
                    book._unlink(head)
                    continue
                left = head.remaining
                qty = left if left < needed else needed
                if budget is not None:
                    qty = min(qty, affordable_quantity(budget, price, fee_bps, notional))
                    if qty == 0:
                        spent = True
                        break
                fee = fill_fee(notional, price * qty, fee_bps)
                notional += price * qty
                left -= qty
                head.remaining = left
                direct.quantity[price] -= qty
                if not left:
                    _drop_head(book, direct, head)
                fill = (head.order_id, head.user_id, taker_id, taker_user, price, qty, left, fee)
                fills.append(_build(Fill, fill))
                needed -= qty
                continue
            stale = True  # whatever happens next changes a leg
            if own:
                for (_, other, _), h in zip(legs, heads, strict=False):
                    if h.user_id == taker_user:
                        stp.append(h)
                        other._unlink(h)
                continue
            qty = leg_qty if leg_qty < needed else needed
            if budget is not None:
                qty = min(qty, affordable_quantity(budget, synthetic, fee_bps, notional))
                if qty == 0:
                    spent = True
                    break
            fee = fill_fee(notional, synthetic * qty, fee_bps)
            notional += synthetic * qty
            taken = []
            for (j, other, side), h in zip(legs, heads, strict=False):
                left = h.remaining - qty
                h.remaining = left
                side.quantity[h.price_cents] -= qty
                if not left:
                    _drop_head(other, side, h)
                taken.append(_build(Leg, (j, h.order_id, h.user_id, h.price_cents, left)))
            cross = (taker_id, taker_user, synthetic, qty, fee, tuple(taken), buy)
            fills.append(_build(CrossFill, cross))
            needed -= qty
        filled, tif = order.quantity - needed, order.time_in_force
        if not needed or spent or order.order_type is _MARKET or tif is _IOC or tif is _FOK:
            status = _CANCELLED if needed else _FILLED
            return _build(MatchResult, (tuple(fills), filled, status, None, tuple(stp), expired))
        assert order.price_cents is not None
        expires_at = order.expires_at if tif is _GTD else None
        fields = (
            taker_id,
            taker_user,
            order.side,
            order.price_cents,
            needed,
            order.sequence,
            expires_at,
        )
        book._insert(RestingOrder(*fields))
        status = _PARTIALLY_FILLED if filled else _OPEN
        result = (tuple(fills), filled, status, RestingOrder(*fields), tuple(stp), expired)
        return _build(MatchResult, result)


class _Cursor:
    """A walk over a side's live orders in priority order, with the front order's
    quantity ``left`` as a private copy (for :meth:`MarketBook._fills_completely`)."""

    def __init__(self, orders: Iterator[RestingOrder]) -> None:
        self._orders = orders
        self.order: RestingOrder | None = None
        self.left = 0
        self.next()

    def next(self) -> None:
        self.order = next(self._orders, None)
        self.left = 0 if self.order is None else self.order.remaining

    def take(self, qty: int) -> None:
        self.left -= qty
        if not self.left:
            self.next()


_Level: TypeAlias = tuple[int, list[RestingOrder], int, int, bool]
"""A synthetic level as :meth:`MarketBook._match` reads it: its price for the taker
(0: none within the limit), the legs' head orders, its time (the latest leg's
sequence), the most it can fill (the smallest head) and whether a head is the
taker's own."""

_NO_LEVEL: _Level = (0, [], 0, 0, False)


def _synthetic_level(
    legs: tuple[tuple[str, OrderBook, BookSide], ...], buy: bool, limit: int, taker_user: str
) -> _Level:
    """The synthetic level a taker with ``limit`` reaches, in one pass over the legs'
    best-price pointers and the head orders there."""
    heads = []
    total = latest = quantity = 0
    own = False
    for _, other, side in legs:
        best = side.best
        if best in (NO_BID, NO_ASK):
            return _NO_LEVEL
        total += best
        queue, index = side.queues[best], other._index
        head = queue[0]
        while index.get(head.order_id) is not head:  # cancelled: dropped lazily
            queue.popleft()
            head = queue[0]
        heads.append(head)
        if head.sequence > latest:
            latest = head.sequence
        if not quantity or head.remaining < quantity:
            quantity = head.remaining
        if head.user_id == taker_user:
            own = True
    price = SHARE_PAYOUT_CENTS - total
    if buy:
        if price < MIN_PRICE_CENTS:
            price = MIN_PRICE_CENTS
        if price > limit:
            return _NO_LEVEL
    elif price < limit:  # limit >= 1: a level below 1 cent never reaches
        return _NO_LEVEL
    return price, heads, latest, quantity, own


def _head(book: OrderBook, side: BookSide) -> RestingOrder:
    """The first live order at ``side``'s best price (dropping cancelled entries)."""
    queue, index = side.queues[side.best], book._index
    while index.get(queue[0].order_id) is not queue[0]:
        queue.popleft()
    return queue[0]


def _take(book: OrderBook, side: BookSide, maker: RestingOrder, qty: int) -> None:
    """Fill ``qty`` of the head order ``maker``; a filled one leaves the book."""
    maker.remaining -= qty
    side.quantity[maker.price_cents] -= qty
    if not maker.remaining:
        _drop_head(book, side, maker)


def _drop_head(book: OrderBook, side: BookSide, maker: RestingOrder) -> None:
    """Remove the filled head order ``maker`` from its queue, the index and its level."""
    price = maker.price_cents
    side.queues[price].popleft()
    del book._index[maker.order_id]
    side.count[price] -= 1
    if not side.count[price]:
        side.queues[price].clear()
        side.advance()
