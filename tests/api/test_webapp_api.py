"""The web app's server side (issue 19): metrics of closed subscriptions, market search,
GraphiQL's files served locally."""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path

import pytest
from strawberry.http.ides import get_graphql_ide_html

from tests.api.conftest import Api, LiveServer
from tests.api.ops import closes_in, create_market
from tests.api.wsclient import live_client
from web import graphiql_assets
from web.graphiql_assets import GraphiQLAssets

ROOT = Path(__file__).resolve().parents[2]

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


def graphiql_installed() -> None:
    """Skip where ``make graphiql`` has not run (a fresh worktree); CI (``make test``) has."""
    problems = graphiql_assets.missing(get_graphql_ide_html("graphiql"))
    if problems and not os.environ.get("CI"):
        pytest.skip(f"GraphiQL's files are not installed (make graphiql): {problems}")


async def test_graphiql_loads_its_files_from_this_server(api: Api) -> None:
    graphiql_installed()
    page = (await api.client.get("/graphql", headers={"accept": "text/html"})).text
    assert "unpkg.com" not in page
    urls = re.findall(r'(?:src|href)="(/graphiql/[^"]+)"', page)
    assert len(urls) == 7 and "/graphiql/graphiql/graphiql.min.js" in urls
    for url in urls:
        response = await api.client.get(url)
        assert response.status_code == 200 and len(response.content) > 500, url
    for other in ("/graphiql/graphiql/package.json", "/graphiql/../../app.py", "/graphiql/"):
        assert (await api.client.get(other)).status_code == 404, other


@pytest.mark.parametrize("settings", [{"graphiql_assets": "cdn"}], indirect=True)
async def test_graphiql_from_the_cdn_is_an_explicit_option(api: Api) -> None:
    page = (await api.client.get("/graphql", headers={"accept": "text/html"})).text
    assert "https://unpkg.com/graphiql@" in page and "/graphiql/" not in page
    assert (await api.client.get("/graphiql/graphiql/graphiql.min.js")).status_code == 404


def test_graphiql_without_its_files_says_how_to_install_them(tmp_path: Path) -> None:
    page = get_graphql_ide_html("graphiql")
    assets = GraphiQLAssets(page, "local", root=tmp_path)
    assert "graphiql@3.8.3: not installed" in assets.problems
    assert "make graphiql" in assets.page and "unpkg.com/" not in assets.page


def test_the_npm_lock_pins_the_versions_strawberrys_page_asks_for() -> None:
    lock = json.loads((ROOT / "web" / "graphiql" / "package-lock.json").read_text())
    pinned = {
        name.removeprefix("node_modules/"): entry["version"]
        for name, entry in lock["packages"].items()
        if name.startswith("node_modules/")
    }
    wanted = {
        (a.package, a.version) for a in graphiql_assets.assets(get_graphql_ide_html("graphiql"))
    }
    assert wanted and all(pinned.get(package) == version for package, version in wanted)
