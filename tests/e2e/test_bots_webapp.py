"""The web app's part of issue 17: API keys (create, copy once, revoke), amend, cancel all."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import Page, expect

from tests.e2e.conftest import ContextFactory, LiveServer
from tests.e2e.ui import create_market, register

ME = "{ me { username } }"
PLACE = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }"
MARKET = "query($id: ID!) { market(id: $id) { outcomes { id } } }"


async def as_key(server: LiveServer, secret: str, query: str, variables: Any = None) -> Any:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Key {secret}"},
        )
    return response.json()


async def make_key(page: Page) -> str:
    await page.get_by_role("link", name="API keys").click()
    await page.get_by_label("Name").fill("market maker")
    await page.get_by_label("TRADE").check()
    await page.get_by_role("button", name="Create key").click()
    secret = await page.get_by_test_id("secret").inner_text()
    assert secret.startswith("bwk_")
    await expect(page.get_by_test_id("api-keys")).to_contain_text(f"{secret[:12]}…")
    await expect(page.get_by_test_id("api-keys")).to_contain_text("READ, TRADE")
    return secret


async def test_a_key_is_made_shown_once_used_and_revoked(
    server: LiveServer, new_context: ContextFactory
) -> None:
    page = await (await new_context()).new_page()
    await register(page, server.url, "keymaker")
    secret = await make_key(page)
    assert (await as_key(server, secret, ME))["data"]["me"]["username"] == "keymaker"
    await page.reload()
    await expect(page.get_by_test_id("new-secret")).to_have_count(0)  # shown once
    await page.get_by_role("button", name="Revoke market maker").click()
    await page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    await expect(page.get_by_test_id("api-keys")).to_contain_text("revoked")
    refused = await as_key(server, secret, ME)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_amend_and_cancel_all_from_the_portfolio(
    server: LiveServer, new_context: ContextFactory
) -> None:
    page = await (await new_context()).new_page()
    await register(page, server.url, "quoter")
    market_id = await create_market(page, "Will the bots page work in 2031?", "ORDER_BOOK")
    secret = await make_key(page)
    yes = (await as_key(server, secret, MARKET, {"id": market_id}))["data"]["market"]
    for price in (30, 35):
        order = {
            "marketId": market_id,
            "outcomeId": yes["outcomes"][0]["id"],
            "side": "BUY",
            "orderType": "LIMIT",
            "priceCents": price,
            "quantity": 10,
        }
        assert "errors" not in await as_key(server, secret, PLACE, {"i": order})
    await page.get_by_role("link", name="Portfolio").click()
    orders = page.get_by_test_id("open-orders")
    await expect(orders.locator("tbody tr")).to_have_count(2)
    amend = page.get_by_role("button", name="Amend buy Yes at 30 cents")
    row = orders.locator("tbody tr", has=amend)
    await amend.click()
    await row.get_by_label("New price in cents").fill("31")
    await row.get_by_role("button", name="Save").click()
    await expect(orders).to_contain_text("31¢")
    await page.get_by_test_id("cancel-all").click()
    await page.get_by_role("dialog").get_by_role("button", name="Cancel all").click()
    await expect(page.get_by_text("No open orders.")).to_be_visible()
