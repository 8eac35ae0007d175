"""The live hub: one build per market event, conflation, bounded queues, resync."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from starlette.applications import Starlette

from domain import model
from domain.events import ApiKeyRevoked, PricesChanged, TradeExecuted, UserDeactivated
from domain.queries import ReadModel
from persistence.system import SystemClock
from resolvers.live import BOOK, PRICES, TRADES
from schema.types.markets import PriceUpdate
from tests.api import ops
from tests.api.conftest import Api
from tests.harness import wait_until
from web.live import LiveHub

AT = datetime(2030, 1, 1, tzinfo=UTC)
T = TypeVar("T")


class CountingReads:
    """Delegates to the app's read model and counts reads of resting orders."""

    def __init__(self, inner: ReadModel) -> None:
        self.inner = inner
        self.books = 0

    async def resting_orders(self, market_id: str, outcome_id: str | None = None) -> Any:
        self.books += 1
        return await self.inner.resting_orders(market_id, outcome_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class FixedPrices:
    """Market prices that a test sets, as the prices feed's current state."""

    def __init__(self, sequence: int = 0) -> None:
        self.sequence = sequence
        self.prices = replace(PRICES, snapshot=self.snapshot)
        self.trades = replace(TRADES, snapshot=None)

    async def snapshot(self, reads: ReadModel, now: datetime, market_id: str) -> PriceUpdate:
        return PriceUpdate.from_domain(prices_changed(market_id, self.sequence))

    def hub(self, **options: Any) -> LiveHub:
        return LiveHub((self.prices, self.trades), cast(ReadModel, None), SystemClock(), **options)


def prices_changed(market_id: str, sequence: int) -> PricesChanged:
    return PricesChanged(market_id, (0.5, 0.5), None, 0, sequence, AT)


def trade(number: int) -> TradeExecuted:
    """The market's trade ``number`` (its stored sequence)."""
    return TradeExecuted(
        model.Trade(
            f"t{number}", "m", "o", 50, 1, True, model.Side.BUY, "u", AT, 50, sequence=number
        )
    )


async def collect(
    opened: AbstractAsyncContextManager[AsyncIterator[T]],
    into: list[T],
    ready: asyncio.Event,
    until: Callable[[list[T]], bool],
) -> None:
    async with opened as updates:
        ready.set()
        async for update in updates:
            into.append(update)
            if until(into):
                return


async def test_a_book_change_needs_no_read_and_is_shared_by_every_subscriber(
    app: Starlette, api: Api
) -> None:
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    await api.data(ops.MINT, {"m": market["id"], "q": 10}, alice)
    hub: LiveHub = app.state.bellwether.hub
    reads = CountingReads(hub.reads)
    hub.reads = cast(ReadModel, reads)
    subscribers = 200
    received: list[list[Any]] = [[] for _ in range(subscribers)]
    ready = [asyncio.Event() for _ in range(subscribers)]
    tasks = [
        asyncio.create_task(
            collect(
                hub.open(BOOK, (market["id"], market["outcomes"][0]["id"])),
                received[i],
                ready[i],
                lambda got: len(got) == 3,
            )
        )
        for i in range(subscribers)
    ]
    for event in ready:
        await event.wait()
    assert reads.books == subscribers  # each subscriber's first state
    for price in (55, 56):
        await api.data(ops.PLACE_ORDER, ops.limit(market, "SELL", 1, price), alice)
        await wait_until(lambda: all(len(got) >= 2 for got in received))
    await asyncio.gather(*tasks)
    assert reads.books == subscribers  # a change carries its levels: no read at all
    views = [got[-1].view(10 if i % 2 else 5) for i, got in enumerate(received)]
    assert len({id(view) for view in views}) == 2  # one shared view per distinct depth
    assert {view.sequence for view in views} == {received[0][0].sequence + 2}
    assert {view.asks[0].price_cents for view in views} == {55}


async def test_prices_are_conflated_for_a_subscriber_that_does_not_read() -> None:
    fixed = FixedPrices(sequence=3)
    hub = fixed.hub()
    async with hub.open(fixed.prices, "m") as updates:
        await hub.on_events([prices_changed("m", n) for n in range(1, 101)])
        first = await anext(updates)
        assert first.sequence == 100
        await hub.on_events([prices_changed("m", 99), prices_changed("m", 101)])
        assert (await anext(updates)).sequence == 101


async def test_the_hub_wants_the_events_of_the_feeds_it_has_subscribers_of() -> None:
    """What the bus decodes for it (``web.bus.Interest``): a feed's events while one of
    its channels is open; deactivations and revocations while someone signed in holds
    a subscription."""
    fixed = FixedPrices()
    hub = fixed.hub()
    assert not any(map(hub.wants, (PricesChanged, TradeExecuted, UserDeactivated)))
    async with hub.open(fixed.prices, "m"), hub.open(fixed.prices, "n"):
        assert hub.wants(PricesChanged) and not hub.wants(TradeExecuted)
        async with hub.open(fixed.trades, "m", owner="u"):
            assert hub.wants(TradeExecuted) and hub.wants(UserDeactivated)
            assert hub.wants(ApiKeyRevoked)
        assert not hub.wants(TradeExecuted) and not hub.wants(UserDeactivated)
        assert hub.wants(PricesChanged)
    assert not hub.wants(PricesChanged)


async def test_a_subscriber_that_falls_behind_on_trades_loses_the_oldest_with_a_gap() -> None:
    dropped: list[int] = []
    fixed = FixedPrices()
    hub = fixed.hub(queue_size=5, on_dropped=lambda: dropped.append(1))
    async with hub.open(fixed.trades, "m") as updates:
        await hub.on_events([trade(n) for n in range(1, 21)])
        got = [(await anext(updates)).sequence for _ in range(5)]
    assert got == [16, 17, 18, 19, 20]
    assert len(dropped) == 15


async def test_a_bus_reconnect_resends_prices_that_moved_and_marks_a_trade_gap() -> None:
    reads = FixedPrices(sequence=7)
    hub = reads.hub()
    async with hub.open(reads.prices, "m") as prices, hub.open(reads.trades, "m") as trades:
        assert (await anext(prices)).sequence == 7
        await hub.on_events([trade(1)])
        assert (await anext(trades)).sequence == 1
        reads.sequence = 9  # two updates and trade 2 were lost while the bus was away
        await hub.resync()
        assert (await asyncio.wait_for(anext(prices), 2)).sequence == 9
        await hub.on_events([trade(3)])
        assert (await anext(trades)).sequence == 3, "the stored sequence shows the gap"
