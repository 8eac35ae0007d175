"""The sweeper: applies the time-based rules that no request triggers.

Every ``interval`` seconds it closes markets past ``closes_at``, expires GTD
orders past ``expires_at`` (``domain.services.markets``), pays proposed
resolutions whose dispute window has ended (``domain.services.resolution``;
exactly once however many workers sweep: each market is re-checked under its
lock), and forgets shared rate buckets that have refilled
(``domain.ports.SharedCounters.prune``). Commands also check the first two
lazily, so a late sweep never lets anyone trade past a deadline; the sweep makes
the book and the live updates catch up without waiting for a trader.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from domain.ports import SharedCounters
from domain.services import heartbeats, markets, resolution
from domain.services.context import ServiceContext

log = logging.getLogger("bellwether.sweeper")


@dataclass(frozen=True, slots=True)
class Sweep:
    markets_closed: int
    markets_with_expired_orders: int
    resolutions_finalized: int = 0


async def sweep_once(ctx: ServiceContext, counters: SharedCounters | None = None) -> Sweep:
    closed = await markets.close_due_markets(ctx)
    expired = await markets.expire_due_orders(ctx)
    finalized = await resolution.finalize_due_resolutions(ctx)
    if counters is not None:
        await counters.prune(ctx.clock.now())
    return Sweep(closed, expired, finalized)


async def run_sweeper(
    ctx: ServiceContext, interval: float, counters: SharedCounters | None = None
) -> None:
    """Sweep forever, every ``interval`` seconds, until cancelled.

    A failing sweep is logged and retried at the next tick: one bad market must
    not stop the others from closing.
    """

    async def sweep() -> str | None:
        swept = await sweep_once(ctx, counters)
        return None if swept == Sweep(0, 0, 0) else f"swept: {swept}"

    await _every(interval, "sweep", sweep)


HEARTBEAT_CHECK_SECONDS = 1.0
"""How often each worker claims lapsed heartbeats: a lapse cancels within about this."""


async def run_heartbeat_watch(
    ctx: ServiceContext, counters: SharedCounters, interval: float = HEARTBEAT_CHECK_SECONDS
) -> None:
    """Cancel the open orders of users whose heartbeat lapsed, every ``interval`` seconds.

    Every worker runs one; each lapse is claimed by exactly one of them."""

    async def watch() -> str | None:
        lapsed = await heartbeats.cancel_lapsed(ctx, counters)
        return f"heartbeats lapsed: open orders of {lapsed} user(s) cancelled" if lapsed else None

    await _every(interval, "heartbeat watch", watch)


async def _every(interval: float, name: str, tick: Callable[[], Awaitable[str | None]]) -> None:
    """Run ``tick`` every ``interval`` seconds until cancelled, logging what it reports;
    a failing tick is logged and retried at the next one."""
    while True:
        try:
            report = await tick()
            if report:
                log.info("%s", report)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed; retrying in %s s", name, interval)
        await asyncio.sleep(interval)
