"""Market affinity with ``bellwether serve --workers 2`` on PostgreSQL, over real HTTP: a
mutation reaching the worker that does not own its market is relayed to the owner, and
answered as if it ran where it arrived; only a relayed request (a worker's Unix socket)
names its client's address; an owner killed mid-request, or hung, costs a coded answer,
never a 500 or a hang; a cancel, which names an order, goes to its market's owner."""

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
import orjson
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
from web.relay import RelayClient
from web.relayframes import request_frame

pytestmark = pytest.mark.postgres
__all__ = ["clean_postgres"]  # the fixture

MINT = (
    "mutation($m: ID!, $q: Int!) { mintCompleteSet(marketId: $m, quantity: $q) { quantity cents } }"
)
REDEEM = "mutation($m: ID!, $q: Int!) { redeemCompleteSet(marketId: $m, quantity: $q) { cents } }"
LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }"
WRONG = {"u": "alice", "p": "wrong password"}
FORWARDED = 'bellwether_relayed_requests_total{outcome="forwarded"}'
SILENT = 'bellwether_relayed_requests_total{outcome="silent"}'
SLOT = "bellwether_worker_slot"
RECEIVED = "bellwether_relayed_requests_received_total"


@dataclass(frozen=True)
class Worker:
    pid: int
    slot: int
    prefix: str
    """The first 8 hex digits of the request ids it gives (its process's own)."""
    socket: Path


async def workers_of(url: str, root: int) -> dict[int, Worker]:
    """The request workers by slot, once both answer (a replacement starts slowly)."""
    await wait_until(lambda: len(leaves(root)) == 2, 30)
    pids = {int(environment(pid)[SLOT_ENV]): pid for pid in leaves(root)}
    directory = Path(environment(pids[0])[DIRECTORY_ENV])
    found: dict[int, Worker] = {}
    async with asyncio.timeout(60), fresh_connections(url) as api:
        while len(found) < 2:
            response = await api.client.get("/metrics")
            slot = int(value_of(response.text, SLOT))
            prefix = response.headers["x-request-id"][:8]
            path = directory / f"worker-{slot}.sock"
            found.setdefault(slot, Worker(pids[slot], slot, prefix, path))
    return found


def environment(pid: int) -> dict[str, str]:
    items = Path(f"/proc/{pid}/environ").read_text().split("\0")
    return dict(item.split("=", 1) for item in items if "=" in item)


def value_of(metrics: str, name: str) -> float:
    values = [
        line.rsplit(" ", 1)[1] for line in metrics.splitlines() if line.startswith(name + " ")
    ]
    return float(values[0]) if values else 0.0


async def metric(url: str, worker: Worker, name: str) -> float:
    """``name``'s value on ``worker`` (scraped until the kernel hands it the connection)."""
    async with asyncio.timeout(60), fresh_connections(url) as api:
        while True:
            response = await api.client.get("/metrics")
            if response.headers["x-request-id"].startswith(worker.prefix):
                return value_of(response.text, name)


@asynccontextmanager
async def fresh_connections(url: str) -> AsyncIterator[Api]:
    """A client opening a new TCP connection per request: the kernel spreads them."""
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        yield Api(client)


async def market_per_slot(api: Api, token: str, kind: str = "ORDER_BOOK") -> dict[int, str]:
    """A market owned by each of the two workers."""
    markets: dict[int, str] = {}
    while len(markets) < 2:
        market_id = (await ops.create_market(api, token, kind))["id"]
        markets.setdefault(owner(market_id, 2), market_id)
    return markets


@dataclass(frozen=True)
class TwoWorkers:
    workers: dict[int, Worker]
    token: str
    """alice's."""
    markets: dict[int, str]
    """An order-book market owned by each slot."""

    def slot_of(self, response: httpx.Response) -> int:
        """The slot of the worker that answered ``response``."""
        prefix = response.headers["x-request-id"][:8]
        return next(slot for slot, worker in self.workers.items() if worker.prefix == prefix)


