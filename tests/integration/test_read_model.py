"""The Tortoise read model on SQLite and PostgreSQL: keyset pages and batch reads.

Each check compares against what the services wrote (via the harness), so the
read model answers the same questions the in-memory one does.
"""

from __future__ import annotations

from datetime import timedelta

from domain.model import (
    AmountType,
    LmsrSide,
    MarketStatus,
    MarketType,
    OrderStatus,
    OrderType,
    Side,
)
from domain.queries import Cursor, MarketQuery, MarketSort
from domain.services import amm, complete_sets, markets, orders, resolution
from domain.services.amm import LmsrOrder
from domain.services.orders import PlaceOrder
from persistence.tortoise.database import Database
from persistence.tortoise.queries import TortoiseReadModel
from tests.clock import ManualClock
from tests.harness import Harness


def _clock(harness: Harness) -> ManualClock:
    assert isinstance(harness.clock, ManualClock)
    return harness.clock


async def test_markets_page_is_newest_first_and_stable(
    harness: Harness, database: Database
) -> None:
    reads = TortoiseReadModel(database)
    alice = await harness.user("alice")
    created = []
    for _ in range(5):
        created.append((await harness.market(alice, MarketType.ORDER_BOOK)).id)
        _clock(harness).advance(seconds=1)
    first = await reads.markets_page(MarketQuery(), 2, None)
    assert [m.id for m in first.items] == created[::-1][:2]
    assert (first.has_next_page, first.total_count) == (True, 5)
    await harness.market(alice)
    last = first.items[-1]
    second = await reads.markets_page(MarketQuery(), 10, Cursor(last.created_at, last.id))
    assert [m.id for m in second.items] == created[::-1][2:]
    assert second.has_next_page is False
    assert all(len(m.outcomes) == 2 for m in second.items)
    lmsr_only = await reads.markets_page(MarketQuery(status=MarketStatus.OPEN), 100, None)
    assert lmsr_only.total_count == 6


async def test_rows_with_the_same_time_are_ordered_by_id(
    harness: Harness, database: Database
) -> None:
    reads = TortoiseReadModel(database)
    alice = await harness.user("alice")
    created = sorted([(await harness.market(alice)).id for _ in range(3)], reverse=True)
    seen = []
    cursor = None
    while True:
        page = await reads.markets_page(MarketQuery(), 1, cursor)
        seen += [m.id for m in page.items]
        if not page.has_next_page:
            break
        cursor = Cursor(page.items[-1].created_at, page.items[-1].id)
    assert seen == created


async def test_orders_trades_positions_and_history(harness: Harness, database: Database) -> None:
    reads = TortoiseReadModel(database)
    ctx = harness.ctx
    alice, bob = await harness.user("alice"), await harness.user("bob")
    book = await harness.market(alice, MarketType.ORDER_BOOK)
    yes = book.outcomes[0].id
    await complete_sets.mint_complete_set(ctx, alice.id, book.id, 10)
    ask = await orders.place_order(
        ctx, alice.id, PlaceOrder(book.id, yes, Side.SELL, OrderType.LIMIT, 6, 60)
    )
    _clock(harness).advance(seconds=1)
    bid = await orders.place_order(
        ctx, bob.id, PlaceOrder(book.id, yes, Side.BUY, OrderType.LIMIT, 4, 70)
    )

    page = await reads.orders_page(alice.id, None, None, 10, None)
    assert [o.id for o in page.items] == [ask.id]
    assert (await reads.orders_page(bob.id, OrderStatus.FILLED, book.id, 10, None)).total_count == 1
    assert (await reads.orders_page(bob.id, OrderStatus.OPEN, None, 10, None)).total_count == 0

    trades = await reads.trades_page(alice.id, None, 10, None)
    assert [(t.price_cents, t.quantity) for t in trades.items] == [(60, 4)]
    assert (await reads.trades_page(bob.id, book.id, 10, None)).total_count == 1
    by_order = await reads.trades_for_orders([ask.id, bid.id, "none"])
    assert [len(by_order[i]) for i in (ask.id, bid.id, "none")] == [1, 1, 0]
    assert [t.id for t in await reads.recent_trades(book.id, 5)] == [trades.items[0].id]

    resting = await reads.resting_orders(book.id, yes)
    assert [(o.id, o.remaining_quantity) for o in resting] == [(ask.id, 2)]

    held = await reads.positions(bob.id, None)
    assert [(p.outcome_id, p.shares) for p in held] == [(yes, 4)]
    assert await reads.positions(bob.id, "other-market") == []

    lmsr = await harness.market(alice)
    start = ctx.clock.now()
    _clock(harness).advance(minutes=5)
    await amm.trade(ctx, bob.id, LmsrOrder(lmsr.id, LmsrSide.BUY_YES, AmountType.SHARES, 10))
    everything = await reads.price_history(lmsr.id, None)
    assert len(everything) == 2
    assert everything[0].prices == (0.5, 0.5)
    assert len(await reads.price_history(lmsr.id, start.replace(minute=start.minute + 1))) == 1


