"""Subscriptions, and the reads that give a live feed its current state.

``marketPrices`` and ``orderBookUpdates`` send the current state first, then
each newer state; ``marketTrades`` and ``myOrderUpdates`` have no single
current state and send changes only (``Market.recentTrades`` and ``myOrders``
hold the history). The feed (``web.live.LiveHub``) registers each subscriber
before reading its first state, so nothing falls between.

:class:`LiveReads` is what the hub reads with: once per subscriber for its
first state, and once per market event for every subscriber of that market.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

import strawberry

from domain import model
from domain.errors import NotFound
from domain.markets import ensure_type
from domain.ports import Clock
from domain.queries import ReadModel
from resolvers.trading import book_depth
from schema.context import Info
from schema.types.markets import PriceUpdate
from schema.types.trading import Order, OrderBook, Trade


@dataclass
class BookState:
    """One read of an outcome's book; its views per depth are built once and shared."""

    outcome: model.Outcome
    resting: list[model.Order]
    _views: dict[int, OrderBook] = field(default_factory=dict)

    @property
    def sequence(self) -> int:
        return self.outcome.book_sequence

    def view(self, depth: int) -> OrderBook:
        if depth not in self._views:
            self._views[depth] = OrderBook.from_domain(self.outcome, self.resting, depth)
        return self._views[depth]


class LiveReads:
    """The committed state a feed starts from (or recovers with after a bus reconnect)."""

    def __init__(self, reads: ReadModel, clock: Clock) -> None:
        self._reads = reads
        self._clock = clock

    async def market(self, market_id: str) -> model.Market:
        found = await self._reads.markets_by_ids([market_id])
        if not found:
            raise NotFound(f"no market {market_id}")
        return found[0]

    async def prices(self, market_id: str) -> PriceUpdate:
        market = await self.market(market_id)
        last = await self._reads.recent_trades(market.id, 1)
        last_cents = last[0].price_cents if last else None
        return PriceUpdate.from_market(market, self._clock.now(), last_cents)

    async def book(self, market_id: str, outcome_id: str) -> BookState:
        market = await self.market(market_id)
        ensure_type(market, model.MarketType.ORDER_BOOK)
        outcome = market.outcome(outcome_id)
        return BookState(outcome, await self._reads.resting_orders(market.id, outcome.id))


async def market_prices(info: Info, market_id: strawberry.ID) -> AsyncGenerator[PriceUpdate, None]:
    ctx = info.context
    with ctx.subscription_slot():
        async with ctx.live.prices(market_id) as updates:
            async for update in updates:
                yield update


async def order_book_updates(
    info: Info, market_id: strawberry.ID, outcome_id: strawberry.ID, depth: int | None = 10
) -> AsyncGenerator[OrderBook, None]:
    ctx, levels = info.context, book_depth(depth)
    with ctx.subscription_slot():
        async with ctx.live.book(market_id, outcome_id, levels) as books:
            async for book in books:
                yield book


async def market_trades(info: Info, market_id: strawberry.ID) -> AsyncGenerator[Trade, None]:
    ctx = info.context
    with ctx.subscription_slot():
        async with ctx.live.trades(market_id) as trades:
            async for trade in trades:
                ctx.loaders.clear()
                yield trade


async def my_order_updates(info: Info) -> AsyncGenerator[Order, None]:
    ctx = info.context
    principal = await ctx.require_principal()
    with ctx.subscription_slot():
        async with ctx.live.orders(principal.user_id) as orders:
            async for order in orders:
                ctx.loaders.clear()
                yield order
