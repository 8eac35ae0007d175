"""What a trader expects of the web app (issue 19), in Chromium against the real server."""

from __future__ import annotations

from urllib.parse import urlparse

from playwright.async_api import Route, expect

from tests.api.test_webapp_api import graphiql_installed
from tests.e2e.conftest import ContextFactory, LiveServer


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
