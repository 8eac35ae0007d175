"""The actor's changed row is saved only while the account is active and its balance
still covers the debit: a deactivation or a spend landing meanwhile fails the command whole."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TypeAlias, cast

import pytest

from domain import errors
from domain.model import MarketType, Order, OrderType, Side, User
from domain.ports import UnitOfWorkFactory
from domain.services import accounts, complete_sets, orders
from domain.services.context import ServiceContext
from persistence.memory import (
    InMemoryUnitOfWork,
    InMemoryUserRepository,
    MemoryStore,
    RecordingPublisher,
)
from persistence.tortoise.accounts import TortoiseUserRepository
from persistence.tortoise.database import Database
from persistence.tortoise.models import TradeRecord
from persistence.tortoise.sql import Statement
from persistence.tortoise.unit_of_work import TortoiseUnitOfWork, TortoiseUnitOfWorkFactory
from tests.harness import Harness
from tests.services.test_batching import Held
from tests.services.test_order_book_trading import limit

_CHANGE = Statement("UPDATE users SET is_active = $2, cash_cents = cash_cents - $3 WHERE id = $1")
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
Meanwhile: TypeAlias = Callable[[TortoiseUnitOfWork, str], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Change:
    """What lands on the actor's row after the command loaded it, before it saves it."""

    deactivate: bool = False
    spend_cents: int = 0

    def applied_to(self, user: User) -> User:
        return replace(
            user, is_active=not self.deactivate, cash_cents=user.cash_cents - self.spend_cents
        )

    async def on_connection(self, uow: TortoiseUnitOfWork, user_id: str) -> None:
        """On the command's own connection: on SQLite it is the only writer."""
        await uow.sql.execute(_CHANGE, (user_id, not self.deactivate, self.spend_cents))


class _MemoryUsers(InMemoryUserRepository):
    def __init__(self, uow: InMemoryUnitOfWork, change: Change) -> None:
        super().__init__(uow)
        self.change = change

    async def save_all(
        self, users: Sequence[User], actors: Collection[str], fills: Mapping[str, int]
    ) -> dict[str, int]:
        # replaced, not mutated: the committed state shares the object until commit
        stored = self._state.users
        for user_id in actors:
            stored[user_id] = self.change.applied_to(stored[user_id])
        return await super().save_all(users, actors, fills)


class _TortoiseUsers(TortoiseUserRepository):
    def __init__(self, uow: TortoiseUnitOfWork, meanwhile: Meanwhile) -> None:
        super().__init__(uow)
        self.meanwhile = meanwhile

    async def save_all(
        self, users: Sequence[User], actors: Collection[str], fills: Mapping[str, int]
    ) -> dict[str, int]:
        for user_id in actors:
            await self.meanwhile(self._uow, user_id)
        return await super().save_all(users, actors, fills)


def _tortoise_ctx(harness: Harness, meanwhile: Meanwhile) -> ServiceContext:
    database, bus = harness.database, harness.bus  # type: ignore[attr-defined]

    def uow() -> TortoiseUnitOfWork:
        made = TortoiseUnitOfWork(database, bus)
        made.users = _TortoiseUsers(made, meanwhile)
        return made

    return replace(harness.ctx, uow=cast(UnitOfWorkFactory, uow))


def _interfered(harness: Harness, change: Change) -> ServiceContext:
    """``harness.ctx`` whose units of work apply ``change`` just before ``save_all``."""
    store: MemoryStore | None = getattr(harness, "store", None)
    if store is None:
        return _tortoise_ctx(harness, change.on_connection)

    def uow() -> InMemoryUnitOfWork:
        made = store.unit_of_work()
        made.users = _MemoryUsers(made, change)
        return made

    return replace(harness.ctx, uow=cast(UnitOfWorkFactory, uow))


