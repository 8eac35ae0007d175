"""Login rate limits over real HTTP: counted once for every worker, and per client
address as the socket says unless the peer is a configured trusted proxy."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from tests.api.conftest import Api, serving
from web.settings import AppSettings

LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { tokenType } }"


async def login_code(api: Api, username: str, headers: dict[str, str] | None = None) -> str:
    body = {"query": LOGIN, "variables": {"u": username, "p": "a wrong password"}}
    response = await api.client.post("/graphql", json=body, headers=headers or {})
    assert response.status_code == 200, response.text
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


@pytest.mark.postgres
async def test_two_workers_count_one_login_limit(
    settings: AppSettings, own_postgres_database: str
) -> None:
    shared = replace(settings, database_url=own_postgres_database, login_limit_per_username=5)
    async with (
        serving(shared) as first,
        serving(shared) as second,
        httpx.AsyncClient(base_url=first.url, timeout=10) as one,
        httpx.AsyncClient(base_url=second.url, timeout=10) as two,
    ):
        workers = (Api(one), Api(two))
        await workers[0].user("alice")
        codes = [await login_code(workers[i % 2], "alice") for i in range(10)]
    assert codes == ["UNAUTHENTICATED"] * 5 + ["RATE_LIMITED"] * 5


@pytest.mark.parametrize("settings", [{"login_limit_per_address": 5}], indirect=True)
async def test_forwarded_for_from_an_untrusted_client_is_ignored(api: Api) -> None:
    rotated = [{"X-Forwarded-For": f"203.0.113.{i}"} for i in range(12)]
    codes = [await login_code(api, f"user{i}", rotated[i]) for i in range(12)]
    assert codes == ["UNAUTHENTICATED"] * 5 + ["RATE_LIMITED"] * 7


@pytest.mark.parametrize(
    "settings",
    [{"login_limit_per_address": 5, "trusted_proxies": ("127.0.0.0/8",)}],
    indirect=True,
)
async def test_forwarded_for_from_a_trusted_proxy_names_the_client(api: Api) -> None:
    rotated = [{"X-Forwarded-For": f"198.51.100.7, 203.0.113.{i}"} for i in range(12)]
    codes = [await login_code(api, f"user{i}", rotated[i]) for i in range(12)]
    assert codes == ["UNAUTHENTICATED"] * 12, "each client has its own limit"
    same = {"X-Forwarded-For": "203.0.113.200"}
    codes = [await login_code(api, f"other{i}", same) for i in range(6)]
    assert codes == ["UNAUTHENTICATED"] * 5 + ["RATE_LIMITED"]
