"""Creating markets and moving them through their lifecycle.

OPEN -> (PAUSED <-> OPEN) -> CLOSED -> RESOLVED or VOIDED. The creator or an
admin may pause, resume, close early, resolve and void; resolve and void may
also be applied to an OPEN or PAUSED market, which closes it first. When a
market stops trading its resting orders are cancelled and their reservations
released. Pausing keeps resting orders on the book (as an exchange halt does).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from domain import ledger
from domain import markets as market_rules
from domain.events import MarketStatusChanged
from domain.ledger import Reason
from domain.markets import MarketSpec
from domain.model import Market, MarketStatus, MarketType, OrderStatus, Outcome
from domain.services.books import end_all_resting, load_books
from domain.services.context import ServiceContext
from domain.services.work import Work


async def create_market(ctx: ServiceContext, actor_id: str, spec: MarketSpec) -> Market:
    """Create a market; an LMSR creator pays the subsidy ceil(100*b*ln n) into its pool."""
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        spec = market_rules.validate_spec(spec, work.now, ctx.settings.default_fee_bps)
        creator = await work.actor(actor_id)
        market = _new_market(work, spec, creator.id)
        work.attach_market(market, new=True)
        work.journal.move(
            ledger.cash(creator.id),
            ledger.pool(market.id),
            market_rules.subsidy_cents(market),
            Reason.SUBSIDY,
            market_id=market.id,
        )
        work.prices_changed(market)
        await work.commit()
        return market


def _new_market(work: Work, spec: MarketSpec, creator_id: str) -> Market:
    market_id = work.new_id()
    assert spec.fee_bps is not None
    return Market(
        id=market_id,
        title=spec.title,
        description=spec.description,
        market_type=spec.market_type,
        status=MarketStatus.OPEN,
        creator_id=creator_id,
        outcomes=[
            Outcome(id=work.new_id(), market_id=market_id, name=name, index=i)
            for i, name in enumerate(spec.outcomes)
        ],
        liquidity=spec.liquidity if spec.market_type is MarketType.LMSR else None,
        fee_bps=spec.fee_bps,
        resolution_source=spec.resolution_source,
        closes_at=spec.closes_at,
        created_at=work.now,
        scalar_lower=spec.scalar.lower if spec.scalar else None,
        scalar_upper=spec.scalar.upper if spec.scalar else None,
        scalar_unit=spec.scalar.unit if spec.scalar else "",
        dispute_window_seconds=spec.dispute_window_seconds,
    )


async def managed_market(work: Work, actor_id: str, market_id: str) -> Market:
    """The market, locked, if the actor is its creator or an admin."""
    market = await work.market(market_id)
    actor = await work.actor(actor_id)
    market_rules.ensure_can_manage(market, actor)
    return market


def status_changed(work: Work, market: Market) -> None:
    work.emit(MarketStatusChanged(market.id, market.status, work.now))


async def _manage(
    ctx: ServiceContext,
    actor_id: str,
    market_id: str,
    change: Callable[[Work, Market], Awaitable[None]],
) -> Market:
    """Apply a creator-or-admin change to a market in one transaction."""
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        market = await managed_market(work, actor_id, market_id)
        await change(work, market)
        await work.commit()
        return market


async def _pause(work: Work, market: Market) -> None:
    market_rules.pause(market)
    status_changed(work, market)


async def _resume(work: Work, market: Market) -> None:
    market_rules.resume(market, work.now)
    status_changed(work, market)


async def pause_market(ctx: ServiceContext, actor_id: str, market_id: str) -> Market:
    """Halt trading; resting orders stay on the book."""
    return await _manage(ctx, actor_id, market_id, _pause)


async def resume_market(ctx: ServiceContext, actor_id: str, market_id: str) -> Market:
    return await _manage(ctx, actor_id, market_id, _resume)


async def close_market(ctx: ServiceContext, actor_id: str, market_id: str) -> Market:
    """Stop trading early; resting orders are cancelled."""
    return await _manage(ctx, actor_id, market_id, stop_trading)


async def stop_trading(work: Work, market: Market) -> None:
    """Close the market and cancel its resting orders."""
    market_rules.close(market)
    if await end_all_resting(work, market, OrderStatus.CANCELLED):
        work.prices_changed(market)
    status_changed(work, market)


async def close_due_markets(ctx: ServiceContext) -> int:
    """The sweeper's first half: close markets past ``closes_at``; returns how many."""
    async with ctx.uow() as uow:
        due = await uow.markets.due_to_close(ctx.clock.now())
    for market_id in due:
        async with ctx.uow() as uow:
            work = Work(ctx, uow)
            market = await work.market(market_id)
            if market.status in (MarketStatus.OPEN, MarketStatus.PAUSED) and (
                work.now >= market.closes_at
            ):
                await stop_trading(work, market)
                await work.commit()
    return len(due)


async def expire_due_orders(ctx: ServiceContext) -> int:
    """The sweeper's second half: end GTD orders past ``expires_at``; returns markets swept."""
    async with ctx.uow() as uow:
        due = await uow.orders.markets_with_expired(ctx.clock.now())
    for market_id in due:
        async with ctx.uow() as uow:
            work = Work(ctx, uow)
            market = await work.market(market_id)
            await load_books(work, market)
            work.prices_changed(market)
            await work.commit()
    return len(due)
