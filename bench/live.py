"""Fan-out latency of live price updates: N WebSocket subscribers, K trades over HTTP.

Run a server first (e.g. ``bellwether serve --workers 3`` on PostgreSQL), then::

    python bench/live.py --url http://127.0.0.1:8000 --subscribers 500 --trades 40

Latency is measured from sending the trade's HTTP request to each subscriber
receiving the ``marketPrices`` update that carries the trade's sequence (the
trade's own round trip is printed beside it). Trades are spaced out so that
conflation does not hide updates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

PRICES = "subscription($m: ID!) { marketPrices(marketId: $m) { sequence } }"
TRADE = """mutation($i: LmsrTradeInput!) { lmsrTrade(input: $i) { costOrPayoutCents } }"""


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str = ""
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def trader(client: httpx.AsyncClient) -> str:
    name = "bench" + uuid.uuid4().hex[:8]
    await gql(
        client,
        "mutation($i: RegisterInput!) { register(input: $i) { id } }",
        {"i": {"username": name, "email": f"{name}@example.com", "password": "bench-password"}},
    )
    data = await gql(
        client,
        "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }",
        {"u": name, "p": "bench-password"},
    )
    token: str = data["login"]["accessToken"]
    return token


class Subscriber:
    """One WebSocket with one marketPrices subscription; records (sequence, arrival)."""

    def __init__(self, ws: ClientConnection, first: int) -> None:
        self.ws = ws
        self.first = first
        self.received: list[tuple[int, float]] = []
        self.task = asyncio.get_running_loop().create_task(self.read())

    async def read(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            if message.get("type") == "next":
                sequence = message["payload"]["data"]["marketPrices"]["sequence"]
                self.received.append((sequence, time.perf_counter()))


async def subscribe(url: str, market_id: str) -> Subscriber:
    ws = await connect(url, subprotocols=["graphql-transport-ws"], max_queue=None)  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    await ws.recv()
    payload = {"query": PRICES, "variables": {"m": market_id}}
    await ws.send(json.dumps({"id": "p", "type": "subscribe", "payload": payload}))
    snapshot = json.loads(await ws.recv())
    return Subscriber(ws, snapshot["payload"]["data"]["marketPrices"]["sequence"])


async def main(args: argparse.Namespace) -> None:
    ws_url = args.url.replace("http", "ws", 1) + "/graphql"
    async with httpx.AsyncClient(base_url=args.url, timeout=30) as client:
        token = await trader(client)
        closes = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        market = await gql(
            client,
            "mutation($i: CreateMarketInput!) { createMarket(input: $i) { id } }",
            {"i": {"title": "Bench: fan-out latency", "marketType": "LMSR",
                   "outcomes": ["Yes", "No"], "closesAt": closes, "liquidityParameter": 1000.0}},
            token,
        )  # fmt: skip
        market_id = market["createMarket"]["id"]
        sockets: list[Subscriber] = []
        for start in range(0, args.subscribers, 50):
            batch = range(start, min(start + 50, args.subscribers))
            sockets += await asyncio.gather(*(subscribe(ws_url, market_id) for _ in batch))
        base = sockets[0].first
        committed: dict[int, float] = {}
        round_trips: list[float] = []
        for number in range(1, args.trades + 1):
            variables = {"i": {"marketId": market_id, "side": "BUY_YES", "amountType": "SHARES",
                               "amount": 1}}  # fmt: skip
            sent = time.perf_counter()
            await gql(client, TRADE, variables, token)
            committed[base + number] = sent
            round_trips.append((time.perf_counter() - sent) * 1000)
            await asyncio.sleep(args.gap)
        await asyncio.sleep(1)
        latencies = [
            (at - committed[sequence]) * 1000
            for sub in sockets
            for sequence, at in sub.received
            if sequence in committed
        ]
        delivered = len(latencies)
        for sub in sockets:
            await sub.ws.close()
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    print(
        f"subscribers={args.subscribers} trades={args.trades} delivered={delivered}/"
        f"{args.subscribers * args.trades} p50={statistics.median(latencies):.1f}ms "
        f"p99={p(0.99):.1f}ms max={latencies[-1]:.1f}ms "
        f"trade_round_trip_p50={statistics.median(round_trips):.1f}ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--trades", type=int, default=30)
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between trades")
    asyncio.run(main(parser.parse_args()))
