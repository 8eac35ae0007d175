"""Screenshots of the web app for the docs: ``python tests/e2e/screenshots.py``.

Starts the real server on a temporary SQLite file, fills it through the
GraphQL API with a few markets and three days of simulated trading (the
service clock is moved back in time while seeding so the charts have a
history), then photographs the main pages with Debian's Chromium at desktop
and phone width into ``docs/screenshots/``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from playwright.async_api import Page, async_playwright  # noqa: E402

from tests.api.conftest import free_port  # noqa: E402
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE  # noqa: E402
from tests.harness import FakeHasher  # noqa: E402
from web.app import create_app  # noqa: E402
from web.settings import AppSettings  # noqa: E402

PASSWORD = "correct horse battery"
HISTORY = timedelta(hours=72)


class TimeMachine:
    """Stands in for the service clock while seeding: now = real now - offset."""

    def __init__(self) -> None:
        self.offset = HISTORY

    def now(self) -> datetime:
        return datetime.now(UTC) - self.offset


class Seeder:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    async def call(self, query: str, variables: dict[str, Any], user: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        body = {"query": query, "variables": variables}
        result = (await self.client.post("/graphql", json=body, headers=headers)).json()
        if result.get("errors"):
            raise RuntimeError(f"{query.split('(')[0]}: {result['errors'][0]['message']}")
        return result["data"]

    async def user(self, name: str) -> None:
        await self.call(
            "mutation($i: RegisterInput!) { register(input: $i) { id } }",
            {"i": {"username": name, "email": f"{name}@example.com", "password": PASSWORD}},
        )
        data = await self.call(
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) "
            "{ accessToken } }",
            {"u": name, "p": PASSWORD},
        )
        self.tokens[name] = data["login"]["accessToken"]

    async def market(self, user: str, **spec: Any) -> dict[str, Any]:
        spec.setdefault("closesAt", (datetime.now(UTC) + timedelta(days=40)).isoformat())
        data = await self.call(
            "mutation($i: CreateMarketInput!) { createMarket(input: $i) "
            "{ id outcomes { id name } } }",
            {"i": spec},
            user,
        )
        market: dict[str, Any] = data["createMarket"]
        return market

    async def lmsr(
        self, user: str, market: dict[str, Any], side: str, cents: int, i: int = 0
    ) -> None:
        await self.call(
            "mutation($i: LmsrTradeInput!) { lmsrTrade(input: $i) { sharesDelta } }",
            {
                "i": {
                    "marketId": market["id"],
                    "outcomeId": market["outcomes"][i]["id"],
                    "side": side,
                    "amountType": "SPEND",
                    "amount": cents,
                }
            },
            user,
        )

    async def mint(self, user: str, market: dict[str, Any], quantity: int) -> None:
        await self.call(
            "mutation($m: ID!, $q: Int!) { mintCompleteSet(marketId: $m, quantity: $q) "
            "{ quantity } }",
            {"m": market["id"], "q": quantity},
            user,
        )

    async def order(
        self, user: str, market: dict[str, Any], side: str, price: int, qty: int, i: int = 0
    ) -> None:
        await self.call(
            "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }",
            {
                "i": {
                    "marketId": market["id"],
                    "outcomeId": market["outcomes"][i]["id"],
                    "side": side,
                    "orderType": "LIMIT",
                    "priceCents": price,
                    "quantity": qty,
                }
            },
            user,
        )


async def seed(seeder: Seeder, clock: TimeMachine) -> dict[str, str]:
    """Markets and trading; returns market ids by role."""
    rng = random.Random(7)
    for name in ("alice", "bob", "carol", "dave", "erin"):
        await seeder.user(name)
    python = await seeder.market(
        "alice",
        title="Will Python 4.0 be released before 2030?",
        description="Resolves YES if the PSF publishes a final Python 4.0 release.",
        marketType="LMSR",
        outcomes=["Yes", "No"],
        liquidityParameter=150,
        resolutionSource="https://www.python.org/downloads/",
    )
    survey = await seeder.market(
        "carol",
        title="Which language tops the 2027 developer survey?",
        marketType="LMSR",
        outcomes=["Python", "JavaScript", "TypeScript", "Rust"],
        liquidityParameter=120,
        feeBps=100,
    )
    snow = await seeder.market(
        "bob",
        title="Will it snow in Paris on New Year's Day?",
        marketType="ORDER_BOOK",
        outcomes=["Yes", "No"],
        resolutionSource="Météo-France, Paris-Montsouris station",
    )
    mars = await seeder.market(
        "dave",
        title="Will a crewed mission land on Mars before 2035?",
        marketType="ORDER_BOOK",
        outcomes=["Yes", "No"],
    )
    ecb = await seeder.market(
        "erin",
        title="Will the ECB cut rates at its March meeting?",
        marketType="LMSR",
        outcomes=["Yes", "No"],
        liquidityParameter=80,
    )
    traders = ["bob", "carol", "dave", "erin"]
    steps = 60
    for step in range(steps):
        clock.offset = HISTORY * (1 - step / steps)
        drift = "BUY_YES" if rng.random() < 0.58 else "BUY_NO"
        await seeder.lmsr(rng.choice(traders), python, drift, rng.randint(300, 2500))
        pick = rng.choices([0, 1, 2, 3], weights=[5, 3, 2, 1])[0]
        await seeder.lmsr(rng.choice(traders), survey, "BUY_YES", rng.randint(200, 1800), pick)
        if step % 3 == 0:
            side = "BUY_YES" if rng.random() < 0.7 else "BUY_NO"
            await seeder.lmsr(rng.choice(traders), ecb, side, rng.randint(400, 2000))
    clock.offset = timedelta(hours=6)
    for user in ("alice", "carol", "erin"):
        await seeder.mint(user, snow, 200)
        await seeder.mint(user, mars, 100)
    for price, qty, user in (
        (42, 25, "alice"),
        (44, 40, "carol"),
        (47, 60, "erin"),
        (51, 30, "alice"),
    ):
        await seeder.order(user, snow, "SELL", price, qty)
    for price, qty, user in ((39, 30, "bob"), (37, 45, "dave"), (35, 80, "bob"), (30, 120, "dave")):
        await seeder.order(user, snow, "BUY", price, qty)
    await seeder.order("bob", snow, "BUY", 42, 15)
    await seeder.order("dave", snow, "BUY", 44, 10)
    for price, qty, user in ((58, 20, "erin"), (63, 35, "carol")):
        await seeder.order(user, snow, "SELL", price, qty, 1)
    for price, qty, user in ((52, 25, "bob"), (49, 40, "dave")):
        await seeder.order(user, snow, "BUY", price, qty, 1)
    await seeder.order("alice", mars, "SELL", 18, 30)
    await seeder.order("bob", mars, "BUY", 12, 50)
    await seeder.order("bob", mars, "BUY", 18, 10)
    clock.offset = timedelta(0)
    await seeder.call(
        "mutation($m: ID!, $w: ID!) { resolveMarket(id: $m, winningOutcomeId: $w) "
        "{ totalPayoutCents } }",
        {"m": ecb["id"], "w": ecb["outcomes"][0]["id"]},
        "erin",
    )
    return {"lmsr": python["id"], "multi": survey["id"], "book": snow["id"]}


async def log_in(page: Page, base: str, user: str) -> None:
    await page.goto(f"{base}/#/login")
    await page.get_by_label("Username").fill(user)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_test_id("header-balance").wait_for()


async def shoot(page: Page, url: str, path: Path, ready: str, full: bool = True) -> None:
    await page.goto(url)
    await page.locator(ready).first.wait_for()
    await page.wait_for_timeout(700)  # live socket up, quote in
    await page.mouse.move(0, 0)
    await page.screenshot(path=str(path), full_page=full)
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


async def photograph(base: str, ids: dict[str, str], out: Path) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        for label, viewport in (("", DESKTOP), ("-phone", PHONE)):
            context = await browser.new_context(viewport=viewport, device_scale_factor=1)
            page = await context.new_page()
            await log_in(page, base, "bob")
            await shoot(page, f"{base}/#/", out / f"markets{label}.png", ".market-card")
            lmsr = f"{base}/#/market/{ids['lmsr']}"
            await shoot(page, lmsr, out / f"market-lmsr{label}.png", ".quote-list")
            book = f"{base}/#/market/{ids['book']}"
            await shoot(page, book, out / f"market-orderbook{label}.png", "tr.bid")
            portfolio = out / f"portfolio{label}.png"
            await shoot(page, f"{base}/#/portfolio", portfolio, "table.data", full=not label)
            if not label:
                multi = f"{base}/#/market/{ids['multi']}"
                await shoot(page, multi, out / "market-multi.png", ".quote-list")
            await context.close()
        await browser.close()


async def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = AppSettings(
            database_url=f"sqlite:///{Path(tmp) / 'shots.db'}",
            jwt_secret="screenshots-" + "x" * 40,
            demo=False,
        )
        app = create_app(settings, hasher=FakeHasher())
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio"
            )
        )
        task = asyncio.create_task(server.serve())
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.02)
        assert server.started, "uvicorn did not start"
        clock = TimeMachine()
        # The seeding travels in time: the service clock is replaced for its duration.
        app.state.bellwether.backend.services.clock.now = clock.now
        base = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                ids = await seed(Seeder(client), clock)
            await photograph(base, ids, out)
        finally:
            server.should_exit = True
            await task


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    out_dir: Path = parser.parse_args().out
    out_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(out_dir))
