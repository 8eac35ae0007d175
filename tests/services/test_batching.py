"""Each market's commands run in batches (domain/services/batching.py): one transaction
per batch, every caller its own result or error, nothing acknowledged before the commit.

``Held`` keeps a market's batch in flight, so the commands sent meanwhile queue and
form the next batch, in the order they arrived.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Coroutine, Mapping, Sequence
from dataclasses import replace
from types import TracebackType
from typing import Any, cast

import pytest

from domain import errors
from domain.events import BookChanged, FillExecuted, PricesChanged, TradeExecuted
from domain.model import Market, MarketType, Order, OrderStatus, Side, User
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.services import batching, complete_sets, order_batches, orders
from domain.services.books import BookCache
from domain.services.context import ServiceContext
from domain.services.work import Work
from persistence.memory import RecordingPublisher
from persistence.sequencer import AsyncioSequencer
from tests.harness import Harness, wait_until
from tests.services.test_order_book_trading import limit


class Held:
    """Hold the market's batch in flight until the block ends; ``send`` queues behind it."""

    def __init__(self, ctx: ServiceContext, market_id: str) -> None:
        self.ctx, self.market_id = ctx, market_id
        self.tasks: list[asyncio.Task[Any]] = []
        self._entered, self._release = asyncio.Event(), asyncio.Event()
        self._holder: asyncio.Task[object] | None = None

    async def _hold(self, work: Work) -> None:
        self._entered.set()
        await self._release.wait()

    async def __aenter__(self) -> Held:
        run = batching.in_market(self.ctx, self.market_id, self._hold)
        self._holder = asyncio.create_task(run)
        await wait_until(self._entered.is_set)
        return self

    def send(self, command: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        self.tasks.append(asyncio.create_task(command))
        return self.tasks[-1]

    async def all_queued(self) -> None:
        sequencer, key = _sequencer(self.ctx), (self.ctx.uow, self.market_id)
        await wait_until(lambda: sequencer.queued(key) == len(self.tasks))

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType
    ) -> None:
        await self.all_queued()
        self._release.set()
        assert self._holder is not None
        await asyncio.gather(self._holder, return_exceptions=True)
        await asyncio.gather(*self.tasks, return_exceptions=True)
        after = batching.in_market(self.ctx, self.market_id, _nothing)  # after the batch
        await asyncio.gather(after, return_exceptions=True)

    def results(self) -> list[object]:
        return [t.exception() or t.result() for t in self.tasks if not t.cancelled()]


def _sequencer(ctx: ServiceContext) -> AsyncioSequencer:
    assert isinstance(ctx.sequencer, AsyncioSequencer)  # the harnesses' (and the app's)
    return ctx.sequencer


async def _nothing(work: Work) -> None:
    return None


async def _setup(harness: Harness) -> tuple[User, list[User], Market]:
    maker = await harness.user("maker")
    buyers = [await harness.user(name) for name in ("bob", "carol", "dave")]
    market = await harness.market(maker, MarketType.ORDER_BOOK)
    await complete_sets.mint_complete_set(harness.ctx, maker.id, market.id, 100)
    return maker, buyers, market


async def _stored_orders(harness: Harness, user: User) -> list[Order]:
    snapshot = await harness.snapshot()
    return sorted((o for o in snapshot.orders if o.user_id == user.id), key=lambda o: o.sequence)


async def test_commands_sent_while_a_batch_runs_form_the_next_batch_in_arrival_order(
    harness: Harness,
) -> None:
    ctx = harness.ctx
    maker, buyers, market = await _setup(harness)
    async with Held(ctx, market.id) as held:
        for buyer in buyers:
            held.send(orders.place_order(ctx, buyer.id, limit(market, Side.BUY, 50, 1)))
            await held.all_queued()
        held.send(orders.place_order(ctx, maker.id, limit(market, Side.SELL, 50, 2)))
    placed = cast(list[Order], held.results())
    assert [order.sequence for order in placed] == sorted(order.sequence for order in placed)
    assert (placed[3].status, placed[3].filled_quantity) == (OrderStatus.FILLED, 2)
    # Time priority is arrival order: the first two buyers were filled, the third rests.
    statuses = [(await _stored_orders(harness, buyer))[0].status for buyer in buyers]
    assert statuses == [OrderStatus.FILLED, OrderStatus.FILLED, OrderStatus.OPEN]
    assert _sequencer(ctx).sizes[4] == 1
    await harness.assert_invariants()


