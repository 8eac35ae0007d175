"""Fuzzing the served schema with hypothesis-graphql: no 5xx, no internal error, every
error has a contract code. Runs on the in-memory backend with demo data."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import graphql
import httpx
import hypothesis_graphql
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schema.errors import CONTRACT_CODES
from tests.api.conftest import SECRET
from tests.harness import FakeHasher
from web.app import create_app
from web.settings import AppSettings

SDL = (Path(__file__).resolve().parents[2] / "schema" / "schema.graphql").read_text()
LOGIN = 'mutation { login(username: "alice", password: "demo-password") { accessToken } }'
DATETIMES = {
    "DateTime": st.one_of(
        st.sampled_from(["2031-01-01T00:00:00Z", "2001-01-01T00:00:00", "not a date"]),
        st.text(max_size=30),
    ).map(lambda text: graphql.StringValueNode(value=text))
}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


class Driver:
    """The app with its lifespan on a private event loop, driven from sync tests."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.stack = AsyncExitStack()
        app = create_app(
            AppSettings(database_url="memory://", jwt_secret=SECRET, demo=True),
            hasher=FakeHasher(),
        )
        self.loop.run_until_complete(
            self.stack.enter_async_context(app.router.lifespan_context(app))
        )
        transport = httpx.ASGITransport(app=app)
        client = httpx.AsyncClient(transport=transport, base_url="http://fuzz")
        self.client = self.loop.run_until_complete(self.stack.enter_async_context(client))
        self.token = self.post(LOGIN, None).json()["data"]["login"]["accessToken"]

    def post(self, query: str, token: str | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        request = self.client.post("/graphql", json={"query": query}, headers=headers)
        return self.loop.run_until_complete(request)

    def close(self) -> None:
        self.loop.run_until_complete(self.stack.aclose())
        self.loop.close()


@pytest.fixture(scope="module")
def driver() -> Iterator[Driver]:
    running = Driver()
    yield running
    running.close()


def check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    for error in response.json().get("errors") or []:
        assert (error.get("extensions") or {}).get("code") in CONTRACT_CODES, error


@FUZZ
@given(query=hypothesis_graphql.queries(SDL, custom_scalars=DATETIMES), signed_in=st.booleans())
def test_random_queries_never_fail_internally(driver: Driver, query: str, signed_in: bool) -> None:
    check(driver.post(query, driver.token if signed_in else None))


@FUZZ
@given(query=hypothesis_graphql.mutations(SDL, custom_scalars=DATETIMES))
def test_random_mutations_never_fail_internally(driver: Driver, query: str) -> None:
    check(driver.post(query, driver.token))
