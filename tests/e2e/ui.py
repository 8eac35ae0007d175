"""What a person does in the web app, as small steps for the browser tests."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

PASSWORD = "correct horse battery"


def cents(text: str) -> int:
    """'$1,234.56' -> 123456."""
    match = re.search(r"(-?)\$([\d,]+)\.(\d\d)", text)
    assert match, f"no dollar amount in {text!r}"
    value = int(match.group(2).replace(",", "")) * 100 + int(match.group(3))
    return -value if match.group(1) else value


async def register(page: Page, base_url: str, username: str) -> None:
    """Sign up through the form; lands signed in on the market list."""
    await page.goto(f"{base_url}/#/register")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Email").fill(f"{username}@example.com")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_test_id("header-balance")).to_have_text("$1,000.00")


async def header_balance(page: Page) -> int:
    return cents(await page.get_by_test_id("header-balance").inner_text())


async def create_market(
    page: Page, title: str, market_type: str, outcomes: tuple[str, ...] = ("Yes", "No")
) -> str:
    """Fill the create form; returns the new market's id (from the URL)."""
    await page.get_by_role("link", name="Create", exact=True).click()
    await page.get_by_label("Question").fill(title)
    mechanism = "Market maker (LMSR)" if market_type == "LMSR" else "Order book"
    await page.get_by_role("button", name=mechanism).click()
    names = page.get_by_label("Outcome name")
    for index, name in enumerate(outcomes):
        if index >= await names.count():
            await page.get_by_role("button", name="Add outcome").click()
        await names.nth(index).fill(name)
    await page.get_by_role("button", name="Create market").click()
    await expect(page).to_have_url(re.compile(r"#/market/\w+"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    return page.url.rsplit("/", 1)[1]


async def expect_mirrored_ask(page: Page, outcome: str, cents: int, via: str) -> None:
    """Show ``outcome``'s book: another outcome's bid stands there as a marked ask."""
    tabs = page.get_by_role("group", name="Outcome", exact=True)
    await tabs.get_by_role("button", name=outcome).click()
    mirrored = page.get_by_test_id("order-book").locator("tr.ask.synthetic")
    await expect(mirrored).to_contain_text(f"{cents}¢")
    await expect(mirrored.get_by_test_id("synthetic")).to_have_text(via)


async def log_in(page: Page, base_url: str, username: str, path: str = "/") -> None:
    """Log in through the form (a user registered through the API), then open ``path``."""
    await page.goto(f"{base_url}/#/login")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_test_id("header-balance")).to_be_visible()
    await page.goto(f"{base_url}/#{path}")