@pytest.mark.parametrize(
    "failure",
    [errors.BadUserInput("refused after changing things"), RuntimeError("a bug in one step")],
    ids=["domain-error", "unexpected-error"],
)
async def test_a_command_failing_inside_a_batch_leaves_no_trace_and_the_others_stand(
    harness: Harness, failure: Exception
) -> None:
    ctx = harness.ctx
    maker, (bob, carol, _), market = await _setup(harness)

    async def poisoned(work: Work) -> None:
        """Changes the batch's state, then fails: none of it may stay."""
        (await work.market(market.id)).order_sequence += 1_000
        (await work.actor(bob.id)).cash_cents -= 500
        raise failure

    async with Held(ctx, market.id) as held:
        held.send(orders.place_order(ctx, bob.id, limit(market, Side.BUY, 60, 5)))
        await held.all_queued()
        held.send(batching.in_market(ctx, market.id, poisoned))
        await held.all_queued()
        held.send(orders.place_order(ctx, carol.id, limit(market, Side.BUY, 99, 2_000)))
        await held.all_queued()
        held.send(orders.place_order(ctx, maker.id, limit(market, Side.SELL, 60, 5)))
    bid, refused, too_big, ask = held.results()
    assert refused is failure
    assert isinstance(too_big, errors.InsufficientBalance)
    assert isinstance(bid, Order) and isinstance(ask, Order)
    assert (ask.status, ask.filled_quantity) == (OrderStatus.FILLED, 5)
    assert (await harness.fetch_user(bob.id)).cash_cents == 100_000 - 300
    assert (await harness.fetch_user(carol.id)).cash_cents == 100_000
    assert (await harness.fetch_user(maker.id)).cash_cents == 100_000 - 10_000 + 300
    assert (await harness.fetch_market(market.id)).order_sequence == 2
    assert await _stored_orders(harness, carol) == []
    await harness.assert_invariants()


async def test_the_same_client_order_id_twice_in_one_batch_places_one_order(
    harness: Harness,
) -> None:
    ctx = harness.ctx
    _, (bob, _, _), market = await _setup(harness)
    again = limit(market, Side.BUY, 40, 3, client_order_id="k-1")
    async with Held(ctx, market.id) as held:
        for command in (again, again, replace(again, price_cents=41)):
            held.send(orders.place_order(ctx, bob.id, command))
            await held.all_queued()
    first, repeat, conflict = held.results()
    assert isinstance(first, Order) and isinstance(repeat, Order)
    assert repeat.id == first.id
    assert isinstance(conflict, errors.IdempotencyConflict)
    assert [order.id for order in await _stored_orders(harness, bob)] == [first.id]
    await harness.assert_invariants()


class _Delegating:
    """A unit of work that is ``inner`` except where a subclass says otherwise."""

    def __init__(self, inner: UnitOfWork) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def __aenter__(self) -> _Delegating:
        await self._inner.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._inner.__aexit__(*exc)


class _CommitCut(_Delegating):
    async def commit(self) -> None:
        raise errors.ServiceUnavailable("the database stopped answering during COMMIT")


async def test_a_commit_that_fails_acknowledges_no_command_of_the_batch(
    harness: Harness,
) -> None:
    maker, buyers, market = await _setup(harness)
    inner = harness.ctx.uow
    ctx = replace(harness.ctx, uow=cast(UnitOfWorkFactory, lambda: _CommitCut(inner())))
    before = await harness.stored()
    async with Held(ctx, market.id) as held:
        for buyer in buyers:
            held.send(orders.place_order(ctx, buyer.id, limit(market, Side.BUY, 55, 2)))
        held.send(orders.place_order(ctx, maker.id, limit(market, Side.SELL, 55, 1)))
    assert all(isinstance(r, errors.ServiceUnavailable) for r in held.results())
    assert await harness.stored() == before


