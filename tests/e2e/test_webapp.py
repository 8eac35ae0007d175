"""The web app end to end: a real server, Debian's Chromium, two people.

Each test drives the bundled single-page app the way a person would; the
second browser context is a different person whose page must follow live.
"""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.e2e.conftest import ContextFactory, LiveServer
from tests.e2e.ui import cents, create_market, expect_mirrored_ask, header_balance, register

START = 100_000
BOUGHT = re.compile(r"Bought (\d+) (\w+) for (\$[\d,.]+)\.")


async def test_list_and_market_page_load_without_errors(
    server: LiveServer, new_context: ContextFactory
) -> None:
    page = await (await new_context()).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(server.url)
    await expect(page.get_by_role("heading", name="Markets", level=1)).to_be_visible()
    await expect(page.get_by_text("No open markets here yet")).to_be_visible()
    await expect(page.locator("#live-status")).to_have_text("")
    assert errors == []


async def test_lmsr_buy_moves_the_price_live_in_another_browser(
    server: LiveServer, new_context: ContextFactory
) -> None:
    alice = await (await new_context()).new_page()
    await register(alice, server.url, "alice")
    market_id = await create_market(alice, "Will the browser test pass today?", "LMSR")
    subsidy = 6932  # ceil(100 * b * ln 2) with the default b = 100
    await expect(alice.get_by_test_id("header-balance")).to_have_text("$930.68")

    watcher = await (await new_context()).new_page()
    await watcher.goto(f"{server.url}/#/market/{market_id}")
    await expect(watcher.get_by_test_id("price-0")).to_have_text("50%")
    await expect(watcher.locator("#live-status")).to_have_text("Live")

    await alice.get_by_label("Spend ($)").fill("25")
    await expect(alice.get_by_test_id("quote")).to_contain_text("Pays if right")
    await alice.get_by_test_id("ticket-submit").click()
    result = alice.get_by_role("status").filter(has_text="Bought")
    await expect(result).to_have_text(BOUGHT)
    shares, side, paid = BOUGHT.search(await result.inner_text()).groups()  # type: ignore[union-attr]
    assert side == "Yes" and int(shares) > 25 and cents(paid) <= 2500

    await expect(watcher.get_by_test_id("price-0")).not_to_have_text("50%")
    assert int((await watcher.get_by_test_id("price-0").inner_text()).rstrip("%")) > 50
    await expect(watcher.get_by_test_id("recent-trades")).to_contain_text(shares)
    await expect(alice.get_by_test_id("header-balance")).to_have_text(re.compile(r"\$[\d,]+\.\d\d"))
    assert await header_balance(alice) == START - subsidy - cents(paid)
    await expect(alice.get_by_test_id("my-position")).to_contain_text(shares)


async def test_limit_order_is_placed_shown_in_the_book_and_cancelled(
    server: LiveServer, new_context: ContextFactory
) -> None:
    bob = await (await new_context()).new_page()
    await register(bob, server.url, "bob")
    await create_market(bob, "Will the order book test rest an order?", "ORDER_BOOK")
    await bob.get_by_label("Limit price (¢ per share)").fill("40")
    await bob.get_by_label("Quantity (shares)").fill("10")
    await bob.get_by_test_id("order-submit").click()
    await expect(bob.get_by_role("status").filter(has_text="Order placed")).to_have_text(
        "Order placed: 10 Yes resting at 40¢."
    )
    book = bob.get_by_test_id("order-book")
    await expect(book.locator("tr.bid")).to_contain_text("40¢")
    await expect(bob.get_by_test_id("header-balance")).to_have_text("$996.00")

    orders = bob.get_by_test_id("open-orders")
    await expect(orders).to_contain_text("40¢")
    await orders.get_by_role("button", name=re.compile("^Cancel")).click()
    await expect(bob.get_by_text("No open orders.")).to_be_visible()
    await expect(book).to_contain_text("No bids")
    await expect(bob.get_by_test_id("header-balance")).to_have_text("$1,000.00")


