"""A slow, obviously correct order book with the same API as :class:`OrderBook`.

It keeps every resting order in one plain list (insertion order) and sorts the
candidates on each submit. Tests feed the same streams to both books and demand
identical results. Units as in :mod:`domain.orderbook`: prices in cents 1..99,
quantities in whole shares, fees and budgets in cents.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime

from domain.book_types import (
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
from domain.money import check_fee_bps, fee_cents


def rests(order: IncomingOrder) -> bool:
    """Whether an unfilled remainder of ``order`` rests on the book."""
    return order.order_type is OrderType.LIMIT and (
        order.time_in_force is TimeInForce.GTC or order.time_in_force is TimeInForce.GTD
    )


def final_status(quantity: int, filled: int, rested: bool) -> OrderStatus:
    """The incoming order's status once matching is over."""
    if filled == quantity:
        return OrderStatus.FILLED
    if rested:
        return OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.OPEN
    return OrderStatus.CANCELLED


def _expired(order: RestingOrder, now: datetime) -> bool:
    return order.expires_at is not None and order.expires_at <= now


class ReferenceBook:
    """The reference book: a list scanned and sorted on every call."""

    def __init__(self, fee_bps: int = 0) -> None:
        check_fee_bps(fee_bps)
        self.fee_bps = fee_bps
        self._orders: list[RestingOrder] = []

    def add_resting(self, order: RestingOrder) -> None:
        """Load a resting order without matching; ``sequence`` sets its time priority."""
        validate_resting(order, self.get(order.order_id) is not None)
        if self._makers(order.side, order.price_cents):
            raise ValueError(f"resting order {order.order_id} would cross the book")
        self._orders.append(replace(order))

    def submit(self, order: IncomingOrder, now: datetime) -> MatchResult[Fill]:
        """Match ``order`` at ``now``; PriceLimitExceeded (changing nothing) for a post-only
        order that would take or a FOK order that cannot fill completely."""
        validate_incoming(order, now, self.get(order.order_id) is not None)
        limit = order.price_cents
        if limit is None:
            limit = MAX_PRICE_CENTS if order.side is Side.BUY else MIN_PRICE_CENTS
        makers = self._makers(order.side, limit)
        if order.post_only and any(not _expired(m, now) for m in makers):
            raise PriceLimitExceeded("a post-only order would take liquidity")
        if order.time_in_force is TimeInForce.FOK:
            trial = copy.deepcopy(self)
            if trial._match(order, trial._makers(order.side, limit), now).filled_quantity < (
                order.quantity
            ):
                raise PriceLimitExceeded("a fill-or-kill order cannot fill completely")
        return self._match(order, makers, now)

    def cancel(self, order_id: str) -> RestingOrder:
        """Remove a resting order; raise NotFound if it is not resting."""
        for order in self._orders:
            if order.order_id == order_id:
                self._remove(order)
                return order
        raise NotFound(f"order {order_id} is not resting")

    def expire(self, now: datetime) -> list[RestingOrder]:
        """Remove GTD orders with ``expires_at <= now``, by (expires_at, sequence)."""
        expired = [o for o in self._orders if _expired(o, now)]
        expired.sort(key=lambda o: (o.expires_at, o.sequence))
        for order in expired:
            self._remove(order)
        return expired

    def get(self, order_id: str) -> RestingOrder | None:
        found = [o for o in self._orders if o.order_id == order_id]
        return replace(found[0]) if found else None

    def best_bid(self) -> int | None:
        return max((o.price_cents for o in self._orders if o.side is Side.BUY), default=None)

    def best_ask(self) -> int | None:
        return min((o.price_cents for o in self._orders if o.side is Side.SELL), default=None)

    def depth(self, levels: int) -> tuple[list[PriceLevel], list[PriceLevel]]:
        """Up to ``levels`` levels per side: bids highest first, asks lowest first."""
        if levels < 0:
            raise ValueError("levels must be >= 0")
        return self._side_depth(Side.BUY)[:levels], self._side_depth(Side.SELL)[:levels]

    def orders(self) -> list[RestingOrder]:
        return [replace(o) for o in self._orders]

    def __len__(self) -> int:
        return len(self._orders)

    def check_invariants(self) -> None:
        """Raise InvariantViolation on a crossed book or an empty resting order."""
        bid, ask = self.best_bid(), self.best_ask()
        if (bid is not None and ask is not None and bid >= ask) or any(
            o.remaining <= 0 for o in self._orders
        ):
            raise InvariantViolation("reference book is crossed or holds an empty order")

    def _side_depth(self, side: Side) -> list[PriceLevel]:
        prices = sorted({o.price_cents for o in self._orders if o.side is side})
        if side is Side.BUY:
            prices.reverse()
        at = [[o for o in self._orders if o.side is side and o.price_cents == p] for p in prices]
        return [
            PriceLevel(p, sum(o.remaining for o in os), len(os))
            for p, os in zip(prices, at, strict=True)
        ]

    def _makers(self, taker_side: Side, limit: int) -> list[RestingOrder]:
        """Opposite orders at a price a taker with ``limit`` accepts, best price then
        lowest sequence first (ties: insertion order, as the sort is stable)."""
        if taker_side is Side.BUY:
            asks = [o for o in self._orders if o.side is Side.SELL and o.price_cents <= limit]
            return sorted(asks, key=lambda o: (o.price_cents, o.sequence))
        bids = [o for o in self._orders if o.side is Side.BUY and o.price_cents >= limit]
        return sorted(bids, key=lambda o: (-o.price_cents, o.sequence))

    def _affordable(self, budget: int | None, spent: int, price: int, wanted: int) -> int:
        """The largest q <= wanted such that the order's whole notional plus the fee on
        it still fits the budget, by plain search."""
        if budget is None:
            return wanted
        qty = wanted
        while qty > 0 and (total := spent + price * qty) + fee_cents(total, self.fee_bps) > budget:
            qty -= 1
        return qty

    def _match(
        self, order: IncomingOrder, makers: list[RestingOrder], now: datetime
    ) -> MatchResult[Fill]:
        fills: list[Fill] = []
        stp: list[RestingOrder] = []
        expired: list[RestingOrder] = []
        needed, budget, spent = order.quantity, order.budget_cents, False
        filled_notional = 0
        for maker in makers:
            if needed == 0:
                break
            if _expired(maker, now) or maker.user_id == order.user_id:
                self._remove(maker)
                (expired if _expired(maker, now) else stp).append(maker)
                continue
            wanted = min(needed, maker.remaining)
            qty = self._affordable(budget, filled_notional, maker.price_cents, wanted)
            if qty == 0:
                spent = True
                break
            notional = maker.price_cents * qty
            # The order pays taker_fee of its whole notional; each fill carries its share.
            fee = fee_cents(filled_notional + notional, self.fee_bps) - fee_cents(
                filled_notional, self.fee_bps
            )
            filled_notional += notional
            maker.remaining -= qty
            needed -= qty
            fills.append(
                Fill(
                    maker.order_id,
                    maker.user_id,
                    order.order_id,
                    order.user_id,
                    maker.price_cents,
                    qty,
                    maker.remaining,
                    fee,
                )
            )
            if maker.remaining == 0:
                self._remove(maker)
            if qty < wanted:
                spent = True  # nothing more is affordable
                break
        return self._finish(order, fills, stp, expired, not spent)

    def _finish(
        self,
        order: IncomingOrder,
        fills: list[Fill],
        stp: list[RestingOrder],
        expired: list[RestingOrder],
        may_rest: bool,
    ) -> MatchResult[Fill]:
        """A remainder rests per its time in force, unless the budget stopped matching
        (resting it would cross the book)."""
        filled = sum(f.quantity for f in fills)
        rested = None
        if filled < order.quantity and may_rest and rests(order):
            assert order.price_cents is not None
            gtd = order.time_in_force is TimeInForce.GTD
            rested = RestingOrder(
                order.order_id,
                order.user_id,
                order.side,
                order.price_cents,
                order.quantity - filled,
                order.sequence,
                order.expires_at if gtd else None,
            )
            self._orders.append(rested)
            rested = replace(rested)
        status = final_status(order.quantity, filled, rested is not None)
        return MatchResult(tuple(fills), filled, status, rested, tuple(stp), tuple(expired))

    def _remove(self, order: RestingOrder) -> None:
        self._orders = [o for o in self._orders if o is not order]
