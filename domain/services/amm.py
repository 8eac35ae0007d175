"""Trading with an LMSR market's automated market maker, and quoting it.

YES k shares of outcome i moves q_i by k; NO k shares of outcome i moves every
other outcome by k and the trader gets (or gives) k shares of each of them.
A buy pays the AMM cost into the pool and the fee to the fee account, from
cash (or from bonus with ``use_bonus``); a sell pays the trader from the pool,
less the fee. Payouts always go to cash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain import ledger, lmsr, routing, validation
from domain import markets as market_rules
from domain.book_types import IncomingOrder
from domain.errors import (
    InsufficientShares,
    InvalidAmount,
    InvariantViolation,
    NotFound,
    PriceLimitExceeded,
)
from domain.exchange import MarketBook
from domain.model import (
    AmountType,
    LmsrSide,
    Market,
    MarketType,
    OrderType,
    Outcome,
    Position,
    Side,
    TimeInForce,
    Trade,
    User,
    field_replacer,
)
from domain.money import MAX_AMOUNT
from domain.services import hybrid, orders
from domain.services.batching import in_market
from domain.services.books import LoadedBooks, book_of, load_books
from domain.services.context import ServiceContext
from domain.services.work import Work


@dataclass(frozen=True, slots=True)
class LmsrOrder:
    """``amount`` is cents for SPEND and shares for SHARES; ``limit_cents`` caps a
    buy's total cost or floors a sell's payout."""

    market_id: str
    side: LmsrSide
    amount_type: AmountType
    amount: int
    outcome_id: str | None = None
    use_bonus: bool = False
    limit_cents: int | None = None


@dataclass(frozen=True, slots=True)
class LmsrQuote:
    """An LMSR trade routed between the resting orders and the market maker
    (:mod:`domain.routing`): ``trader_cents`` is what a buy costs or a sell pays, fees
    included; ``prices_after`` the maker's prices once it and any resting orders its
    new price crossed have traded."""

    outcome: Outcome
    route: routing.Route
    buy: bool
    yes: bool
    prices_after: tuple[float, ...]

    @property
    def fill(self) -> lmsr.LmsrFill | None:
        """The market maker's part, priced as one LMSR trade (None: it supplies nothing)."""
        return self.route.maker

    @property
    def shares(self) -> int:
        return self.route.shares

    @property
    def trader_cents(self) -> int:
        return self.route.trader_cents

    @property
    def fee_cents(self) -> int:
        return self.route.fee_cents

    @property
    def average_price(self) -> float:
        return self.route.average_price

    @property
    def maker_shares(self) -> int:
        return self.route.maker_shares

    @property
    def maker_cents(self) -> int:
        return self.route.maker_cents

    @property
    def book_shares(self) -> int:
        return self.route.book_shares

    @property
    def book_cents(self) -> int:
        return self.route.book_cents


_repriced = field_replacer(LmsrQuote, "outcome", "prices_after")
"""``_repriced(quote, outcome, prices_after)``: the quote with those two replaced."""


@dataclass(frozen=True, slots=True)
class LmsrTradeResult:
    """``trade`` is the market maker's trade, or (when it supplied nothing) the first
    trade with a resting order."""

    quote: LmsrQuote
    trade: Trade
    position_yes: int
    position_no: int
    prices: tuple[float, ...]


def _direction(side: LmsrSide) -> tuple[bool, bool]:
    """(buy, yes) for a side."""
    return side in (LmsrSide.BUY_YES, LmsrSide.BUY_NO), side in (
        LmsrSide.BUY_YES,
        LmsrSide.SELL_YES,
    )


def book_outcome(market: Market, outcome: Outcome, yes: bool, use_bonus: bool) -> str | None:
    """The book a trade of ``outcome`` routes through: its own (YES), the other outcome's
    (NO in a binary market); none for NO among three or more outcomes (a bundle no book
    quotes) or a bonus-paid buy (promotional credit pays only the market maker)."""
    if use_bonus:
        return None
    if yes:
        return outcome.id
    if len(market.outcomes) == 2:
        return market.outcomes[1 - outcome.index].id
    return None


