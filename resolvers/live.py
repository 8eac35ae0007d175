"""Subscriptions: the current state first (where there is one), then every change.

Each subscribes to the live feed before reading the current state, so no change
falls between; sequence numbers drop what the snapshot already includes.
``marketTrades`` and ``myOrderUpdates`` have no single current state: they send
changes only (read ``myOrders`` / ``myTrades`` for history).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from domain import model
from domain.errors import NotFound
from domain.events import BookChanged, OrderChanged, PricesChanged, TradeExecuted
from domain.markets import ensure_type
from resolvers.trading import book_depth
from schema.context import Context, Info
from schema.live import book_topic, orders_topic, prices_topic, trades_topic
from schema.types.markets import PriceUpdate
from schema.types.trading import Order, OrderBook, Trade


async def _fresh_market(ctx: Context, market_id: str) -> model.Market:
    """The market as committed now (a WebSocket context outlives its loaders' cache)."""
    ctx.loaders.clear()
    return await ctx.market(market_id)


async def market_prices(info: Info, market_id: strawberry.ID) -> AsyncGenerator[PriceUpdate, None]:
    ctx = info.context
    async with ctx.live.subscribe(prices_topic(market_id)) as events:
        market = await _fresh_market(ctx, market_id)
        last = await ctx.reads.recent_trades(market.id, 1)
        now = ctx.services.clock.now()
        yield PriceUpdate.from_market(market, now, last[0].price_cents if last else None)
        seen = market.price_sequence
        async for event in events:
            if isinstance(event, PricesChanged) and event.sequence > seen:
                seen = event.sequence
                yield PriceUpdate.from_domain(event)


async def _book(ctx: Context, market_id: str, outcome_id: str, depth: int) -> OrderBook:
    market = await _fresh_market(ctx, market_id)
    ensure_type(market, model.MarketType.ORDER_BOOK)
    outcome = market.outcome(outcome_id)
    return OrderBook.from_domain(
        outcome, await ctx.reads.resting_orders(market.id, outcome.id), depth
    )


async def order_book_updates(
    info: Info, market_id: strawberry.ID, outcome_id: strawberry.ID, depth: int | None = 10
) -> AsyncGenerator[OrderBook, None]:
    """Changes arriving while a book is re-read are folded into one update."""
    ctx, depth = info.context, book_depth(depth)
    async with ctx.live.subscribe(book_topic(market_id, outcome_id)) as events:
        book = await _book(ctx, market_id, outcome_id, depth)
        yield book
        seen = book.sequence
        async for event in events:
            if isinstance(event, BookChanged) and event.sequence > seen:
                book = await _book(ctx, market_id, outcome_id, depth)
                seen = max(book.sequence, event.sequence)
                yield book


async def market_trades(info: Info, market_id: strawberry.ID) -> AsyncGenerator[Trade, None]:
    ctx = info.context
    async with ctx.live.subscribe(trades_topic(market_id)) as events:
        if not await ctx.reads.markets_by_ids([market_id]):
            raise NotFound(f"no market {market_id}")
        async for event in events:
            if isinstance(event, TradeExecuted):
                ctx.loaders.clear()
                yield Trade.from_domain(event.trade)


async def my_order_updates(info: Info) -> AsyncGenerator[Order, None]:
    ctx = info.context
    principal = await ctx.require_principal()
    async with ctx.live.subscribe(orders_topic(principal.user_id)) as events:
        async for event in events:
            if isinstance(event, OrderChanged):
                ctx.loaders.clear()
                yield Order.from_domain(event.order)
