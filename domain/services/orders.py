"""Placing and cancelling order-book orders.

The engine (:mod:`domain.orderbook`) matches; :mod:`domain.settlement` moves the
money and shares of what it returned (the money flow is described there).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from domain import ledger, routing, validation
from domain import markets as market_rules
from domain.book_types import CrossFill, IncomingOrder, MarketMatch
from domain.errors import (
    BadUserInput,
    Forbidden,
    IdempotencyConflict,
    InsufficientBalance,
    InsufficientShares,
    InvariantViolation,
    NotFound,
    OrderNotCancellable,
    PriceLimitExceeded,
)
from domain.model import (
    LmsrSide,
    Market,
    MarketType,
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    User,
)
from domain.money import fee_cents
from domain.services import hybrid
from domain.services.batching import in_market
from domain.services.books import LoadedBooks, load_books
from domain.services.context import ServiceContext
from domain.services.work import Work
from domain.settlement import Settlement

RESTING_TIFS = frozenset({TimeInForce.GTC, TimeInForce.GTD})


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
        tif = time_in_force(command)
    else:
        if command.price_cents is not None:
            raise BadUserInput("a MARKET order takes no priceCents")
        if command.post_only:
            raise BadUserInput("postOnly applies to LIMIT orders only")
        tif = time_in_force(command)
        if tif not in (TimeInForce.IOC, TimeInForce.FOK):
            raise BadUserInput("a MARKET order is IOC or FOK")
    if tif is TimeInForce.GTD:
        if command.expires_at is None:
            raise BadUserInput("a GTD order needs expiresAt")
        expires_at = validation.utc_time(command.expires_at, "expiresAt")
        if expires_at <= now:
            raise BadUserInput("expiresAt must be in the future")
        command = replace(command, expires_at=expires_at)
    elif command.expires_at is not None:
        raise BadUserInput("expiresAt is only for GTD orders")
    if command.post_only and tif in (TimeInForce.IOC, TimeInForce.FOK):
        raise BadUserInput("a postOnly order must be able to rest (GTC or GTD)")
    return command, tif


def time_in_force(command: PlaceOrder) -> TimeInForce:
    """The command's time in force, or its order type's default (GTC for LIMIT, IOC for
    MARKET)."""
    default = TimeInForce.GTC if command.order_type is OrderType.LIMIT else TimeInForce.IOC
    return command.time_in_force or default


def repeat_of(first: Order, command: PlaceOrder) -> Order:
    """``first``, the order placed earlier with the command's ``client_order_id``, if the
    command asks for the same order (market, outcome, side, type, price, quantity, time
    in force); IDEMPOTENCY_CONFLICT otherwise. ``expiresAt`` and ``postOnly`` are not
    compared: a retry of a GTD order may arrive after its expiry."""
    asked = (
        command.market_id,
        command.outcome_id,
        command.side,
        command.order_type,
        command.price_cents,
        command.quantity,
        time_in_force(command),
    )
    placed = (
        first.market_id,
        first.outcome_id,
        first.side,
        first.order_type,
        first.price_cents,
        first.quantity,
        first.time_in_force,
    )
    if asked != placed:
        raise IdempotencyConflict(
            f"clientOrderId {command.client_order_id!r} was used for order {first.id}, which "
            "asked for something else; use a new clientOrderId for a new order"
        )
    return first


async def place_order(ctx: ServiceContext, actor_id: str, command: PlaceOrder) -> Order:
    """Place an order; returns it as it stands after matching.

    A repeat of a ``client_order_id`` returns the user's first order with that key when
    it asks for the same order (:func:`repeat_of`), whatever its state now; otherwise
    IDEMPOTENCY_CONFLICT, and nothing is done. Runs in its market's batch.
    """

    async def step(work: Work) -> Order:
        market = await work.market(command.market_id)
        user = await work.actor(actor_id)
        first = await first_with_client_id(work, user, command)
        if first is not None:
            return first.copy()
        _validated(command, work.now)
        market_rules.ensure_tradable(market, work.now)
        market.outcome(command.outcome_id)
        loaded = await load_books(work, market)
        order, last = await place_in(work, loaded, user, command)
        announce(work, loaded, last)
        return order.copy()  # as it stands now: a later command of the batch may fill it

    return await in_market(ctx, command.market_id, step, actor_id=actor_id)


async def first_with_client_id(work: Work, user: User, command: PlaceOrder) -> Order | None:
    """The user's earlier order with the command's ``client_order_id``, if any
    (IDEMPOTENCY_CONFLICT if it asked for something else: :func:`repeat_of`)."""
    if command.client_order_id is None:
        return None
    validation.text(command.client_order_id, "clientOrderId", 1, 64)
    first = work.placed_with(user.id, command.client_order_id)
    if first is None:
        first = await work.uow.orders.get_by_client_id(user.id, command.client_order_id)
    return None if first is None else repeat_of(first, command)


async def place_in(
    work: Work, loaded: LoadedBooks, user: User, command: PlaceOrder
) -> tuple[Order, int | None]:
    """Place one order in books already loaded under the market lock (several orders
    of a batch share them); returns the order and its last fill's price.

    Raises a DomainError before changing anything. Announcing the books and
    prices is left to :func:`announce`, once per command."""
    market = loaded.market
    command, tif = _validated(command, work.now)
    market_rules.ensure_tradable(market, work.now)
    outcome = market.outcome(command.outcome_id)
    if outcome.id not in loaded.books:
        raise NotFound(f"outcome {outcome.id} is not loaded")  # a caller's bug, never a client's
    order = new_order(work, market, user, command, tif)
    incoming = await incoming_order(work, market, user, order)
    if market.market_type is MarketType.LMSR:
        return await place_hybrid(work, loaded, order, incoming)
    result = loaded.exchange.submit(outcome.id, incoming, work.now)
    settle = await work.settlement(market, loaded.named(result))
    apply_match(work, settle, loaded, order, result)
    return order, result.fills[-1].price_cents if result.fills else None


def announce(work: Work, loaded: LoadedBooks, last_trade_cents: int | None) -> None:
    """Announce the touched books and, if any, the market's new prices."""
    if loaded.touched:
        loaded.refresh_tops(work)
        work.prices_changed(loaded.market, last_trade_cents)