async def test_batch_reads_by_id(harness: Harness, database: Database) -> None:
    reads = TortoiseReadModel(database)
    alice, bob = await harness.user("alice"), await harness.user("bob")
    market = await harness.market(alice)
    users = await reads.users_by_ids([alice.id, bob.id, "missing"])
    assert {u.username for u in users} == {"alice", "bob"}
    found = await reads.markets_by_ids([market.id, "missing"])
    assert [m.id for m in found] == [market.id]
    assert [o.name for o in found[0].outcomes] == ["Yes", "No"]
    assert await reads.users_by_ids([]) == []
    await markets.close_market(harness.ctx, alice.id, market.id)
    assert (await reads.markets_by_ids([market.id]))[0].status is MarketStatus.CLOSED


async def test_markets_search_titles_in_any_case_and_wildcards_are_literal(
    harness: Harness, database: Database
) -> None:
    reads = TortoiseReadModel(database)
    alice = await harness.user("alice")
    titles = [
        "Will it SNOW in Paris on New Year's Day?",
        "Will snowfall top 50% of the record this winter?",
        "Will snow_day be trending on January 2nd?",
        "Will it rain in London on New Year's Day?",
    ]
    for title in titles:
        await harness.market(alice, title=title)

    async def found(search: str) -> list[str]:
        page = await reads.markets_page(MarketQuery(search=search), 100, None)
        assert page.total_count == len(page.items)
        return sorted(m.title for m in page.items)

    assert await found("snow") == sorted(titles[:3])
    assert await found("50%") == [titles[1]]
    assert await found("w_d") == [titles[2]]
    assert await found("%") == [titles[1]]
    assert await found("nothing like this") == []


async def test_markets_closing_soon_page_in_closing_order(
    harness: Harness, database: Database
) -> None:
    reads = TortoiseReadModel(database)
    alice = await harness.user("alice")
    days = [9, 2, 30, 2, 5]
    created = [await harness.market(alice, closes_in=timedelta(days=d)) for d in days]
    closed = await harness.market(alice, closes_in=timedelta(days=1))
    await markets.close_market(harness.ctx, alice.id, closed.id)
    expected = [m.id for m in sorted(created, key=lambda m: (m.closes_at, m.id))]
    wanted = MarketQuery(status=MarketStatus.OPEN, sort=MarketSort.CLOSING_SOON)
    seen: list[str] = []
    cursor = None
    while True:
        page = await reads.markets_page(wanted, 2, cursor)
        assert page.total_count == 5
        seen += [m.id for m in page.items]
        if not page.has_next_page:
            break
        cursor = Cursor(page.items[-1].closes_at, page.items[-1].id)
    assert seen == expected


async def test_settlements_page_and_closed_positions(harness: Harness, database: Database) -> None:
    reads = TortoiseReadModel(database)
    alice, bob = await harness.user("alice"), await harness.user("bob")
    market = await harness.market(alice)
    buy = LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, 10)
    await amm.trade(harness.ctx, bob.id, buy)
    await amm.trade(
        harness.ctx, bob.id, LmsrOrder(market.id, LmsrSide.BUY_NO, AmountType.SHARES, 4)
    )
    sell = LmsrOrder(market.id, LmsrSide.SELL_NO, AmountType.SHARES, 4)
    await amm.trade(harness.ctx, bob.id, sell)
    assert [p.outcome_id for p in await reads.positions(bob.id, None)] == [market.outcomes[0].id]
    closed = await reads.positions(bob.id, None, closed=True)
    assert sorted(p.shares for p in closed) == [0, 10]
    assert [p.realized_pnl_cents != 0 for p in closed if p.shares == 0] == [True]
    await resolution.resolve_market(harness.ctx, alice.id, market.id, market.outcomes[0].id)
    page = await reads.settlements_page(bob.id, 10, None)
    assert (page.total_count, page.has_next_page) == (1, False)
    settled = page.items[0]
    assert (settled.shares, settled.payout_cents, settled.outcome_id) == (
        10,
        1000,
        market.outcomes[0].id,
    )
    after = await reads.settlements_page(bob.id, 10, Cursor(settled.settled_at, settled.id))
    assert after.items == []
