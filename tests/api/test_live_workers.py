"""``bellwether serve --live-workers N`` on PostgreSQL: subscriptions served by processes
of their own, fed by the LISTEN/NOTIFY bus, while trades go through the request workers."""

from __future__ import annotations

import asyncio

import pytest
from websockets.exceptions import InvalidStatus

from tests.api import ops
from tests.api.conftest import free_port
from tests.api.test_live import PRICES
from tests.api.test_live_postgres import api_at, clean_postgres, serve_process, ws_url
from tests.api.wsclient import live_client

pytestmark = pytest.mark.postgres
__all__ = ["clean_postgres"]  # the fixture


async def test_live_workers_serve_subscriptions_of_trades_made_through_request_workers(
    clean_postgres: str,
) -> None:
    live_port = free_port()
    options = ("--live-workers", "1", "--live-port", str(live_port))
    with serve_process(clean_postgres, *options) as url:
        live = f"ws://127.0.0.1:{live_port}/graphql"
        async with api_at(url) as api:
            _, alice = await api.user("alice")
            market = await ops.create_market(api, alice)
            for _ in range(200):  # the live process starts beside the request worker
                try:
                    async with live_client(live):
                        break
                except (OSError, InvalidStatus):
                    await asyncio.sleep(0.1)
            async with live_client(live) as ws:
                await ws.subscribe("p", PRICES, {"m": market["id"]})
                first = (await ws.data())["marketPrices"]["sequence"]
                await ops.buy_yes(api, alice, market["id"], 5)
                assert (await ws.data())["marketPrices"]["sequence"] == first + 1
            assert ws_url(url) != live
