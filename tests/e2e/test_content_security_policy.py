"""The web app and GraphiQL under their Content-Security-Policy in Chromium: nothing
they need is blocked (a violation shows as a console message)."""

from __future__ import annotations

from playwright.async_api import ConsoleMessage, expect
from strawberry.http.ides import get_graphql_ide_html

from tests.e2e.conftest import ContextFactory, LiveServer
from web import graphiql_assets


def violations(messages: list[ConsoleMessage]) -> list[str]:
    return [m.text for m in messages if "Content Security Policy" in m.text]


async def test_the_web_app_runs_under_its_policy(
    server: LiveServer, new_context: ContextFactory
) -> None:
    page = await (await new_context()).new_page()
    messages: list[ConsoleMessage] = []
    page.on("console", lambda message: messages.append(message))
    response = await page.goto(server.url)
    assert response is not None and "content-security-policy" in response.headers
    await expect(page.get_by_role("heading", name="Markets", level=1)).to_be_visible()
    await expect(page.locator("#live-status")).to_have_text("")  # the WebSocket is up
    assert violations(messages) == []


async def test_graphiql_runs_under_its_policy(
    server: LiveServer, new_context: ContextFactory
) -> None:
    """Where its files are installed (``make graphiql``, as ``make test`` does) GraphiQL
    renders; anywhere, nothing on its page is refused by the policy."""
    page = await (await new_context()).new_page()
    messages: list[ConsoleMessage] = []
    page.on("console", lambda message: messages.append(message))
    await page.goto(f"{server.url}/graphql", wait_until="load")
    if not graphiql_assets.missing(get_graphql_ide_html("graphiql")):
        await expect(page.get_by_test_id("graphiql-container")).to_be_visible()
    assert violations(messages) == []
