"""New orders without a clientOrderId are inserted at commit with the other deferred
writes: one combined statement on PostgreSQL, or grouped runs beyond MAX_COMBINED."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import cast

import pytest

from domain.errors import BadUserInput
from domain.model import Market, MarketType, Order, OrderStatus, OrderType, Side, User
from domain.ports import UnitOfWorkFactory
from domain.services import complete_sets, orders
from domain.services.context import ServiceContext
from persistence.memory import RecordingPublisher
from persistence.tortoise.database import Database
from persistence.tortoise.models import TradeRecord
from persistence.tortoise.orders import TortoiseOrderRepository
from persistence.tortoise.sql import MAX_COMBINED
from persistence.tortoise.unit_of_work import TortoiseUnitOfWork
from tests.harness import Harness


class _CountingUnitOfWork(TortoiseUnitOfWork):
    """Appends to ``commits`` how many deferred writes each commit carries."""

    def __init__(self, database: Database, bus: RecordingPublisher, commits: list[int]) -> None:
        super().__init__(database, bus)
        self.commits = commits

    async def commit(self) -> None:
        appended = self.pending_trades + self.pending_points + self.pending_entries
        self.commits.append(len(self.pending_writes) + len(appended))
        await super().commit()


class _LookupMisses(TortoiseOrderRepository):
    """As if a placement with the same key committed just after this one looked it up."""

    async def get_by_client_id(self, user_id: str, client_order_id: str) -> Order | None:
        return None


def _ctx(harness: Harness, commits: list[int], *, lookup_misses: bool = False) -> ServiceContext:
    database, bus = harness.database, harness.bus  # type: ignore[attr-defined]

    def uow() -> TortoiseUnitOfWork:
        made = _CountingUnitOfWork(database, bus, commits)
        if lookup_misses:
            made.orders = _LookupMisses(made)
        return made

    return replace(harness.ctx, uow=cast(UnitOfWorkFactory, uow))


def _limit(
    market: Market, side: Side, price: int, qty: int, key: str | None = None
) -> orders.PlaceOrder:
    yes = market.outcomes[0].id
    return orders.PlaceOrder(market.id, yes, side, OrderType.LIMIT, qty, price, client_order_id=key)


async def _asks(
    harness: Harness, market: Market, makers: list[User], prices: Sequence[int]
) -> list[Order]:
    """Each maker rests one ask of 5 shares at each price."""
    asks = []
    for maker in makers:
        await complete_sets.mint_complete_set(harness.ctx, maker.id, market.id, 5 * len(prices))
        for price in prices:
            ask = _limit(market, Side.SELL, price, 5)
            asks.append(await orders.place_order(harness.ctx, maker.id, ask))
    return asks


async def _setup(harness: Harness, makers: int) -> tuple[list[User], User, Market]:
    users = [await harness.user(f"maker{i}") for i in range(makers)]
    market = await harness.market(users[0], MarketType.ORDER_BOOK)
    return users, await harness.user("taker"), market


async def _stored(harness: Harness, ids: list[str]) -> list[Order]:
    stored = []
    async with harness.ctx.uow() as uow:
        for order_id in ids:
            order = await uow.orders.get(order_id)
            assert order is not None, f"order {order_id} was not stored"
            stored.append(order)
    return stored


async def _trades(harness: Harness) -> list[TradeRecord]:
    database: Database = harness.database  # type: ignore[attr-defined]
    token = database.activate()
    try:
        query = TradeRecord.all().order_by("price_cents", "maker_order_id")
        return await query.using_db(database.connection())
    finally:
        database.deactivate(token)


async def test_a_crossing_order_without_client_order_id_is_stored_with_its_fills(
    harness: Harness,
) -> None:
    makers, taker, market = await _setup(harness, makers=3)
    asks = []
    for maker, price in zip(makers, (55, 56, 57), strict=True):
        asks += await _asks(harness, market, [maker], [price])
    commits: list[int] = []
    bid = await orders.place_order(
        _ctx(harness, commits), taker.id, _limit(market, Side.BUY, 60, 20)
    )
    assert commits[0] <= MAX_COMBINED  # one combined statement on PostgreSQL
    stored = await _stored(harness, [bid.id, *(a.id for a in asks)])
    assert stored[0] == bid
    assert (bid.status, bid.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 15)
    assert bid.reserved_cents == 300  # the 5 left rest at 60
    assert [(o.status, o.filled_quantity) for o in stored[1:]] == [(OrderStatus.FILLED, 5)] * 3
    trades = [
        (t.taker_order_id, t.maker_order_id, t.price_cents, t.quantity)
        for t in await _trades(harness)
    ]
    assert trades == [(bid.id, a.id, a.price_cents, 5) for a in asks]
    user = await harness.fetch_user(taker.id)
    assert (user.cash_cents, user.reserved_cents) == (100_000 - 5 * (55 + 56 + 57) - 300, 300)
    await harness.assert_invariants()


async def test_a_taker_crossing_40_resting_orders_commits_every_write_beyond_max_combined(
    harness: Harness,
) -> None:
    makers, taker, market = await _setup(harness, makers=4)
    asks = await _asks(harness, market, makers, range(40, 50))
    cash = {m.id: (await harness.fetch_user(m.id)).cash_cents for m in makers}
    commits: list[int] = []
    bid = await orders.place_order(
        _ctx(harness, commits), taker.id, _limit(market, Side.BUY, 60, 200)
    )
    assert commits[0] > MAX_COMBINED  # grouped runs, not one statement
    stored = await _stored(harness, [bid.id, *(a.id for a in asks)])
    assert stored[0] == bid and (bid.status, bid.filled_quantity) == (OrderStatus.FILLED, 200)
    assert {(o.status, o.filled_quantity) for o in stored[1:]} == {(OrderStatus.FILLED, 5)}
    trades = await _trades(harness)
    assert sorted(t.maker_order_id or "" for t in trades) == sorted(a.id for a in asks)
    paid = 5 * sum(range(40, 50))  # to each maker
    assert {m.id: (await harness.fetch_user(m.id)).cash_cents - cash[m.id] for m in makers} == {
        m.id: paid for m in makers
    }
    assert (await harness.fetch_user(taker.id)).cash_cents == 100_000 - 4 * paid
    async with harness.ctx.uow() as uow:
        position = await uow.positions.get(taker.id, market.outcomes[0].id)
    assert position is not None and (position.shares, position.cost_cents) == (200, 4 * paid)
    await harness.assert_invariants()


async def test_a_client_order_id_reused_past_the_lookup_is_bad_user_input_and_writes_nothing(
    harness: Harness,
) -> None:
    makers, taker, market = await _setup(harness, makers=1)
    await _asks(harness, market, makers, range(60, 61))
    await orders.place_order(harness.ctx, taker.id, _limit(market, Side.BUY, 40, 5, key="k-1"))
    before = await _everything(harness)
    with pytest.raises(BadUserInput) as caught:  # it would have crossed the ask
        crossing = _limit(market, Side.BUY, 60, 4, key="k-1")
        await orders.place_order(_ctx(harness, [], lookup_misses=True), taker.id, crossing)
    assert caught.value.code == "BAD_USER_INPUT"
    assert await _everything(harness) == before
    await harness.assert_invariants()


async def _everything(harness: Harness) -> object:
    trade_ids = [t.id for t in await _trades(harness)]
    return await harness.stored(trade_ids, list(harness.bus.published))  # type: ignore[attr-defined]
