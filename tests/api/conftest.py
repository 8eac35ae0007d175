"""Fixtures for the API tests: the app under a real uvicorn server, and clients of it
over real HTTP (httpx) and WebSocket connections.

``BELLWETHER_TEST_API_DATABASE`` picks the storage: ``sqlite`` (default: a
fresh file per test) or ``memory``.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from tests import dbtools
from tests.harness import FakeHasher
from web.app import create_app
from web.serve import UVICORN_OPTIONS
from web.settings import AppSettings

SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct horse battery"


def database_url(tmp_path: Path) -> str:
    kind = os.environ.get("BELLWETHER_TEST_API_DATABASE", "sqlite")
    if kind == "memory":
        return "memory://"
    return f"sqlite:///{tmp_path / 'api.db'}"


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> AppSettings:
    """The test settings; parametrize ``settings`` indirectly with a dict to change some."""
    base = AppSettings(
        database_url=database_url(tmp_path),
        jwt_secret=SECRET,
        demo=False,
        login_limit_per_username=5,
        login_limit_per_address=1000,
        gc_freeze=False,  # many apps start in this process
    )
    return replace(base, **getattr(request, "param", {}))


class Api:
    """A small GraphQL client over an httpx client."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = {"query": query, "variables": variables or {}}
        return await self.client.post("/graphql", json=body, headers=headers)

    async def run(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        response = await self.post(query, variables, token)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        result = await self.run(query, variables, token)
        assert "errors" not in result, result["errors"]
        data: dict[str, Any] = result["data"]
        return data

    async def error_code(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> str:
        result = await self.run(query, variables, token)
        assert result.get("errors"), result
        code: str = result["errors"][0]["extensions"]["code"]
        return code

    async def user(self, name: str, *, admin_of: Starlette | None = None) -> tuple[str, str]:
        """Register and log in ``name``; returns (user id, token)."""
        registered = await self.data(
            "mutation($i: RegisterInput!) { register(input: $i) { id } }",
            {"i": {"username": name, "email": f"{name}@example.com", "password": PASSWORD}},
        )
        user_id = registered["register"]["id"]
        if admin_of is not None:
            await make_admin(admin_of, user_id)
        return user_id, await self.login(name)

    async def login(self, name: str) -> str:
        data = await self.data(
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) "
            "{ accessToken } }",
            {"u": name, "p": PASSWORD},
        )
        token: str = data["login"]["accessToken"]
        return token


async def make_admin(app: Starlette, user_id: str) -> None:
    services = app.state.bellwether.backend.services
    async with services.uow() as uow:
        user = await uow.users.get(user_id)
        assert user is not None
        user.is_admin = True
        await uow.users.save(user)
        await uow.commit()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    def __init__(self, app: Starlette, port: int) -> None:
        self.app = app
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}/graphql"


@asynccontextmanager
async def serving(settings: AppSettings) -> AsyncIterator[LiveServer]:
    """An app under a real uvicorn server on a free port, in this event loop, configured
    as ``bellwether serve`` configures it (one worker: start two for two workers)."""
    application = create_app(replace(settings), hasher=FakeHasher())
    port = free_port()
    config = uvicorn.Config(
        application,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        **UVICORN_OPTIONS,
    )
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    for _ in range(500):
        if uv.started or task.done():
            break
        await asyncio.sleep(0.01)
    assert uv.started, "uvicorn did not start"
    try:
        yield LiveServer(application, port)
    finally:
        uv.should_exit = True
        await task


@pytest.fixture
async def server(settings: AppSettings) -> AsyncIterator[LiveServer]:
    async with serving(settings) as live:
        yield live


@pytest.fixture
async def own_postgres_database() -> AsyncIterator[str]:
    """A migrated database of this test's own on the test PostgreSQL server (for servers
    started by the test itself, two workers say); dropped afterwards."""
    try:
        url = await dbtools.create_postgres_database()
    except OSError as error:
        dbtools.postgres_unavailable(str(error))
    yield url
    await dbtools.drop_postgres_database(url)


class Workers:
    """Two apps, each under its own uvicorn server with its own connection pool and bus,
    sharing one PostgreSQL database as two ``bellwether serve`` workers would."""

    def __init__(self, servers: list[LiveServer], apis: list[Api]) -> None:
        self.servers = servers
        self.apis = apis


@pytest.fixture
async def workers(settings: AppSettings, postgres_url: str) -> AsyncIterator[Workers]:
    async with dbtools.opened(postgres_url) as database:
        await dbtools.truncate(database)
    shared = replace(settings, database_url=postgres_url)
    async with AsyncExitStack() as stack:
        servers = [await stack.enter_async_context(serving(shared)) for _ in range(2)]
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=s.url, timeout=10))
            for s in servers
        ]
        yield Workers(servers, [Api(client) for client in clients])


@pytest.fixture
def app(server: LiveServer) -> Starlette:
    """The served application (started: its lifespan ran under uvicorn)."""
    return server.app


@pytest.fixture
async def api(server: LiveServer) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        yield Api(client)


@pytest.fixture
def live_api(api: Api) -> Api:
    return api
