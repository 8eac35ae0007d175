"""A slow, obviously correct exchange with the same API as :class:`MarketBook`.

Every resting order of every outcome sits in one plain list; each step of a
match sorts the candidates afresh: the best order of the taker's own book, and
the synthetic level made of the best order of each other outcome's book (bids
for a BUY, a mint; asks for a SELL, a merge). Units as in :mod:`domain.exchange`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from domain.book_types import (
    CrossFill,
    Fill,
    IncomingOrder,
    Leg,
    MarketMatch,
    RestingOrder,
    synthetic_price,
    validate_incoming,
)
from domain.errors import NotFound, PriceLimitExceeded
from domain.model import MAX_PRICE_CENTS, MIN_PRICE_CENTS, Side, TimeInForce
from domain.money import fee_cents
from tests.reference_book import final_status, rests

Candidate = tuple[int, int, list[tuple[str, RestingOrder]]]
"""(price for the taker, time, the resting orders taken together)."""


class ReferenceMarket:
    def __init__(self, outcome_ids: Sequence[str], fee_bps: int = 0) -> None:
        self.outcome_ids = tuple(outcome_ids)
        self.fee_bps = fee_bps
        self._orders: list[tuple[str, RestingOrder]] = []

    def add_resting(self, outcome_id: str, order: RestingOrder) -> None:
        self._orders.append((outcome_id, replace(order)))

    def cancel(self, outcome_id: str, order_id: str) -> RestingOrder:
        for k, order in self._orders:
            if k == outcome_id and order.order_id == order_id:
                self._remove(order)
                return order
        raise NotFound(f"order {order_id} is not resting")

    def expire(self, now: datetime) -> list[tuple[str, RestingOrder]]:
        due = [(k, o) for k, o in self._orders if o.expires_at is not None and o.expires_at <= now]
        due.sort(key=lambda item: (item[1].expires_at, item[1].sequence))
        for _, order in due:
            self._remove(order)
        return due

    def orders(self, outcome_id: str) -> list[RestingOrder]:
        return [replace(o) for k, o in self._orders if k == outcome_id]

    def best(self, outcome_id: str) -> tuple[int | None, int | None]:
        """The merged best bid and ask: the own book's or the synthetic, the better."""
        bids = [o.price_cents for k, o in self._orders if k == outcome_id and o.side is Side.BUY]
        asks = [o.price_cents for k, o in self._orders if k == outcome_id and o.side is Side.SELL]
        synthetic_bid = self._synthetic(outcome_id, Side.SELL)
        synthetic_ask = self._synthetic(outcome_id, Side.BUY)
        bids += [synthetic_bid[0]] if synthetic_bid else []
        asks += [synthetic_ask[0]] if synthetic_ask else []
        return max(bids, default=None), min(asks, default=None)

    def submit(self, outcome_id: str, order: IncomingOrder, now: datetime) -> MarketMatch:
        expired = tuple(o for _, o in self.expire(now))
        validate_incoming(order, now, any(o.order_id == order.order_id for _, o in self._orders))
        limit = order.price_cents
        if limit is None:
            limit = MAX_PRICE_CENTS if order.side is Side.BUY else MIN_PRICE_CENTS
        if order.post_only and self._candidates(outcome_id, order.side, limit):
            raise PriceLimitExceeded("a post-only order would take liquidity")
        if order.time_in_force is TimeInForce.FOK:
            trial = copy.deepcopy(self)
            if trial._match(outcome_id, order, limit, ()).filled_quantity < order.quantity:
                raise PriceLimitExceeded("a fill-or-kill order cannot fill completely")
        return self._match(outcome_id, order, limit, expired)

    def _queue(self, outcome_id: str, side: Side) -> list[RestingOrder]:
        """The resting orders on one side of one book, best price then earliest first."""
        mine = [o for k, o in self._orders if k == outcome_id and o.side is side]
        sign = -1 if side is Side.BUY else 1
        return sorted(mine, key=lambda o: (sign * o.price_cents, o.sequence))

    def _synthetic(self, outcome_id: str, taker_side: Side) -> Candidate | None:
        legs = []
        for j in self.outcome_ids:
            if j != outcome_id:
                queue = self._queue(j, taker_side)  # a BUY takes bids, a SELL asks
                if not queue:
                    return None
                legs.append((j, queue[0]))
        price = synthetic_price(taker_side is Side.BUY, sum(o.price_cents for _, o in legs))
        if price is None:
            return None
        return price, max(o.sequence for _, o in legs), legs

    def _candidates(self, outcome_id: str, taker_side: Side, limit: int) -> list[Candidate]:
        """The direct and synthetic levels the taker's limit reaches, best first."""
        opposite = Side.SELL if taker_side is Side.BUY else Side.BUY
        found: list[Candidate] = []
        direct = self._queue(outcome_id, opposite)
        if direct:
            found.append((direct[0].price_cents, direct[0].sequence, [(outcome_id, direct[0])]))
        synthetic = self._synthetic(outcome_id, taker_side)
        if synthetic:
            found.append(synthetic)
        buy = taker_side is Side.BUY
        reached = [c for c in found if (c[0] <= limit if buy else c[0] >= limit)]
        return sorted(reached, key=lambda c: ((c[0] if buy else -c[0]), c[1]))

    def _affordable(self, budget: int | None, spent: int, price: int, wanted: int) -> int:
        if budget is None:
            return wanted
        qty = wanted
        while qty > 0 and (total := spent + price * qty) + fee_cents(total, self.fee_bps) > budget:
            qty -= 1
        return qty

    def _match(
        self, outcome_id: str, order: IncomingOrder, limit: int, expired: tuple[RestingOrder, ...]
    ) -> MarketMatch:
        fills: list[Fill | CrossFill] = []
        stp: list[RestingOrder] = []
        needed, notional, spent = order.quantity, 0, False
        while needed:
            candidates = self._candidates(outcome_id, order.side, limit)
            if not candidates:
                break
            price, _, makers = candidates[0]
            own = [o for _, o in makers if o.user_id == order.user_id]
            if own:
                for maker in own:
                    self._remove(maker)
                    stp.append(maker)
                continue
            wanted = min(needed, *(o.remaining for _, o in makers))
            qty = self._affordable(order.budget_cents, notional, price, wanted)
            if qty == 0:
                spent = True
                break
            fee = fee_cents(notional + price * qty, self.fee_bps) - fee_cents(
                notional, self.fee_bps
            )
            notional += price * qty
            needed -= qty
            for _, maker in makers:
                maker.remaining -= qty
                if maker.remaining == 0:
                    self._remove(maker)
            if len(makers) == 1 and makers[0][0] == outcome_id:
                m = makers[0][1]
                fills.append(
                    Fill(m.order_id, m.user_id, order.order_id, order.user_id, price, qty,
                         m.remaining, fee)
                )  # fmt: skip
            else:
                legs = tuple(
                    Leg(j, m.order_id, m.user_id, m.price_cents, m.remaining) for j, m in makers
                )
                mint = order.side is Side.BUY
                fills.append(CrossFill(order.order_id, order.user_id, price, qty, fee, legs, mint))
        return self._finish(outcome_id, order, fills, stp, expired, not spent)

    def _finish(
        self,
        outcome_id: str,
        order: IncomingOrder,
        fills: list[Fill | CrossFill],
        stp: list[RestingOrder],
        expired: tuple[RestingOrder, ...],
        may_rest: bool,
    ) -> MarketMatch:
        filled = sum(f.quantity for f in fills)
        rested = None
        if filled < order.quantity and may_rest and rests(order):
            assert order.price_cents is not None
            gtd = order.time_in_force is TimeInForce.GTD
            rested = RestingOrder(
                order.order_id, order.user_id, order.side, order.price_cents,
                order.quantity - filled, order.sequence, order.expires_at if gtd else None,
            )  # fmt: skip
            self._orders.append((outcome_id, rested))
            rested = replace(rested)
        status = final_status(order.quantity, filled, rested is not None)
        return MarketMatch(tuple(fills), filled, status, rested, tuple(stp), expired)

    def _remove(self, order: RestingOrder) -> None:
        self._orders = [(k, o) for k, o in self._orders if o is not order]
