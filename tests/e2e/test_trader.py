"""What a trader expects of the web app (issue 19), in Chromium against the real server."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from playwright.async_api import Page, Route, expect

from tests.api.conftest import Api, api
from tests.api.ops import (
    LMSR_TRADE,
    MINT,
    PLACE_ORDER,
    RESOLVE,
    buy_yes,
    closes_in,
    create_market,
    limit,
)
from tests.api.test_webapp_api import graphiql_installed
from tests.e2e.browser import DESKTOP
from tests.e2e.conftest import ContextFactory, LiveServer
from tests.e2e.ui import cents, log_in

__all__ = ["api"]


async def test_graphiql_works_without_the_internet(
    server: LiveServer, new_context: ContextFactory
) -> None:
    graphiql_installed()
    context = await new_context()
    elsewhere: list[str] = []

    async def offline(route: Route) -> None:
        if urlparse(route.request.url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort("internetdisconnected")

    await context.route("**/*", offline)
    page = await context.new_page()
    await page.goto(f"{server.url}/graphql")
    editor = page.locator(".graphiql-query-editor .CodeMirror")
    await expect(editor).to_be_visible()
    await page.evaluate(
        "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror"
        ".setValue('{ markets { totalCount } }')"
    )
    await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
    await expect(page.locator(".graphiql-response")).to_contain_text('"totalCount": 0')
    assert elsewhere == []


async def lmsr_market(api: Api, token: str, title: str = "Will the trader tests pass?") -> str:
    return str((await create_market(api, token, "LMSR", title=title))["id"])


async def test_my_own_trade_moves_my_own_chart(
    api: Api, server: LiveServer, new_context: ContextFactory
) -> None:
    _, token = await api.user("alice")
    market_id = await lmsr_market(api, token)
    page = await (await new_context()).new_page()
    await log_in(page, server.url, "alice", f"/market/{market_id}")
    chart = page.locator("svg.chart-svg")
    await expect(chart).to_have_attribute("aria-label", "Price chart. Yes from 50% to 50%.")
    await expect(page.locator("#live-status")).to_have_text("Live")
    await page.get_by_label("Spend ($)").fill("25")
    await expect(page.get_by_test_id("quote")).to_contain_text("Pays if right")
    await page.get_by_test_id("ticket-submit").click()
    await expect(page.get_by_role("status").filter(has_text="Bought")).to_be_visible()
    shown = await page.get_by_test_id("price-0").inner_text()
    assert shown != "50%"
    await expect(chart).to_have_attribute("aria-label", f"Price chart. Yes from 50% to {shown}.")


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= DESKTOP["width"], width


async def test_a_long_unbroken_title_wraps_and_the_title_field_never_cuts_typing(
    api: Api, server: LiveServer, new_context: ContextFactory
) -> None:
    _, token = await api.user("ursula")
    title = "https://example.com/" + "a" * 180
    market_id = await lmsr_market(api, token, title)
    page = await (await new_context()).new_page()
    await log_in(page, server.url, "ursula")
    await expect(page.get_by_role("link", name=title)).to_be_visible()
    await no_sideways_scroll(page)
    await page.goto(f"{server.url}/#/market/{market_id}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    await no_sideways_scroll(page)

    await page.goto(f"{server.url}/#/create")
    question = page.get_by_label("Question")
    await question.fill("W" * 205)
    assert len(await question.input_value()) == 205
    await expect(page.get_by_text("205/200")).to_be_visible()
    await page.get_by_role("button", name="Create market").click()
    await expect(page.locator("#create-title-error")).to_contain_text(
        "Question: 10 to 200 characters (now 205)."
    )


async def test_mistakes_are_caught_in_the_browser_in_words_next_to_their_field(
    api: Api, server: LiveServer, new_context: ContextFactory
) -> None:
    _, token = await api.user("wendy")
    market_id = await lmsr_market(api, token)
    page = await (await new_context()).new_page()
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.post_data or "") if r.method == "POST" else None)
    await log_in(page, server.url, "wendy", "/create")
    await page.get_by_label("Question").fill("Will the validation test catch a 50% fee?")
    await page.get_by_label("Taker fee (%)").fill("50")
    await page.get_by_label("Liquidity b (shares)").fill("0.001")
    await page.get_by_role("button", name="Create market").click()
    await expect(page.locator("#create-fee-error")).to_contain_text(
        "Taker fee: from 0% to 10%, in steps of 0.01%."
    )
    await expect(page.locator("#create-b-error")).to_contain_text(
        "Liquidity b: from 0.01 to 1,000,000 shares."
    )
    await page.get_by_label("Taker fee (%)").fill("1")
    await page.get_by_label("Liquidity b (shares)").fill("100000")
    await page.get_by_role("button", name="Create market").click()
    await expect(page.locator("#create-b-error")).to_contain_text(
        "Funding this market maker costs $69,314.72; you have $930.68 in cash."
    )
    assert not [body for body in sent if "createMarket" in body]

    await page.goto(f"{server.url}/#/market/{market_id}")
    await page.get_by_label("Spend ($)").fill("99999999999")
    await page.get_by_test_id("ticket-submit").click()
    error = page.locator("#ticket-error")
    await expect(error).to_contain_text("Spend: at most $9,999,999.99.")
    await page.get_by_label("Spend ($)").fill("5000")
    await page.get_by_test_id("ticket-submit").click()
    await expect(error).to_contain_text("You have $930.68 available; spend at most that.")
    assert not [body for body in sent if "lmsrTrade" in body]
    text = await page.locator("main").inner_text()
    assert "Variable" not in text and not re.search(r"\d cents", text)
    server_words = await page.evaluate(
        """async () => (await import('/static/js/ui.js')).plainMessage(
             {message: 'needs 6931472 cents of cash but only 100000 are available'})"""
    )
    assert server_words == "Needs $69,314.72 of cash but only $1,000.00 is available"


async def test_selling_says_what_i_hold_before_i_submit(
    api: Api, server: LiveServer, new_context: ContextFactory
) -> None:
    _, alice = await api.user("alice")
    market_id = await lmsr_market(api, alice)
    _, bob = await api.user("bob")
    await buy_yes(api, bob, market_id, 31)
    page = await (await new_context()).new_page()
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.post_data or "") if r.method == "POST" else None)
    await log_in(page, server.url, "bob", f"/market/{market_id}")
    await expect(page.get_by_test_id("holding")).to_have_text("You hold 31 Yes shares.")
    await page.get_by_role("button", name="Sell", exact=True).click()
    await page.get_by_role("button", name="Shares", exact=True).click()
    await page.get_by_label("Shares").fill("500")
    quote = page.get_by_test_id("quote")
    await expect(quote).to_have_text("You hold 31 Yes shares; you can sell at most 31.")
    await page.get_by_test_id("ticket-submit").click()
    await expect(page.locator("#ticket-error")).to_contain_text(
        "You hold 31 Yes shares; you can sell at most 31."
    )
    assert not [body for body in sent if "lmsrTrade" in body]
    choices = page.get_by_role("group", name="Outcome to trade")
    await choices.get_by_role("button", name=re.compile("^No")).click()
    await expect(page.get_by_test_id("holding")).to_have_text("You hold 0 No shares.")


async def test_recent_trades_show_the_past_on_load_with_the_takers_side(
    api: Api, server: LiveServer, new_context: ContextFactory
) -> None:
    _, alice = await api.user("alice")
    market_id = await lmsr_market(api, alice)
    await buy_yes(api, alice, market_id, 12)
    no = {"marketId": market_id, "side": "BUY_NO", "amountType": "SHARES", "amount": 7}
    await api.data(LMSR_TRADE, {"i": no}, alice)
    page = await (await new_context()).new_page()
    await page.goto(f"{server.url}/#/market/{market_id}")
    trades = page.get_by_test_id("recent-trades")
    await expect(trades.get_by_role("columnheader", name="Taker side")).to_be_visible()
    rows = trades.locator("tbody tr")
    await expect(rows).to_have_count(2)
    cells = [await rows.nth(i).locator("td").all_inner_texts() for i in range(2)]
    assert [c[1:3] + c[4:] for c in cells] == [["No", "Buy", "7"], ["Yes", "Buy", "12"]]
    await expect(page.get_by_text("No trades yet")).to_be_hidden()


async def book_market_with_asks(api: Api) -> tuple[str, dict[str, Any]]:
    """An order book whose Yes side has asks 10 at 40¢ and 10 at 45¢ (alice's)."""
    _, alice = await api.user("alice")
    market = await create_market(api, alice, "ORDER_BOOK", title="Will the book test sweep?")
    await api.data(MINT, {"m": market["id"], "q": 100}, alice)
    for price in (40, 45):
        await api.data(PLACE_ORDER, limit(market, "SELL", 10, price), alice)
    return alice, market


async def test_a_market_order_shows_its_estimate_then_what_filled(
    api: Api, server: LiveServer, new_context: ContextFactory
) -> None:
    _, market = await book_market_with_asks(api)
    await api.user("bob")
    page = await (await new_context()).new_page()
    await log_in(page, server.url, "bob", f"/market/{market['id']}")
    await expect(page.get_by_test_id("order-book").locator("tr.ask")).to_have_count(2)
    await page.get_by_role("button", name="Market", exact=True).click()
    await page.get_by_label("Quantity (shares)").fill("50")
    estimate = page.get_by_test_id("estimate")
    await expect(estimate).to_contain_text(
        "Estimate from the book: 20 shares at an average 42.5¢, cost $8.50."
    )
    await expect(estimate).to_contain_text("Only 20 of 50 can fill now")
    await expect(estimate).to_contain_text("This order sweeps the book from 40¢ to 45¢.")
    await page.get_by_test_id("order-submit").click()
    await expect(page.get_by_role("status").filter(has_text="Bought")).to_have_text(
        "Bought 20 Yes at an average 42.5¢ (cost $8.50). "
        "The other 30 were cancelled (market orders never rest)."
    )


async def test_portfolio_values_the_account_at_what_it_could_sell_for(
    api: Api, server: LiveServer, new_context: ContextFactory
) -> None:
    alice, market = await book_market_with_asks(api)
    _, bob = await api.user("bob")
    await api.data(PLACE_ORDER, limit(market, "BUY", 10, 40), bob)  # last trade 40¢, no bids
    await create_market(api, bob, "LMSR", title="Will bob's own market lock its funding?")
    page = await (await new_context()).new_page()
    await log_in(page, server.url, "bob", "/portfolio")
    positions = page.get_by_test_id("positions")
    await expect(positions).to_contain_text("no bid")
    await expect(page.get_by_test_id("positions-value")).to_have_text("$0.00")
    await expect(page.get_by_test_id("pnl")).to_have_text("\N{MINUS SIGN}$4.00")
    await expect(page.get_by_test_id("funding")).to_have_text("$69.32")
    cash = cents(await page.get_by_test_id("cash").inner_text())
    reserved = cents(await page.get_by_test_id("reserved").inner_text())
    assert cash == 100_000 - 400 - 6932
    await expect(page.get_by_test_id("total")).to_have_text(f"${(cash + reserved) / 100:,.2f}")
    await expect(page.get_by_text("valued at the best bid")).to_be_visible()

    await api.data(PLACE_ORDER, limit(market, "BUY", 5, 30), alice)  # now someone bids 30¢
    await page.reload()
    await expect(page.get_by_test_id("positions-value")).to_have_text("$3.00")
    await expect(page.get_by_test_id("total")).to_have_text(
        f"${(cash + reserved + 300) / 100:,.2f}"
    )


async def test_the_market_list_opens_on_open_markets_closing_soonest_and_searches_them_all(
    api: Api, server: LiveServer, new_context: ContextFactory
) -> None:
    _, token = await api.user("lister")
    book = "ORDER_BOOK"  # no subsidy: 28 markets on one person's starting cash
    await create_market(api, token, book, title="Will the snowflake market be found?")
    for n in range(25):
        await create_market(api, token, book, title=f"Will filler market {n} stay open?")
    soon = await create_market(
        api, token, book, title="Will it close soonest?", closesAt=closes_in(1)
    )
    done = await create_market(api, token, book, title="Was this one resolved?")
    await api.data(RESOLVE, {"id": done["id"], "w": done["outcomes"][0]["id"]}, token)
    page = await (await new_context()).new_page()
    await page.goto(server.url)
    cards = page.locator(".market-card")
    await expect(cards).to_have_count(24)
    await expect(cards.first).to_contain_text(soon["title"])
    await expect(page.get_by_role("button", name="Open", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    await expect(page.get_by_text(done["title"])).to_have_count(0)
    await page.get_by_label("Search markets by title").fill("SNOWFLAKE")
    await expect(cards).to_have_count(1)
    await expect(cards.first).to_contain_text("Will the snowflake market be found?")
    await expect(page.get_by_role("status").filter(has_text="matches")).to_have_text(
        "1 open market matches “SNOWFLAKE”"
    )


SETTLEMENTS = "{ mySettlements { edges { node { realizedPnlCents payoutCents } } } }"


async def test_portfolio_shows_what_sales_and_settlements_realized(
    api: Api, server: LiveServer, new_context: ContextFactory
) -> None:
    _, alice = await api.user("alice")
    market = await create_market(api, alice, "LMSR", title="Will the realized test settle?")
    _, bob = await api.user("bob")
    await buy_yes(api, bob, market["id"], 10)
    sale = {"marketId": market["id"], "side": "SELL_YES", "amountType": "SHARES", "amount": 4}
    await api.data(LMSR_TRADE, {"i": sale}, bob)
    query = "query($m: ID) { myPositions(marketId: $m) { realizedPnlCents } }"
    held = (await api.data(query, {"m": market["id"]}, bob))["myPositions"]
    page = await (await new_context()).new_page()
    await log_in(page, server.url, "bob", "/portfolio")
    sold = f"${abs(held[0]['realizedPnlCents']) / 100:,.2f}"
    await expect(page.get_by_test_id("positions")).to_contain_text(sold)

    await api.data(RESOLVE, {"id": market["id"], "w": market["outcomes"][0]["id"]}, alice)
    settled = (await api.data(SETTLEMENTS, token=bob))["mySettlements"]["edges"]
    assert [e["node"]["payoutCents"] for e in settled] == [600]
    gain = settled[0]["node"]["realizedPnlCents"]
    await page.reload()
    await expect(page.get_by_test_id("realized")).to_have_text(f"+${gain / 100:,.2f}")


async def test_colours_survive_the_content_security_policy(
    api: Api, server: LiveServer, new_context: ContextFactory
) -> None:
    _, token = await api.user("painter")
    await lmsr_market(api, token, "Will the bars keep their colour?")
    page = await (await new_context()).new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    await page.goto(server.url)
    fill = page.locator(".market-card .bar-fill").first
    await expect(fill).to_have_css("background-color", "rgb(31, 111, 235)")
    assert refused == []