class _Users(_Delegating):
    def __init__(self, inner: Any, refused: str) -> None:
        super().__init__(inner)
        self._refused = refused

    async def save_all(
        self, users: Sequence[User], actors: Collection[str], fills: Mapping[str, int]
    ) -> dict[str, int]:
        if self._refused in actors:
            raise errors.Unauthenticated(errors.DEACTIVATED_MEANWHILE)
        return await self._inner.save_all(users, actors, fills)  # type: ignore[no-any-return]


class _DeactivatedMeanwhile(_Delegating):
    """The guarded save of ``refused`` finds the account deactivated."""

    def __init__(self, inner: UnitOfWork, refused: str) -> None:
        super().__init__(inner)
        self.users = _Users(inner.users, refused)


async def test_a_batch_the_flush_refuses_runs_each_command_alone(harness: Harness) -> None:
    _, (bob, carol, dave), market = await _setup(harness)
    inner = harness.ctx.uow
    refusing = cast(UnitOfWorkFactory, lambda: _DeactivatedMeanwhile(inner(), carol.id))
    ctx = replace(harness.ctx, uow=refusing)
    async with Held(ctx, market.id) as held:
        for buyer in (bob, carol, dave):
            held.send(orders.place_order(ctx, buyer.id, limit(market, Side.BUY, 45, 1)))
    placed_bob, refused, placed_dave = held.results()
    assert isinstance(refused, errors.Unauthenticated)
    assert isinstance(placed_bob, Order) and isinstance(placed_dave, Order)
    assert [o.id for o in await _stored_orders(harness, bob)] == [placed_bob.id]
    assert await _stored_orders(harness, carol) == []
    assert [o.id for o in await _stored_orders(harness, dave)] == [placed_dave.id]
    await harness.assert_invariants()


async def test_a_caller_that_goes_away_does_not_cut_its_command(harness: Harness) -> None:
    ctx = harness.ctx
    _, (bob, _, _), market = await _setup(harness)
    async with Held(ctx, market.id) as held:
        gone = held.send(orders.place_order(ctx, bob.id, limit(market, Side.BUY, 30, 1)))
        await held.all_queued()
        gone.cancel()
    assert gone.cancelled()
    assert [o.status for o in await _stored_orders(harness, bob)] == [OrderStatus.OPEN]
    await harness.assert_invariants()


def _books(ctx: ServiceContext) -> BookCache:
    assert ctx.books is not None  # the harnesses keep books (as the app does)
    return ctx.books


async def test_the_next_batch_on_a_market_uses_the_books_its_last_batch_kept(
    harness: Harness,
) -> None:
    ctx = harness.ctx
    maker, (bob, _, _), market = await _setup(harness)
    ask = await orders.place_order(ctx, maker.id, limit(market, Side.SELL, 60, 3))
    hits = _books(ctx).hits
    bid = await orders.place_order(ctx, bob.id, limit(market, Side.BUY, 60, 2))
    assert _books(ctx).hits == hits + 1
    assert (bid.status, bid.filled_quantity) == (OrderStatus.FILLED, 2)
    cancelled = await orders.cancel_order(ctx, maker.id, ask.id)
    assert (cancelled.status, cancelled.filled_quantity) == (OrderStatus.CANCELLED, 2)
    assert (await harness.fetch_user(maker.id)).cash_cents == 100_000 - 10_000 + 120
    await harness.assert_invariants()


