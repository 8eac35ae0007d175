"""The order book of one outcome: price-time priority matching in integer cents.

Units: prices are integer cents per share, 1..99; quantities are whole shares;
fees and budgets are whole cents. An order pays the taker fee
``ceil(notional * fee_bps / 10000)`` on its whole notional, rounded up once; each fill
carries its share (see :func:`domain.money.fill_fee`). The engine is synchronous and
deterministic: time, ids and sequence numbers are arguments; it returns events
(values and guards live in :mod:`domain.book_types` and are re-exported here).

Design: per side a :class:`BookSide`, an array of price levels indexed by price in
cents, each a deque of orders in time priority plus the level's live quantity and
count, and a best price; and an order-id index. Cancel is O(1): the order leaves the
index and the level totals at once, while its deque entry is dropped lazily (an
entry is live only while the index maps its id to that very object).

Speed: a limit order that does not cross rests without entering the matching
loop; the loop binds what it touches to locals and removes filled makers inline;
events are NamedTuples built with ``tuple.__new__`` (no Python-level
``__new__``), the enum members are module constants compared by identity.
"""

from __future__ import annotations

from datetime import datetime
from heapq import heapify, heappop, heappush

from domain.book_types import (
    NO_ASK,
    NO_BID,
    BookSide,
    Fill,
    IncomingOrder,
    MatchResult,
    PriceLevel,
    RestingOrder,
    validate_incoming,
    validate_resting,
)
from domain.errors import InvariantViolation, NotFound, PriceLimitExceeded
from domain.model import (
    MAX_PRICE_CENTS,
    MIN_PRICE_CENTS,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from domain.money import affordable_quantity, check_fee_bps, fill_fee

__all__ = [
    "Fill",
    "IncomingOrder",
    "MatchResult",
    "OrderBook",
    "PriceLevel",
    "RestingOrder",
    "validate_incoming",
    "validate_resting",
]

# Enum members bound once: attribute access on an enum class is not free.
_BUY = Side.BUY
_SELL = Side.SELL
_MARKET = OrderType.MARKET
_GTD = TimeInForce.GTD
_IOC = TimeInForce.IOC
_FOK = TimeInForce.FOK
_FILLED = OrderStatus.FILLED
_CANCELLED = OrderStatus.CANCELLED
_OPEN = OrderStatus.OPEN
_PARTIALLY_FILLED = OrderStatus.PARTIALLY_FILLED

_NONE: tuple[RestingOrder, ...] = ()
_build = tuple.__new__
"""Builds a NamedTuple from a tuple of its fields in order, in half the time of its ``__new__``."""


class OrderBook:
    """The fast book. Returned orders are snapshots except those already removed."""

    def __init__(self, fee_bps: int = 0) -> None:
        check_fee_bps(fee_bps)
        self.fee_bps = fee_bps
        self._bids = BookSide.empty(True)
        self._asks = BookSide.empty(False)
        self._index: dict[str, RestingOrder] = {}
        self._expiries: list[tuple[datetime, int, int, RestingOrder]] = []
        self._pushes = 0

    def add_resting(self, order: RestingOrder) -> None:
        """Load a resting order without matching; ``sequence`` sets its time priority."""
        validate_resting(order, order.order_id in self._index)
        opposite = self._asks if order.side is _BUY else self._bids
        if opposite.best != (NO_ASK if order.side is _BUY else NO_BID) and (
            order.price_cents >= opposite.best
            if order.side is _BUY
            else order.price_cents <= opposite.best
        ):
            raise ValueError(f"resting order {order.order_id} would cross the book")
        self._insert(order.copy())

    def submit(self, order: IncomingOrder, now: datetime) -> MatchResult[Fill]:
        """Match ``order`` at time ``now``; raise PriceLimitExceeded (changing nothing) for a
        postOnly order that would take or a FOK order that cannot fill completely."""
        validate_incoming(order, now, order.order_id in self._index)
        buy = order.side is _BUY
        opposite = self._asks if buy else self._bids
        limit = order.price_cents
        if limit is None:
            limit = MAX_PRICE_CENTS if buy else MIN_PRICE_CENTS
        tif = order.time_in_force
        if (opposite.best <= limit) if buy else (opposite.best >= limit):
            if order.post_only and self._any_live(opposite, limit, now):
                raise PriceLimitExceeded("a post-only order would take liquidity")
            fok_ok = tif is not _FOK or opposite.fills_completely(
                self._index, order, limit, now, self.fee_bps
            )
            if not fok_ok:
                raise PriceLimitExceeded("a fill-or-kill order cannot fill completely")
            return self._match(order, opposite, limit, now)
        if tif is _FOK:
            raise PriceLimitExceeded("a fill-or-kill order cannot fill completely")
        if tif is _IOC or order.order_type is _MARKET:
            return _build(MatchResult, ((), 0, _CANCELLED, None, _NONE, _NONE))
        return self._rest(order, order.quantity, 0, (), _NONE, _NONE)

    def cancel(self, order_id: str) -> RestingOrder:
        """Remove a resting order in O(1); raise NotFound if it is not resting."""
        order = self._index.get(order_id)
        if order is None:
            raise NotFound(f"order {order_id} is not resting")
        self._unlink(order)
        return order

    def expire(self, now: datetime) -> list[RestingOrder]:
        """Remove GTD orders with ``expires_at <= now``, by (expires_at, sequence)."""
        expired: list[RestingOrder] = []
        heap, index = self._expiries, self._index
        while heap and heap[0][0] <= now:
            order = heappop(heap)[3]
            if index.get(order.order_id) is order:
                self._unlink(order)
                expired.append(order)
        return expired

    def get(self, order_id: str) -> RestingOrder | None:
        order = self._index.get(order_id)
        return None if order is None else order.copy()

    def best_bid(self) -> int | None:
        return None if self._bids.best == NO_BID else self._bids.best

    def best_ask(self) -> int | None:
        return None if self._asks.best == NO_ASK else self._asks.best

    def depth(self, levels: int) -> tuple[list[PriceLevel], list[PriceLevel]]:
        """Up to ``levels`` non-empty levels per side: bids highest first, asks lowest first."""
        if levels < 0:
            raise ValueError("levels must be >= 0")
        return self._levels(self._bids, levels), self._levels(self._asks, levels)

    def orders(self) -> list[RestingOrder]:
        return [order.copy() for order in self._index.values()]

    def __len__(self) -> int:
        return len(self._index)

    def check_invariants(self) -> None:
        """Raise InvariantViolation unless the book's structures agree with each other."""
        if self._bids.best != NO_BID and self._asks.best != NO_ASK:
            _check(self._bids.best < self._asks.best, "crossed book")
        seen = self._bids.check(self._index) + self._asks.check(self._index)
        _check(seen == len(self._index), "index holds orders missing from the levels")

    def _levels(self, half: BookSide, levels: int) -> list[PriceLevel]:
        count, quantity = half.count, half.quantity
        prices = half.crossing_prices(MIN_PRICE_CENTS if half.is_bid else MAX_PRICE_CENTS)
        live = [price for price in prices if count[price]][:levels]
        return [_build(PriceLevel, (price, quantity[price], count[price], 0)) for price in live]

    def _any_live(self, half: BookSide, limit: int, now: datetime) -> bool:
        live = half.live(self._index, limit)
        return any(o.expires_at is None or o.expires_at > now for o in live)

    def _match(
        self, order: IncomingOrder, half: BookSide, limit: int, now: datetime
    ) -> MatchResult[Fill]:
        """Take from ``half`` while its best price crosses ``limit``; fills in execution order.

        A filled maker leaves the queue, the index and the level here (no ``_unlink``
        call); expired and own orders leave through ``_unlink`` into the events."""
        fills: list[Fill] = []
        expired: list[RestingOrder] = []
        stp: list[RestingOrder] = []
        index, queues, level_qty, level_count = self._index, half.queues, half.quantity, half.count
        buy, fee_bps, spent = not half.is_bid, self.fee_bps, False
        taker_id, taker_user = order.order_id, order.user_id
        needed, budget, notional = order.quantity, order.budget_cents, 0
        while needed:
            price = half.best
            if (price > limit) if buy else (price < limit):
                break
            queue = queues[price]
            maker = queue[0]
            if index.get(maker.order_id) is not maker:
                queue.popleft()  # cancelled earlier: dropped lazily
                continue
            if maker.expires_at is not None and maker.expires_at <= now:
                expired.append(queue.popleft())
                self._unlink(maker)
                continue
            if maker.user_id == taker_user:
                stp.append(queue.popleft())
                self._unlink(maker)
                continue
            left = maker.remaining
            qty = left if left < needed else needed
            if budget is not None:
                qty = min(qty, affordable_quantity(budget, price, fee_bps, notional))
                if qty == 0:
                    spent = True
                    break
            cost = price * qty
            fee = fill_fee(notional, cost, fee_bps)
            notional += cost
            left -= qty
            maker.remaining = left
            level_qty[price] -= qty
            fill = (maker.order_id, maker.user_id, taker_id, taker_user, price, qty, left, fee)
            fills.append(_build(Fill, fill))
            needed -= qty
            if not left:
                queue.popleft()
                del index[maker.order_id]
                level_count[price] -= 1
                if not level_count[price]:
                    queue.clear()
                    half.advance()
        filled, tif = order.quantity - needed, order.time_in_force
        # A remainder left by the budget would cross the book: it never rests.
        if not needed or spent or order.order_type is _MARKET or tif is _IOC or tif is _FOK:
            status = _CANCELLED if needed else _FILLED
            result = (tuple(fills), filled, status, None, tuple(stp), tuple(expired))
            return _build(MatchResult, result)
        return self._rest(order, needed, filled, tuple(fills), tuple(stp), tuple(expired))

    def _rest(
        self,
        order: IncomingOrder,
        remaining: int,
        filled: int,
        fills: tuple[Fill, ...],
        stp: tuple[RestingOrder, ...],
        expired: tuple[RestingOrder, ...],
    ) -> MatchResult[Fill]:
        """Rest the unfilled ``remaining`` of a GTC or GTD limit order; a snapshot goes out."""
        assert order.price_cents is not None
        expires_at = order.expires_at if order.time_in_force is _GTD else None
        fields = (
            order.order_id, order.user_id, order.side, order.price_cents,
            remaining, order.sequence, expires_at,
        )  # fmt: skip
        self._insert(RestingOrder(*fields))
        status = _PARTIALLY_FILLED if filled else _OPEN
        return _build(MatchResult, (fills, filled, status, RestingOrder(*fields), stp, expired))

    def _insert(self, order: RestingOrder) -> None:
        half = self._bids if order.side is _BUY else self._asks
        price = order.price_cents
        queue = half.queues[price]
        if not queue or queue[-1].sequence <= order.sequence:
            queue.append(order)
        else:
            at = next(i for i, o in enumerate(queue) if o.sequence > order.sequence)
            queue.insert(at, order)
        half.quantity[price] += order.remaining
        half.count[price] += 1
        if (price > half.best) if half.is_bid else (price < half.best):
            half.best = price
        self._index[order.order_id] = order
        if order.expires_at is not None:
            self._push_expiry(order)

    def _push_expiry(self, order: RestingOrder) -> None:
        assert order.expires_at is not None
        self._pushes += 1
        heappush(self._expiries, (order.expires_at, order.sequence, self._pushes, order))
        if len(self._expiries) > 2 * len(self._index) + 64:
            index = self._index
            self._expiries = [e for e in self._expiries if index.get(e[3].order_id) is e[3]]
            heapify(self._expiries)

    def _unlink(self, order: RestingOrder) -> None:
        """Take a live order out of the index and its level's totals (its entry goes lazily)."""
        del self._index[order.order_id]
        half = self._bids if order.side is _BUY else self._asks
        price = order.price_cents
        half.quantity[price] -= order.remaining
        half.count[price] -= 1
        queue = half.queues[price]
        if half.count[price] == 0:
            queue.clear()
            if price == half.best:
                half.advance()
        elif len(queue) > 2 * half.count[price] + 16:
            index = self._index
            live = [o for o in queue if index.get(o.order_id) is o]
            queue.clear()
            queue.extend(live)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise InvariantViolation(message)
