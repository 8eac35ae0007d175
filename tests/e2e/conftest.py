"""Fixtures for the browser tests: the real server and Debian's Chromium.

The server is the API tests' fixture (uvicorn on a free port, a fresh SQLite
file, demo data off). Without Chromium the tests skip, unless
``BELLWETHER_REQUIRE_BROWSER=1`` (CI), where that is a failure.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import pytest

from tests.api.conftest import LiveServer, server, settings
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, browser_missing

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext

__all__ = ["ContextFactory", "LiveServer", "browser", "new_context", "server", "settings"]

ContextFactory = Callable[[], Awaitable["BrowserContext"]]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    problem = browser_missing()
    if problem is not None:
        if os.environ.get("BELLWETHER_REQUIRE_BROWSER") == "1":
            pytest.fail(f"BELLWETHER_REQUIRE_BROWSER=1 but {problem}")
        pytest.skip(problem)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def new_context(browser: Browser) -> AsyncIterator[ContextFactory]:
    """A factory of fresh browser contexts (separate people: own localStorage)."""
    contexts: list[BrowserContext] = []

    async def make() -> BrowserContext:
        context = await browser.new_context(viewport=DESKTOP)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        await context.close()