def _price(
    market: Market,
    order: LmsrOrder,
    exchange: MarketBook,
    user_id: str | None,
    now: datetime | None = None,
) -> tuple[LmsrQuote, str | None]:
    """The routed quote and the book it takes from; ``exchange`` is only read. With
    ``now``, the quote's ``prices_after`` include the resting orders the trade would
    cross (tried on a copy of the books); without, they are the route's."""
    market_rules.ensure_type(market, MarketType.LMSR)
    validation.positive_amount(order.amount, "amount")
    if order.limit_cents is not None:
        validation.positive_amount(order.limit_cents, "limitCents")
    outcome = market.outcome(order.outcome_id) if order.outcome_id else market.outcomes[0]
    buy, yes = _direction(order.side)
    booked = book_outcome(market, outcome, yes, order.use_bonus and buy)
    maker = hybrid.maker_of(market, outcome.index, yes)
    spend = order.amount_type is AmountType.SPEND
    taker = routing.Taker(
        user_id or "",
        buy,
        None if spend else order.amount,
        order.amount if spend and buy else None,
        order.amount if spend and not buy else None,
    )
    route = routing.route(exchange, booked, maker, taker)
    _check_ceiling(route)
    after = route.prices_after
    if now is not None:
        q = list(maker.q)
        if route.maker is not None:
            q = lmsr.apply_trade(q, outcome.index, route.maker_shares * (1 if buy else -1), yes)
        after = _after_crossings(exchange, q, maker.b, route, booked, user_id or "", now)
    return LmsrQuote(outcome, route, buy, yes, after), booked


def _after_crossings(
    exchange: MarketBook,
    q: list[int],
    b: float,
    route: routing.Route,
    booked: str | None,
    user_id: str,
    now: datetime,
) -> tuple[float, ...]:
    """The maker's prices after the route and the crossings it causes, on a copy."""
    copy = book_of_orders(exchange)
    for order_id in route.own_reached:  # self-trade prevention cancels them
        found = copy.get(order_id)
        assert found is not None
        copy.cancel(found[0], order_id)
    if booked is not None and route.book_shares:
        copy.submit(booked, _book_incoming("quote", user_id, route, 0), now)
    for crossing in routing.crossings(copy, q, b):
        sign = 1 if crossing.order.side is Side.BUY else -1
        q[crossing.outcome_index] += sign * crossing.fill.shares
    return tuple(lmsr.prices(q, b))


def book_of_orders(exchange: MarketBook) -> MarketBook:
    """A copy of ``exchange``'s resting orders, to try a trade on."""
    copy = MarketBook(exchange.outcome_ids, exchange.fee_bps)
    for outcome_id in exchange.outcome_ids:
        for order in sorted(exchange.orders(outcome_id), key=lambda o: o.sequence):
            copy.add_resting(outcome_id, order.copy())
    return copy


def _book_incoming(
    order_id: str, user_id: str, route: routing.Route, sequence: int
) -> IncomingOrder:
    """The book's part of a route as an IOC order at the worst price it takes."""
    return IncomingOrder(
        order_id=order_id,
        user_id=user_id,
        side=Side.BUY if route.buy else Side.SELL,
        order_type=OrderType.LIMIT,
        price_cents=route.book_limit,
        quantity=route.book_shares,
        time_in_force=TimeInForce.IOC,
        sequence=sequence,
    )


async def quote(ctx: ServiceContext, order: LmsrOrder, actor_id: str | None = None) -> LmsrQuote:
    """Price an LMSR trade without making it: a read of committed data, no unit of work.
    ``actor_id`` (the signed-in caller) passes over their own resting orders, as their
    trade would."""
    reads = ctx.read_model
    found = await reads.markets_by_ids([order.market_id])
    if not found:
        raise NotFound(f"no market {order.market_id}")
    market = found[0]
    market_rules.ensure_type(market, MarketType.LMSR)
    now = ctx.clock.now()
    exchange = book_of(market, await reads.resting_orders(market.id))
    exchange.expire(now)
    return _price(market, order, exchange, actor_id, now)[0]


