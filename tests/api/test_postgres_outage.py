"""PostgreSQL goes away under a running server: a throwaway cluster of this test's own
(``tests/pgcluster.py``), never the shared server.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from tests import dbtools
from tests.api import ops
from tests.api.conftest import Api, LiveServer
from tests.api.test_live import PRICES
from tests.api.wsclient import live_client
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