async def _everything(harness: Harness) -> object:
    """Every stored row in a stable order, the trade count and the events published."""
    store: MemoryStore | None = getattr(harness, "store", None)
    if store is not None:
        trades, bus = len(store.state.trades), store.publisher
    else:
        trades, bus = await _trade_count(harness.database), harness.bus  # type: ignore[attr-defined]
    assert isinstance(bus, RecordingPublisher)
    return await harness.stored(trades, list(bus.published))


async def _trade_count(database: Database) -> int:
    token = database.activate()
    try:
        return await TradeRecord.all().using_db(database.connection()).count()
    finally:
        database.deactivate(token)


async def _crossing_buy(harness: Harness) -> tuple[User, orders.PlaceOrder]:
    """The taker (100,000 cents) is to buy 10 at 60 from a resting ask: a 600-cent debit."""
    maker, taker = await harness.user("maker"), await harness.user("taker")
    market = await harness.market(maker, MarketType.ORDER_BOOK)
    yes = market.outcomes[0].id
    await complete_sets.mint_complete_set(harness.ctx, maker.id, market.id, 10)
    ask = orders.PlaceOrder(market.id, yes, Side.SELL, OrderType.LIMIT, 10, 60)
    await orders.place_order(harness.ctx, maker.id, ask)
    return taker, orders.PlaceOrder(market.id, yes, Side.BUY, OrderType.LIMIT, 10, 60)


async def _fails_leaving_no_trace(
    harness: Harness, change: Change, error: type[errors.DomainError]
) -> errors.DomainError:
    taker, buy = await _crossing_buy(harness)
    before = await _everything(harness)
    with pytest.raises(error) as caught:
        await orders.place_order(_interfered(harness, change), taker.id, buy)
    assert await _everything(harness) == before
    await harness.assert_invariants()
    return caught.value


async def test_an_actor_deactivated_before_its_debit_is_saved_is_unauthenticated(
    harness: Harness,
) -> None:
    failure = await _fails_leaving_no_trace(
        harness, Change(deactivate=True), errors.Unauthenticated
    )
    assert failure.code == "UNAUTHENTICATED"


# Databases only: the memory store's lock rules out a spend by a concurrent command.
@pytest.mark.parametrize("harness", DATABASES, indirect=True)
async def test_a_spend_meanwhile_that_leaves_too_little_for_the_debit_is_insufficient_balance(
    harness: Harness,
) -> None:
    failure = await _fails_leaving_no_trace(
        harness, Change(spend_cents=99_500), errors.InsufficientBalance
    )
    assert failure.code == "INSUFFICIENT_BALANCE"


async def test_an_actor_both_deactivated_and_spent_meanwhile_is_unauthenticated(
    harness: Harness,
) -> None:
    await _fails_leaving_no_trace(
        harness, Change(deactivate=True, spend_cents=99_500), errors.Unauthenticated
    )


@pytest.mark.parametrize("harness", DATABASES, indirect=True)
async def test_a_spend_meanwhile_that_still_covers_the_debit_is_kept_not_overwritten(
    harness: Harness,
) -> None:
    taker, buy = await _crossing_buy(harness)
    ctx = _interfered(harness, Change(spend_cents=99_000))
    assert (await orders.place_order(ctx, taker.id, buy)).filled_quantity == 10
    assert (await harness.fetch_user(taker.id)).cash_cents == 100_000 - 99_000 - 600


