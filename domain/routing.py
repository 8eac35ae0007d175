"""Hybrid markets: a taker routed between resting orders and the LMSR market maker,
and resting orders the market maker's price has crossed (PRODUCT.md section 10).

Pure and synchronous: reads a :class:`MarketBook` and the maker's state, returns
values (:func:`crossings` also takes the crossed orders' shares out of the book).

Routing. A taker is filled share by share from the cheaper source: the best
resting level of :meth:`MarketBook.walk` (direct or synthetic) or the maker's
marginal cost of its next whole share; a tie goes to the resting order. Both
sequences only get dearer, so the first N shares are the N cheapest of the
merge, and the route is: book steps in priority order, with runs of maker
shares between them (those strictly cheaper than the next step). The maker's
part is then priced as one LMSR trade of all its shares, rounded once against
the trader, with the LMSR fee; the book's part pays the taker fee on its
notional, rounded up once. A sale mirrors all of this (higher is better).

Units: cents, whole shares; ``limit_cents`` is per share (a limit order's price).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import NamedTuple

from domain import lmsr
from domain.book_types import RestingOrder
from domain.errors import InvalidAmount
from domain.exchange import MarketBook
from domain.model import MAX_PRICE_CENTS, MIN_PRICE_CENTS, Side
from domain.money import MAX_AMOUNT, affordable_quantity, fee_cents

_TOP = MAX_AMOUNT - 1


class Maker(NamedTuple):
    """The market maker's state: shares sold ``q``, liquidity ``b``, and the trade's
    move: YES moves ``q[outcome]``, NO every other coordinate."""

    q: tuple[int, ...]
    b: float
    outcome: int
    yes: bool
    fee_bps: int

    def marginal(self, buy: bool, price_cents: int, inclusive: bool, at_most: int = _TOP) -> int:
        args = (self.q, self.b, self.outcome, self.yes, buy, price_cents, inclusive, at_most)
        return lmsr.marginal_shares(*args)

    def fill(self, shares: int, buy: bool, fee_bps: int | None = None) -> lmsr.LmsrFill | None:
        if not shares:
            return None
        fee = self.fee_bps if fee_bps is None else fee_bps
        return lmsr.quote_shares(self.q, self.b, self.outcome, shares, self.yes, buy, fee)

    def affordable(self, cents: int) -> int:
        """The most shares whose buy costs at most ``cents``, fee included (0 if none)."""
        return lmsr.affordable_shares(self.q, self.b, self.outcome, cents, self.yes, self.fee_bps)

    def paying(self, cents: int) -> int | None:
        """The fewest shares whose sale pays at least ``cents`` after the fee (None: no
        sale below MAX_AMOUNT shares does)."""
        return lmsr.shares_paying(self.q, self.b, self.outcome, cents, self.yes, self.fee_bps)

    def cents(self, shares: int, buy: bool) -> int:
        """What the trader pays (buy) or receives (sale) for ``shares``, fee included."""
        fill = self.fill(shares, buy)
        return 0 if fill is None else fill.trader_cents


@dataclass(frozen=True, slots=True)
class Route:
    """A taker's split: ``book_shares`` from resting orders for ``book_cents`` (their
    prices) plus ``book_fee``, the worst price taken ``book_limit``; ``maker`` the
    market maker's part (None if it supplies nothing); ``prices_after`` the maker's;
    ``own_reached`` the ids of the taker's own resting orders at levels its shares
    reached, which self-trade prevention cancels (never filled, not even by the maker
    once its price has moved past them)."""

    buy: bool
    book_shares: int
    book_cents: int
    book_fee: int
    book_limit: int | None
    maker: lmsr.LmsrFill | None
    prices_after: tuple[float, ...]
    own_reached: tuple[str, ...] = ()

    @property
    def maker_shares(self) -> int:
        return 0 if self.maker is None else self.maker.shares

    @property
    def maker_cents(self) -> int:
        return 0 if self.maker is None else self.maker.amm_cents

    @property
    def shares(self) -> int:
        return self.book_shares + self.maker_shares

    @property
    def fee_cents(self) -> int:
        return self.book_fee + (0 if self.maker is None else self.maker.fee_cents)

    @property
    def trader_cents(self) -> int:
        """What the trader pays (buy) or receives (sale), fees included."""
        maker = 0 if self.maker is None else self.maker.trader_cents
        book = self.book_cents + self.book_fee if self.buy else self.book_cents - self.book_fee
        return maker + book

    @property
    def average_price(self) -> float:
        return self.trader_cents / self.shares / 100 if self.shares else 0.0


@dataclass(frozen=True, slots=True)
class Taker:
    """What a taker asks for: ``shares`` exactly (at most, with a limit or a budget);
    ``budget_cents`` the most a buy may cost, fees included; ``target_cents`` the
    least a sale must pay after fees (the fewest shares that reach it);
    ``limit_cents`` the worst price per share of any share."""

    user_id: str
    buy: bool
    shares: int | None = None
    budget_cents: int | None = None
    target_cents: int | None = None
    limit_cents: int | None = None


def route(
    exchange: MarketBook | None, book_outcome: str | None, maker: Maker, taker: Taker
) -> Route:
    """Split ``taker`` between the resting orders of ``book_outcome`` (none without an
    ``exchange``) and ``maker``. INVALID_AMOUNT when a SPEND buys no share or a sale
    target cannot be reached."""
    buy = taker.buy
    limit = taker.limit_cents
    steps: Iterable[tuple[int, int]] = ()
    passed: list[tuple[int, RestingOrder]] = []
    if exchange is not None and book_outcome is not None and exchange.has_orders():
        worst = limit if limit is not None else (MAX_PRICE_CENTS if buy else MIN_PRICE_CENTS)
        steps = exchange.walk(book_outcome, buy, taker.user_id, worst, passed)
    plan = _Plan(maker, taker)
    for price, qty in chain(steps, [(None, 0)]):
        if not plan.maker_run(price) or price is None or not plan.book_step(price, qty):
            break
    return plan.result(passed)


class _Plan:
    """The route being built: ``j`` maker shares, ``k`` book shares for ``notional``."""

    def __init__(self, maker: Maker, taker: Taker) -> None:
        self.maker, self.taker, self.buy = maker, taker, taker.buy
        self.want = _TOP if taker.shares is None else taker.shares
        self.j = self.k = self.notional = 0
        self.top: int | None = None
        self.done = False

    def book_total(self, notional: int) -> int:
        fee = fee_cents(notional, self.maker.fee_bps)
        return notional + fee if self.buy else notional - fee

    def maker_run(self, price: int | None) -> bool:
        """Maker shares before the book step at ``price`` (None: after the last step);
        False once the route is complete."""
        room = self.want - self.k
        if price is not None:
            cap = self.maker.marginal(self.buy, price, False, room)
        elif self.taker.limit_cents is not None:
            cap = self.maker.marginal(self.buy, self.taker.limit_cents, True, room)
        else:
            cap = room
        if self.taker.budget_cents is not None:
            affordable = self.maker.affordable(
                self.taker.budget_cents - self.book_total(self.notional)
            )
            self.done = affordable < cap
            cap = min(cap, affordable)
        if self.taker.target_cents is not None:
            enough = self.maker.paying(self.taker.target_cents - self.book_total(self.notional))
            if enough is not None and enough <= cap:
                self.done, cap = True, max(enough, self.j)
        self.j = max(self.j, cap)
        return not self.done and self.j + self.k < self.want

    def book_step(self, price: int, qty: int) -> bool:
        """Take up to ``qty`` book shares at ``price``; False once the route is complete."""
        take = min(qty, self.want - self.j - self.k)
        if self.taker.budget_cents is not None:
            room = self.taker.budget_cents - self.maker.cents(self.j, True)
            take = min(take, affordable_quantity(room, price, self.maker.fee_bps, self.notional))
        if self.taker.target_cents is not None:
            need = self.taker.target_cents - self.maker.cents(self.j, False)
            take = min(take, self._fewest_reaching(need, price, take))
        if take:
            self.k, self.notional, self.top = self.k + take, self.notional + price * take, price
        return take == qty and not self.done

    def _fewest_reaching(self, need: int, price: int, most: int) -> int:
        """The fewest of ``most`` shares at ``price`` whose sale brings the book's part to
        ``need`` after the fee (all ``most`` if even they do not)."""
        lo, hi = 0, most
        if self.book_total(self.notional + price * most) < need:
            return most
        while lo < hi:
            mid = (lo + hi) // 2
            if self.book_total(self.notional + price * mid) >= need:
                hi = mid
            else:
                lo = mid + 1
        self.done = True
        return lo

    def result(self, passed: Sequence[tuple[int, RestingOrder]]) -> Route:
        """The route; ``passed`` are the taker's own orders the book walk passed over,
        with their levels' prices."""
        maker, buy, j = self.maker, self.buy, self.j
        limit = self.taker.limit_cents
        fill = maker.fill(j, buy)
        while fill is not None and limit is not None and _beyond(fill.amm_cents, j * limit, buy):
            j -= 1  # float noise at the limit: never pay more (or take less) than it
            fill = maker.fill(j, buy)
        shares = self.k + j
        if not shares and self.taker.budget_cents is not None and self.taker.shares is None:
            raise InvalidAmount(f"{self.taker.budget_cents} cents is too little for one share")
        if self.taker.target_cents is not None:
            paid = (0 if fill is None else fill.trader_cents) + self.book_total(self.notional)
            if paid < self.taker.target_cents:
                raise InvalidAmount(f"no sale pays {self.taker.target_cents} cents")
        book_fee = fee_cents(self.notional, maker.fee_bps)
        after = tuple(lmsr.prices(maker.q, maker.b)) if fill is None else fill.prices_after
        own = tuple(o.order_id for price, o in passed if self._reached(price, j))
        return Route(buy, self.k, self.notional, book_fee, self.top, fill, after, own)

    def _reached(self, price: int, maker_shares: int) -> bool:
        """Whether a share of the route cost ``price`` or more (a sale: paid ``price`` or
        less): a book step at or beyond it, or a maker share past the shares that beat it."""
        if self.top is not None and not _beyond(price, self.top, self.buy):
            return True
        if not maker_shares:
            return False
        return self.maker.marginal(self.buy, price, False, maker_shares) < maker_shares


