"""The live feeds (the registry :data:`FEEDS`) and the subscriptions that read them.

``marketPrices``, ``orderBookUpdates`` and ``marketStatus`` send the current
state first, then each newer state; ``marketTrades`` and ``myOrderUpdates`` have
no single current state and send changes only (``Market.recentTrades`` and
``myOrders`` hold the history). The hub (``web.live.LiveHub``) registers each
subscriber before reading its first state, so nothing falls between.

Every view is built once per event (from the event alone: a book event carries
the levels its command computed) and shared by all subscribers of its key.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Hashable
from contextlib import aclosing
from datetime import datetime
from typing import Any, TypeVar

import strawberry

from domain import model
from domain.errors import NotFound
from domain.events import (
    AccountChanged,
    BookChanged,
    FillExecuted,
    MarketStatusChanged,
    OrderChanged,
    PricesChanged,
    TradeExecuted,
)
from domain.queries import ReadModel
from domain.services.books import book_changed, book_of
from resolvers.trading import book_depth
from schema.context import Info
from schema.live import Delivery, Feed
from schema.types.fills import AccountUpdate, Fill
from schema.types.markets import MarketStatusUpdate, PriceUpdate
from schema.types.trading import BookView, Order, OrderBook, Trade

V = TypeVar("V")


async def market_now(reads: ReadModel, market_id: str) -> model.Market:
    found = await reads.markets_by_ids([market_id])
    if not found:
        raise NotFound(f"no market {market_id}")
    return found[0]


async def prices_now(reads: ReadModel, now: datetime, market_id: str) -> PriceUpdate:
    market = await market_now(reads, market_id)
    last = await reads.recent_trades(market.id, 1)
    return PriceUpdate.from_market(market, now, last[0].price_cents if last else None)


async def book_now(reads: ReadModel, now: datetime, key: tuple[str, str]) -> BookView:
    market = await market_now(reads, key[0])
    outcome = market.outcome(key[1])
    resting = await reads.resting_orders(market.id)
    return BookView(book_changed(outcome, now, book_of(market, resting)))


async def status_now(reads: ReadModel, now: datetime, market_id: str) -> MarketStatusUpdate:
    market = await market_now(reads, market_id)
    return MarketStatusUpdate.from_domain(MarketStatusChanged(market.id, market.status, now))


PRICES: Feed[PricesChanged, PriceUpdate] = Feed(
    "marketPrices", PricesChanged, key=lambda e: e.market_id,
    view=lambda e, _: PriceUpdate.from_domain(e), delivery=Delivery.CONFLATE, snapshot=prices_now,
)  # fmt: skip
BOOK: Feed[BookChanged, BookView] = Feed(
    "orderBookUpdates", BookChanged, key=lambda e: (e.market_id, e.outcome_id),
    view=lambda e, _: BookView(e), delivery=Delivery.CONFLATE, snapshot=book_now,
)  # fmt: skip
TRADES: Feed[TradeExecuted, Trade] = Feed(
    "marketTrades", TradeExecuted, key=lambda e: e.trade.market_id,
    view=lambda e, _: Trade.from_domain(e.trade), delivery=Delivery.QUEUE,
)  # fmt: skip
STATUS: Feed[MarketStatusChanged, MarketStatusUpdate] = Feed(
    "marketStatus", MarketStatusChanged, key=lambda e: e.market_id,
    view=lambda e, _: MarketStatusUpdate.from_domain(e), delivery=Delivery.QUEUE,
    snapshot=status_now,
)  # fmt: skip
MY_ORDERS: Feed[OrderChanged, Order] = Feed(
    "myOrderUpdates", OrderChanged, key=lambda e: e.order.user_id,
    view=lambda e, _: Order.from_domain(e.order), delivery=Delivery.QUEUE, private=True,
)  # fmt: skip

MY_FILLS: Feed[FillExecuted, Fill] = Feed(
    "myFills", FillExecuted, key=lambda e: e.user_id,
    view=lambda e, _: Fill.from_domain(e), delivery=Delivery.QUEUE, private=True,
)  # fmt: skip


async def account_now(reads: ReadModel, now: datetime, user_id: str) -> AccountUpdate:
    return AccountUpdate(user_id=user_id, sequence=0)


MY_ACCOUNT: Feed[AccountChanged, AccountUpdate] = Feed(
    "myAccount", AccountChanged, key=lambda e: e.user_id,
    view=AccountUpdate.from_domain, delivery=Delivery.CONFLATE, snapshot=account_now,
    private=True,
)  # fmt: skip

FEEDS: tuple[Feed[Any, Any], ...] = (
    PRICES, BOOK, TRADES, STATUS, MY_ORDERS, MY_FILLS, MY_ACCOUNT
)  # fmt: skip
"""Every live feed; the hub serves these (docs/API.md, "Adding a feed")."""


async def follow(info: Info, feed: Feed[Any, V], key: Hashable) -> AsyncGenerator[V, None]:
    """Each view of ``feed`` for ``key``, holding one of the connection's subscription slots.

    The caller is checked anew for each subscription; the hub ends it with
    UNAUTHENTICATED when that user is deactivated (on any worker)."""
    ctx = info.context
    principal = await ctx.principal(fresh=True)
    with ctx.subscription_slot():
        owner = principal.user_id if principal is not None else None
        credential = principal.credential if principal is not None else None
        async with ctx.live.open(feed, key, owner, credential) as views:
            async for view in views:
                ctx.loaders.clear()  # nested fields read the state after this event
                yield view


async def market_prices(info: Info, market_id: strawberry.ID) -> AsyncGenerator[PriceUpdate, None]:
    async with aclosing(follow(info, PRICES, market_id)) as views:
        async for update in views:
            yield update


async def order_book_updates(
    info: Info, market_id: strawberry.ID, outcome_id: strawberry.ID, depth: int | None = 10
) -> AsyncGenerator[OrderBook, None]:
    levels = book_depth(depth)
    async with aclosing(follow(info, BOOK, (market_id, outcome_id))) as views:
        async for book in views:
            yield book.view(levels)


async def market_trades(info: Info, market_id: strawberry.ID) -> AsyncGenerator[Trade, None]:
    await market_now(info.context.reads, market_id)  # NOT_FOUND before following
    async with aclosing(follow(info, TRADES, market_id)) as views:
        async for trade in views:
            yield trade


async def market_status(
    info: Info, market_id: strawberry.ID
) -> AsyncGenerator[MarketStatusUpdate, None]:
    async with aclosing(follow(info, STATUS, market_id)) as views:
        async for update in views:
            yield update


async def my_order_updates(info: Info) -> AsyncGenerator[Order, None]:
    principal = await info.context.require_principal(fresh=True)
    async with aclosing(follow(info, MY_ORDERS, principal.user_id)) as views:
        async for order in views:
            yield order


async def my_fills(info: Info) -> AsyncGenerator[Fill, None]:
    principal = await info.context.require_principal()
    async with aclosing(follow(info, MY_FILLS, principal.user_id)) as views:
        async for fill in views:
            yield fill


async def my_account(info: Info) -> AsyncGenerator[AccountUpdate, None]:
    principal = await info.context.require_principal()
    async with aclosing(follow(info, MY_ACCOUNT, principal.user_id)) as views:
        async for update in views:
            yield update