async def test_resolving_pays_the_winner(server: LiveServer, new_context: ContextFactory) -> None:
    alice = await (await new_context()).new_page()
    await register(alice, server.url, "carol")
    market_id = await create_market(alice, "Will the resolution test pay out?", "LMSR")

    dave = await (await new_context()).new_page()
    await register(dave, server.url, "dave")
    await dave.goto(f"{server.url}/#/market/{market_id}")
    await dave.get_by_label("Spend ($)").fill("10")
    await expect(dave.get_by_test_id("quote")).to_contain_text("Pays if right")
    await dave.get_by_test_id("ticket-submit").click()
    result = dave.get_by_role("status").filter(has_text="Bought")
    await expect(result).to_have_text(BOUGHT)
    shares, _, paid = BOUGHT.search(await result.inner_text()).groups()  # type: ignore[union-attr]

    await alice.reload()
    await alice.get_by_label("Winning outcome").select_option(label="Yes")
    await alice.get_by_test_id("resolve").click()
    await alice.get_by_role("dialog").get_by_role("button", name="Resolve: Yes").click()
    await expect(alice.get_by_test_id("resolution")).to_contain_text("Resolved: Yes")

    await dave.get_by_role("link", name="Portfolio").click()
    expected = START - cents(paid) + 100 * int(shares)
    await expect(dave.get_by_test_id("cash")).to_have_text(f"${expected / 100:,.2f}")
    await expect(dave.get_by_test_id("header-balance")).to_have_text(f"${expected / 100:,.2f}")


async def test_an_api_error_appears_next_to_the_ticket_in_words(
    server: LiveServer, new_context: ContextFactory
) -> None:
    erin = await (await new_context()).new_page()
    await register(erin, server.url, "erin")
    await create_market(erin, "Will the error test show its message?", "LMSR")
    await erin.get_by_label("Spend ($)").fill("5000")
    await erin.get_by_test_id("ticket-submit").click()
    error = erin.locator("#ticket-error")
    await expect(error).to_be_visible()
    await expect(error).to_contain_text("Not enough cash")
    await expect(error).to_contain_text("INSUFFICIENT_BALANCE")


async def test_a_rejected_token_signs_out_cleanly(
    server: LiveServer, new_context: ContextFactory
) -> None:
    page = await (await new_context()).new_page()
    await page.goto(server.url)
    forged = {"token": "not-a-valid-token", "expiresAt": "2999-01-01T00:00:00Z"}
    await page.evaluate(
        "(s) => localStorage.setItem('bellwether.session', JSON.stringify(s))", forged
    )
    await page.goto(f"{server.url}/#/portfolio")
    await page.reload()
    await expect(page.get_by_role("status").filter(has_text="session has ended")).to_be_visible()
    await expect(page.get_by_role("link", name="Log in").first).to_be_visible()
    assert await page.evaluate("localStorage.getItem('bellwether.session')") is None


async def test_a_binary_market_is_one_book_and_no_is_the_mirror_of_yes(
    server: LiveServer, new_context: ContextFactory
) -> None:
    bob = await (await new_context()).new_page()
    await register(bob, server.url, "bobby")
    await create_market(bob, "Will the one-book view mirror the bids?", "ORDER_BOOK")
    await bob.get_by_label("Limit price (¢ per share)").fill("40")
    await bob.get_by_label("Quantity (shares)").fill("10")
    await bob.get_by_test_id("order-submit").click()
    await expect(bob.get_by_role("status").filter(has_text="resting at 40")).to_be_visible()
    book = bob.get_by_test_id("order-book")
    await expect(book.locator("tr.bid")).to_contain_text("40¢")
    await expect(bob.get_by_test_id("one-book-hint")).to_contain_text("mirror")
    await expect_mirrored_ask(bob, "No", 60, "+10 via Yes")
    await expect(book.locator("tr.bid")).to_have_count(0)
