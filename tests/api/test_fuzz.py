"""Fuzzing the served schema with hypothesis-graphql: no 5xx, no internal error, every
error has a contract code. Over real HTTP, on the in-memory backend with demo data."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import graphql
import httpx
import hypothesis_graphql
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schema.errors import CONTRACT_CODES
from tests.api.conftest import SECRET, free_port
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
    """The app under a real uvicorn server on a thread of its own, driven over HTTP from
    sync tests."""

    def __init__(self) -> None:
        app = create_app(
            AppSettings(database_url="memory://", jwt_secret=SECRET, demo=True, gc_freeze=False),
            hasher=FakeHasher(),
        )
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="fuzz server")
        self.thread.start()
        for _ in range(1000):
            if self.server.started or not self.thread.is_alive():
                break
            time.sleep(0.01)
        assert self.server.started, "uvicorn did not start"
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        self.token = self.post(LOGIN, None).json()["data"]["login"]["accessToken"]

    def post(self, query: str, token: str | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.post("/graphql", json={"query": query}, headers=headers)

    def close(self) -> None:
        self.client.close()
        self.server.should_exit = True
        self.thread.join()


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