def _beyond(cents: int, limit_total: int, buy: bool) -> bool:
    return cents > limit_total if buy else cents < limit_total


class Crossing(NamedTuple):
    """A resting order the maker's price crossed, filled by the maker: ``fill`` (no fee:
    the resting order is a maker) of outcome ``outcome_index``, bought (``order.side`` BUY) or
    sold; ``order`` as it was before."""

    outcome_id: str
    outcome_index: int
    order: RestingOrder
    fill: lmsr.LmsrFill
    remaining: int


def crossings(exchange: MarketBook, q: Sequence[int], b: float) -> list[Crossing]:
    """Fill every resting order whose limit the maker's price has crossed, against the
    maker, until none is (Manifold's rule): a bid while the maker's next share costs at
    most its price, an ask while the next share pays at least its price; outcome by
    outcome, each book's head (best price, then time), bids before asks. Each pays the
    maker's cost of its shares as one trade (never more than its limit; an ask never
    receives less). Takes the filled shares out of the book."""
    if not exchange.has_orders():
        return []  # a plain LMSR market: nothing to cross
    state = list(q)
    done: list[Crossing] = []
    while True:
        found = _next_crossing(exchange, state, b)
        if found is None:
            return done
        done.append(found)
        buy = found.order.side is Side.BUY
        state[found.outcome_index] += found.fill.shares if buy else -found.fill.shares