async def test_books_changed_by_another_worker_or_command_are_loaded_again(
    harness: Harness,
) -> None:
    """A second context with its own sequencer and cache is a second worker; placeOrders
    and cancelOrders are commands outside the batches."""
    ctx = harness.ctx
    other = replace(ctx, sequencer=AsyncioSequencer(), books=BookCache())
    maker, (bob, carol, _), market = await _setup(harness)
    first = await orders.place_order(ctx, maker.id, limit(market, Side.SELL, 60, 1))
    await orders.place_order(other, maker.id, limit(market, Side.SELL, 61, 1))
    [placed] = await order_batches.place_orders(ctx, maker.id, [limit(market, Side.SELL, 62, 1)])
    assert placed.order is not None
    await order_batches.cancel_orders(ctx, maker.id, [first.id])
    bid = await orders.place_order(ctx, bob.id, limit(market, Side.BUY, 62, 3))
    assert (bid.status, bid.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 2)
    assert (await harness.fetch_user(bob.id)).cash_cents == 100_000 - 61 - 62 - 62
    await complete_sets.mint_complete_set(other, carol.id, market.id, 1)
    late = await orders.place_order(other, carol.id, limit(market, Side.SELL, 62, 1))
    assert (late.status, late.filled_quantity) == (OrderStatus.FILLED, 1)
    await harness.assert_invariants()


async def test_commands_that_arrive_while_a_batch_waits_for_the_market_all_join_it(
    harness: Harness,
) -> None:
    """Another worker's batch holds the market: this worker's next batch takes its
    commands once it has the lock, so every one that came while it waited is in it (the
    lock changes hands once for them, not once per arrival)."""
    ctx = harness.ctx
    sequencer = AsyncioSequencer()
    other = replace(ctx, sequencer=sequencer, books=BookCache())
    maker, buyers, market = await _setup(harness)
    await orders.place_order(ctx, maker.id, limit(market, Side.SELL, 55, 10))
    async with Held(ctx, market.id):
        sent = [
            asyncio.create_task(orders.place_order(other, buyer.id, limit(market, Side.BUY, 55, 1)))
            for buyer in buyers
        ]
        await wait_until(lambda: sequencer.queued((other.uow, market.id)) == len(buyers))
    placed = await asyncio.gather(*sent)
    assert [order.status for order in placed] == [OrderStatus.FILLED] * len(buyers)
    assert sequencer.sizes == {len(buyers): 1}
    await harness.assert_invariants()


def _published(harness: Harness) -> list[object]:
    store = getattr(harness, "store", None)
    bus = store.publisher if store is not None else harness.bus  # type: ignore[attr-defined]
    assert isinstance(bus, RecordingPublisher)
    return bus.published  # type: ignore[return-value]


async def test_a_batch_announces_its_prices_and_books_once_as_its_commit_left_them(
    harness: Harness,
) -> None:
    ctx = harness.ctx
    maker, buyers, market = await _setup(harness)
    await orders.place_order(ctx, maker.id, limit(market, Side.SELL, 55, 10))
    published = _published(harness)
    before = len(published)
    async with Held(ctx, market.id) as held:
        for buyer in buyers:
            held.send(orders.place_order(ctx, buyer.id, limit(market, Side.BUY, 55, 1)))
            await held.all_queued()
    events = published[before:]
    stored = await harness.fetch_market(market.id)
    prices = [e.sequence for e in events if isinstance(e, PricesChanged)]
    assert prices == [stored.price_sequence]  # three trades moved them; one announcement
    books = sorted((e.outcome_id, e.sequence) for e in events if isinstance(e, BookChanged))
    assert books == sorted((o.id, o.book_sequence) for o in stored.outcomes)
    yes = next(
        e for e in events if isinstance(e, BookChanged) and e.outcome_id == stored.outcomes[0].id
    )
    assert [(level.price_cents, level.quantity) for level in yes.asks] == [(55, 7)]  # as left
    assert stored.outcomes[0].best_ask_cents == 55
    trades = [e.trade.sequence for e in events if isinstance(e, TradeExecuted)]
    assert trades == [1, 2, 3]  # every trade, fill and order change is still announced
    assert sum(isinstance(e, FillExecuted) for e in events) == 6
