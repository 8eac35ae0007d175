"""Market affinity with ``bellwether serve --workers 2`` on PostgreSQL, over real HTTP: a
mutation reaching the worker that does not own its market is relayed to the owner, and
answered as if it ran where it arrived; the relay headers count only from the workers'
Unix sockets; an owner killed mid-request costs a coded answer, never a 500."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api import ops
from tests.api.conftest import Api
from tests.api.test_live_postgres import (
    api_at,
    assert_audit_clean,
    clean_postgres,
    serve_subprocess,
)
from tests.api.test_live_workers import leaves
from tests.harness import wait_until
from web.affinity import DIRECTORY_ENV, SLOT_ENV, owner
from web.relay import FORWARDED_FOR, FORWARDED_ID

pytestmark = pytest.mark.postgres
__all__ = ["clean_postgres"]  # the fixture

MINT = (
    "mutation($m: ID!, $q: Int!) { mintCompleteSet(marketId: $m, quantity: $q) { quantity cents } }"
)
REDEEM = "mutation($m: ID!, $q: Int!) { redeemCompleteSet(marketId: $m, quantity: $q) { cents } }"
LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }"
FORWARDED = 'bellwether_relayed_requests_total{outcome="forwarded"}'
RECEIVED = "bellwether_relayed_requests_received_total"


@dataclass(frozen=True)
class Worker:
    pid: int
    slot: int
    socket: Path
    prefix: str
    """The first 8 hex digits of the request ids it gives (its process's own)."""


async def workers_of(root: int) -> dict[int, Worker]:
    """The request workers by slot, once both accept on their Unix sockets."""
    await wait_until(lambda: len(leaves(root)) == 2, 30)
    found: dict[int, Worker] = {}
    for pid in leaves(root):
        env = environment(pid)
        slot = int(env[SLOT_ENV])
        path = Path(env[DIRECTORY_ENV]) / f"worker-{slot}.sock"
        async with over_unix(path) as client:
            response = await retried(lambda client=client: client.get("/healthz"))
        found[slot] = Worker(pid, slot, path, response.headers["x-request-id"][:8])
    return found


def environment(pid: int) -> dict[str, str]:
    items = Path(f"/proc/{pid}/environ").read_text().split("\0")
    return dict(item.split("=", 1) for item in items if "=" in item)


async def retried(call: Any) -> httpx.Response:
    """``call()`` until the worker answers 200 (a replacement starts slowly)."""
    async with asyncio.timeout(60):
        while True:
            try:
                response: httpx.Response = await call()
                if response.status_code == 200:
                    return response
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)


@asynccontextmanager
async def over_unix(path: Path) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.AsyncHTTPTransport(uds=str(path))
    async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:
        yield client


@asynccontextmanager
async def fresh_connections(url: str) -> AsyncIterator[Api]:
    """A client opening a new TCP connection per request: the kernel spreads them."""
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        yield Api(client)


async def metric(worker: Worker, name: str) -> float:
    async with over_unix(worker.socket) as client:
        text = (await client.get("/metrics")).text
    values = [line.rsplit(" ", 1)[1] for line in text.splitlines() if line.startswith(name + " ")]
    return float(values[0]) if values else 0.0


async def market_per_slot(api: Api, token: str, kind: str = "ORDER_BOOK") -> dict[int, str]:
    """A market owned by each of the two workers."""
    markets: dict[int, str] = {}
    while len(markets) < 2:
        market_id = (await ops.create_market(api, token, kind))["id"]
        markets.setdefault(owner(market_id, 2), market_id)
    return markets


async def test_relayed_mutations_answer_as_local_ones(clean_postgres: str) -> None:
    with serve_subprocess(clean_postgres, "--workers", "2") as (url, process):
        workers = await workers_of(process.pid)
        by_prefix = {worker.prefix: slot for slot, worker in workers.items()}
        async with api_at(url) as api:
            _, token = await api.user("alice")
            markets = await market_per_slot(api, token)
        answers: dict[tuple[str, bool], list[Any]] = {}
        sent = {0: 0, 1: 0}  # relayed by each slot
        async with fresh_connections(url) as api:
            # Mints first, then refused redeems: each refusal's message names the shares held.
            for kind, query, quantity in (("mint", MINT, 1), ("redeem", REDEEM, 10**6)):
                for _ in range(12):
                    for slot, market_id in markets.items():
                        response = await api.post(query, {"m": market_id, "q": quantity}, token)
                        assert response.status_code == 200
                        receiver = by_prefix[response.headers["x-request-id"][:8]]
                        answers.setdefault((kind, receiver != slot), []).append(response.json())
                        sent[receiver] += receiver != slot
        assert set(answers) == {
            ("mint", True),
            ("mint", False),
            ("redeem", True),
            ("redeem", False),
        }
        minted = {"data": {"mintCompleteSet": {"quantity": 1, "cents": 100}}}
        assert all(
            answer == minted for key in answers if key[0] == "mint" for answer in answers[key]
        )
        refused = answers[("redeem", False)][0]  # the same in both markets (12 sets each)
        assert refused["errors"][0]["extensions"]["code"] == "INSUFFICIENT_SHARES"
        assert all(
            answer == refused for key in answers if key[0] == "redeem" for answer in answers[key]
        )
        for slot, worker in workers.items():
            assert await metric(worker, FORWARDED) == sent[slot]
            assert await metric(worker, RECEIVED) == sent[1 - slot]