async def two_workers(url: str, root: int) -> TwoWorkers:
    workers = await workers_of(url, root)
    async with api_at(url) as api:
        _, token = await api.user("alice")
        return TwoWorkers(workers, token, await market_per_slot(api, token))


async def test_relayed_mutations_answer_as_local_ones(clean_postgres: str) -> None:
    with serve_subprocess(clean_postgres, "--workers", "2") as (url, process):
        served = await two_workers(url, process.pid)
        workers, token, markets = served.workers, served.token, served.markets
        answers: dict[tuple[str, bool], list[Any]] = {}
        sent = {0: 0, 1: 0}  # relayed by each slot
        async with fresh_connections(url) as api:
            # Mints first, then refused redeems: each refusal's message names the shares held.
            for kind, query, quantity in (("mint", MINT, 1), ("redeem", REDEEM, 10**6)):
                for _ in range(12):
                    for slot, market_id in markets.items():
                        response = await api.post(query, {"m": market_id, "q": quantity}, token)
                        assert response.status_code == 200
                        receiver = served.slot_of(response)
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
            assert await metric(url, worker, FORWARDED) == sent[slot]
            assert await metric(url, worker, RECEIVED) == sent[1 - slot]


async def test_an_order_rate_limit_counts_a_relayed_order_once(clean_postgres: str) -> None:
    env = {"BELLWETHER_ORDER_RATE_PER_SECOND": "1", "BELLWETHER_ORDER_BURST": "20"}
    with serve_subprocess(clean_postgres, "--workers", "2", env=env) as (url, process):
        workers = await workers_of(url, process.pid)
        async with api_at(url) as api:
            _, token = await api.user("alice")
            markets = await market_per_slot(api, token)
            book = {"id": markets[0], "outcomes": [{"id": await outcome_of(api, markets[0])}]}
        async with fresh_connections(url) as api:
            for _ in range(20):  # the burst: 20 orders, whichever worker runs each
                await api.data(ops.PLACE_ORDER, ops.limit(book, "BUY", 1, 10), token)
            assert await metric(url, workers[1], FORWARDED) > 0
            # Then the bucket refills by 1 a second: an order or two more, then a refusal.
            codes = []
            while "RATE_LIMITED" not in codes and len(codes) < 10:
                result = await api.run(ops.PLACE_ORDER, ops.limit(book, "BUY", 1, 10), token)
                codes.append(
                    result["errors"][0]["extensions"]["code"] if "errors" in result else "ok"
                )
        assert codes[-1] == "RATE_LIMITED"


async def test_a_cancel_goes_to_its_orders_markets_owner(clean_postgres: str) -> None:
    """``cancelOrder`` names an order, not a market: the worker it reaches finds the
    order's market (and remembers it), and relays the cancel to that market's owner."""
    with serve_subprocess(clean_postgres, "--workers", "2") as (url, process):
        served = await two_workers(url, process.pid)
        workers, token = served.workers, served.token
        async with api_at(url) as api:
            placed = []
            for slot, market_id in served.markets.items():
                book = {"id": market_id, "outcomes": [{"id": await outcome_of(api, market_id)}]}
                for _ in range(8):
                    order = await api.data(ops.PLACE_ORDER, ops.limit(book, "BUY", 1, 10), token)
                    placed.append((order["placeOrder"]["id"], slot))
        before = {slot: await metric(url, worker, FORWARDED) for slot, worker in workers.items()}
        sent = {0: 0, 1: 0}
        async with fresh_connections(url) as api:
            for order_id, slot in placed:
                response = await api.post(ops.CANCEL_ORDER, {"id": order_id}, token)
                assert response.json()["data"]["cancelOrder"]["status"] == "CANCELLED"
                receiver = served.slot_of(response)
                sent[receiver] += receiver != slot
        assert sum(sent.values()) > 0
        for slot, worker in workers.items():
            assert await metric(url, worker, FORWARDED) - before[slot] == sent[slot]
    await assert_audit_clean(clean_postgres)