@pytest.mark.parametrize(
    "harness", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
@pytest.mark.parametrize("landing", ["deactivation", "spend"])
async def test_a_command_another_worker_commits_meanwhile_fails_the_debit_whole_on_postgres(
    harness: Harness, postgres_url: str, landing: str
) -> None:
    admin = await harness.user("root", admin=True)
    taker, buy = await _crossing_buy(harness)
    other_market = await harness.market(admin)
    worker = await Database.open(postgres_url)
    factory = TortoiseUnitOfWorkFactory(worker, RecordingPublisher())
    other = replace(harness.ctx, uow=cast(UnitOfWorkFactory, factory))

    async def meanwhile(uow: TortoiseUnitOfWork, user_id: str) -> None:
        if landing == "deactivation":
            await accounts.deactivate_user(other, admin.id, user_id)
        else:  # 99,500 of the taker's 100,000 cents, in another market
            await complete_sets.mint_complete_set(other, user_id, other_market.id, 995)

    before = await harness.snapshot()
    error = errors.Unauthenticated if landing == "deactivation" else errors.InsufficientBalance
    try:
        with pytest.raises(error):
            await orders.place_order(_tortoise_ctx(harness, meanwhile), taker.id, buy)
    finally:
        await worker.close()
    after = await harness.snapshot()
    assert sorted(after.orders, key=lambda o: o.id) == sorted(before.orders, key=lambda o: o.id)
    assert await _trade_count(harness.database) == 0  # type: ignore[attr-defined]
    stored = await harness.fetch_user(taker.id)
    landed = (False, 100_000) if landing == "deactivation" else (True, 500)
    assert (stored.is_active, stored.cash_cents) == landed  # the worker's change, not ours
    untouched = {u.id: u for u in before.users if u.id != taker.id}
    assert {u.id: u for u in after.users if u.id != taker.id} == untouched
    await harness.assert_invariants()


@pytest.mark.parametrize(
    "harness", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_batch_whose_one_debit_another_worker_defeats_keeps_the_others_exact_on_postgres(
    harness: Harness, postgres_url: str
) -> None:
    """The batch's users are saved by one statement; its guard refuses carol's debit
    (the worker spent her cash meanwhile), so the batch reruns each command alone."""
    admin = await harness.user("root", admin=True)
    maker, bob, carol, dave = [await harness.user(n) for n in ("maker", "bob", "carol", "dave")]
    market = await harness.market(maker, MarketType.ORDER_BOOK)
    await complete_sets.mint_complete_set(harness.ctx, maker.id, market.id, 100)
    await orders.place_order(harness.ctx, maker.id, limit(market, Side.SELL, 60, 30))
    other_market = await harness.market(admin)
    worker = await Database.open(postgres_url)
    factory = TortoiseUnitOfWorkFactory(worker, RecordingPublisher())
    other = replace(harness.ctx, uow=cast(UnitOfWorkFactory, factory))
    spent: list[int] = []

    async def meanwhile(uow: TortoiseUnitOfWork, user_id: str) -> None:
        if user_id == carol.id and not spent:  # 99,500 of her 100,000 cents, once
            spent.append(len(spent))
            await complete_sets.mint_complete_set(other, user_id, other_market.id, 995)

    ctx = _tortoise_ctx(harness, meanwhile)
    try:
        async with Held(ctx, market.id) as held:
            for buyer in (bob, carol, dave):
                held.send(orders.place_order(ctx, buyer.id, limit(market, Side.BUY, 60, 10)))
                await held.all_queued()
    finally:
        await worker.close()
    placed_bob, refused, placed_dave = held.results()
    assert isinstance(refused, errors.InsufficientBalance) and spent == [0]
    for placed in (placed_bob, placed_dave):
        assert isinstance(placed, Order) and placed.filled_quantity == 10
    cash = {u.id: (await harness.fetch_user(u.id)).cash_cents for u in (maker, bob, carol, dave)}
    assert cash == {
        maker.id: 100_000 - 10_000 + 1_200,
        bob.id: 100_000 - 600,
        carol.id: 500,  # the worker's mint alone
        dave.id: 100_000 - 600,
    }
    after = await harness.snapshot()
    assert not [o for o in after.orders if o.user_id == carol.id]
    yes = market.outcomes[0].id
    shares = {(p.user_id, p.outcome_id): p.shares for p in after.positions}
    assert (shares[(bob.id, yes)], shares[(dave.id, yes)]) == (10, 10)
    assert (shares.get((carol.id, yes), 0), shares[(maker.id, yes)]) == (0, 80)
    assert await _trade_count(harness.database) == 2  # type: ignore[attr-defined]
    await harness.assert_invariants()
