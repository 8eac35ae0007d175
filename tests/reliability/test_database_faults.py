"""PostgreSQL stops in the middle of the bank test's load, then starts again.

The PostgreSQL that stops is a throwaway cluster the run starts for itself
(``tests/pgcluster.py``: initdb + pg_ctl on a free port), never the shared server.

While it is down every request that needs it gets ``SERVICE_UNAVAILABLE`` (never an
internal error, a 5xx, a stack trace or SQL), and keyed orders so answered are sent
again with their ``clientOrderId``; after it is back requests succeed again, the
audit passes, the money adds up, no ``clientOrderId`` is applied twice and every
acknowledged order and trade is stored. Live subscriptions held open on both workers
through the outage receive the prices of a trade made afterwards: each worker's
LISTEN connection came back.
(``tests/api/test_postgres_outage.py`` restarts PostgreSQL under one idle
subscription; this one does it under load, with two workers.)
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

import httpx
import pytest

from bench import load
from bench.load_ops import LMSR_TRADE, MarketRef, World, create_market, post
from tests.api.wsclient import LiveClient, live_client
from tests.reliability.conftest import assert_batches_formed, assert_everything_held, bank_run

pytestmark = pytest.mark.postgres
PRICES = "subscription($m: ID!) { marketPrices(marketId: $m) { prices sequence } }"
SOCKETS = 6


class SubscriptionProbe:
    """Sockets subscribed to one LMSR market's prices, opened before the load and
    checked after it: a trade made after the outage must reach every one."""

    def __init__(self) -> None:
        self.stack = contextlib.AsyncExitStack()
        self.sockets: list[LiveClient] = []
        self.market: MarketRef | None = None
        self.workers_with_sockets = 0

    async def before(self, server: load.Server, world: World) -> None:
        """Its own LMSR market, which no client of the load pauses or settles."""
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            made = await create_market(
                http, world.accounts[1], "LMSR", random.Random(1), load.Tally()
            )
        assert made is not None
        self.market = made
        ws_url = server.url.replace("http://", "ws://") + "/graphql"
        for _ in range(SOCKETS):
            ws = await self.stack.enter_async_context(live_client(ws_url))
            await ws.subscribe("p", PRICES, {"m": self.market.id})
            await ws.data()
            self.sockets.append(ws)
        self.workers_with_sockets = sum(server.connections(pid) > 0 for pid in server.worker_pids())

    async def after(self, server: load.Server, world: World) -> dict[str, Any]:
        assert self.market is not None
        try:
            prices = await self._trade(server.url, world)
            seen = await asyncio.gather(*(self._until(ws, prices) for ws in self.sockets))
        finally:
            await self.stack.aclose()
        return {"sockets": len(seen), "updated": sum(seen), "workers": self.workers_with_sockets}

    async def _trade(self, url: str, world: World) -> list[float]:
        assert self.market is not None
        spec = {"marketId": self.market.id, "side": "BUY_YES", "amountType": "SHARES"}
        query = LMSR_TRADE.replace("trade { id }", "trade { id } prices")
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            for _ in range(50):
                response = await post(
                    http, query, {"i": {**spec, "amount": 1}}, world.accounts[1].token
                )
                body = response.json()
                if not body.get("errors"):
                    prices: list[float] = body["data"]["lmsrTrade"]["prices"]
                    return prices
                await asyncio.sleep(0.2)
        raise AssertionError(f"trading did not resume: {body}")

    @staticmethod
    async def _until(ws: LiveClient, prices: list[float]) -> bool:
        """True once an update with ``prices`` arrives (earlier ones were the load's)."""
        try:
            async with asyncio.timeout(15):
                while True:
                    update = (await ws.data(wait=15))["marketPrices"]
                    if update["prices"] == pytest.approx(prices):
                        return True
        except TimeoutError:
            return False


async def test_postgres_restart_under_load(own_postgres_possible: None, tmp_path: Any) -> None:
    config = load.Config(
        clients=10, ops=300, backend="postgres", workers=2, seed=31, fault="pg-restart"
    )
    probe = SubscriptionProbe()
    report = await bank_run(config, tmp_path, probe)
    assert_everything_held(report)
    fault = report.fault
    assert fault["refused_while_down"] > 0, "requests were sent while PostgreSQL was down"
    assert report.figures()["problems"] == {}, "SERVICE_UNAVAILABLE, never INTERNAL_SERVER_ERROR"
    assert report.figures()["http_5xx"] == 0
    # The kernel decides which worker accepts each socket; usually both get some, but
    # not always, so the resumption check below is what must hold on every worker used.
    assert report.probe["workers"] >= 1
    assert report.probe["updated"] == report.probe["sockets"] == SOCKETS, report.probe


@pytest.mark.heavy
@pytest.mark.parametrize("fault_at", [0.2, 0.5, 0.8])
async def test_postgres_restart_under_heavy_load(
    own_postgres_possible: None, tmp_path: Any, fault_at: float
) -> None:
    config = load.Config(
        clients=50,
        ops=5_000,
        backend="postgres",
        workers=2,
        seed=int(fault_at * 100) + 2,
        fault="pg-restart",
        fault_at=fault_at,
        outage_seconds=5.0,
    )
    probe = SubscriptionProbe()
    report = await bank_run(config, tmp_path, probe)
    assert_everything_held(report)
    assert report.probe["updated"] == report.probe["sockets"] == SOCKETS, report.probe


@pytest.mark.heavy
async def test_postgres_restart_while_two_hot_markets_batch(
    own_postgres_possible: None, tmp_path: Any
) -> None:
    """Every client on one market of each type: the outage cuts batches of many commands,
    each of whose callers is told SERVICE_UNAVAILABLE (keyed orders then sent again)."""
    config = load.Config(
        clients=50,
        ops=5_000,
        backend="postgres",
        workers=2,
        seed=53,
        fault="pg-restart",
        fault_at=0.5,
        outage_seconds=5.0,
        markets_per_type=1,
    )
    probe = SubscriptionProbe()
    report = await bank_run(config, tmp_path, probe)
    assert_everything_held(report)
    assert report.probe["updated"] == report.probe["sockets"] == SOCKETS, report.probe
    assert_batches_formed(report)
