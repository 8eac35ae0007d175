"""Operating the database: migrations, audit, demo, create-admin and the sweeper."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from pathlib import Path

import pytest

from domain.model import AmountType, LmsrSide, MarketStatus, MarketType, OrderType, Side
from domain.services import accounts, amm, complete_sets, orders, resolution
from persistence.tortoise.database import Database, migrate
from tests import dbtools
from tests.harness import Harness
from web import cli
from web.sweeper import run_sweeper, sweep_once

MIGRATIONS = Path(__file__).resolve().parents[2] / "persistence" / "migrations"


async def test_migrations_apply_on_an_empty_sqlite_database_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    files = sorted(path.stem for path in MIGRATIONS.glob("0*.py"))
    assert await migrate(url) == [f"models.{name}" for name in files]
    assert files[0] == "0001_initial"
    assert await migrate(url) == []


@pytest.mark.postgres
async def test_migrations_apply_on_an_empty_postgres_database(postgres_url: str) -> None:
    url = await dbtools.create_postgres_database()  # created and migrated
    try:
        assert await migrate(url) == []
    finally:
        await dbtools.drop_postgres_database(url)


async def _trade_a_little(harness: Harness) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    market = await harness.market(alice)
    order = amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, 10)
    await amm.trade(harness.ctx, bob.id, order)


async def test_audit_passes_then_fails_when_one_balance_is_off_by_one_cent(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await _trade_a_little(harness)
    database: Database = harness.database  # type: ignore[attr-defined]
    assert await asyncio.to_thread(dbtools.run_cli, monkeypatch, database.url, "audit") == 0
    async with harness.ctx.uow() as uow:
        bob = await uow.users.get_by_username("bob")
        assert bob is not None
        await uow.db.execute_script(  # type: ignore[attr-defined]
            f"UPDATE users SET cash_cents = cash_cents + 1 WHERE id = '{bob.id}'"
        )
        await uow.commit()
    assert await asyncio.to_thread(dbtools.run_cli, monkeypatch, database.url, "audit") == 1
    assert f"cash:{bob.id} stores" in capsys.readouterr().out


async def test_audit_streams_a_ledger_longer_than_a_page(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from persistence.tortoise import snapshot

    monkeypatch.setattr(snapshot, "LEDGER_PAGE", 2)
    await _trade_a_little(harness)
    assert await snapshot.audit_database(harness.database) == []  # type: ignore[attr-defined]


def test_demo_is_idempotent_and_create_admin_makes_an_admin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("BELLWETHER_DATABASE_URL", url)
    assert cli.main(["migrate"]) == 0
    assert cli.main(["demo"]) == 0
    assert cli.main(["demo"]) == 0
    assert "nothing seeded" in capsys.readouterr().out
    monkeypatch.setenv("BELLWETHER_ADMIN_PASSWORD", "correct horse battery")
    assert cli.main(["create-admin", "--username", "root", "--email", "root@example.com"]) == 0
    assert cli.main(["create-admin", "--username", "root", "--email", "r2@example.com"]) == 1
    assert cli.main(["audit"]) == 0


async def test_a_sweep_pays_a_proposal_whose_dispute_window_ended(harness: Harness) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    market = await harness.market(alice, dispute_window_seconds=60)
    buy = amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, 10)
    await amm.trade(harness.ctx, bob.id, buy)
    await resolution.resolve_market(harness.ctx, alice.id, market.id, market.outcomes[0].id)
    assert (await sweep_once(harness.ctx)).resolutions_finalized == 0
    harness.clock.advance(seconds=60)  # type: ignore[attr-defined]
    assert (await sweep_once(harness.ctx)).resolutions_finalized == 1
    assert (await harness.fetch_market(market.id)).status is MarketStatus.RESOLVED
    await harness.assert_invariants()


async def test_the_sweeper_closes_due_markets_and_stops_when_cancelled(harness: Harness) -> None:
    alice = await harness.user("alice")
    market = await harness.market(alice, MarketType.ORDER_BOOK, closes_in=timedelta(hours=1))
    assert await sweep_once(harness.ctx) == type(await sweep_once(harness.ctx))(0, 0)
    harness.clock.advance(hours=2)  # type: ignore[attr-defined]
    task = asyncio.create_task(run_sweeper(harness.ctx, interval=0.01))
    for _ in range(3000):  # a loaded machine may take seconds; the loop ends when it closes
        if (await harness.fetch_market(market.id)).status is MarketStatus.CLOSED:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert task.cancelled()
    assert (await harness.fetch_market(market.id)).status is MarketStatus.CLOSED
    await harness.assert_invariants()


async def test_audit_balances_after_a_hybrid_markets_routed_and_crossed_trades(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    creator, seller, buyer = [await harness.user(n) for n in ("alice", "sally", "bob")]
    admin = await harness.user("root", admin=True)
    market = await harness.market(creator)
    await complete_sets.mint_complete_set(harness.ctx, seller.id, market.id, 20)
    yes = market.outcomes[0].id
    for price in (52, 60):  # asks the buy takes, then the maker's price crosses
        ask = orders.PlaceOrder(market.id, yes, Side.SELL, OrderType.LIMIT, 5, price)
        await orders.place_order(harness.ctx, seller.id, ask)
    routed = amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, 10)
    result = await amm.trade(harness.ctx, buyer.id, routed)
    assert (result.quote.book_shares, result.quote.maker_shares) == (2, 8)
    await accounts.grant_bonus(harness.ctx, admin.id, buyer.id, 5000)
    bonus = amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, 40, use_bonus=True)
    await amm.trade(harness.ctx, buyer.id, bonus)  # the maker alone: YES past 60
    resting = await harness.ctx.read_model.resting_orders(market.id)
    # YES at 62 %: the maker took the rest of the ask at 52 and some of the one at 60.
    assert [(o.price_cents, o.filled_quantity > 0) for o in resting] == [(60, True)]
    database: Database = harness.database  # type: ignore[attr-defined]
    assert await asyncio.to_thread(dbtools.run_cli, monkeypatch, database.url, "audit") == 0
