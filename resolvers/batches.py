"""Order operations for bots: place many, cancel many, cancel all, amend, heartbeat.

Each counts against the caller's order rate (``Context.order_operations``): a batch
one per item, ``cancelAllOrders`` one (and it is never refused)."""

from __future__ import annotations

import strawberry

from domain.services import amend, heartbeats, order_batches
from schema.context import Info
from schema.inputs import PlaceOrderInput
from schema.types.batches import CancelOrderResult, Heartbeat, PlaceOrderResult
from schema.types.trading import Order


async def place_orders(
    info: Info, inputs: list[PlaceOrderInput], atomic: bool | None = False
) -> list[PlaceOrderResult]:
    ctx = info.context
    order_batches.within(len(inputs), order_batches.MAX_PLACE_BATCH)  # before it counts
    actor = await ctx.order_operations(len(inputs))
    commands = [item.to_domain() for item in inputs]
    results = await order_batches.place_orders(
        ctx.services, actor.user_id, commands, atomic=bool(atomic)
    )
    return [PlaceOrderResult.from_domain(result) for result in results]


async def cancel_orders(info: Info, ids: list[strawberry.ID]) -> list[CancelOrderResult]:
    ctx = info.context
    order_batches.within(len(ids), order_batches.MAX_CANCEL_BATCH)
    actor = await ctx.order_operations(len(ids))
    results = await order_batches.cancel_orders(ctx.services, actor.user_id, list(ids))
    return [CancelOrderResult.from_domain(i, r) for i, r in zip(ids, results, strict=True)]


async def cancel_all_orders(info: Info, market_id: strawberry.ID | None = None) -> list[Order]:
    ctx = info.context
    actor = await ctx.order_operations(1, refusable=False)  # one; a user may always cancel
    cancelled = await order_batches.cancel_all_orders(ctx.services, actor.user_id, market_id)
    return [Order.from_domain(order) for order in cancelled]


async def amend_order(
    info: Info, id: strawberry.ID, price_cents: int | None = None, quantity: int | None = None
) -> Order:
    ctx = info.context
    actor = await ctx.order_operations(1)
    amended = await amend.amend_order(ctx.services, actor.user_id, id, price_cents, quantity)
    return Order.from_domain(amended)


async def heartbeat(info: Info, timeout_seconds: int) -> Heartbeat:
    ctx = info.context
    actor = await ctx.require_principal()
    due = await heartbeats.heartbeat(
        ctx.services, ctx.shared_counters(), actor.user_id, timeout_seconds
    )
    return Heartbeat(timeout_seconds=0 if due is None else timeout_seconds, expires_at=due)