async def test_a_hung_owner_costs_a_coded_answer_then_its_markets_run_here(
    clean_postgres: str,
) -> None:
    """An owner that takes a relayed mutation and never answers (stopped, here): after
    the relay's timeout the client is told SERVICE_UNAVAILABLE and that the command may
    or may not have been made, never a hang or a 500; meanwhile that owner's markets'
    mutations run where they arrive."""
    env = {"BELLWETHER_RELAY_TIMEOUT_SECONDS": "2"}
    with serve_subprocess(clean_postgres, "--workers", "2", env=env) as (url, process):
        served = await two_workers(url, process.pid)
        token, workers = served.token, served.workers
        async with api_at(url) as api:  # one kept connection: one worker, the relaying one
            victim = workers[1 - served.slot_of(await api.client.get("/healthz"))]
            mint = {"m": served.markets[victim.slot], "q": 1}
            os.kill(victim.pid, signal.SIGSTOP)
            try:
                async with asyncio.timeout(10):
                    hung = await api.post(MINT, mint, token)
                    then = await api.post(MINT, mint, token)
            finally:
                os.kill(victim.pid, signal.SIGCONT)
        assert hung.status_code == 200
        error = hung.json()["errors"][0]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "may or may not have been made" in error["message"]
        assert then.json() == {"data": {"mintCompleteSet": {"quantity": 1, "cents": 100}}}
        assert await metric(url, workers[1 - victim.slot], SILENT) == 1
    await assert_audit_clean(clean_postgres)


async def outcome_of(api: Api, market_id: str) -> str:
    data = await api.data(ops.MARKET, {"id": market_id})
    return str(data["market"]["outcomes"][0]["id"])


async def test_only_a_relayed_request_names_its_client_address(clean_postgres: str) -> None:
    """Over TCP the address is the peer's, whatever the headers say (the old relay's, or
    X-Forwarded-For with no trusted proxy); over a worker's Unix socket, the relaying
    worker's word counts: per-address login limits count the real client."""
    env = {"BELLWETHER_LOGIN_LIMIT_PER_ADDRESS": "3"}
    with serve_subprocess(clean_postgres, "--workers", "2", env=env) as (url, process):
        workers = await workers_of(url, process.pid)
        async with api_at(url) as api:
            await api.user("alice")  # one login: 127.0.0.1 has 2 attempts left
            codes = []
            for spoofed in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
                headers = {
                    "x-bellwether-forwarded-for": spoofed,
                    "x-bellwether-request-id": "spoofed",
                    "x-forwarded-for": spoofed,
                }
                post = {"query": LOGIN, "variables": WRONG}
                response = await api.client.post("/graphql", json=post, headers=headers)
                assert response.headers["x-request-id"] != "spoofed"
                codes.append(response.json()["errors"][0]["extensions"]["code"])
        assert codes == ["UNAUTHENTICATED", "UNAUTHENTICATED", "RATE_LIMITED"]
        relay = RelayClient()
        body = orjson.dumps({"query": LOGIN, "variables": WRONG})
        relayed = [
            await relay.send(workers[0].socket, request_frame(body, "10.0.0.1", "r", None))
            for _ in range(4)
        ]
        relay.close()
        assert [code_of(answer) for answer in relayed] == [
            "UNAUTHENTICATED",
            "UNAUTHENTICATED",
            "UNAUTHENTICATED",
            "RATE_LIMITED",
        ]


def code_of(answer: tuple[int, bytes] | None) -> str:
    assert answer is not None and answer[0] == 200
    return str(orjson.loads(answer[1])["errors"][0]["extensions"]["code"])


async def test_an_owner_killed_mid_request_costs_a_coded_answer(clean_postgres: str) -> None:
    with serve_subprocess(clean_postgres, "--workers", "2") as (url, process):
        workers = await workers_of(url, process.pid)
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
            replaced = await workers_of(url, process.pid)
            relayed = await metric(url, survivor, FORWARDED)
            await wait_until_async(lambda: metric(url, replaced[1], RECEIVED), 60)
            stop.set()
            await asyncio.gather(*load)
        assert await metric(url, survivor, FORWARDED) > relayed
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
