"""The web app's server side (issue 19): metrics of closed subscriptions, market search."""

from __future__ import annotations

import asyncio

from tests.api.conftest import Api, LiveServer
from tests.api.ops import closes_in, create_market
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
        'bellwether_graphql_operations_total{operation="subscription:marketTrades",result="ok"} 1.0'
    ]


MARKETS = """query(
  $s: String, $status: MarketStatus, $sort: MarketSort, $first: Int, $after: String
) {
  markets(search: $s, status: $status, sort: $sort, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { title status closesAt } } } }"""


async def test_market_search_runs_on_the_server_over_every_market(api: Api) -> None:
    _, token = await api.user("searcher")
    for n in range(5):
        await create_market(api, token, title=f"Will the filler market number {n} resolve?")
    wanted = await create_market(api, token, title="Will it SNOW in Paris on New Year's Day?")
    for n in range(5):
        await create_market(api, token, title=f"Will the later market number {n} resolve?")
    first_page = (await api.data(MARKETS, {"first": 3}))["markets"]
    assert wanted["id"] not in str(first_page)

    found = (await api.data(MARKETS, {"s": "  snow ", "first": 3}))["markets"]
    assert found["totalCount"] == 1
    assert [e["node"]["title"] for e in found["edges"]] == [wanted["title"]]
    assert (await api.data(MARKETS, {"s": ""}))["markets"]["totalCount"] == 11
    assert await api.error_code(MARKETS, {"s": "x" * 201}) == "BAD_USER_INPUT"


async def test_open_markets_closing_soonest_first_page_stably(api: Api) -> None:
    _, token = await api.user("closer")
    for days in (20, 3, 9, 1):
        await create_market(
            api, token, title=f"Will it close in {days} days?", closesAt=closes_in(days)
        )
    closed = await create_market(api, token, title="Will it close now?", closesAt=closes_in(0.5))
    await api.data(
        "mutation($id: ID!) { closeMarket(id: $id) { id } }", {"id": closed["id"]}, token
    )
    titles: list[str] = []
    after = None
    while True:
        page = (
            await api.data(
                MARKETS, {"status": "OPEN", "sort": "CLOSING_SOON", "first": 2, "after": after}
            )
        )["markets"]
        titles += [e["node"]["title"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert titles == [f"Will it close in {d} days?" for d in (1, 3, 9, 20)]
