"""Placing and cancelling order-book orders.

Money flow of a fill of q shares at the maker's price p: the buyer pays p*q to
the seller's cash (from reserved cents when the buyer is the resting maker,
from cash when the buyer is the taker); the taker also pays its fee to the fee
account: ceil(notional*feeBps/10000) on the order's whole notional, each fill
carrying its share. Shares move from seller to buyer
with their cost basis. A resting BUY reserves p*remaining cents; a resting
SELL reserves its shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain import ledger, validation
from domain import markets as market_rules
from domain import positions as shares
from domain.errors import (
    BadUserInput,
    Forbidden,
    InsufficientBalance,
    InsufficientShares,
    NotFound,
    OrderNotCancellable,
)
from domain.events import TradeExecuted
from domain.ledger import Reason
from domain.model import (
    Market,
    MarketType,
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    Trade,
    User,
)
from domain.money import fee_cents
from domain.orderbook import Fill, IncomingOrder, MatchResult
from domain.services.books import LoadedBook, end_order, load_book
from domain.services.context import ServiceContext
from domain.services.work import Work


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """``price_cents`` 1..99 for LIMIT, None for MARKET; ``quantity`` in shares."""

    market_id: str
    outcome_id: str
    side: Side
    order_type: OrderType
    quantity: int
    price_cents: int | None = None
    time_in_force: TimeInForce | None = None
    expires_at: datetime | None = None
    post_only: bool = False
    client_order_id: str | None = None


def _validated(command: PlaceOrder, now: datetime) -> tuple[PlaceOrder, TimeInForce]:
    validation.positive_amount(command.quantity, "quantity")
    if command.order_type is OrderType.LIMIT:
        if command.price_cents is None:
            raise BadUserInput("a LIMIT order needs priceCents")
        validation.price_cents(command.price_cents)
        tif = command.time_in_force or TimeInForce.GTC
    else:
        if command.price_cents is not None:
            raise BadUserInput("a MARKET order takes no priceCents")
        if command.post_only:
            raise BadUserInput("postOnly applies to LIMIT orders only")
        tif = command.time_in_force or TimeInForce.IOC
        if tif not in (TimeInForce.IOC, TimeInForce.FOK):
            raise BadUserInput("a MARKET order is IOC or FOK")
    if tif is TimeInForce.GTD:
        if command.expires_at is None or command.expires_at.tzinfo is None:
            raise BadUserInput("a GTD order needs a timezone-aware expiresAt")
        if command.expires_at <= now:
            raise BadUserInput("expiresAt must be in the future")
    elif command.expires_at is not None:
        raise BadUserInput("expiresAt is only for GTD orders")
    if command.post_only and tif in (TimeInForce.IOC, TimeInForce.FOK):
        raise BadUserInput("a postOnly order must be able to rest (GTC or GTD)")
    return command, tif


async def place_order(ctx: ServiceContext, actor_id: str, command: PlaceOrder) -> Order:
    """Place an order; returns it as it stands after matching.

    A repeat of a ``client_order_id`` returns the user's first order with that key,
    whatever else it says (a retry of a GTD order may arrive after its expiresAt).
    """
    if command.client_order_id is not None:
        validation.text(command.client_order_id, "clientOrderId", 1, 64)
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        market = await work.market(command.market_id)
        user = await work.actor(actor_id)
        if command.client_order_id is not None:
            first = await uow.orders.get_by_client_id(user.id, command.client_order_id)
            if first is not None:
                return first
        command, tif = _validated(command, work.now)
        market_rules.ensure_type(market, MarketType.ORDER_BOOK)
        market_rules.ensure_tradable(market, work.now)
        outcome = market.outcome(command.outcome_id)
        loaded = await load_book(work, market, outcome)
        order = _new_order(work, market, user, command, tif)
        result = loaded.book.submit(await _incoming(work, market, user, order), work.now)
        await _apply(work, loaded, order, result)
        await work.commit()
        return order


def _new_order(
    work: Work, market: Market, user: User, command: PlaceOrder, tif: TimeInForce
) -> Order:
    market.order_sequence += 1
    return Order(
        id=work.new_id(),
        user_id=user.id,
        market_id=market.id,
        outcome_id=command.outcome_id,
        side=command.side,
        order_type=command.order_type,
        time_in_force=tif,
        price_cents=command.price_cents,
        quantity=command.quantity,
        created_at=work.now,
        sequence=market.order_sequence,
        post_only=command.post_only,
        expires_at=command.expires_at,
        client_order_id=command.client_order_id,
    )


async def _incoming(work: Work, market: Market, user: User, order: Order) -> IncomingOrder:
    """Check the trader can cover the order and describe it to the engine."""
    budget = None
    if order.side is Side.SELL:
        position = await work.position(user.id, market.id, order.outcome_id)
        if position.free_shares < order.quantity:
            raise InsufficientShares(
                f"selling {order.quantity} shares but {position.free_shares} are held unreserved"
            )
    elif order.price_cents is not None:
        notional = order.price_cents * order.quantity
        need = notional + fee_cents(notional, market.fee_bps)
        if user.cash_cents < need:
            raise InsufficientBalance(f"this order needs {need} cents; {user.cash_cents} available")
    else:
        if user.cash_cents <= 0:
            raise InsufficientBalance("no cash to buy with")
        budget = user.cash_cents
    return IncomingOrder(
        order_id=order.id,
        user_id=order.user_id,
        side=order.side,
        order_type=order.order_type,
        price_cents=order.price_cents,
        quantity=order.quantity,
        time_in_force=order.time_in_force,
        sequence=order.sequence,
        post_only=order.post_only,
        expires_at=order.expires_at,
        budget_cents=budget,
    )


async def _apply(work: Work, loaded: LoadedBook, order: Order, result: MatchResult) -> None:
    for resting in result.expired:
        await end_order(work, loaded.orders[resting.order_id], OrderStatus.EXPIRED)
    for resting in result.self_trade_cancelled:
        await end_order(work, loaded.orders[resting.order_id], OrderStatus.CANCELLED)
    for fill in result.fills:
        await _settle_fill(work, loaded, order, fill)
    order.filled_quantity = result.filled_quantity
    order.status = result.status
    if result.rested is not None:
        await _reserve_rest(work, order)
    work.track_order(order, new=True)
    work.order_changed(order)
    if result.fills or result.rested is not None or result.expired or result.self_trade_cancelled:
        loaded.refresh_top(work)
        last = result.fills[-1].price_cents if result.fills else None
        work.prices_changed(loaded.market, last)


async def _reserve_rest(work: Work, order: Order) -> None:
    if order.side is Side.BUY:
        assert order.price_cents is not None
        cents = order.price_cents * order.remaining_quantity
        work.journal.move(
            ledger.cash(order.user_id),
            ledger.reserved(order.user_id),
            cents,
            Reason.RESERVE,
            market_id=order.market_id,
            order_id=order.id,
        )
        order.reserved_cents = cents
    else:
        position = await work.position(order.user_id, order.market_id, order.outcome_id)
        shares.reserve_shares(position, order.remaining_quantity)


async def _settle_fill(work: Work, loaded: LoadedBook, taker: Order, fill: Fill) -> None:
    market, maker = loaded.market, loaded.orders[fill.maker_order_id]
    notional = fill.price_cents * fill.quantity
    trade = Trade(
        id=work.new_id(),
        market_id=market.id,
        outcome_id=taker.outcome_id,
        price_cents=fill.price_cents,
        quantity=fill.quantity,
        is_amm=False,
        taker_side=taker.side,
        taker_user_id=taker.user_id,
        executed_at=work.now,
        notional_cents=notional,
        fee_cents=fill.fee_cents,
        maker_user_id=maker.user_id,
        taker_order_id=taker.id,
        maker_order_id=maker.id,
    )
    buyer, seller = (taker, maker) if taker.side is Side.BUY else (maker, taker)
    await work.user(maker.user_id)
    await _move_cash(work, trade, buyer, seller, maker)
    await _move_shares(work, trade, buyer, seller, maker)
    maker.filled_quantity += fill.quantity
    maker.status = OrderStatus.FILLED if fill.maker_remaining == 0 else OrderStatus.PARTIALLY_FILLED
    work.order_changed(maker)
    loaded.outcome.last_trade_cents = fill.price_cents
    market.volume_cents += notional
    work.add_trade(trade)
    work.emit(TradeExecuted(trade))


async def _move_cash(work: Work, trade: Trade, buyer: Order, seller: Order, maker: Order) -> None:
    refs = {"market_id": trade.market_id, "trade_id": trade.id}
    if buyer is maker:
        source = ledger.reserved(buyer.user_id)
        buyer.reserved_cents -= trade.notional_cents
    else:
        source = ledger.cash(buyer.user_id)
    work.journal.move(
        source, ledger.cash(seller.user_id), trade.notional_cents, Reason.TRADE, **refs
    )
    taker_cash = ledger.cash(trade.taker_user_id)
    work.journal.move(taker_cash, ledger.fees(trade.market_id), trade.fee_cents, Reason.FEE, **refs)


async def _move_shares(work: Work, trade: Trade, buyer: Order, seller: Order, maker: Order) -> None:
    market_id, outcome_id = trade.market_id, trade.outcome_id
    selling = await work.position(seller.user_id, market_id, outcome_id)
    if seller is maker:
        shares.remove_reserved_shares(selling, trade.quantity)
    else:
        shares.remove_shares(selling, trade.quantity)
    buying = await work.position(buyer.user_id, market_id, outcome_id)
    shares.add_shares(buying, trade.quantity, trade.notional_cents)


async def cancel_order(ctx: ServiceContext, actor_id: str, order_id: str) -> Order:
    """Cancel a resting order of the actor's; releases what it still reserves."""
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        found = await uow.orders.get(order_id)
        if found is None:
            raise NotFound(f"no order {order_id}")
        market = await work.market(found.market_id)
        user = await work.actor(actor_id)
        if found.user_id != user.id:
            raise Forbidden("only the order's owner may cancel it")
        loaded = await load_book(work, market, market.outcome(found.outcome_id))
        order = loaded.orders.get(order_id)
        if order is None:
            current = await uow.orders.get(order_id)
            status = current.status if current is not None else found.status
            raise OrderNotCancellable(f"order {order_id} is {status.lower()}")
        loaded.book.cancel(order_id)
        await end_order(work, order, OrderStatus.CANCELLED)
        loaded.refresh_top(work)
        work.prices_changed(market)
        await work.commit()
        return order
