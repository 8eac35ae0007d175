"""The order book of one outcome: price-time priority matching in integer cents.

Units: prices are integer cents per share, 1..99; quantities are whole shares;
fees and budgets are whole cents. The taker fee of a fill is
``ceil(price * quantity * fee_bps / 10000)``. The engine is synchronous and
deterministic: time, ids and sequence numbers are arguments; it returns events.

Design: per side an array of price levels indexed by price in cents, each a
deque of orders in time priority plus the level's live quantity and count; a
best price per side; and an order-id index. Cancel is O(1): the order leaves the
index and the level totals at once, while its deque entry is dropped lazily (an
entry is live only while the index maps its id to that very object).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from heapq import heapify, heappop, heappush

from domain.errors import InvariantViolation, NotFound, PriceLimitExceeded
from domain.model import (
    MAX_PRICE_CENTS,
    MIN_PRICE_CENTS,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)

BPS = 10_000
"""Basis points in a whole: a fee of ``fee_bps`` is ``fee_bps / BPS`` of the notional."""


# Enum members bound once: attribute access on an enum class costs ~60 ns on 3.11.
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


@dataclass(slots=True)
class RestingOrder:
    """A resting limit order: ``remaining`` (> 0) shares at ``price_cents`` (1..99)."""

    order_id: str
    user_id: str
    side: Side
    price_cents: int
    remaining: int
    sequence: int
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class IncomingOrder:
    """An order to match. ``price_cents`` (1..99) is None for MARKET; ``budget_cents``
    (BUY only) caps what immediate fills may cost including the taker fee."""

    order_id: str
    user_id: str
    side: Side
    order_type: OrderType
    price_cents: int | None
    quantity: int
    time_in_force: TimeInForce
    sequence: int
    post_only: bool = False
    expires_at: datetime | None = None
    budget_cents: int | None = None


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution at the maker's price; ``fee_cents`` is the taker's fee for it."""

    maker_order_id: str
    maker_user_id: str
    taker_order_id: str
    taker_user_id: str
    price_cents: int
    quantity: int
    maker_remaining: int
    fee_cents: int


@dataclass(frozen=True, slots=True)
class MatchResult:
    """What a submit did: fills in execution order and the orders it removed."""

    fills: tuple[Fill, ...]
    filled_quantity: int
    status: OrderStatus
    rested: RestingOrder | None
    self_trade_cancelled: tuple[RestingOrder, ...]
    expired: tuple[RestingOrder, ...]


@dataclass(frozen=True, slots=True)
class PriceLevel:
    """A level of the depth: total ``quantity`` in shares over ``orders`` orders."""

    price_cents: int
    quantity: int
    orders: int


