"""A scalar market in the browser: created through the form, traded, resolved to a
number, and settled in the holder's portfolio (PRODUCT.md section 12)."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.e2e.conftest import ContextFactory, LiveServer
from tests.e2e.ui import cents, register

BOUGHT = re.compile(r"Bought (\d+) (\w+) for (\$[\d,.]+)\.")


async def test_scalar_market_is_created_resolved_to_a_value_and_settled(
    server: LiveServer, new_context: ContextFactory
) -> None:
    alice = await (await new_context()).new_page()
    errors: list[str] = []
    alice.on("pageerror", lambda error: errors.append(str(error)))
    await register(alice, server.url, "alice")
    await alice.get_by_role("link", name="Create", exact=True).click()
    await alice.get_by_label("Question").fill("What will the unemployment rate be in June?")
    await alice.get_by_label("A number (scalar market)").check()
    await expect(alice.get_by_label("Outcome name").first).to_be_hidden()
    await alice.get_by_label("Lower bound").fill("0")
    await alice.get_by_label("Upper bound").fill("10")
    await alice.get_by_label("Unit (optional)").fill("%")
    await alice.get_by_role("button", name="Create market").click()
    await expect(alice).to_have_url(re.compile(r"#/market/\w+"))
    market_id = alice.url.rsplit("/", 1)[1]
    await expect(alice.get_by_text("0 % to 10 %")).to_be_visible()

    dave = await (await new_context()).new_page()
    await register(dave, server.url, "dave")
    await dave.goto(f"{server.url}/#/market/{market_id}")
    await dave.get_by_label("Spend ($)").fill("10")
    await expect(dave.get_by_test_id("quote")).to_contain_text("Pays if right")
    await dave.get_by_test_id("ticket-submit").click()
    result = dave.get_by_role("status").filter(has_text="Bought")
    await expect(result).to_have_text(BOUGHT)
    shares, side, paid = BOUGHT.search(await result.inner_text()).groups()  # type: ignore[union-attr]
    assert side == "Long"

    await alice.reload()
    await alice.get_by_test_id("resolve-value").fill("2.55")
    await alice.get_by_test_id("resolve-scalar").click()
    await alice.get_by_role("dialog").get_by_role("button", name="Resolve").click()
    banner = alice.get_by_test_id("resolution")
    await expect(banner).to_contain_text("Resolved 2.55 %")
    await expect(banner).to_contain_text("Long 26¢, Short 74¢")

    await dave.get_by_role("link", name="Portfolio").click()
    settled = dave.get_by_test_id("settlements")
    await expect(settled).to_contain_text("Long")
    payout = 26 * int(shares)
    await expect(settled).to_contain_text(f"${payout / 100:,.2f}")
    pnl = payout - cents(paid)
    sign = "+" if pnl > 0 else "\u2212"  # the app writes a minus sign
    await expect(dave.get_by_test_id("realized")).to_have_text(f"{sign}${abs(pnl) / 100:,.2f}")
    assert errors == []