async def place_hybrid(
    work: Work,
    loaded: LoadedBooks,
    order: Order,
    incoming: IncomingOrder,
    *,
    amended: bool = False,
) -> tuple[Order, int | None]:
    """Place ``incoming`` (a new order, or the rest of one ``amended`` to a new price or
    size) on an LMSR market: routed between the resting orders and the market maker
    (:mod:`domain.routing`), post-only, FOK and the maker's fee as for any taker; a
    LIMIT GTC/GTD remainder rests; then the resting orders the maker's new price
    crossed are filled."""
    market = loaded.market
    index = market.outcome(order.outcome_id).index
    buy = order.side is Side.BUY
    wanted = incoming.quantity
    taker = routing.Taker(
        order.user_id, buy, wanted, incoming.budget_cents, None, order.price_cents
    )
    route = routing.route(
        loaded.exchange, order.outcome_id, hybrid.maker_of(market, index, True), taker
    )
    if order.post_only and route.shares:
        raise PriceLimitExceeded("a post-only order would take liquidity")
    if order.time_in_force is TimeInForce.FOK and route.shares < wanted:
        raise PriceLimitExceeded("a fill-or-kill order cannot fill completely")
    rests = order.order_type is OrderType.LIMIT and order.time_in_force in RESTING_TIFS
    if buy:  # all of it up front: the two parts' fees may round to a cent more than one
        resting = (order.price_cents or 0) * (wanted - route.shares) if rests else 0
        hybrid.check_cash(await work.user(order.user_id), loaded, route, resting)
    await hybrid.cancel_reached(work, loaded, route)
    if route.maker is not None:
        held = await work.positions(order.user_id, market)
        side = LmsrSide.BUY_YES if buy else LmsrSide.SELL_YES
        payer = ledger.cash(order.user_id)
        hybrid.trade_with_maker(
            work, market, route.maker, held, index=index, yes=True, buy=buy, payer=payer,
            lmsr_side=side, order_id=order.id,
        )  # fmt: skip
        order.filled_quantity += route.maker_shares
        loaded.touched.add(order.outcome_id)
    quantity = wanted - route.maker_shares if rests else route.book_shares
    if quantity:
        tif = order.time_in_force if rests else TimeInForce.IOC
        taking = replace(incoming, quantity=quantity, budget_cents=None, time_in_force=tif)
        result = loaded.exchange.submit(order.outcome_id, taking, work.now)
    else:
        result = hybrid.empty_match(OrderStatus.FILLED)  # the maker filled all a rester asked
    if result.filled_quantity != route.book_shares:
        raise InvariantViolation("the books filled other than the route said")
    if not rests:
        done = route.shares == wanted
        result = result._replace(status=OrderStatus.FILLED if done else OrderStatus.CANCELLED)
    settle = await work.settlement(market, loaded.named(result))
    apply_match(work, settle, loaded, order, result, amended=amended)
    crossed = await hybrid.cross_resting(work, loaded)
    trades = [*(f.price_cents for f in result.fills), *(t.price_cents for t in crossed)]
    return order, trades[-1] if trades else None


