"""hypothesis-graphql against a live ``bellwether serve`` (a real uvicorn process) over HTTP.

Positive mode (documents valid against the schema, random arguments) and
negative mode (each document breaks the schema once), for queries and
mutations, signed in and anonymous. Every response must be data or errors that
all carry a contract code: no 5xx, no ``INTERNAL_SERVER_ERROR``, no stack trace.
(``tests/api/test_fuzz.py`` fuzzes the app in process; this goes through the
server's HTTP stack, middleware and a real socket.) ``BELLWETHER_FUZZ_EXAMPLES``
sets the examples per test (default 100; ``make reliability`` runs 1,000).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import hypothesis_graphql
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode

from bench import load
from bench.load_ops import classify
from tests.api.test_fuzz import DATETIMES, LOGIN, SDL

EXAMPLES = int(os.environ.get("BELLWETHER_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
BAD = ("http-5xx", "not-graphql", "uncoded", "stack-trace", "INTERNAL_SERVER_ERROR")


class Target:
    def __init__(self, http: httpx.Client, token: str) -> None:
        self.http = http
        self.token = token

    def check(self, query: str, signed_in: bool) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if signed_in else {}
        response = self.http.post("/graphql", json={"query": query}, headers=headers)
        result, _ = classify(response.status_code, response.text)
        assert result not in BAD, f"{query}\n-> {response.status_code} {response.text[:500]}"


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """``bellwether serve`` on the in-memory store with the demo data."""
    directory: Path = tmp_path_factory.mktemp("fuzz")
    env = {**load.server_env("memory://"), "BELLWETHER_DEMO": "1"}
    server = load.Server(env, 1, directory / "server.log")
    with load.running(server):
        asyncio.run(server.wait_ready())
        with httpx.Client(base_url=server.url, timeout=30) as http:
            token = http.post("/graphql", json={"query": LOGIN}).json()
            yield Target(http, token["data"]["login"]["accessToken"])


def documents(kind: str, mode: Mode) -> st.SearchStrategy[str]:
    make = hypothesis_graphql.queries if kind == "query" else hypothesis_graphql.mutations
    return make(SDL, custom_scalars=DATETIMES, mode=mode)


@FUZZ
@given(query=documents("query", Mode.POSITIVE), signed_in=st.booleans())
def test_valid_queries_over_http(target: Target, query: str, signed_in: bool) -> None:
    target.check(query, signed_in)


@FUZZ
@given(query=documents("query", Mode.NEGATIVE), signed_in=st.booleans())
def test_invalid_queries_over_http(target: Target, query: str, signed_in: bool) -> None:
    target.check(query, signed_in)


@FUZZ
@given(query=documents("mutation", Mode.POSITIVE), signed_in=st.booleans())
def test_valid_mutations_over_http(target: Target, query: str, signed_in: bool) -> None:
    target.check(query, signed_in)


@FUZZ
@given(query=documents("mutation", Mode.NEGATIVE), signed_in=st.booleans())
def test_invalid_mutations_over_http(target: Target, query: str, signed_in: bool) -> None:
    target.check(query, signed_in)