async def trade(ctx: ServiceContext, actor_id: str, order: LmsrOrder) -> LmsrTradeResult:
    """Trade with an LMSR market, routed between its resting orders and its maker; runs
    in the market's batch."""

    async def step(work: Work) -> LmsrTradeResult:
        market = await work.market(order.market_id)
        user = await work.actor(actor_id)
        market_rules.ensure_type(market, MarketType.LMSR)
        market_rules.ensure_tradable(market, work.now)
        loaded = await load_books(work, market)
        priced, booked = _price(market, order, loaded.exchange, user.id)
        _check_limit(priced, order.limit_cents)
        held = await work.positions(user.id, market)
        _check_holdings(market, priced, held)
        await hybrid.cancel_reached(work, loaded, priced.route)
        trades = await _take_book(work, loaded, user, priced, booked)
        if priced.fill is not None:
            payer = ledger.bonus(user.id) if order.use_bonus else ledger.cash(user.id)
            trades.insert(0, hybrid.trade_with_maker(
                work, market, priced.fill, held, index=priced.outcome.index, yes=priced.yes,
                buy=priced.buy, payer=payer, lmsr_side=order.side,
            ))  # fmt: skip
        trades += await hybrid.cross_resting(work, loaded)
        loaded.refresh_tops(work)
        prices = work.prices_changed(market, trades[-1].price_cents)
        yes_pos, no_pos = _yes_no(priced.outcome, held)
        # As things stand now: a later command of the batch moves the outcome.
        done: LmsrQuote = _repriced(priced, priced.outcome.copy(), prices)
        return LmsrTradeResult(done, trades[0], yes_pos, no_pos, prices)

    return await in_market(ctx, order.market_id, step, actor_id=actor_id)


async def _take_book(
    work: Work, loaded: LoadedBooks, user: User, priced: LmsrQuote, booked: str | None
) -> list[Trade]:
    """The route's book part: an IOC order of its shares at the worst price it takes,
    recorded (its trades name it) and filled completely."""
    route = priced.route
    if booked is None or not route.book_shares:
        return []
    side = Side.BUY if priced.buy else Side.SELL
    assert route.book_limit is not None
    command = orders.PlaceOrder(
        loaded.market.id, booked, side, OrderType.LIMIT, route.book_shares, route.book_limit,
        TimeInForce.IOC,
    )  # fmt: skip
    order = orders.new_order(work, loaded.market, user, command, TimeInForce.IOC)
    taking = _book_incoming(order.id, user.id, route, order.sequence)
    result = loaded.exchange.submit(booked, taking, work.now)
    if result.filled_quantity != route.book_shares:
        raise InvariantViolation("the books filled other than the route said")
    settle = await work.settlement(loaded.market, loaded.named(result))
    before = len(settle.trades)
    orders.apply_match(work, settle, loaded, order, result)
    return [t for t in settle.trades[before:] if t.taker_order_id == order.id]


def _check_ceiling(route: routing.Route) -> None:
    """INVALID_AMOUNT for a trade moving MAX_AMOUNT cents or more: every cents figure of
    a quote or a trade stays inside GraphQL's 32-bit Int (a buy of millions of shares
    at near a dollar each would not)."""
    cents = max(route.trader_cents, route.maker_cents, route.book_cents)
    if cents >= MAX_AMOUNT:
        raise InvalidAmount(f"this trade would move {cents} cents, beyond {MAX_AMOUNT - 1}")


def _check_limit(priced: LmsrQuote, limit_cents: int | None) -> None:
    if limit_cents is None:
        return
    paid = priced.trader_cents
    if priced.buy and paid > limit_cents:
        raise PriceLimitExceeded(f"costs {paid} cents, above the limit of {limit_cents}")
    if not priced.buy and paid < limit_cents:
        raise PriceLimitExceeded(f"pays {paid} cents, below the limit of {limit_cents}")


def _check_holdings(market: Market, priced: LmsrQuote, held: list[Position]) -> None:
    """A sale needs all its shares (book and maker parts) held unreserved, up front."""
    if priced.buy:
        return
    for index in hybrid.moved(market, priced.outcome.index, priced.yes):
        if held[index].free_shares < priced.shares:
            raise InsufficientShares(
                f"selling {priced.shares} shares but {held[index].free_shares} are held"
            )


def _yes_no(outcome: Outcome, held: list[Position]) -> tuple[int, int]:
    """The trader's shares of the outcome, and of "not the outcome" (fewest of the others)."""
    others = [p.shares for i, p in enumerate(held) if i != outcome.index]
    return held[outcome.index].shares, min(others)
