"""The web app's server side (issue 19): metrics of closed subscriptions, market search."""

from __future__ import annotations

import asyncio

from tests.api.conftest import Api, LiveServer
from tests.api.ops import create_market
from tests.api.wsclient import live_client

TRADES = "subscription($m: ID!) { marketTrades(marketId: $m) { id } }"


async def metric_lines(api: Api, operation: str) -> list[str]:
    text = (await api.client.get("/metrics")).text
    prefix = f'bellwether_graphql_operations_total{{operation="{operation}"'
    return [line for line in text.splitlines() if line.startswith(prefix)]


async def test_a_subscription_closed_before_any_event_counts_as_ok(
    api: Api, server: LiveServer
) -> None:
    _, token = await api.user("watcher")
    market = await create_market(api, token)
    async with live_client(server.ws_url) as client:
        await client.subscribe("1", TRADES, {"m": market["id"]})
        await client.nothing_for(0.2)
        await client.complete("1")
    for _ in range(200):  # the count lands when the server has ended the subscription
        lines = await metric_lines(api, "subscription:marketTrades")
        if lines:
            break
        await asyncio.sleep(0.05)
    assert lines == [
        'bellwether_graphql_operations_total{operation="subscription:marketTrades",'
        'result="ok"} 1.0'
    ]
