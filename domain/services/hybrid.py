"""Hybrid markets in the services: the market maker's side of a routed taker, and
resting orders its price crossed (the pure rules: :mod:`domain.routing`).

A trade with the market maker moves the trader's cash (or bonus) into the pool
(a buy) or the pool's cents to the trader (a sale), the fee to the fee account,
and the shares of the outcomes it moves. A crossed resting order pays from its
reservation (the rest of it is released) or sells its reserved shares; as the
book's maker it pays no fee.
"""

from __future__ import annotations

from domain import ledger, lmsr, routing
from domain import positions as shares
from domain.book_types import MarketMatch
from domain.errors import InsufficientBalance, InsufficientShares
from domain.events import TradeExecuted
from domain.ledger import AccountId, Reason
from domain.model import LmsrSide, Market, OrderStatus, Position, Side, Trade, User
from domain.services.books import LoadedBooks
from domain.services.work import Work


def maker_of(market: Market, index: int, yes: bool) -> routing.Maker:
    """The market maker of an LMSR market, for a trade moving outcome ``index`` (YES) or
    every other outcome (NO)."""
    assert market.liquidity is not None
    q = tuple(o.amm_shares for o in market.outcomes)
    return routing.Maker(q, market.liquidity, index, yes, market.fee_bps)


def moved(market: Market, index: int, yes: bool) -> list[int]:
    """Indexes of the outcomes a YES (NO) trade of outcome ``index`` moves."""
    return [index] if yes else [o.index for o in market.outcomes if o.index != index]


def empty_match(status: OrderStatus) -> MarketMatch:
    """What a submit that took nothing from the books returns."""
    return MarketMatch((), 0, status, None, (), ())


def trade_with_maker(
    work: Work,
    market: Market,
    fill: lmsr.LmsrFill,
    held: list[Position],
    *,
    index: int,
    yes: bool,
    buy: bool,
    payer: AccountId,
    lmsr_side: LmsrSide,
    order_id: str | None = None,
) -> Trade:
    """Settle ``fill`` with the market maker for the owner of ``held`` (their positions
    in outcome order); records and announces the trade."""
    user_id = held[0].user_id
    outs = moved(market, index, yes)
    outcome_id = market.outcomes[index].id
    trade = _trade(work, market, outcome_id, user_id, fill, buy, lmsr_side, order_id)
    refs = {"market_id": market.id, "trade_id": trade.id}
    pool, fees = ledger.pool(market.id), ledger.fees(market.id)
    if buy:
        work.journal.move(payer, pool, fill.amm_cents, Reason.TRADE, **refs)
        work.journal.move(payer, fees, fill.fee_cents, Reason.FEE, **refs)
        for i, cost in zip(outs, shares.split_cost(fill.amm_cents, len(outs)), strict=True):
            shares.add_shares(held[i], fill.shares, cost)
    else:
        for i in outs:
            if held[i].free_shares < fill.shares:
                raise InsufficientShares(
                    f"selling {fill.shares} shares but {held[i].free_shares} are held"
                )
        proceeds = shares.split_cost(fill.trader_cents, len(outs))
        for i, received in zip(outs, proceeds, strict=True):
            shares.remove_shares(held[i], fill.shares, received)
        work.journal.move(pool, ledger.cash(user_id), fill.trader_cents, Reason.TRADE, **refs)
        work.journal.move(pool, fees, fill.fee_cents, Reason.FEE, **refs)
    _move_maker(market, outs, fill.shares if buy else -fill.shares, fill.amm_cents)
    work.add_trade(trade)
    work.emit(TradeExecuted(trade))
    return trade


def check_cash(user: User, loaded: LoadedBooks, route: routing.Route, resting: int) -> None:
    """INSUFFICIENT_BALANCE, before anything changes, unless the user's cash (with what
    the own orders ``route`` cancels release) pays the route, fees included, and reserves
    ``resting`` cents for what will rest."""
    released = sum(loaded.orders[order_id].reserved_cents for order_id in route.own_reached)
    need = route.trader_cents + resting
    if user.cash_cents + released < need:
        raise InsufficientBalance(
            f"this order needs {need} cents; {user.cash_cents + released} available"
        )


