"""PostgreSQL goes away under a running server: a throwaway cluster of this test's own
(``tests/pgcluster.py``), never the shared server.

While it is down every request that needs it is SERVICE_UNAVAILABLE and changes
nothing; a commit cut off by the outage has an unknown fate, and the same order sent
again with its ``clientOrderId`` is placed at most once.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import asyncpg
import pytest

from tests import dbtools
from tests.api import ops
from tests.api.conftest import Api, LiveServer
from tests.api.test_live import PRICES
from tests.api.wsclient import error_codes, live_client
from tests.pgcluster import ThrowawayCluster
from web.settings import AppSettings

pytestmark = pytest.mark.postgres


@pytest.fixture
async def own_database(throwaway_postgres: ThrowawayCluster) -> str:
    """A migrated database on the throwaway cluster."""
    return await dbtools.create_postgres_database(throwaway_postgres.admin_url)


@pytest.fixture
def settings(settings: AppSettings, own_database: str) -> AppSettings:
    return replace(settings, database_url=own_database)


async def _with_retries(api: Api, token: str, market_id: str) -> dict[str, Any]:
    """A trade, retried while the server's pool replaces connections the restart killed."""
    for _ in range(50):
        try:
            return await ops.buy_yes(api, token, market_id, 3)
        except AssertionError:
            await asyncio.sleep(0.2)
    raise AssertionError("trading did not resume after the restart")


async def test_updates_resume_after_postgres_restarts(
    server: LiveServer, live_api: Api, throwaway_postgres: ThrowawayCluster
) -> None:
    _, alice = await live_api.user("alice")
    market = await ops.create_market(live_api, alice)
    bus = server.app.state.bellwether.bus
    async with live_client(server.ws_url) as ws:
        await ws.subscribe("p", PRICES, {"m": market["id"]})
        before = (await ws.data())["marketPrices"]["sequence"]
        await asyncio.to_thread(throwaway_postgres.stop)
        await asyncio.to_thread(throwaway_postgres.start)
        async with asyncio.timeout(20):
            while bus.reconnects < 1:  # noqa: ASYNC110 - the bus reconnects on its own
                await asyncio.sleep(0.1)
        await _with_retries(live_api, alice, market["id"])
        after = (await ws.data(wait=10))["marketPrices"]
        assert after["sequence"] >= before + 1


def unavailable(result: dict[str, Any]) -> str:
    """The message of a SERVICE_UNAVAILABLE result (and nothing else went wrong)."""
    (error,) = result["errors"]
    assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE"}, result
    message: str = error["message"]
    return message


async def test_an_outage_is_service_unavailable_and_changes_nothing(
    server: LiveServer, live_api: Api, throwaway_postgres: ThrowawayCluster
) -> None:
    _, alice = await live_api.user("alice")
    market = await ops.create_market(live_api, alice, "ORDER_BOOK")
    before = (await live_api.data(ops.ME, token=alice))["me"]
    keyed = ops.limit(market, "BUY", 2, 40, clientOrderId="k-1")
    await asyncio.to_thread(throwaway_postgres.stop)
    requests = [
        (ops.ME, {}, alice),
        ("{ markets(first: 5) { totalCount } }", {}, None),
        (ops.PLACE_ORDER, keyed, alice),
        (ops.MINT, {"m": market["id"], "q": 1}, alice),
        ('mutation { login(username: "alice", password: "whatever") { tokenType } }', {}, None),
    ]
    for query, variables, token in requests:
        assert "nothing was changed" in unavailable(await live_api.run(query, variables, token))
    async with live_client(server.ws_url) as ws:
        await ws.subscribe("p", PRICES, {"m": market["id"]})
        assert error_codes((await ws.result())[1]) == ["SERVICE_UNAVAILABLE"]
    await asyncio.to_thread(throwaway_postgres.start)
    assert (await live_api.data(ops.ME, token=alice))["me"] == before, "nothing changed"
    placed = await _placed_once(live_api, alice, keyed)
    assert placed["clientOrderId"] == "k-1"


async def _placed_once(api: Api, token: str, order: dict[str, Any]) -> dict[str, Any]:
    """Send the keyed order twice (retried while the pool reconnects): one order."""
    for _ in range(50):
        result = await api.run(ops.PLACE_ORDER, order, token)
        if not result.get("errors"):
            break
        unavailable(result)
        await asyncio.sleep(0.2)
    first: dict[str, Any] = result["data"]["placeOrder"]
    again = (await api.data(ops.PLACE_ORDER, order, token))["placeOrder"]
    assert again["id"] == first["id"]
    mine = await api.data("{ myOrders(first: 50) { edges { node { id } } } }", token=token)
    assert [edge["node"]["id"] for edge in mine["myOrders"]["edges"]] == [first["id"]]
    return first


STALL = """
CREATE FUNCTION stall_commit() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN PERFORM pg_sleep(60); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER stall AFTER INSERT ON orders DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.client_order_id = 'stalled') EXECUTE FUNCTION stall_commit();
"""


async def _until_commit_stalls(admin_url: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        async with asyncio.timeout(20):
            waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'"
            while not await conn.fetchval(waiting):  # noqa: ASYNC110 - another process
                await asyncio.sleep(0.05)
    finally:
        await conn.close()


async def test_a_commit_cut_off_by_an_outage_is_safe_to_retry_with_its_client_order_id(
    live_api: Api, own_database: str, throwaway_postgres: ThrowawayCluster
) -> None:
    """The commit is held at COMMIT (a deferred trigger sleeps) when the server crashes."""
    _, alice = await live_api.user("alice")
    market = await ops.create_market(live_api, alice, "ORDER_BOOK")
    conn = await asyncpg.connect(own_database)
    try:
        await conn.execute(STALL)
    finally:
        await conn.close()
    keyed = ops.limit(market, "BUY", 3, 45, clientOrderId="stalled")
    sent = asyncio.create_task(live_api.run(ops.PLACE_ORDER, keyed, alice))
    await _until_commit_stalls(throwaway_postgres.admin_url)
    await asyncio.to_thread(throwaway_postgres.stop, "immediate")
    assert "may or may not have been made" in unavailable(await sent)
    await asyncio.to_thread(throwaway_postgres.start)
    conn = await asyncpg.connect(own_database)
    try:
        await conn.execute("DROP TRIGGER stall ON orders")
    finally:
        await conn.close()
    placed = await _placed_once(live_api, alice, keyed)
    assert (placed["quantity"], placed["priceCents"]) == (3, 45)
