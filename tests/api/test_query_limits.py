"""What a request may cost, over real HTTP and WebSocket (issue 12, items 2, 3 and 8):
a query cost limit and a time limit, selection sets bounded before validation, and
the same refusals over both WebSocket protocols."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from schema.cost import MAX_FIELDS_PER_SET, MAX_REPEATS
from tests.api import ops
from tests.api.conftest import Api, LiveServer
from tests.api.wsclient import LEGACY_WS, TRANSPORT_WS, error_codes, live_client
from web.settings import AppSettings, QueryLimits

NESTED_TRADES = """query($id: ID!) { market(id: $id) { recentTrades(first: 100) {
  market { recentTrades(first: 100) { market { recentTrades(first: 100) { id } } } } } } }"""


async def _market(api: Api) -> tuple[str, dict[str, Any]]:
    _, alice = await api.user("alice")
    return alice, await ops.create_market(api, alice)


async def test_lists_nested_in_lists_are_too_complex(api: Api) -> None:
    _, market = await _market(api)
    assert await api.error_code(NESTED_TRADES, {"id": market["id"]}) == "QUERY_TOO_COMPLEX"
    one_level = "query($id: ID!) { market(id: $id) { recentTrades(first: 100) { id } } }"
    assert await api.data(one_level, {"id": market["id"]}) == {"market": {"recentTrades": []}}


async def test_aliases_count_and_sizes_from_variables_count_at_their_most(api: Api) -> None:
    _, market = await _market(api)
    page = "edges { node { id outcomes { id name price } creator { id username } } }"
    each = f"markets(first: 100) {{ {page} }}"
    one = await api.run(f"{{ {each} }}")
    assert "errors" not in one
    aliased = "{ " + " ".join(f"a{i}: {each}" for i in range(4)) + " }"
    assert await api.error_code(aliased) == "QUERY_TOO_COMPLEX"
    variable = (
        "query($n: Int) { market(id: "
        f'"{market["id"]}") {{ priceHistory(first: $n) {{ at prices }} '
        "recentTrades(first: 100) { id market { recentTrades(first: $n) { id } } } } }"
    )
    assert await api.error_code(variable, {"n": 1}) == "QUERY_TOO_COMPLEX"


@pytest.mark.parametrize("unique", [False, True])
async def test_a_selection_set_too_wide_to_validate_is_refused_first(
    api: Api, unique: bool
) -> None:
    """~500 repeated fields kept the overlapping-fields rule busy for seconds, and a
    unique comment made every copy a cache miss; both are refused before that rule."""
    comment = "# a comment of its own\n" if unique else ""
    repeated = comment + "{ markets { edges { node { " + "creator { id } " * 300 + "} } } }"
    assert await api.error_code(repeated) == "QUERY_TOO_COMPLEX"
    wide = comment + "{ me { " + "id " * (MAX_FIELDS_PER_SET + 1) + "} }"
    assert await api.error_code(wide) == "QUERY_TOO_COMPLEX"
    fragments = comment + "fragment F on User { id }\n{ me { " + "...F " * (MAX_REPEATS + 1) + "} }"
    assert await api.error_code(fragments) == "QUERY_TOO_COMPLEX"
    assert await api.data("{ me { id ...F } } fragment F on User { id }") == {"me": None}


@pytest.fixture
def timeout_seconds() -> int:
    return QueryLimits().query_timeout_seconds


@pytest.fixture
def settings(settings: AppSettings, timeout_seconds: int) -> AppSettings:
    return replace(settings, limits=QueryLimits(query_timeout_seconds=timeout_seconds))


@pytest.mark.parametrize("timeout_seconds", [0])
async def test_a_query_over_the_time_limit_is_cut_off_but_a_mutation_is_not(api: Api) -> None:
    _, alice = await api.user("alice")  # a mutation: runs to its end whatever the limit
    query = "{ a: markets { totalCount } b: markets { totalCount } }"
    assert await api.error_code(query, token=alice) == "QUERY_TOO_COMPLEX"


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_limits_over_a_websocket_answer_with_an_error_message(
    server: LiveServer, api: Api, protocol: str
) -> None:
    """As over HTTP: over the token limit, the cost limit, a selection set too wide."""
    _, market = await _market(api)
    feed = f'subscription {{ marketPrices(marketId: "{market["id"]}") {{ {{}} }} }}'
    too_long = feed.replace("{}", "prices " * 2100)
    nested = "recentTrades(first: 100) { market { recentTrades(first: 100) { id } } }"
    too_costly = (
        f'subscription {{ marketTrades(marketId: "{market["id"]}") {{ market {{ {nested} }} }} }}'
    )
    too_wide = feed.replace("{}", "prices " * (MAX_FIELDS_PER_SET + 1))
    documents = [too_long, too_costly, too_wide]
    if protocol == TRANSPORT_WS:  # the legacy protocol carries subscriptions only
        documents.append(NESTED_TRADES)
    async with live_client(server.ws_url, protocol=protocol) as client:
        for number, document in enumerate(documents):
            await client.subscribe(str(number), document, {"id": market["id"]})
            message = await client.message()
            assert message["type"] == "error", message
            assert error_codes({"errors": _errors(message)}) == ["QUERY_TOO_COMPLEX"], message
        if protocol == LEGACY_WS:
            await client.subscribe("query", "{ __typename }", {})
            message = await client.message()
            assert error_codes({"errors": _errors(message)}) == ["BAD_USER_INPUT"], message


def _errors(message: dict[str, Any]) -> list[dict[str, Any]]:
    payload = message["payload"]
    return payload if isinstance(payload, list) else [payload]
