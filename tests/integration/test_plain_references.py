"""Trades and price points name their market and outcome by plain ids (migration 0008):
``bellwether audit`` reports one that names nothing, and the migration keeps an existing
database's rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domain import audit
from domain.model import AmountType, LmsrSide
from domain.services import amm
from persistence.tortoise.database import Database
from persistence.tortoise.snapshot import read_snapshot
from tests import dbtools
from tests.harness import Harness
from web import cli

BEFORE = "0007_unlogged_counters"
MIGRATION = "models.0008_plain_ids_on_appends"
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
    token = database.activate()
    try:
        _, rows = await database.connection().execute_query(f"SELECT count(*) AS n FROM {table}")
    finally:
        database.deactivate(token)
    return int(rows[0]["n"])


async def _trade_a_little(harness: Harness, creator: str = "alice", trader: str = "bob") -> None:
    alice, bob = await harness.user(creator), await harness.user(trader)
    market = await harness.market(alice)
    for side in (LmsrSide.BUY_YES, LmsrSide.SELL_YES):
        order = amm.LmsrOrder(market.id, side, AmountType.SHARES, 3)
        await amm.trade(harness.ctx, bob.id, order)


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
    True: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ledger_entries'",
    False: "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'ledger_entries'",
}


async def test_the_ledger_is_indexed_by_id_alone_after_migration_0009(new_url: str) -> None:
    async with dbtools.opened(new_url) as database:
        await database.migrate()
        token = database.activate()
        try:
            _, rows = await database.connection().execute_query(_INDEXES[database.is_sqlite])
        finally:
            database.deactivate(token)
    # The primary key's: ledger_entries_pkey, or SQLite's sqlite_autoindex_ledger_entries_1.
    assert len(rows) == 1
