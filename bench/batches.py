"""The batch workload of ``bench/api.py --batch``: orders/s through 100-order
``placeOrders`` + ``cancelOrders`` against the same orders one ``placeOrder`` /
``cancelOrder`` at a time, side by side in one run on one server.

Each client places ``size`` resting bids (prices 1..40, never crossing) and then
cancels them, in a closed loop: first one request per order for ``seconds``, then
one request per ``size`` orders for ``seconds``. An "order op" is one order placed
or cancelled.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import aiohttp

ORDER = """mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }"""
CANCEL = "mutation($id: ID!) { cancelOrder(id: $id) { id } }"
PLACE_MANY = """mutation($i: [PlaceOrderInput!]!) {
  placeOrders(inputs: $i) { order { id } error { code } } }"""
CANCEL_MANY = "mutation($ids: [ID!]!) { cancelOrders(ids: $ids) { id error { code } } }"

Call = Any  # bench.api.gql


def bids(book: dict[str, Any], size: int, rng: random.Random) -> list[dict[str, Any]]:
    yes = book["outcomes"][0]["id"]
    return [
        {
            "marketId": book["id"],
            "outcomeId": yes,
            "side": "BUY",
            "orderType": "LIMIT",
            "priceCents": rng.randint(1, 40),
            "quantity": 1,
        }
        for _ in range(size)
    ]


async def singles(
    gql: Call,
    client: aiohttp.ClientSession,
    token: str,
    book: dict[str, Any],
    size: int,
    rng: random.Random,
) -> int:
    ids = [
        (await gql(client, ORDER, {"i": order}, token))["placeOrder"]["id"]
        for order in bids(book, size, rng)
    ]
    for order_id in ids:
        await gql(client, CANCEL, {"id": order_id}, token)
    return 2 * len(ids)


async def batched(
    gql: Call,
    client: aiohttp.ClientSession,
    token: str,
    book: dict[str, Any],
    size: int,
    rng: random.Random,
) -> int:
    placed = (await gql(client, PLACE_MANY, {"i": bids(book, size, rng)}, token))["placeOrders"]
    ids = [result["order"]["id"] for result in placed if result["order"]]
    cancelled = (await gql(client, CANCEL_MANY, {"ids": ids}, token))["cancelOrders"]
    return len(ids) + sum(1 for result in cancelled if result["error"] is None)


async def phase(
    gql: Call,
    client: aiohttp.ClientSession,
    tokens: list[str],
    book: dict[str, Any],
    seconds: float,
    size: int,
    loop: Any,
) -> dict[str, float]:
    done = [0] * len(tokens)

    async def one(i: int, token: str) -> None:
        rng = random.Random(i)
        while time.perf_counter() < deadline:
            done[i] += await loop(gql, client, token, book, size, rng)

    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(one(i, token) for i, token in enumerate(tokens)))
    elapsed = time.perf_counter() - started
    return {
        "order_ops": sum(done),
        "seconds": round(elapsed, 2),
        "order_ops_per_s": round(sum(done) / elapsed, 1),
    }


async def measure_batches(
    gql: Call, setup: Any, url: str, clients: int, seconds: float, size: int = 100
) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=clients + 5)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as client:
        tokens, _, book = await setup(client, clients)
        single = await phase(gql, client, tokens, book, seconds, size, singles)
        batch = await phase(gql, client, tokens, book, seconds, size, batched)
    return {
        "mix": f"batch: {size} bids placed then cancelled, singly vs placeOrders+cancelOrders",
        "clients": clients,
        "single": single,
        "batch": batch,
        "speedup": round(batch["order_ops_per_s"] / max(single["order_ops_per_s"], 0.1), 2),
    }
