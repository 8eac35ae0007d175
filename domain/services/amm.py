"""Trading with an LMSR market's automated market maker, and quoting it.

YES k shares of outcome i moves q_i by k; NO k shares of outcome i moves every
other outcome by k and the trader gets (or gives) k shares of each of them.
A buy pays the AMM cost into the pool and the fee to the fee account, from
cash (or from bonus with ``use_bonus``); a sell pays the trader from the pool,
less the fee. Payouts always go to cash.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain import ledger, lmsr, validation
from domain import markets as market_rules
from domain import positions as shares
from domain.errors import InsufficientShares, NotFound, PriceLimitExceeded
from domain.events import TradeExecuted
from domain.ledger import Reason
from domain.model import (
    AmountType,
    LmsrSide,
    Market,
    MarketType,
    Outcome,
    Position,
    Side,
    Trade,
    User,
)
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
    """``trader_cents`` is what a buy costs or a sell pays, fee included."""

    outcome: Outcome
    fill: lmsr.LmsrFill
    buy: bool
    yes: bool

    @property
    def shares(self) -> int:
        return self.fill.shares

    @property
    def trader_cents(self) -> int:
        return self.fill.trader_cents

    @property
    def fee_cents(self) -> int:
        return self.fill.fee_cents

    @property
    def average_price(self) -> float:
        return self.fill.average_price

    @property
    def prices_after(self) -> tuple[float, ...]:
        return self.fill.prices_after

    @property
    def maker_shares(self) -> int:
        """Shares the market maker supplies (all of them until routing lands)."""
        return self.fill.shares

    @property
    def maker_cents(self) -> int:
        return self.fill.amm_cents

    @property
    def book_shares(self) -> int:
        return 0

    @property
    def book_cents(self) -> int:
        return 0


@dataclass(frozen=True, slots=True)
class LmsrTradeResult:
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


def _price(market: Market, order: LmsrOrder) -> LmsrQuote:
    market_rules.ensure_type(market, MarketType.LMSR)
    validation.positive_amount(order.amount, "amount")
    if order.limit_cents is not None:
        validation.positive_amount(order.limit_cents, "limitCents")
    outcome = market.outcome(order.outcome_id) if order.outcome_id else market.outcomes[0]
    buy, yes = _direction(order.side)
    q = [o.amm_shares for o in market.outcomes]
    assert market.liquidity is not None
    b, fee = market.liquidity, market.fee_bps
    if order.amount_type is AmountType.SHARES:
        fill = lmsr.quote_shares(q, b, outcome.index, order.amount, yes, buy, fee)
    else:
        fill = lmsr.quote_spend(q, b, outcome.index, order.amount, yes, buy, fee)
    return LmsrQuote(outcome, fill, buy, yes)


async def quote(ctx: ServiceContext, order: LmsrOrder) -> LmsrQuote:
    """Price an LMSR trade without making it: a read of committed data, no unit of work."""
    found = await ctx.read_model.markets_by_ids([order.market_id])
    if not found:
        raise NotFound(f"no market {order.market_id}")
    return _price(found[0], order)


async def trade(ctx: ServiceContext, actor_id: str, order: LmsrOrder) -> LmsrTradeResult:
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        market = await work.market(order.market_id)
        user = await work.actor(actor_id)
        market_rules.ensure_type(market, MarketType.LMSR)
        market_rules.ensure_tradable(market, work.now)
        priced = _price(market, order)
        _check_limit(priced, order.limit_cents)
        held = await work.positions(user.id, market)
        trade = _execute(work, market, user, priced, held, order)
        work.add_trade(trade)
        work.emit(TradeExecuted(trade))
        work.prices_changed(market, trade.price_cents)
        await work.commit()
        yes_pos, no_pos = _yes_no(priced.outcome, held)
        return LmsrTradeResult(priced, trade, yes_pos, no_pos, priced.fill.prices_after)


def _check_limit(priced: LmsrQuote, limit_cents: int | None) -> None:
    if limit_cents is None:
        return
    paid = priced.fill.trader_cents
    if priced.buy and paid > limit_cents:
        raise PriceLimitExceeded(f"costs {paid} cents, above the limit of {limit_cents}")
    if not priced.buy and paid < limit_cents:
        raise PriceLimitExceeded(f"pays {paid} cents, below the limit of {limit_cents}")


def _moved(market: Market, priced: LmsrQuote) -> list[int]:
    """Indexes of the outcomes whose shares the trade moves."""
    i = priced.outcome.index
    return [i] if priced.yes else [o.index for o in market.outcomes if o.index != i]


def _execute(
    work: Work,
    market: Market,
    user: User,
    priced: LmsrQuote,
    held: list[Position],
    order: LmsrOrder,
) -> Trade:
    fill, moved = priced.fill, _moved(market, priced)
    trade = Trade(
        id=work.new_id(),
        market_id=market.id,
        outcome_id=priced.outcome.id,
        price_cents=min(100, round(fill.amm_cents / fill.shares)),
        quantity=fill.shares,
        is_amm=True,
        taker_side=Side.BUY if priced.buy else Side.SELL,
        taker_user_id=user.id,
        executed_at=work.now,
        notional_cents=fill.amm_cents,
        fee_cents=fill.fee_cents,
        lmsr_side=order.side,
    )
    refs = {"market_id": market.id, "trade_id": trade.id}
    if priced.buy:
        payer = ledger.bonus(user.id) if order.use_bonus else ledger.cash(user.id)
        work.journal.move(payer, ledger.pool(market.id), fill.amm_cents, Reason.TRADE, **refs)
        work.journal.move(payer, ledger.fees(market.id), fill.fee_cents, Reason.FEE, **refs)
        for index, cost in zip(moved, shares.split_cost(fill.amm_cents, len(moved)), strict=True):
            shares.add_shares(held[index], fill.shares, cost)
    else:
        proceeds = shares.split_cost(fill.trader_cents, len(moved))
        for index, received in zip(moved, proceeds, strict=True):
            if held[index].free_shares < fill.shares:
                raise InsufficientShares(
                    f"selling {fill.shares} shares but {held[index].free_shares} are held"
                )
            shares.remove_shares(held[index], fill.shares, received)
        payee = ledger.cash(user.id)
        work.journal.move(ledger.pool(market.id), payee, fill.trader_cents, Reason.TRADE, **refs)
        work.journal.move(
            ledger.pool(market.id), ledger.fees(market.id), fill.fee_cents, Reason.FEE, **refs
        )
    delta = fill.shares if priced.buy else -fill.shares
    for index in moved:
        market.outcomes[index].amm_shares += delta
        market.outcomes[index].shares_outstanding += delta
    market.volume_cents += fill.amm_cents
    return trade


def _yes_no(outcome: Outcome, held: list[Position]) -> tuple[int, int]:
    """The trader's shares of the outcome, and of "not the outcome" (fewest of the others)."""
    others = [p.shares for i, p in enumerate(held) if i != outcome.index]
    return held[outcome.index].shares, min(others)
