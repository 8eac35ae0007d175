"""Hybrid markets in the web app (issue 16): limit orders resting beside an LMSR market
maker, shown as a small book, in Chromium against the real server."""

from __future__ import annotations

import re

from playwright.async_api import ConsoleMessage, Page, expect

from tests.api.conftest import Api, api
from tests.api.ops import create_market
from tests.e2e.conftest import ContextFactory, LiveServer
from tests.e2e.ui import expect_mirrored_ask, log_in

__all__ = ["api"]

SPLIT = re.compile(
    r"\d+ shares from the market maker for \$[\d.]+, \d+ from resting orders for \$[\d.]+\.$"
)


async def lmsr_market(api: Api, title: str) -> str:
    _, creator = await api.user("creator")
    return str((await create_market(api, creator, "LMSR", title=title))["id"])


async def place_limit_order(
    page: Page, outcome: str, side: str, cents: int, shares: int, time_in_force: str = "GTC"
) -> None:
    """Through the market page's "Limit order" tab."""
    await page.get_by_role("button", name="Limit order", exact=True).click()
    ticket = page.get_by_test_id("order-ticket")
    await ticket.get_by_label("Outcome").select_option(label=outcome)
    await ticket.get_by_role("button", name=side, exact=True).click()
    await ticket.get_by_label("Limit price (¢ per share)").fill(str(cents))
    await ticket.get_by_label("Quantity (shares)").fill(str(shares))
    await ticket.get_by_label("Time in force").select_option(time_in_force)
    await ticket.get_by_test_id("order-submit").click()


def watch_policy(page: Page) -> list[str]:
    """Content-Security-Policy violations on ``page`` (Chromium logs them to the console)."""
    refused: list[str] = []

    def seen(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", seen)
    return refused


async def test_a_limit_order_on_an_lmsr_market_rests_in_its_small_book_until_cancelled(
    api: Api, server: LiveServer, new_context: ContextFactory
) -> None:
    market_id = await lmsr_market(api, "Will the hybrid page rest a limit order?")
    await api.user("alice")
    page = await (await new_context()).new_page()
    refused = watch_policy(page)
    await log_in(page, server.url, "alice", f"/market/{market_id}")
    book = page.get_by_test_id("order-book")
    await expect(page.get_by_role("heading", name="Resting orders")).to_be_visible()
    await expect(book).to_contain_text("No resting bids")

    await place_limit_order(page, "No", "Buy", 45, 10)
    await expect(page.get_by_role("status").filter(has_text="Order placed")).to_have_text(
        "Order placed: 10 No resting at 45¢."
    )
    await expect(book.locator("tr.bid")).to_contain_text("45¢")  # the book follows the ticket
    await expect(page.get_by_test_id("header-balance")).to_have_text("$995.50")
    await expect_mirrored_ask(page, "Yes", 55, "+10 via No")

    orders = page.get_by_test_id("open-orders")
    await expect(orders).to_contain_text("45¢")
    await orders.get_by_role("button", name="Cancel buy 10 No at 45 cents").click()
    await expect(page.get_by_text("No open orders.")).to_be_visible()
    await expect(book).to_contain_text("No resting asks")
    await expect(page.get_by_test_id("header-balance")).to_have_text("$1,000.00")
    assert refused == []


async def test_a_rejected_limit_order_says_why_with_its_code(
    api: Api, server: LiveServer, new_context: ContextFactory
) -> None:
    market_id = await lmsr_market(api, "Will the hybrid page refuse a naked sale?")
    await api.user("alice")
    page = await (await new_context()).new_page()
    await log_in(page, server.url, "alice", f"/market/{market_id}")
    await place_limit_order(page, "Yes", "Sell", 60, 5)
    error = page.locator("#order-error")
    await expect(error).to_contain_text("INSUFFICIENT_SHARES")
    await expect(page.get_by_test_id("order-book")).to_contain_text("No resting asks")


async def test_a_trade_now_takes_a_cheaper_resting_order_and_says_how_it_split(
    api: Api, server: LiveServer, new_context: ContextFactory
) -> None:
    """A bid for No at 45¢ is an ask for Yes at 55¢: a Yes buyer gets the market maker's
    shares up to 55¢, then that order's 10, then the market maker's again."""
    market_id = await lmsr_market(api, "Will the hybrid page route a trade?")
    await api.user("alice")
    await api.user("bob")
    alice = await (await new_context()).new_page()
    refused = watch_policy(alice)
    await log_in(alice, server.url, "alice", f"/market/{market_id}")
    await place_limit_order(alice, "No", "Buy", 45, 10)
    await expect(alice.get_by_test_id("open-orders")).to_contain_text("0 / 10")

    bob = await (await new_context()).new_page()
    refused += watch_policy(bob)
    await log_in(bob, server.url, "bob", f"/market/{market_id}")
    book = bob.get_by_test_id("order-book")
    choices = bob.get_by_role("group", name="Outcome to trade")  # the book follows the choice
    await choices.get_by_role("button", name=re.compile("^No")).click()
    await expect(book.locator("tr.bid")).to_contain_text("45¢")
    await choices.get_by_role("button", name=re.compile("^Yes")).click()
    await expect(book.locator("tr.ask.synthetic")).to_contain_text("55¢")
    await bob.get_by_label("Spend ($)").fill("20")
    split = bob.get_by_test_id("quote-split")
    await expect(split).to_have_text(SPLIT)
    await expect(split).to_contain_text("10 from resting orders for $5.50.")
    await bob.get_by_test_id("ticket-submit").click()
    result = bob.get_by_role("status").filter(has_text="Bought")
    await expect(result).to_contain_text("10 from resting orders for $5.50.")
    await expect(result).to_have_text(
        re.compile(r"^Bought \d+ Yes for \$[\d.]+\. " + SPLIT.pattern)
    )
    await expect(book).to_contain_text("No resting asks")

    await expect(alice.get_by_test_id("order-news")).to_have_text(
        "Your buy order for No is filled."
    )
    await expect(alice.get_by_text("No open orders.")).to_be_visible()
    await expect(alice.get_by_test_id("my-position")).to_contain_text("No")
    assert refused == []


async def test_an_ioc_limit_order_takes_the_market_maker_up_to_its_price_and_says_about_how_much(
    api: Api, server: LiveServer, new_context: ContextFactory
) -> None:
    """The maker's price walks from 50¢ to 55¢ over 20 shares; a fill from the maker
    carries its average rounded to the cent, so the page says "about"."""
    market_id = await lmsr_market(api, "Will the hybrid page fill from the maker?")
    await api.user("alice")
    page = await (await new_context()).new_page()
    await log_in(page, server.url, "alice", f"/market/{market_id}")
    await place_limit_order(page, "Yes", "Buy", 55, 30, "IOC")
    await expect(page.get_by_role("status").filter(has_text="Bought")).to_have_text(
        "Bought 20 Yes at an average of about 52.0¢ (cost about $10.40). "
        "The other 10 were cancelled (immediate or cancel)."
    )
    await expect(page.get_by_test_id("my-position")).to_contain_text("20")
    await expect(page.get_by_text("No open orders.")).to_be_visible()
