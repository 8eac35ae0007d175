"""The order book's values and events and its input guards (fees: :mod:`domain.money`).

Shared by the fast book (:mod:`domain.orderbook`, which re-exports them) and the
reference book (:mod:`tests.reference_book`, a test oracle). Units: prices are integer cents
per share, 1..99; quantities are whole shares; fees and budgets are whole cents.

:class:`BookSide` is the fast book's ladder of price levels for one side.
Orders are slotted dataclasses (a resting order's ``remaining`` changes as it
fills). The hot-path events ``Fill``, ``MatchResult`` and ``PriceLevel`` are
NamedTuples: immutable and cheaper to build than frozen dataclasses, which
set every field through ``object.__setattr__``; a submit builds one result and
one fill per execution, so this is most of an order's cost.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, NamedTuple, TypeAlias, TypeVar

from domain.errors import InvariantViolation
from domain.model import (
    MAX_PRICE_CENTS,
    MIN_PRICE_CENTS,
    SHARE_PAYOUT_CENTS,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from domain.money import affordable_quantity

# Enum members bound once (attribute access on an enum class is not free), since
# validate_incoming runs on every submit.
_MARKET = OrderType.MARKET
_GTD = TimeInForce.GTD
_BUY = Side.BUY
_SELL = Side.SELL

NO_BID = MIN_PRICE_CENTS - 1
"""``BookSide.best`` of an empty bid side."""
NO_ASK = MAX_PRICE_CENTS + 1
"""``BookSide.best`` of an empty ask side."""


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

    def copy(self) -> RestingOrder:
        """A copy, field by field: ``dataclasses.replace`` costs seven times as much, and a
        book copies every order it loads and every order it hands out."""
        return RestingOrder(
            self.order_id, self.user_id, self.side, self.price_cents,
            self.remaining, self.sequence, self.expires_at,
        )  # fmt: skip


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


class Fill(NamedTuple):
    """One execution at the maker's price; ``fee_cents`` is the taker's fee for it."""

    maker_order_id: str
    maker_user_id: str
    taker_order_id: str
    taker_user_id: str
    price_cents: int
    quantity: int
    maker_remaining: int
    fee_cents: int


FillT = TypeVar("FillT", covariant=True)
"""A result's kind of fill: :class:`Fill` from one book, also :class:`CrossFill` from a market's."""


class MatchResult(NamedTuple, Generic[FillT]):
    """What a submit did: fills in execution order and the orders it removed (of any
    outcome, for a market's books: :data:`MarketMatch`)."""

    fills: tuple[FillT, ...]
    filled_quantity: int
    status: OrderStatus
    rested: RestingOrder | None
    self_trade_cancelled: tuple[RestingOrder, ...]
    expired: tuple[RestingOrder, ...]


class PriceLevel(NamedTuple):
    """A level of the depth: total ``quantity`` in shares over ``orders`` orders.

    In a market's merged view (:meth:`domain.exchange.MarketBook.depth`)
    ``synthetic`` of the ``quantity`` comes from the other outcomes' orders and is
    not counted in ``orders``."""

    price_cents: int
    quantity: int
    orders: int
    synthetic: int = 0


class Leg(NamedTuple):
    """One resting order of another outcome in a :class:`CrossFill`, at its own price."""

    outcome_id: str
    maker_order_id: str
    maker_user_id: str
    price_cents: int
    maker_remaining: int


class CrossFill(NamedTuple):
    """``quantity`` complete sets minted (the taker BUYs: every leg is a resting bid) or
    merged (the taker SELLs: every leg is a resting ask), one leg per other outcome.

    The taker's ``price_cents`` is 100 minus the legs' prices; a mint's is at least
    1 cent, and what a set's buyers pay beyond 100 is ``surplus_cents`` per set (only
    with three or more outcomes). ``fee_cents`` is the taker's fee for it."""

    taker_order_id: str
    taker_user_id: str
    price_cents: int
    quantity: int
    fee_cents: int
    legs: tuple[Leg, ...]
    mint: bool

    @property
    def surplus_cents(self) -> int:
        """What each set's buyers paid beyond 100 cents (a mint only; else 0)."""
        return self.price_cents + sum(leg.price_cents for leg in self.legs) - SHARE_PAYOUT_CENTS


MarketMatch: TypeAlias = MatchResult[Fill | CrossFill]
"""What a submit to a market's books did: direct fills and cross fills in execution
order. One book's ``MatchResult[Fill]`` is one too, as it is."""


def synthetic_price(taker_is_buy: bool, legs_cents: int) -> int | None:
    """The synthetic level's price for a taker, from the sum of the legs' prices.

    A BUY's (a mint): ``100 - legs``, at least 1 cent. A SELL's (a merge):
    ``100 - legs``, None when that is below 1 cent (no level)."""
    price = SHARE_PAYOUT_CENTS - legs_cents
    if taker_is_buy:
        return price if price >= MIN_PRICE_CENTS else MIN_PRICE_CENTS
    return price if price >= MIN_PRICE_CENTS else None


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


@dataclass(slots=True)
class BookSide:
    """One side of the fast book: per price in cents a deque of orders in time priority
    (cancelled entries stay until dropped lazily: an entry is live while ``index`` maps
    its id to it), made on first use, plus lists (index = price) of each level's live
    quantity and count. ``best`` is the best live price, NO_BID or NO_ASK when the
    side is empty."""

    is_bid: bool
    best: int
    queues: defaultdict[int, deque[RestingOrder]]
    quantity: list[int]
    count: list[int]

    @classmethod
    def empty(cls, is_bid: bool) -> BookSide:
        size = NO_ASK + 1
        best = NO_BID if is_bid else NO_ASK
        # Queues are made on first use: a book is built per command, and 2 x 101 deques
        # up front were a few percent of an API request's CPU.
        return cls(is_bid, best, defaultdict(deque), [0] * size, [0] * size)

    def crossing_prices(self, limit: int) -> range:
        """Prices at or better than ``limit`` for a taker, best first."""
        if self.is_bid:
            return range(self.best, limit - 1, -1)
        return range(self.best, limit + 1)

    def advance(self) -> None:
        """Move ``best`` past empty levels towards worse prices."""
        step, stop = (-1, NO_BID) if self.is_bid else (1, NO_ASK)
        price, count = self.best, self.count
        while price != stop and count[price] == 0:
            price += step
        self.best = price

    def live(self, index: dict[str, RestingOrder], limit: int) -> Iterator[RestingOrder]:
        """Live orders a taker with ``limit`` could reach, in priority order."""
        for price in self.crossing_prices(limit):
            if self.count[price]:
                yield from (o for o in self.queues[price] if index.get(o.order_id) is o)

    def fills_completely(
        self,
        index: dict[str, RestingOrder],
        order: IncomingOrder,
        limit: int,
        now: datetime,
        fee_bps: int,
    ) -> bool:
        """Whether a FOK ``order`` would fill completely, skipping own and expired orders."""
        needed, budget, spent = order.quantity, order.budget_cents, 0
        for maker in self.live(index, limit):
            if maker.user_id == order.user_id or (
                maker.expires_at is not None and maker.expires_at <= now
            ):
                continue
            qty = min(needed, maker.remaining)
            if budget is not None:
                qty = min(qty, affordable_quantity(budget, maker.price_cents, fee_bps, spent))
                spent += qty * maker.price_cents
            needed -= qty
            if needed == 0:
                return True
            if qty < maker.remaining:
                return False
        return False

    def check(self, index: dict[str, RestingOrder]) -> int:
        """Raise InvariantViolation unless levels, totals and ``best`` agree; count orders."""
        side = _BUY if self.is_bid else _SELL
        live_prices = []
        for price in range(MIN_PRICE_CENTS, MAX_PRICE_CENTS + 1):
            queue = self.queues.get(price, deque())
            live = [o for o in queue if index.get(o.order_id) is o]
            _check(len({id(o) for o in live}) == len(live), f"order twice at {price}")
            _check(all(o.side is side and o.price_cents == price for o in live), "misfiled")
            _check(all(o.remaining > 0 for o in live), f"empty order at {price}")
            _check(sum(o.remaining for o in live) == self.quantity[price], f"qty at {price}")
            _check(len(live) == self.count[price], f"count at {price}")
            seqs = [o.sequence for o in queue]
            _check(seqs == sorted(seqs), f"time priority broken at {price}")
            if live:
                live_prices.append(price)
        empty = NO_BID if self.is_bid else NO_ASK
        expected = (max if self.is_bid else min)(live_prices, default=empty)
        _check(self.best == expected, "best price pointer is stale")
        return sum(self.count)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise InvariantViolation(message)