def taker_fee(notional_cents: int, fee_bps: int) -> int:
    """The taker fee in cents: ``ceil(notional_cents * fee_bps / 10000)``."""
    return -(-notional_cents * fee_bps // BPS)


def affordable_quantity(budget_cents: int, price_cents: int, fee_bps: int) -> int:
    """The most shares at ``price_cents`` whose cost plus taker fee fits ``budget_cents``.

    ``p*q + ceil(p*q*f/BPS) <= B`` holds exactly when ``p*q*(BPS+f) <= BPS*B``."""
    return BPS * budget_cents // (price_cents * (BPS + fee_bps))


def validate_fee_bps(fee_bps: int) -> None:
    if not 0 <= fee_bps <= BPS:
        raise ValueError(f"fee_bps must be within 0..{BPS}")


def validate_resting(order: RestingOrder, duplicate: bool) -> None:
    """Guard add_resting: a valid price, a positive remainder, a new id."""
    if duplicate:
        raise ValueError(f"duplicate order id {order.order_id}")
    if not MIN_PRICE_CENTS <= order.price_cents <= MAX_PRICE_CENTS:
        raise ValueError(f"price must be within {MIN_PRICE_CENTS}..{MAX_PRICE_CENTS} cents")
    if order.remaining <= 0:
        raise ValueError("a resting order needs a positive remaining quantity")


def validate_incoming(order: IncomingOrder, now: datetime, duplicate: bool) -> None:
    """Guard submit (the service validates first): raise ValueError on malformed input."""
    if duplicate:
        raise ValueError(f"duplicate order id {order.order_id}")
    if order.quantity <= 0:
        raise ValueError("quantity must be positive")
    if order.order_type is _MARKET:
        if order.price_cents is not None or order.post_only:
            raise ValueError("a MARKET order has no price and cannot be post-only")
    elif order.price_cents is None or not MIN_PRICE_CENTS <= order.price_cents <= MAX_PRICE_CENTS:
        raise ValueError(f"price must be within {MIN_PRICE_CENTS}..{MAX_PRICE_CENTS} cents")
    elif order.time_in_force is _GTD and (order.expires_at is None or order.expires_at <= now):
        raise ValueError("a GTD order needs an expires_at after now")
    if order.budget_cents is not None and (order.side is _SELL or order.budget_cents < 0):
        raise ValueError("a budget applies to BUY orders only and cannot be negative")


_NO_BID = MIN_PRICE_CENTS - 1
_NO_ASK = MAX_PRICE_CENTS + 1


@dataclass(slots=True)
class _Half:
    """One side of the book; list index = price in cents, ``best`` a sentinel when empty."""

    is_bid: bool
    best: int
    queues: list[deque[RestingOrder]]
    quantity: list[int]
    count: list[int]

    @classmethod
    def empty(cls, is_bid: bool) -> _Half:
        size = _NO_ASK + 1
        best = _NO_BID if is_bid else _NO_ASK
        return cls(is_bid, best, [deque() for _ in range(size)], [0] * size, [0] * size)

    def crossing_prices(self, limit: int) -> range:
        """Prices at or better than ``limit`` for a taker, best first."""
        if self.is_bid:
            return range(self.best, limit - 1, -1)
        return range(self.best, limit + 1)

    def advance(self) -> None:
        """Move ``best`` past empty levels towards worse prices."""
        step, stop = (-1, _NO_BID) if self.is_bid else (1, _NO_ASK)
        price, count = self.best, self.count
        while price != stop and count[price] == 0:
            price += step
        self.best = price


class OrderBook:
    """The fast book. Returned orders are snapshots except those already removed."""

    def __init__(self, fee_bps: int = 0) -> None:
        validate_fee_bps(fee_bps)
        self.fee_bps = fee_bps
        self._bids = _Half.empty(True)
        self._asks = _Half.empty(False)
        self._index: dict[str, RestingOrder] = {}
        self._expiries: list[tuple[datetime, int, int, RestingOrder]] = []
        self._pushes = 0

    def add_resting(self, order: RestingOrder) -> None:
        """Load a resting order without matching; ``sequence`` sets its time priority."""
        validate_resting(order, order.order_id in self._index)
        opposite = self._asks if order.side is _BUY else self._bids
        if opposite.best != (_NO_ASK if order.side is _BUY else _NO_BID) and (
            order.price_cents >= opposite.best
            if order.side is _BUY
            else order.price_cents <= opposite.best
        ):
            raise ValueError(f"resting order {order.order_id} would cross the book")
        self._insert(_copy(order))

    def submit(self, order: IncomingOrder, now: datetime) -> MatchResult:
        """Match ``order`` at time ``now``; raise PriceLimitExceeded (changing nothing) for a
        postOnly order that would take or a FOK order that cannot fill completely."""
        validate_incoming(order, now, order.order_id in self._index)
        buy = order.side is _BUY
        opposite = self._asks if buy else self._bids
        limit = order.price_cents
        if limit is None:
            limit = MAX_PRICE_CENTS if buy else MIN_PRICE_CENTS
        if (opposite.best <= limit) if buy else (opposite.best >= limit):
            if order.post_only and self._any_live(opposite, limit, now):
                raise PriceLimitExceeded("a post-only order would take liquidity")
            if order.time_in_force is _FOK and not self._fok_ok(order, opposite, limit, now):
                raise PriceLimitExceeded("a fill-or-kill order cannot fill completely")
            return self._match(order, opposite, limit, now)
        if order.time_in_force is _FOK:
            raise PriceLimitExceeded("a fill-or-kill order cannot fill completely")
        return self._finish(order, (), 0, (), ())

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
        return None if order is None else _copy(order)

    def best_bid(self) -> int | None:
        return None if self._bids.best == _NO_BID else self._bids.best

    def best_ask(self) -> int | None:
        return None if self._asks.best == _NO_ASK else self._asks.best

    def depth(self, levels: int) -> tuple[list[PriceLevel], list[PriceLevel]]:
        """Up to ``levels`` non-empty levels per side: bids highest first, asks lowest first."""
        if levels < 0:
            raise ValueError("levels must be >= 0")
        return self._levels(self._bids, levels), self._levels(self._asks, levels)

    def orders(self) -> list[RestingOrder]:
        return [_copy(order) for order in self._index.values()]

    def __len__(self) -> int:
        return len(self._index)

    def check_invariants(self) -> None:
        """Raise InvariantViolation unless the book's structures agree with each other."""
        if self._bids.best != _NO_BID and self._asks.best != _NO_ASK:
            _check(self._bids.best < self._asks.best, "crossed book")
        seen = sum(self._check_half(half) for half in (self._bids, self._asks))
        _check(seen == len(self._index), "index holds orders missing from the levels")

    def _check_half(self, half: _Half) -> int:
        side = _BUY if half.is_bid else _SELL
        live_prices = []
        for price in range(MIN_PRICE_CENTS, MAX_PRICE_CENTS + 1):
            live = [o for o in half.queues[price] if self._index.get(o.order_id) is o]
            _check(len({id(o) for o in live}) == len(live), f"order twice at {price}")
            _check(all(o.side is side and o.price_cents == price for o in live), "misfiled")
            _check(all(o.remaining > 0 for o in live), f"empty order at {price}")
            _check(sum(o.remaining for o in live) == half.quantity[price], f"qty at {price}")
            _check(len(live) == half.count[price], f"count at {price}")
            seqs = [o.sequence for o in half.queues[price]]
            _check(seqs == sorted(seqs), f"time priority broken at {price}")
            if live:
                live_prices.append(price)
        empty = _NO_BID if half.is_bid else _NO_ASK
        expected = (max if half.is_bid else min)(live_prices, default=empty)
        _check(half.best == expected, "best price pointer is stale")
        return sum(half.count)

    def _levels(self, half: _Half, levels: int) -> list[PriceLevel]:
        out: list[PriceLevel] = []
        for price in half.crossing_prices(MIN_PRICE_CENTS if half.is_bid else MAX_PRICE_CENTS):
            if len(out) == levels:
                break
            if half.count[price]:
                out.append(PriceLevel(price, half.quantity[price], half.count[price]))
        return out

    def _live(self, half: _Half, limit: int) -> Iterator[RestingOrder]:
        """Live orders a taker with ``limit`` could reach, in priority order."""
        index = self._index
        for price in half.crossing_prices(limit):
            if half.count[price]:
                yield from (o for o in half.queues[price] if index.get(o.order_id) is o)

    def _any_live(self, half: _Half, limit: int, now: datetime) -> bool:
        return any(o.expires_at is None or o.expires_at > now for o in self._live(half, limit))

    def _fok_ok(self, order: IncomingOrder, half: _Half, limit: int, now: datetime) -> bool:
        """Whether ``order`` would fill completely, skipping own and expired orders."""
        needed, budget = order.quantity, order.budget_cents
        for maker in self._live(half, limit):
            if maker.user_id == order.user_id or (
                maker.expires_at is not None and maker.expires_at <= now
            ):
                continue
            qty = min(needed, maker.remaining)
            if budget is not None:
                qty = min(qty, affordable_quantity(budget, maker.price_cents, self.fee_bps))
                budget -= qty * maker.price_cents + taker_fee(qty * maker.price_cents, self.fee_bps)
            needed -= qty
            if needed == 0:
                return True
            if qty < maker.remaining:
                return False
        return False

    def _match(self, order: IncomingOrder, half: _Half, limit: int, now: datetime) -> MatchResult:
        """Take from ``half`` while its best price crosses ``limit``; fills in execution order."""
        fills: list[Fill] = []
        expired: list[RestingOrder] = []
        stp: list[RestingOrder] = []
        index, buy, spent = self._index, not half.is_bid, False
        needed, budget = order.quantity, order.budget_cents
        while needed and ((half.best <= limit) if buy else (half.best >= limit)):
            queue = half.queues[half.best]
            maker = queue[0]
            if index.get(maker.order_id) is not maker:
                queue.popleft()  # cancelled earlier: dropped lazily
            elif maker.expires_at is not None and maker.expires_at <= now:
                self._pop(queue, expired)
            elif maker.user_id == order.user_id:
                self._pop(queue, stp)
            else:
                qty = maker.remaining if maker.remaining < needed else needed
                if budget is not None:
                    qty = min(qty, affordable_quantity(budget, maker.price_cents, self.fee_bps))
                    if qty == 0:
                        spent = True
                        break
                fill = self._fill(half, queue, maker, order, qty)
                fills.append(fill)
                needed -= qty
                if budget is not None:
                    budget -= fill.price_cents * qty + fill.fee_cents
        filled = order.quantity - needed
        return self._finish(order, tuple(fills), filled, tuple(stp), tuple(expired), not spent)

    def _fill(
        self,
        half: _Half,
        queue: deque[RestingOrder],
        maker: RestingOrder,
        order: IncomingOrder,
        qty: int,
    ) -> Fill:
        """Execute ``qty`` shares against the head ``maker`` at its price."""
        price = maker.price_cents
        maker.remaining -= qty
        half.quantity[price] -= qty
        if maker.remaining == 0:
            self._pop(queue, None)
        fee = taker_fee(price * qty, self.fee_bps)
        return Fill(
            maker.order_id, maker.user_id, order.order_id, order.user_id,
            price, qty, maker.remaining, fee,
        )  # fmt: skip

    def _pop(self, queue: deque[RestingOrder], into: list[RestingOrder] | None) -> None:
        maker = queue.popleft()
        self._unlink(maker)
        if into is not None:
            into.append(maker)

    def _finish(
        self,
        order: IncomingOrder,
        fills: tuple[Fill, ...],
        filled: int,
        stp: tuple[RestingOrder, ...],
        expired: tuple[RestingOrder, ...],
        may_rest: bool = True,
    ) -> MatchResult:
        """Rest the remainder where its time in force says so, unless the budget ran out
        (a remainder left by the budget would cross the book)."""
        quantity, tif = order.quantity, order.time_in_force
        if (
            filled == quantity
            or not may_rest
            or order.order_type is _MARKET
            or tif is _IOC
            or tif is _FOK
        ):
            status = _FILLED if filled == quantity else _CANCELLED
            return MatchResult(fills, filled, status, None, stp, expired)
        assert order.price_cents is not None
        expires_at = order.expires_at if tif is _GTD else None
        resting = RestingOrder(
            order.order_id, order.user_id, order.side, order.price_cents,
            quantity - filled, order.sequence, expires_at,
        )  # fmt: skip
        self._insert(resting)
        status = _PARTIALLY_FILLED if filled else _OPEN
        return MatchResult(fills, filled, status, _copy(resting), stp, expired)

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


def _copy(order: RestingOrder) -> RestingOrder:
    """A snapshot: the book keeps mutating its own objects as they fill."""
    return RestingOrder(
        order.order_id, order.user_id, order.side, order.price_cents,
        order.remaining, order.sequence, order.expires_at,
    )  # fmt: skip


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise InvariantViolation(message)
