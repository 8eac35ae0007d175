"""Each market's commands in batches: one transaction per batch (group commit).

A command on one market (place, cancel, amend, an LMSR trade, a mint or redeem) is
a *step*: ``step(work) -> result``, the body of the command once a unit of work is
open. :func:`in_market` sends it to the context's ``CommandSequencer``, which queues
it behind the market's batch in flight; the next batch, once it holds the market's
lock, takes every queued step (up to a bound), in arrival order, and
:func:`run_batch` runs them in one unit of work
on one shared :class:`Work`: one market lock, one load of the book and of the
actors' balances and positions, one flush, one commit. Each caller then gets its own
result or its own ``DomainError``; nothing is acknowledged before the commit.
docs/PERSISTENCE.md ("Batched execution") has the design and why it is safe across
workers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from domain.errors import DomainError, NotFound, ServiceUnavailable
from domain.ports import PendingBatch, UnitOfWork
from domain.services.books import adopt_books
from domain.services.work import Work

if TYPE_CHECKING:
    from domain.services.context import ServiceContext

T = TypeVar("T")
Step = Callable[[Work], Awaitable[T]]


@dataclass(frozen=True, slots=True)
class Pending:
    """A queued command: its step, and its actor (loaded with the others of the batch)."""

    step: Step[Any]
    actor_id: str | None = None


async def in_market(
    ctx: ServiceContext, market_id: str, step: Step[T], *, actor_id: str | None = None
) -> T:
    """``step``'s result once its batch committed, or its own ``DomainError`` raised.

    Without a sequencer in the context, the step is a batch of its own."""
    pending = Pending(step, actor_id)

    async def execute(batch: PendingBatch) -> list[object]:
        return await run_batch(ctx, market_id, batch)

    if ctx.sequencer is None:
        outcome = (await execute(Ready([pending])))[0]
    else:
        outcome = await ctx.sequencer.run((ctx.uow, market_id), pending, execute)
    if isinstance(outcome, BaseException):
        raise outcome
    return cast(T, outcome)


class Ready:
    """A batch whose items are known before it runs (``PendingBatch``)."""

    __slots__ = ("items",)

    def __init__(self, items: list[Pending]) -> None:
        self.items = items

    def peek(self) -> list[Pending]:
        return self.items

    def take(self) -> list[Pending]:
        return self.items


class _FlushRefused(Exception):
    def __init__(self, error: DomainError) -> None:
        super().__init__(error.message)
        self.error = error


async def run_batch(ctx: ServiceContext, market_id: str, batch: PendingBatch) -> list[object]:
    """Each step's result or error, in order, once the batch committed; the same error
    for every step if the batch as a whole failed (its commit, the database).

    The steps are taken once the market is locked (:func:`_prepare`): those that came
    while this batch waited for the lock (held by another worker) are in it.

    If the flush refuses the batch (a balance guard, an actor deactivated meanwhile),
    each step runs again in a batch of its own, so only the refused one fails."""
    try:
        return await _in_one_transaction(ctx, market_id, batch)
    except _FlushRefused as refused:
        steps = batch.take()
        if len(steps) == 1:
            return [refused.error]
        return [(await run_batch(ctx, market_id, Ready([pending])))[0] for pending in steps]
    except Exception as error:
        return [error] * len(batch.take())


async def _in_one_transaction(
    ctx: ServiceContext, market_id: str, batch: PendingBatch
) -> list[object]:
    async with ctx.uow() as uow:
        work, outcomes = await _apply(ctx, uow, ctx.clock.now(), market_id, batch)
        try:
            await work.commit()
        except ServiceUnavailable:
            raise
        except DomainError as error:
            raise _FlushRefused(error) from error
    if ctx.books is not None and market_id in work.books:
        ctx.books.keep(ctx.uow, work.books[market_id])
    return outcomes


async def _apply(
    ctx: ServiceContext, uow: UnitOfWork, now: datetime, market_id: str, batch: PendingBatch
) -> tuple[Work, list[object]]:
    """Apply the steps in order on one Work. A step that fails may have changed the
    Work before raising: the Work is dropped and the steps before it run again on a
    fresh one (nothing was written yet; same transaction, same ``now``), without it.

    A step that fails unexpectedly (a bug, not a ``DomainError``) is isolated the same
    way: its caller alone gets the error, and the rest of the batch stands."""
    failed: dict[int, Exception] = {}
    while True:
        work = Work(ctx, uow, now)
        await _prepare(work, market_id, batch)
        outcomes: list[object] = []
        for index, pending in enumerate(batch.take()):
            if index in failed:
                outcomes.append(failed[index])
                continue
            try:
                outcomes.append(await pending.step(work))
            except ServiceUnavailable:
                raise
            except Exception as error:
                failed[index] = error
                break
        else:
            return work, outcomes


async def _prepare(work: Work, market_id: str, batch: PendingBatch) -> None:
    """Lock the market and load the actors queued by then with their positions there,
    with the owners of the first orders of the books kept since its last batch (the
    makers the batch most likely meets, else loaded when met): one round trip where
    the holders can be read with the lock (``Work.market_holding``). Then take the
    batch's steps (those that came while it waited for the lock too), load the actors
    still missing, and take the market's kept books if still valid. An unknown market
    is each step's own NOT_FOUND."""
    cache, scope = work.ctx.books, work.ctx.uow
    user_ids = _actors(batch.peek())
    if cache is not None:
        user_ids |= cache.head_owners(scope, market_id)
    try:
        market = await work.market_holding(market_id, user_ids)
    except NotFound:
        return
    await work.load_holders(market, user_ids | _actors(batch.take()))
    kept = None if cache is None else cache.take(scope, market)
    if kept is not None:
        await adopt_books(work, kept, market)


def _actors(steps: list[Pending]) -> set[str]:
    return {pending.actor_id for pending in steps if pending.actor_id}
