"""Resolving and voiding markets.

Resolve: every share of the winning outcome is paid 100 cents from the pool;
losing shares become worthless; what is left in the pool goes back to the
creator. A pool that cannot pay the winners is a bug: it raises
:class:`InvariantViolation` and nothing changes.

Void: every holder gets back the cost basis of the shares they still hold
(average cost, fees excluded) from the pool; if the pool cannot cover every
basis, each is paid pro rata, rounded down; the remainder goes back to the
creator. Cash already received from sales stays where it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain import ledger
from domain import markets as market_rules
from domain.errors import InvariantViolation
from domain.ledger import Reason
from domain.model import SHARE_PAYOUT_CENTS, Market, MarketStatus, Position
from domain.services.context import ServiceContext
from domain.services.markets import managed_market, status_changed, stop_trading
from domain.services.work import Work


@dataclass(frozen=True, slots=True)
class Resolution:
    """``total_payout_cents`` paid to holders; ``refunded_cents`` returned to the
    creator (resolve) or to holders and the creator (void)."""

    market: Market
    total_payout_cents: int
    winners_count: int
    refunded_cents: int


async def _prepare(work: Work, actor_id: str, market_id: str) -> tuple[Market, list[Position]]:
    market = await managed_market(work, actor_id, market_id)
    market_rules.ensure_not_final(market)
    if market.status is not MarketStatus.CLOSED:
        await stop_trading(work, market)
    held = [
        work.track_position(p) for p in await work.uow.positions.for_market(market.id) if p.shares
    ]
    for position in held:
        await work.user(position.user_id)
    await work.user(market.creator_id)
    return market, held


async def resolve_market(
    ctx: ServiceContext, actor_id: str, market_id: str, winning_outcome_id: str
) -> Resolution:
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        market, held = await _prepare(work, actor_id, market_id)
        winner = market.outcome(winning_outcome_id)
        winners = [p for p in held if p.outcome_id == winner.id]
        owed = sum(p.shares for p in winners) * SHARE_PAYOUT_CENTS
        if owed > market.pool_cents:
            raise InvariantViolation(f"pool {market.pool_cents} cannot pay winners {owed}")
        for position in winners:
            _pay(
                work, market, position.user_id, position.shares * SHARE_PAYOUT_CENTS, Reason.PAYOUT
            )
        refunded = _return_remainder(work, market)
        _settle(work, market, held, MarketStatus.RESOLVED, winner.id)
        await work.commit()
        return Resolution(market, owed, len({p.user_id for p in winners}), refunded)


async def void_market(ctx: ServiceContext, actor_id: str, market_id: str) -> Resolution:
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        market, held = await _prepare(work, actor_id, market_id)
        basis = sum(p.cost_cents for p in held)
        available = market.pool_cents
        paid = 0
        for position in held:
            refund = position.cost_cents
            if basis > available:
                refund = position.cost_cents * available // basis
            _pay(work, market, position.user_id, refund, Reason.REFUND)
            paid += refund
        paid += _return_remainder(work, market)
        _settle(work, market, held, MarketStatus.VOIDED, None)
        await work.commit()
        return Resolution(market, 0, 0, paid)


def _pay(work: Work, market: Market, user_id: str, cents: int, reason: Reason) -> None:
    work.journal.move(
        ledger.pool(market.id), ledger.cash(user_id), cents, reason, market_id=market.id
    )


def _return_remainder(work: Work, market: Market) -> int:
    remainder = market.pool_cents
    _pay(work, market, market.creator_id, remainder, Reason.REFUND)
    return remainder


def _settle(
    work: Work, market: Market, held: list[Position], status: MarketStatus, winner: str | None
) -> None:
    """Settled positions hold nothing; the market is final."""
    for position in held:
        position.shares = position.reserved_shares = position.cost_cents = 0
    for outcome in market.outcomes:
        outcome.shares_outstanding = 0
    market.status = status
    market.winning_outcome_id = winner
    market.resolved_at = work.now
    status_changed(work, market)
    work.prices_changed(market)