_NOISE = 1e-6
"""Cents of float noise the quick check of :func:`_next_crossing` allows for."""


def _next_crossing(exchange: MarketBook, q: list[int], b: float) -> Crossing | None:
    prices = lmsr.prices(q, b)
    for index, outcome_id in enumerate(exchange.outcome_ids):
        for bids in (True, False):
            best = exchange.best_own(outcome_id, bids)
            if best is None:
                continue
            next_share = lmsr.next_share_cents(prices[index], b, bids)
            if (next_share > best + _NOISE) if bids else (next_share < best - _NOISE):
                continue  # not crossed (the common case): no search
            order = exchange.head(outcome_id, bids)
            assert order is not None
            maker = Maker(tuple(q), b, index, True, 0)
            shares = maker.marginal(bids, order.price_cents, True, order.remaining)
            fill = maker.fill(shares, bids)
            while fill is not None and _beyond(fill.amm_cents, shares * order.price_cents, bids):
                shares -= 1
                fill = maker.fill(shares, bids)
            if fill is None:
                continue
            before = RestingOrder(
                order.order_id, order.user_id, order.side, order.price_cents,
                order.remaining, order.sequence, order.expires_at,
            )  # fmt: skip
            exchange.take(outcome_id, order, shares)
            return Crossing(outcome_id, index, before, fill, order.remaining)
    return None
