"""Scale-out on PostgreSQL: two ``bellwether serve`` processes on one database.

The bus is LISTEN/NOTIFY: a trade through one process reaches subscribers of the
other, and money stays exact when both take orders on one market at once.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import dbtools
from tests.api import ops
from tests.api.conftest import SECRET, Api, free_port
from tests.api.test_live import BOOK, PRICES, TRADES
from tests.api.wsclient import live_client
from web.settings import AppSettings

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {
    "INSUFFICIENT_BALANCE",
    "INSUFFICIENT_SHARES",
    "ORDER_NOT_CANCELLABLE",
    "PRICE_LIMIT_EXCEEDED",
}


@pytest.fixture
async def clean_postgres(postgres_url: str) -> str:
    """The session's PostgreSQL database, emptied for this test."""
    async with dbtools.opened(postgres_url) as database:
        await dbtools.truncate(database)
    return postgres_url


@pytest.fixture
def settings(settings: AppSettings, clean_postgres: str) -> AppSettings:
    return replace(settings, database_url=clean_postgres)


@contextmanager
def serve_process(database_url: str, *options: str) -> Iterator[str]:
    """``bellwether serve`` in a subprocess; yields its base URL once /healthz answers."""
    with serve_subprocess(database_url, *options) as (url, _):
        yield url


@contextmanager
def serve_subprocess(
    database_url: str, *options: str, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """:func:`serve_process`, yielding its process as well (``env``: settings over the
    tests' own)."""
    port = free_port()
    env = {
        **os.environ,
        "BELLWETHER_DATABASE_URL": database_url,
        "BELLWETHER_JWT_SECRET": SECRET,
        "BELLWETHER_DEMO": "0",
        "BELLWETHER_LOGIN_LIMIT_PER_ADDRESS": "10000",
        **(env or {}),
    }
    command = [sys.executable, "-m", "web.cli", "serve", "--port", str(port), *options]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a liveness bound: a loaded machine starts slowly
        while True:
            assert process.poll() is None, "bellwether serve exited"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "bellwether serve did not start"
            time.sleep(0.1)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def assert_audit_clean(database_url: str) -> None:
    """``bellwether audit`` finds every invariant kept."""
    audit = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "web.cli", "audit"],
        cwd=ROOT,
        env={**os.environ, "BELLWETHER_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr


@asynccontextmanager
async def two_servers(database_url: str) -> AsyncIterator[tuple[str, str]]:
    with serve_process(database_url) as first, serve_process(database_url) as second:
        yield first, second


@asynccontextmanager
async def api_at(url: str) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield Api(client)


def ws_url(url: str) -> str:
    return url.replace("http://", "ws://") + "/graphql"


async def test_a_trade_through_one_process_reaches_subscribers_of_the_other(
    clean_postgres: str,
) -> None:
    async with (
        two_servers(clean_postgres) as (first, second),
        api_at(first) as one,
        api_at(second) as two,
    ):
        _, alice = await one.user("alice")
        market = await ops.create_market(one, alice, "ORDER_BOOK")
        yes = market["outcomes"][0]["id"]
        await two.data(ops.MINT, {"m": market["id"], "q": 5}, alice)
        async with live_client(ws_url(first)) as ws:
            await ws.subscribe("p", PRICES, {"m": market["id"]})
            await ws.subscribe("b", BOOK, {"m": market["id"], "o": yes})
            firsts = [await ws.data() for _ in range(2)]
            book = next(d["orderBookUpdates"] for d in firsts if "orderBookUpdates" in d)
            await two.data(ops.PLACE_ORDER, ops.limit(market, "SELL", 5, 55), alice)
            updates = [await ws.data() for _ in range(2)]
            moved = next(d["orderBookUpdates"] for d in updates if "orderBookUpdates" in d)
            assert moved["asks"] == [{"priceCents": 55, "quantity": 5}]
            assert moved["sequence"] == book["sequence"] + 1


async def _random_operations(
    api: Api, token: str, market: dict[str, Any], rng: random.Random, count: int
) -> list[str]:
    """``count`` random order-book operations; returns the error codes met."""
    codes: list[str] = []
    mine: list[str] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.15:
            result = await api.run(ops.MINT, {"m": market["id"], "q": rng.randint(1, 3)}, token)
        elif roll < 0.25 and mine:
            result = await api.run(ops.CANCEL_ORDER, {"id": rng.choice(mine)}, token)
        elif roll < 0.35:
            side = rng.choice(["BUY", "SELL"])
            variables = ops.limit(market, side, rng.randint(1, 4), 50)
            del variables["i"]["priceCents"]
            variables["i"]["orderType"] = "MARKET"
            result = await api.run(ops.PLACE_ORDER, variables, token)
        else:
            side = rng.choice(["BUY", "SELL"])
            price = rng.randint(45, 55)
            variables = ops.limit(market, side, rng.randint(1, 5), price)
            result = await api.run(ops.PLACE_ORDER, variables, token)
            if not result.get("errors"):
                mine.append(result["data"]["placeOrder"]["id"])
        codes.extend(e["extensions"]["code"] for e in result.get("errors") or [])
    return codes


async def test_two_processes_trading_one_market_keep_the_money_exact(clean_postgres: str) -> None:
    clients, operations = 10, 50
    async with (
        two_servers(clean_postgres) as urls,
        api_at(urls[0]) as one,
        api_at(urls[1]) as two,
    ):
        apis = (one, two)
        _, creator = await one.user("creator")
        market = await ops.create_market(one, creator, "ORDER_BOOK")
        tokens = [(await apis[i % 2].user(f"trader{i}"))[1] for i in range(clients)]
        async with live_client(ws_url(urls[0])) as ws:
            await ws.subscribe("t", TRADES, {"m": market["id"]})
            await asyncio.sleep(0.2)
            runs = [
                _random_operations(apis[i % 2], tokens[i], market, random.Random(i), operations)
                for i in range(clients)
            ]
            codes = [code for found in await asyncio.gather(*runs) for code in found]
            assert set(codes) <= EXPECTED, codes
            trades = await one.data(
                "query($m: ID!) { market(id: $m) { recentTrades(first: 100) { id } } }",
                {"m": market["id"]},
            )
            traded = len(trades["market"]["recentTrades"])
            assert traded > 0
            seen = 0
            while seen < min(traded, 100):
                got = (await ws.data())["marketTrades"]
                seen += 1
            assert got["sequence"] >= seen
    await assert_audit_clean(clean_postgres)
