"""Amending a resting LIMIT order: its price and/or total quantity (PRODUCT.md s. 11).

Queue priority is the order's ``sequence`` (books load resting orders in that
order). Lowering the quantity at the same price keeps the sequence, so the
order keeps its place, and releases what the cut shares reserved. A new price
or a larger quantity releases the whole reservation, gives the order a new
sequence (the back of the queue) and submits its remaining quantity to the
engine like a new order: it may trade on arrival (post-only still refuses
that), and what rests is reserved again. Either way the reservation ends as
price * remaining cents (or the remaining shares), to the cent. On an LMSR market
a requeued order is routed like a new one (:func:`orders.place_hybrid`): share by
share from the resting orders or the market maker, the maker's part paying the
LMSR fee, post-only refusing either.
"""

from __future__ import annotations

from domain import markets as market_rules
from domain import validation
from domain.errors import BadUserInput, InvalidAmount
from domain.model import MarketType, Order, User
from domain.services.batching import in_market
from domain.services.books import LoadedBooks, as_resting
from domain.services.context import ServiceContext
from domain.services.orders import (
    announce,
    apply_match,
    incoming_order,
    market_of_order,
    own_resting_order,
    place_hybrid,
)
from domain.services.work import Work


async def amend_order(
    ctx: ServiceContext,
    actor_id: str,
    order_id: str,
    price_cents: int | None = None,
    quantity: int | None = None,
) -> Order:
    """The amended order as it stands after any matching.

    ``quantity`` is the new total (filled plus remaining): INVALID_AMOUNT unless it is
    above what already filled. A filled, cancelled or expired order is
    ORDER_NOT_CANCELLABLE; someone else's is FORBIDDEN."""
    if price_cents is None and quantity is None:
        raise BadUserInput("give a new priceCents, a new quantity, or both")
    if price_cents is not None:
        validation.price_cents(price_cents)
    if quantity is not None:
        validation.positive_amount(quantity, "quantity")
    found = await market_of_order(ctx, order_id)

    async def step(work: Work) -> Order:
        loaded, order = await own_resting_order(work, actor_id, found, "amend")
        user = await work.actor(actor_id)
        market_rules.ensure_tradable(loaded.market, work.now)
        price = order.price_cents if price_cents is None else price_cents
        total = order.quantity if quantity is None else quantity
        if total <= order.filled_quantity:
            raise InvalidAmount(
                f"quantity must be above the {order.filled_quantity} shares already filled"
            )
        if price == order.price_cents and total <= order.quantity:
            await _reduce(work, loaded, order, total)
        else:
            await _requeue(work, loaded, user, order, price, total)
        return order.copy()

    return await in_market(ctx, found.market_id, step, actor_id=actor_id)


async def _reduce(work: Work, loaded: LoadedBooks, order: Order, total: int) -> None:
    """Fewer shares at the same price: the order keeps its sequence, so its place."""
    cut = order.quantity - total
    if cut == 0:
        return
    settle = await work.settlement(loaded.market, [order])
    settle.release(order, cut)
    order.quantity = total
    book = loaded.book(order.outcome_id)
    book.cancel(order.id)
    book.add_resting(as_resting(order))  # same price level: the depth shown is right
    settle.changed(order)
    loaded.touched.add(order.outcome_id)
    announce(work, loaded, None)


async def _requeue(
    work: Work, loaded: LoadedBooks, user: User, order: Order, price: int | None, total: int
) -> None:
    """A new price or more shares: to the back of the queue, matched like a new order."""
    market = loaded.market
    settle = await work.settlement(market, [order])
    loaded.book(order.outcome_id).cancel(order.id)
    del loaded.orders[order.id]
    settle.release(order, order.remaining_quantity)
    order.price_cents, order.quantity = price, total
    market.order_sequence += 1
    order.sequence = market.order_sequence
    incoming = await incoming_order(work, market, user, order, order.remaining_quantity)
    if market.market_type is MarketType.LMSR:  # routed like a new order (maker, fee, post-only)
        _, last = await place_hybrid(work, loaded, order, incoming, amended=True)
    else:
        result = loaded.exchange.submit(order.outcome_id, incoming, work.now)
        settle = await work.settlement(market, loaded.named(result))
        apply_match(work, settle, loaded, order, result, amended=True)
        last = result.fills[-1].price_cents if result.fills else None
    loaded.touched.add(order.outcome_id)
    announce(work, loaded, last)
