"""Resolving, disputing, unresolving and voiding markets.

Resolve (any form, :mod:`domain.resolutions`): each share is paid its
outcome's cents from the pool; what is left in the pool goes back to the
creator. With a dispute window the resolution is first only proposed (nothing
paid) and the sweeper pays it when the window ends (``finalize_due_resolutions``),
exactly once: the market's row lock serializes it with every other command and
the status is checked again under that lock. A pool that cannot pay is a bug: it
raises :class:`InvariantViolation` and nothing changes.

Void: every holder gets back the cost basis of the shares they still hold
(average cost, fees excluded) from the pool; if the pool cannot cover every
basis, each is paid pro rata, rounded down; the remainder goes back to the
creator. Cash already received from sales stays where it is. Void is never a
proposal. Every settled position is kept (:class:`SettledPosition`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from domain import ledger, resolutions
from domain.errors import InvariantViolation
from domain.ledger import Reason
from domain.model import Market, MarketStatus, Position, SettledPosition
from domain.resolutions import Proposal
from domain.services.context import ServiceContext
from domain.services.markets import managed_market, status_changed, stop_trading
from domain.services.work import Work


@dataclass(frozen=True, slots=True)
class Resolution:
    """``total_payout_cents`` paid to shares (0 for a proposal or a void);
    ``winners_count`` users paid more than 0; ``refunded_cents`` returned to the
    creator (resolve) or to holders and the creator (void)."""

    market: Market
    total_payout_cents: int
    winners_count: int
    refunded_cents: int


async def resolve_market(
    ctx: ServiceContext, actor_id: str, market_id: str, winning_outcome_id: str
) -> Resolution:
    """100 cents a share to one outcome."""
    return await _resolve(
        ctx, actor_id, market_id, lambda m: resolutions.winner_takes_all(m, winning_outcome_id)
    )


async def resolve_market_split(
    ctx: ServiceContext, actor_id: str, market_id: str, payouts: Sequence[tuple[str, int]]
) -> Resolution:
    """``payouts``: (outcome id, cents per share) pairs summing to 100."""
    return await _resolve(ctx, actor_id, market_id, lambda m: resolutions.split(m, payouts))


async def resolve_scalar_market(
    ctx: ServiceContext, actor_id: str, market_id: str, value: float
) -> Resolution:
    return await _resolve(ctx, actor_id, market_id, lambda m: resolutions.scalar(m, value))


async def _resolve(
    ctx: ServiceContext, actor_id: str, market_id: str, propose: Callable[[Market], Proposal]
) -> Resolution:
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        market = await managed_market(work, actor_id, market_id)
        at_once = resolutions.resolves_at_once(market, await work.actor(actor_id), work.now)
        proposal = propose(market)
        await _stop_trading(work, market)
        if at_once:
            result = await _pay_out(work, market, proposal)
        else:
            resolutions.propose(market, proposal, work.now)
            status_changed(work, market)
            result = Resolution(market, 0, 0, 0)
        await work.commit()
        return result


async def finalize_due_resolutions(ctx: ServiceContext) -> int:
    """The sweeper's part: pay proposals whose window ended; returns how many.

    Each market is re-read under its lock: a proposal another worker finalized,
    or one withdrawn or disputed meanwhile, is left alone.
    """
    async with ctx.uow() as uow:
        due = await uow.markets.due_to_finalize(ctx.clock.now())
    finalized = 0
    for market_id in due:
        async with ctx.uow() as uow:
            work = Work(ctx, uow)
            market = await work.market(market_id)
            if resolutions.window_ended(market, work.now):
                await _pay_out(work, market, resolutions.proposal_of(market))
                await work.commit()
                finalized += 1
    return finalized


async def unresolve_market(ctx: ServiceContext, actor_id: str, market_id: str) -> Market:
    """Withdraw a proposed (creator or admin) or disputed (admin) resolution: CLOSED."""
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        market = await managed_market(work, actor_id, market_id)
        resolutions.unresolve(market, await work.actor(actor_id), work.now)
        status_changed(work, market)
        await work.commit()
        return market


async def dispute_resolution(
    ctx: ServiceContext, actor_id: str, market_id: str, reason: str
) -> Market:
    """A holder of the market's shares disputes its proposed resolution: DISPUTED."""
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        market = await work.market(market_id)
        user = await work.actor(actor_id)
        held = await uow.positions.for_user(user.id, market.id)
        resolutions.dispute(market, held, reason, work.now)
        status_changed(work, market)
        await work.commit()
        return market


async def void_market(ctx: ServiceContext, actor_id: str, market_id: str) -> Resolution:
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        market = await managed_market(work, actor_id, market_id)
        resolutions.ensure_can_void(market, await work.actor(actor_id), work.now)
        await _stop_trading(work, market)
        held = await _held(work, market)
        refunds = resolutions.void_refunds(held, market.pool_cents)
        for position, refund in zip(held, refunds, strict=True):
            _pay(work, market, position.user_id, refund, Reason.REFUND)
        paid = sum(refunds) + _return_remainder(work, market)
        resolutions.void(market, work.now)
        _settle(work, market, held, refunds)
        await work.commit()
        return Resolution(market, 0, 0, paid)


async def _stop_trading(work: Work, market: Market) -> None:
    if market.status in (MarketStatus.OPEN, MarketStatus.PAUSED):
        await stop_trading(work, market)


async def _held(work: Work, market: Market) -> list[Position]:
    """Positions holding shares, tracked; every balance a settlement moves, attached."""
    held = [
        work.track_position(p) for p in await work.uow.positions.for_market(market.id) if p.shares
    ]
    for position in held:
        await work.user(position.user_id)
    await work.user(market.creator_id)
    return held


async def _pay_out(work: Work, market: Market, proposal: Proposal) -> Resolution:
    held = await _held(work, market)
    paid = resolutions.payments(proposal.payouts, held, market)
    owed = sum(paid)
    if owed > market.pool_cents:
        raise InvariantViolation(f"pool {market.pool_cents} cannot pay {owed}")
    for position, cents in zip(held, paid, strict=True):
        _pay(work, market, position.user_id, cents, Reason.PAYOUT)
    refunded = _return_remainder(work, market)
    resolutions.finalize(market, proposal, work.now)
    _settle(work, market, held, paid)
    winners = {p.user_id for p, cents in zip(held, paid, strict=True) if cents}
    return Resolution(market, owed, len(winners), refunded)


def _pay(work: Work, market: Market, user_id: str, cents: int, reason: Reason) -> None:
    work.journal.move(
        ledger.pool(market.id), ledger.cash(user_id), cents, reason, market_id=market.id
    )


def _return_remainder(work: Work, market: Market) -> int:
    remainder = market.pool_cents
    _pay(work, market, market.creator_id, remainder, Reason.REFUND)
    return remainder


def _settle(work: Work, market: Market, held: list[Position], paid: list[int]) -> None:
    """Each held position becomes a settlement and holds nothing; the market is final."""
    for position, cents in zip(held, paid, strict=True):
        work.add_settled(
            SettledPosition(
                id=work.new_id(),
                user_id=position.user_id,
                market_id=market.id,
                outcome_id=position.outcome_id,
                shares=position.shares,
                payout_cents=cents,
                cost_basis_cents=position.cost_cents,
                settled_at=work.now,
            )
        )
        position.shares = position.reserved_shares = position.cost_cents = 0
    for outcome in market.outcomes:
        outcome.shares_outstanding = 0
    status_changed(work, market)
    work.prices_changed(market)