async def cancel_reached(work: Work, loaded: LoadedBooks, route: routing.Route) -> None:
    """Self-trade prevention for a routed taker: cancel its own resting orders that its
    route reached (``route.own_reached``), before anything trades, so that neither the
    book nor the maker's moved price fills them."""
    ended = [loaded.orders[order_id] for order_id in route.own_reached]
    if not ended:
        return
    settle = await work.settlement(loaded.market, ended)
    for order in ended:
        loaded.exchange.cancel(order.outcome_id, order.id)
        settle.end(loaded.orders.pop(order.id), OrderStatus.CANCELLED)
        loaded.touched.add(order.outcome_id)


async def cross_resting(work: Work, loaded: LoadedBooks) -> list[Trade]:
    """Fill the resting orders the maker's price has crossed against the maker
    (:func:`routing.crossings`); returns their trades."""
    market = loaded.market
    if market.liquidity is None:
        return []
    q = [o.amm_shares for o in market.outcomes]
    found = routing.crossings(loaded.exchange, q, market.liquidity)
    if not found:
        return []
    settle = await work.settlement(market, [loaded.orders[c.order.order_id] for c in found])
    trades = []
    for crossing in found:
        order, fill = loaded.orders[crossing.order.order_id], crossing.fill
        buy = order.side is Side.BUY
        side = LmsrSide.BUY_YES if buy else LmsrSide.SELL_YES
        trade = _trade(work, market, order.outcome_id, order.user_id, fill, buy, side, order.id)
        refs = {"market_id": market.id, "trade_id": trade.id}
        position = settle.position(order.user_id, order.outcome_id)
        if buy:
            assert order.price_cents is not None
            held = order.price_cents * fill.shares
            reserved = ledger.reserved(order.user_id)
            work.journal.move(
                reserved, ledger.pool(market.id), fill.amm_cents, Reason.TRADE, **refs
            )
            work.journal.move(
                reserved, ledger.cash(order.user_id), held - fill.amm_cents, Reason.RELEASE,
                market_id=market.id, order_id=order.id,
            )  # fmt: skip
            order.reserved_cents -= held
            shares.add_shares(position, fill.shares, fill.amm_cents)
        else:
            pool, cash = ledger.pool(market.id), ledger.cash(order.user_id)
            work.journal.move(pool, cash, fill.amm_cents, Reason.TRADE, **refs)
            shares.remove_reserved_shares(position, fill.shares, fill.amm_cents)
        delta = fill.shares if buy else -fill.shares
        _move_maker(market, [crossing.outcome_index], delta, fill.amm_cents)
        settle.consume(order, fill.shares, crossing.remaining)
        if not crossing.remaining:
            loaded.orders.pop(order.id, None)
        loaded.touched.add(order.outcome_id)
        work.add_trade(trade)
        work.emit(TradeExecuted(trade))
        trades.append(trade)
    return trades


def _trade(
    work: Work,
    market: Market,
    outcome_id: str,
    user_id: str,
    fill: lmsr.LmsrFill,
    buy: bool,
    lmsr_side: LmsrSide,
    order_id: str | None,
) -> Trade:
    return Trade(
        id=work.new_id(),
        market_id=market.id,
        outcome_id=outcome_id,
        price_cents=min(100, round(fill.amm_cents / fill.shares)),
        quantity=fill.shares,
        is_amm=True,
        taker_side=Side.BUY if buy else Side.SELL,
        taker_user_id=user_id,
        executed_at=work.now,
        notional_cents=fill.amm_cents,
        fee_cents=fill.fee_cents,
        lmsr_side=lmsr_side,
        taker_order_id=order_id,
    )


def _move_maker(market: Market, outs: list[int], delta: int, amm_cents: int) -> None:
    for i in outs:
        market.outcomes[i].amm_shares += delta
        market.outcomes[i].shares_outstanding += delta
    market.volume_cents += amm_cents
