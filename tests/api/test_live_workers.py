"""``bellwether serve --live-workers N`` on PostgreSQL: subscriptions served by processes
of their own, fed by the LISTEN/NOTIFY bus, while trades go through the request workers."""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import time
from contextlib import AsyncExitStack, suppress
from pathlib import Path

import pytest
import uvicorn
from websockets.exceptions import InvalidStatus

from tests.api import ops
from tests.api.conftest import free_port
from tests.api.test_live import PRICES
from tests.api.test_live_postgres import (
    api_at,
    clean_postgres,
    serve_process,
    serve_subprocess,
    ws_url,
)
from tests.api.wsclient import live_client
from tests.harness import wait_until

pytestmark = pytest.mark.postgres
__all__ = ["clean_postgres"]  # the fixture


async def test_live_workers_serve_subscriptions_of_trades_made_through_request_workers(
    clean_postgres: str,
) -> None:
    live_port = free_port()
    options = ("--live-workers", "1", "--live-port", str(live_port))
    with serve_process(clean_postgres, *options) as url:
        live = f"ws://127.0.0.1:{live_port}/graphql"
        async with api_at(url) as api:
            _, alice = await api.user("alice")
            market = await ops.create_market(api, alice)
            await until_serving(live)
            async with live_client(live) as ws:
                await ws.subscribe("p", PRICES, {"m": market["id"]})
                first = (await ws.data())["marketPrices"]["sequence"]
                await ops.buy_yes(api, alice, market["id"], 5)
                assert (await ws.data())["marketPrices"]["sequence"] == first + 1
            assert ws_url(url) != live


@pytest.mark.parametrize("workers", ["--live-workers", "--workers"])
async def test_workers_too_busy_to_answer_keep_their_sockets(
    clean_postgres: str, workers: str
) -> None:
    """uvicorn's own supervisor killed a worker that did not answer its ping within 5 s
    (``timeout_worker_healthcheck``), as one accepting thousands of sockets at once did,
    and with it every subscription it held. Here the two workers holding the sockets,
    live workers or request workers, are stopped (SIGSTOP: they answer nothing) for
    longer than that, and every subscription outlives it."""
    live_port = free_port()
    options = (workers, "2", "--live-port", str(live_port))
    with serve_subprocess(clean_postgres, *options) as (url, process):
        live = f"ws://127.0.0.1:{live_port}/graphql" if workers == "--live-workers" else ws_url(url)
        async with api_at(url) as api, AsyncExitStack() as stack:
            _, alice = await api.user("alice")
            market = await ops.create_market(api, alice)
            await until_serving(live)
            await wait_until(lambda: len(leaves(process.pid)) == 2, 30)
            workers = leaves(process.pid)
            clients = [await stack.enter_async_context(live_client(live)) for _ in range(6)]
            for client in clients:
                await client.subscribe("p", PRICES, {"m": market["id"]})
            firsts = [(await client.data(30))["marketPrices"]["sequence"] for client in clients]
            for pid in workers:
                os.kill(pid, signal.SIGSTOP)
            try:
                await asyncio.sleep(2 * HEALTH_CHECK_SECONDS + 1)
            finally:
                for pid in workers:
                    with suppress(ProcessLookupError):  # a supervisor killed it
                        os.kill(pid, signal.SIGCONT)
            await ops.buy_yes(api, alice, market["id"], 5)
            for client, first in zip(clients, firsts, strict=True):
                assert (await client.data(30))["marketPrices"]["sequence"] == first + 1
            assert leaves(process.pid) == workers


HEALTH_CHECK_SECONDS: int = (
    inspect.signature(uvicorn.Config).parameters["timeout_worker_healthcheck"].default
)
"""How long uvicorn's supervisor waits by default for a worker's answer before killing it."""


async def until_serving(live: str) -> None:
    """Wait for the live processes, which start beside the request worker."""
    deadline = time.monotonic() + 90  # a liveness bound: a loaded machine starts slowly
    while True:
        try:
            async with live_client(live):
                return
        except (OSError, InvalidStatus):
            assert time.monotonic() < deadline, "the live workers did not start"
            await asyncio.sleep(0.1)


def leaves(root: int) -> list[int]:
    """The processes of ``root``'s tree with no children of their own: its workers."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if stat[0] != "Z" and b"resource_tracker" not in command:
                parents[int(entry.name)] = int(stat[1])
    tree = [root]
    for member in tree:
        tree += [child for child, parent in parents.items() if parent == member]
    return sorted(pid for pid in tree if pid not in parents.values())
