"""Screenshots of the web app for the docs: ``python tests/e2e/screenshots.py``.

Starts the real server on a temporary SQLite file with the demo data that
``make run`` seeds (``web/seed.py``: six markets, three days of trading), then
photographs the main pages with Debian's Chromium at desktop and phone width
into ``docs/screenshots/``, signed in as the demo trader ``bob``. GraphiQL is
photographed too when its files are installed (``make graphiql``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from playwright.async_api import Page, async_playwright  # noqa: E402
from strawberry.http.ides import get_graphql_ide_html  # noqa: E402

from tests.api.conftest import free_port  # noqa: E402
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE  # noqa: E402
from tests.harness import FakeHasher  # noqa: E402
from web.app import create_app  # noqa: E402
from web.graphiql_assets import missing  # noqa: E402
from web.seed import DEMO_PASSWORD  # noqa: E402
from web.settings import AppSettings  # noqa: E402

ROLES = {
    "lmsr": "Will Python 4.0 be released before 2030?",
    "multi": "Which language tops the 2027 developer survey?",
    "book": "Will it snow in Paris on New Year's Day?",
}


async def demo_ids(base: str) -> dict[str, str]:
    """The demo markets' ids, by the role they play in the screenshots."""
    query = "{ markets(first: 100) { edges { node { id title } } } }"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        body = (await client.post("/graphql", json={"query": query})).json()
    by_title = {e["node"]["title"]: e["node"]["id"] for e in body["data"]["markets"]["edges"]}
    return {role: by_title[title] for role, title in ROLES.items()}


async def log_in(page: Page, base: str, user: str) -> None:
    await page.goto(f"{base}/#/login")
    await page.get_by_label("Username").fill(user)
    await page.get_by_label("Password").fill(DEMO_PASSWORD)
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
                if not missing(get_graphql_ide_html("graphiql")):
                    ide = out / "graphiql.png"
                    await shoot(page, f"{base}/graphql", ide, ".graphiql-query-editor", full=False)
            await context.close()
        await browser.close()


async def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = AppSettings(
            database_url=f"sqlite:///{Path(tmp) / 'shots.db'}",
            jwt_secret="screenshots-" + "x" * 40,
            demo=True,
            gc_freeze=False,
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
        base = f"http://127.0.0.1:{port}"
        try:
            await photograph(base, await demo_ids(base), out)
        finally:
            server.should_exit = True
            await task


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    out_dir: Path = parser.parse_args().out
    out_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(out_dir))
