"""Order books, orders, AMM trades, complete sets and the caller's holdings."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain import model
from domain.errors import BadUserInput, QueryTooComplex
from domain.queries import MAX_PAGE_SIZE
from domain.services import amm, complete_sets, orders
from schema.context import Info
from schema.enums import OrderStatus
from schema.inputs import LmsrTradeInput, PlaceOrderInput
from schema.pagination import decode_cursor, page_size
from schema.types.pages import OrderConnection, TradeConnection
from schema.types.settlements import SettlementConnection
from schema.types.trading import (
    BookView,
    CompleteSetResult,
    LmsrQuote,
    LmsrTradeResult,
    Order,
    OrderBook,
    Position,
    load_positions,
)


def book_depth(depth: int | None) -> int:
    if depth is None:
        return 10
    if depth < 0:
        raise BadUserInput("depth must not be negative")
    if depth > MAX_PAGE_SIZE:
        raise QueryTooComplex(f"depth may be at most {MAX_PAGE_SIZE}")
    return depth


async def order_book(
    info: Info, market_id: strawberry.ID, outcome_id: strawberry.ID, depth: int | None = 10
) -> OrderBook:
    """A market's resting orders for one outcome (an LMSR market's too: never its maker)."""
    market = await info.context.market(market_id, now=True)
    outcome = market.outcome(outcome_id)
    levels = book_depth(depth)

    async def read() -> BookView:
        resting = await info.context.reads.resting_orders(market.id)
        return BookView.from_domain(market, outcome, resting)

    # One stamp, one book: the view built or announced for it is reused (schema.views).
    stamp = BookView.stamp_of(outcome)
    view = await info.context.book_views.get((market.id, outcome.id), stamp, read)
    return view.view(levels)


async def my_positions(
    info: Info,
    market_id: strawberry.ID | None = None,
    include_closed: Annotated[
        bool | None,
        strawberry.argument(
            description="Also positions holding no shares whose sales realized P&L."
        ),
    ] = False,
) -> list[Position]:
    actor = await info.context.require_principal()
    return await load_positions(info, actor.user_id, market_id, closed=bool(include_closed))


async def my_orders(
    info: Info,
    status: OrderStatus | None = None,
    market_id: strawberry.ID | None = None,
    first: int | None = 50,
    after: str | None = None,
) -> OrderConnection:
    actor = await info.context.require_principal()
    wanted = model.OrderStatus(status.value) if status is not None else None
    page = await info.context.reads.orders_page(
        actor.user_id, wanted, market_id, page_size(first, 50), decode_cursor(after)
    )
    return OrderConnection.from_domain(page)


async def my_trades(
    info: Info,
    market_id: strawberry.ID | None = None,
    first: int | None = 50,
    after: str | None = None,
) -> TradeConnection:
    actor = await info.context.require_principal()
    page = await info.context.reads.trades_page(
        actor.user_id, market_id, page_size(first, 50), decode_cursor(after)
    )
    return TradeConnection.from_domain(page)


async def my_settlements(
    info: Info, first: int | None = 50, after: str | None = None
) -> SettlementConnection:
    actor = await info.context.require_principal()
    page = await info.context.reads.settlements_page(
        actor.user_id, page_size(first, 50), decode_cursor(after)
    )
    return SettlementConnection.from_domain(page)


async def quote_lmsr(info: Info, input: LmsrTradeInput) -> LmsrQuote:
    principal = await info.context.principal()
    actor = principal.user_id if principal is not None else None
    return LmsrQuote.from_domain(await amm.quote(info.context.services, input.to_domain(), actor))


async def place_order(info: Info, input: PlaceOrderInput) -> Order:
    actor = await info.context.order_operations(1)
    placed = await orders.place_order(info.context.services, actor.user_id, input.to_domain())
    return Order.from_domain(placed)


async def cancel_order(info: Info, id: strawberry.ID) -> Order:
    actor = await info.context.order_operations(1)
    return Order.from_domain(await orders.cancel_order(info.context.services, actor.user_id, id))


async def lmsr_trade(info: Info, input: LmsrTradeInput) -> LmsrTradeResult:
    actor = await info.context.require_principal()
    result = await amm.trade(info.context.services, actor.user_id, input.to_domain())
    return LmsrTradeResult.from_domain(result)


async def mint_complete_set(
    info: Info, market_id: strawberry.ID, quantity: int
) -> CompleteSetResult:
    actor = await info.context.require_principal()
    result = await complete_sets.mint_complete_set(
        info.context.services, actor.user_id, market_id, quantity
    )
    return CompleteSetResult.from_domain(result)


async def redeem_complete_set(
    info: Info, market_id: strawberry.ID, quantity: int
) -> CompleteSetResult:
    actor = await info.context.require_principal()
    result = await complete_sets.redeem_complete_set(
        info.context.services, actor.user_id, market_id, quantity
    )
    return CompleteSetResult.from_domain(result)
