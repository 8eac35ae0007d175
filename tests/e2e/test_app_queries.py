"""Every GraphQL document the web app sends (``js/queries.js``, built by the browser
itself) is valid against the schema and within the server's cost limit, so a field
added to a shared selection cannot quietly push a page's query over it."""

from __future__ import annotations

from pathlib import Path

from graphql import build_schema, parse, validate

from schema.cost import cost_error
from tests.e2e.conftest import ContextFactory, LiveServer
from web.settings import AppSettings

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = """async () => Object.entries(await import('/static/js/queries.js'))
  .filter(([, text]) => typeof text === 'string'
    && /^\\s*(query|mutation|subscription)\\b/.test(text))"""


async def test_every_document_the_app_sends_is_valid_and_within_the_cost_limit(
    server: LiveServer, new_context: ContextFactory
) -> None:
    page = await (await new_context()).new_page()
    await page.goto(server.url)
    documents: list[list[str]] = await page.evaluate(DOCUMENTS)
    schema = build_schema((ROOT / "schema" / "schema.graphql").read_text())
    max_cost = AppSettings().limits.max_cost
    assert len(documents) > 30
    for name, text in documents:
        document = parse(text)
        assert validate(schema, document) == [], name
        assert cost_error(schema, document, max_cost) is None, name
