"""The dead-man switch (PRODUCT.md section 11): ``heartbeat(timeoutSeconds)``.

A heartbeat sets the user's deadline in the shared counters (every worker sees
it). When it passes with no newer heartbeat, the first worker whose watch claims
it (a claim removes the deadline, for exactly one caller across workers)
cancels every open order of the user, in one transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.errors import InvalidAmount
from domain.ports import SharedCounters
from domain.services.context import ServiceContext
from domain.services.order_batches import cancel_all_of
from domain.services.work import Work

TIMEOUT_RANGE = (5, 300)
"""Seconds a heartbeat may last; 0 switches the switch off."""
PREFIX = "heartbeat:"


def _timeout(seconds: int) -> int:
    low, high = TIMEOUT_RANGE
    if isinstance(seconds, bool) or not (seconds == 0 or low <= seconds <= high):
        raise InvalidAmount(f"timeoutSeconds must be 0 (off) or from {low} to {high}")
    return seconds


async def heartbeat(
    ctx: ServiceContext, counters: SharedCounters, actor_id: str, timeout_seconds: int
) -> datetime | None:
    """Arm (or with 0 disarm) the actor's switch; returns when it fires, if armed."""
    seconds = _timeout(timeout_seconds)
    due = None if seconds == 0 else ctx.clock.now() + timedelta(seconds=seconds)
    await counters.set_deadline(PREFIX + actor_id, due)
    return due


async def cancel_lapsed(ctx: ServiceContext, counters: SharedCounters) -> int:
    """Cancel the open orders of every user whose heartbeat lapsed; returns how many users.

    A claimed deadline whose cancellation fails is set again, due now, for a retry."""
    lapsed = await counters.claim_due(PREFIX, ctx.clock.now())
    for key in lapsed:
        try:
            await _cancel_everything(ctx, key.removeprefix(PREFIX))
        except Exception:
            await counters.set_deadline(key, ctx.clock.now())
            raise
    return len(lapsed)


async def _cancel_everything(ctx: ServiceContext, user_id: str) -> None:
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        await cancel_all_of(work, user_id)
        await work.commit()