def new_order(
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


async def incoming_order(
    work: Work, market: Market, user: User, order: Order, quantity: int | None = None
) -> IncomingOrder:
    """Check the trader can cover ``quantity`` shares of the order (default: all of it)
    and describe them to the engine."""
    budget = None
    quantity = order.quantity if quantity is None else quantity
    if order.side is Side.SELL:
        position = await work.position(user.id, market.id, order.outcome_id)
        if position.free_shares < quantity:
            raise InsufficientShares(
                f"selling {quantity} shares but {position.free_shares} are held unreserved"
            )
    elif order.price_cents is not None:
        notional = order.price_cents * quantity
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
        quantity=quantity,
        time_in_force=order.time_in_force,
        sequence=order.sequence,
        post_only=order.post_only,
        expires_at=order.expires_at,
        budget_cents=budget,
    )


def apply_match(
    work: Work,
    settle: Settlement,
    loaded: LoadedBooks,
    order: Order,
    result: MarketMatch,
    *,
    amended: bool = False,
) -> None:
    """Settle what the engine returned for ``order`` (new, or ``amended`` and re-queued:
    its earlier fills stand). Orders that stopped resting leave ``loaded.orders``."""
    named = loaded.named(result)
    for resting in result.expired:
        settle.end(loaded.orders[resting.order_id], OrderStatus.EXPIRED)
    for resting in result.self_trade_cancelled:
        settle.end(loaded.orders[resting.order_id], OrderStatus.CANCELLED)
    for fill in result.fills:
        if isinstance(fill, CrossFill):
            settle.cross(order, [loaded.orders[leg.maker_order_id] for leg in fill.legs], fill)
        else:
            settle.fill(order, loaded.orders[fill.maker_order_id], fill)
    order.filled_quantity += result.filled_quantity
    order.status = result.status
    if order.status is OrderStatus.OPEN and order.filled_quantity:
        order.status = OrderStatus.PARTIALLY_FILLED
    if result.rested is not None:
        settle.reserve(order)
    work.track_order(order, new=not amended)
    work.order_changed(order)
    for ended in named:
        if not ended.is_resting:
            loaded.orders.pop(ended.id, None)
    if result.rested is not None:
        loaded.orders[order.id] = order
    if result.fills or result.rested is not None or result.expired or result.self_trade_cancelled:
        loaded.touched.add(order.outcome_id)


async def market_of_order(ctx: ServiceContext, order_id: str) -> Order:
    """The order as committed, to find its market and owner (both fixed once placed);
    NOT_FOUND if there is none. Its state is read again under the market lock."""
    if ctx.reads is not None:
        found = await ctx.reads.orders_by_ids([order_id])
    else:  # a context without a read model (some tests): a transaction of its own
        async with ctx.uow() as uow:
            stored = await uow.orders.get(order_id)
            found = [] if stored is None else [stored]
    if not found:
        raise NotFound(f"no order {order_id}")
    return found[0]


async def own_resting_order(
    work: Work, actor_id: str, found: Order, verb: str
) -> tuple[LoadedBooks, Order]:
    """The actor's resting order (``found``, as :func:`market_of_order` read it) in its
    book, loaded under the market lock: FORBIDDEN (someone else's: only its owner may
    ``verb`` it) or ORDER_NOT_CANCELLABLE (no longer resting) otherwise."""
    market = await work.market(found.market_id)
    user = await work.actor(actor_id)
    if found.user_id != user.id:
        raise Forbidden(f"only the order's owner may {verb} it")
    loaded = await load_books(work, market)
    order = loaded.orders.get(found.id)
    if order is None or not order.is_resting:
        raise await not_resting(work, found.id)
    return loaded, order


async def not_resting(work: Work, order_id: str) -> OrderNotCancellable:
    """Why an order the caller named is not in its book (read under the market lock)."""
    stored = work.tracked_order(order_id) or await work.uow.orders.get(order_id)
    if stored is None or stored.is_resting:
        return OrderNotCancellable(f"order {order_id} is expired")  # it expired as it loaded
    return OrderNotCancellable(f"order {order_id} is {stored.status.lower()}")


async def cancel_order(ctx: ServiceContext, actor_id: str, order_id: str) -> Order:
    """Cancel a resting order of the actor's; releases what it still reserves. Runs in
    its market's batch."""
    found = await market_of_order(ctx, order_id)

    async def step(work: Work) -> Order:
        loaded, order = await own_resting_order(work, actor_id, found, "cancel")
        market = loaded.market
        loaded.book(order.outcome_id).cancel(order.id)
        del loaded.orders[order.id]
        settle = await work.settlement(market, [order])
        settle.end(order, OrderStatus.CANCELLED)
        loaded.touched.add(order.outcome_id)
        loaded.refresh_tops(work)
        work.prices_changed(market)
        return order.copy()

    return await in_market(ctx, found.market_id, step, actor_id=actor_id)