async def test_an_order_rate_limit_counts_a_relayed_order_once(clean_postgres: str) -> None:
    env = {"BELLWETHER_ORDER_RATE_PER_SECOND": "1", "BELLWETHER_ORDER_BURST": "20"}
    with serve_subprocess(clean_postgres, "--workers", "2", env=env) as (url, process):
        workers = await workers_of(process.pid)
        async with api_at(url) as api:
            _, token = await api.user("alice")
            markets = await market_per_slot(api, token)
            book = {"id": markets[0], "outcomes": [{"id": await outcome_of(api, markets[0])}]}
        async with fresh_connections(url) as api:
            for _ in range(20):  # the burst: 20 orders, whichever worker runs each
                await api.data(ops.PLACE_ORDER, ops.limit(book, "BUY", 1, 10), token)
            assert await metric(workers[1], FORWARDED) > 0
            codes = [
                await api.error_code(ops.PLACE_ORDER, ops.limit(book, "BUY", 1, 10), token)
                for _ in range(3)
            ]
        assert "RATE_LIMITED" in codes


async def outcome_of(api: Api, market_id: str) -> str:
    data = await api.data(ops.MARKET, {"id": market_id})
    return str(data["market"]["outcomes"][0]["id"])


async def test_relay_headers_from_a_tcp_client_are_ignored(clean_postgres: str) -> None:
    env = {"BELLWETHER_LOGIN_LIMIT_PER_ADDRESS": "3"}
    with serve_subprocess(clean_postgres, "--workers", "2", env=env) as (url, process):
        workers = await workers_of(process.pid)
        async with api_at(url) as api:
            await api.user("alice")  # one login: 127.0.0.1 has 2 attempts left
            wrong = {"u": "alice", "p": "wrong password"}
            codes = []
            for spoofed in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
                headers = {FORWARDED_FOR.decode(): spoofed, FORWARDED_ID.decode(): "spoofed"}
                body = {"query": LOGIN, "variables": wrong}
                response = await api.client.post("/graphql", json=body, headers=headers)
                assert response.headers["x-request-id"] != "spoofed"
                codes.append(response.json()["errors"][0]["extensions"]["code"])
        assert codes == ["UNAUTHENTICATED", "UNAUTHENTICATED", "RATE_LIMITED"]
        # From a worker's Unix socket, the relayed address is the one counted.
        async with over_unix(workers[0].socket) as client:
            headers = {FORWARDED_FOR.decode(): "10.0.0.1", FORWARDED_ID.decode(): "relayed"}
            body = {"query": LOGIN, "variables": wrong}
            response = await client.post("/graphql", json=body, headers=headers)
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert response.headers["x-request-id"] == "relayed"


async def test_an_owner_killed_mid_request_costs_a_coded_answer(clean_postgres: str) -> None:
    with serve_subprocess(clean_postgres, "--workers", "2") as (url, process):
        workers = await workers_of(process.pid)
        async with api_at(url) as api:
            tokens = [(await api.user(f"trader{i}"))[1] for i in range(6)]
            markets = await market_per_slot(api, tokens[0], "LMSR")
        victim, survivor = workers[1], workers[0]
        answers: list[Any] = []
        stop = asyncio.Event()
        async with fresh_connections(url) as api:
            load = [asyncio.create_task(trade(api, t, markets[1], stop, answers)) for t in tokens]
            await wait_until(lambda: len(answers) > 30, 30)
            os.kill(victim.pid, signal.SIGKILL)
            await wait_until(lambda: victim.pid not in leaves(process.pid), 30)
            replaced = await workers_of(process.pid)
            relayed = await metric(survivor, FORWARDED)
            await wait_until_async(lambda: metric(replaced[1], RECEIVED), 60)
            stop.set()
            await asyncio.gather(*load)
        assert await metric(survivor, FORWARDED) > relayed
        statuses = {answer for answer in answers if isinstance(answer, int)}
        assert statuses <= {200}, statuses
        codes = {a["errors"][0]["extensions"]["code"] for a in answers if isinstance(a, dict)}
        assert codes <= {"SERVICE_UNAVAILABLE"}, codes
    await assert_audit_clean(clean_postgres)


async def trade(
    api: Api, token: str, market_id: str, stop: asyncio.Event, answers: list[Any]
) -> None:
    """Buy a share at a time until ``stop``: each answer's status, and its errors if any;
    a connection the killed worker dropped is the client's own worker dying (not counted)."""
    variables = {
        "i": {"marketId": market_id, "side": "BUY_YES", "amountType": "SHARES", "amount": 1}
    }
    while not stop.is_set():
        try:
            response = await api.post(ops.LMSR_TRADE, variables, token)
        except httpx.TransportError:
            continue
        answers.append(response.status_code)
        if response.status_code == 200 and "errors" in response.json():
            answers.append(response.json())


async def wait_until_async(value: Any, seconds: float) -> None:
    """Poll the coroutine function ``value`` until it returns something true."""
    async with asyncio.timeout(seconds):
        while not await value():  # noqa: ASYNC110 - polling another process
            await asyncio.sleep(0.1)
