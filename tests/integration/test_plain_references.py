"""Trades and price points name their market and outcome by plain ids (migration 0008):
``bellwether audit`` reports one that names nothing, and the migration keeps an existing
database's rows, on SQLite and PostgreSQL. So do the index migrations after it (0009 on
the ledger, 0010 and 0011 on trades)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domain import audit
from domain.model import AmountType, LmsrSide, MarketType, OrderType, Side
from domain.services import amm, complete_sets, orders
from domain.services.orders import PlaceOrder
from persistence.tortoise.database import Database
from persistence.tortoise.queries import TortoiseReadModel
from persistence.tortoise.snapshot import read_snapshot
from tests import dbtools
from tests.dbtools import fetch_rows
from tests.harness import Harness
from web import cli

BEFORE = "0007_unlogged_counters"
MIGRATION = "models.0008_plain_ids_on_appends"
TAKER_INDEX_MIGRATION = "models.0010_trades_by_taker_order"
TAKER_INDEX = "idx_trades_taker_o_48930b"
PARTIAL_INDEX_MIGRATION = "models.0011_partial_trade_indexes"
PARTIAL_INDEXES = {
    "idx_trades_maker_u_6f0f89": "maker_user_id",
    TAKER_INDEX: "taker_order_id",
    "idx_trades_maker_o_75527f": "maker_order_id",
}
ORPHAN_TRADE = (
    "INSERT INTO trades (id, market_id, outcome_id, price_cents, quantity, is_amm, taker_side,"
    " taker_user_id, executed_at, notional_cents, fee_cents) SELECT 'orphan', 'no-market',"
    " 'no-outcome', price_cents, quantity, is_amm, taker_side, taker_user_id, executed_at,"
    " notional_cents, fee_cents FROM trades LIMIT 1"
)
ORPHAN_POINT = (
    "INSERT INTO price_points (market_id, at, prices) SELECT 'gone', at, prices"
    " FROM price_points LIMIT 1"
)


async def _count(database: Database, table: str) -> int:
    return int((await fetch_rows(database, f"SELECT count(*) AS n FROM {table}"))[0]["n"])


async def _trade_a_little(harness: Harness, creator: str = "alice", trader: str = "bob") -> None:
    alice, bob = await harness.user(creator), await harness.user(trader)
    market = await harness.market(alice)
    for side in (LmsrSide.BUY_YES, LmsrSide.SELL_YES):
        order = amm.LmsrOrder(market.id, side, AmountType.SHARES, 3)
        await amm.trade(harness.ctx, bob.id, order)


async def _cross_once(harness: Harness) -> tuple[str, str]:
    """The ids of a resting ask and of the bid that crosses it (one trade)."""
    alice, bob = await harness.user("alice"), await harness.user("bob")
    book = await harness.market(alice, MarketType.ORDER_BOOK)
    yes = book.outcomes[0].id
    await complete_sets.mint_complete_set(harness.ctx, alice.id, book.id, 10)
    ask = PlaceOrder(book.id, yes, Side.SELL, OrderType.LIMIT, 6, 60)
    bid = PlaceOrder(book.id, yes, Side.BUY, OrderType.LIMIT, 4, 70)
    resting = await orders.place_order(harness.ctx, alice.id, ask)
    return resting.id, (await orders.place_order(harness.ctx, bob.id, bid)).id


async def test_audit_reports_a_trade_and_a_price_point_whose_market_does_not_exist(
    harness: Harness,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await _trade_a_little(harness)
    assert audit.check(await read_snapshot(database)) == []
    await dbtools.execute_script(database, ORPHAN_TRADE)
    await dbtools.execute_script(database, ORPHAN_POINT)
    monkeypatch.setenv("BELLWETHER_DATABASE_URL", database.url)
    assert await asyncio.to_thread(cli.main, ["audit"]) == 1
    out = capsys.readouterr().out
    assert "trades name outcome no-outcome of market no-market, which does not exist" in out
    assert "price points name market gone, which does not exist" in out


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def new_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    request.getfixturevalue("postgres_url")  # skips (or fails) without a server
    url = await dbtools.create_empty_postgres_database()
    try:
        yield url
    finally:
        await dbtools.drop_postgres_database(url)


async def test_migration_keeps_the_rows_and_drops_only_the_foreign_keys(new_url: str) -> None:
    async with dbtools.opened(new_url) as database:
        assert MIGRATION not in await database.migrate(upto=BEFORE)  # as 0007 left it
        harness = dbtools.database_harness(database)
        await _trade_a_little(harness)
        counts = [await _count(database, t) for t in ("trades", "price_points")]
        assert MIGRATION in await database.migrate()
        assert [await _count(database, t) for t in ("trades", "price_points")] == counts
        await _trade_a_little(harness, "carol", "dave")  # on the new tables
        assert audit.check(await read_snapshot(database)) == []
        await dbtools.execute_script(database, ORPHAN_TRADE)  # no foreign key refuses it now
        problems = audit.check(await read_snapshot(database))
    assert problems == ["trades name outcome no-outcome of market no-market, which does not exist"]


_INDEXES = {
    True: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = $1",
    False: "SELECT indexname AS name FROM pg_indexes WHERE tablename = $1",
}


async def _index_names(database: Database, table: str) -> set[str]:
    return {row["name"] for row in await fetch_rows(database, _INDEXES[database.is_sqlite], table)}


async def test_the_ledger_is_indexed_by_id_alone_after_migration_0009(new_url: str) -> None:
    async with dbtools.opened(new_url) as database:
        await database.migrate()
        names = await _index_names(database, "ledger_entries")
    # The primary key's: ledger_entries_pkey, or SQLite's sqlite_autoindex_ledger_entries_1.
    assert len(names) == 1


async def test_migration_0010_indexes_trades_by_taker_order_and_keeps_them(new_url: str) -> None:
    async with dbtools.opened(new_url) as database:
        assert TAKER_INDEX_MIGRATION not in await database.migrate(upto="0009_ledger_indexes")
        harness = dbtools.database_harness(database)
        ask, bid = await _cross_once(harness)
        reads = TortoiseReadModel(database)
        before = await reads.trades_for_orders([ask, bid])
        assert TAKER_INDEX_MIGRATION in await database.migrate()
        assert await reads.trades_for_orders([ask, bid]) == before
        assert TAKER_INDEX in await _index_names(database, "trades")
    assert before[ask] == before[bid] and len(before[ask]) == 1  # the maker's and the taker's


_INDEX_SQL = {
    True: "SELECT name, sql AS definition FROM sqlite_master WHERE type = 'index'",
    False: "SELECT indexname AS name, indexdef AS definition FROM pg_indexes",
}


async def _index_definitions(database: Database) -> dict[str, str]:
    rows = await fetch_rows(database, _INDEX_SQL[database.is_sqlite])
    return {row["name"]: row["definition"] or "" for row in rows}


async def test_migration_0011_indexes_makers_and_orders_where_a_trade_has_them(
    new_url: str,
) -> None:
    """An LMSR trade (no maker, no order) no longer enters those three indexes; the
    reads by them find what they found before."""
    async with dbtools.opened(new_url) as database:
        before_0011 = "0010_trades_by_taker_order"
        assert PARTIAL_INDEX_MIGRATION not in await database.migrate(upto=before_0011)
        harness = dbtools.database_harness(database)
        ask, bid = await _cross_once(harness)  # alice's ask, the maker's side of a trade
        reads = TortoiseReadModel(database)
        alice = await reads.user_by_username("alice")
        assert alice is not None
        lmsr = await harness.market(alice)
        for side in (LmsrSide.BUY_YES, LmsrSide.SELL_YES):  # no maker, no order
            await amm.trade(
                harness.ctx, alice.id, amm.LmsrOrder(lmsr.id, side, AmountType.SHARES, 3)
            )

        async def read() -> tuple[object, ...]:
            page = await reads.trades_page(alice.id, None, 10, None)
            return await reads.trades_for_orders([ask, bid]), [t.id for t in page.items]

        before = await read()
        assert PARTIAL_INDEX_MIGRATION in await database.migrate()
        assert await read() == before
        definitions = await _index_definitions(database)
    for name, column in PARTIAL_INDEXES.items():
        assert f"{column} IS NOT NULL" in definitions[name].replace("(", "").replace('"', "")
    assert len(before[1]) == 3  # alice's: the maker's side of the cross, two LMSR trades
