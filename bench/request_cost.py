"""CPU per GraphQL request, in process: the app driven through ASGI, no network.

Runs each request kind of ``bench/api.py`` (LMSR trade, crossing limit order,
``market { prices }``, ``orderBook``) N times against the real app on a fresh
SQLite file and prints the process CPU time per request. The HTTP server and
the client are left out, so the figure is the app's own cost (Starlette,
Strawberry, resolvers, services, storage); it moves little with other load on
the machine, which makes it the figure to compare code changes by.

    python bench/request_cost.py [--requests 2000] [--database sqlite|memory|postgres]

``--database postgres`` runs on a throwaway database (dropped afterwards) on the
server of ``--postgres-url`` (default the local one), with the LISTEN/NOTIFY bus
the app uses there. ``--statements`` (PostgreSQL) also counts the statements each
request sends, by asyncpg's query logger on every connection: those of its market's
batch (one request at a time: a batch of one) apart from the others, which each cost
a round trip of their own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import cProfile
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api import (  # noqa: E402
    BOOK,
    LMSR,
    ORDER,
    PASSWORD,
    PG_ADMIN,
    PRICES,
    limit_order_vars,
    lmsr_trade_vars,
    server_env,
)

from tests.api.asgi import request_scope  # noqa: E402


class AsgiClient:
    """Sends one POST /graphql at a time straight into an ASGI app."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def post(self, query: str, variables: dict[str, Any], token: str | None) -> Any:
        body = json.dumps({"query": query, "variables": variables}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if token:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        scope = request_scope("POST", "/graphql", headers)
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        chunks: list[bytes] = []
        status = 0

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        result = json.loads(b"".join(chunks))
        if status != 200 or result.get("errors"):
            raise RuntimeError(f"{status}: {result}")
        return result["data"]


def use_database(database_url: str) -> None:
    """The app's settings for a benchmark on ``database_url`` (``app_from_env`` reads them)."""
    os.environ.update(server_env(database_url), BELLWETHER_SWEEP_INTERVAL_SECONDS="600")


Request = tuple[str, dict[str, Any], str | None]


async def request_kinds(client: AsgiClient) -> dict[str, Callable[[int], Request]]:
    """Two users and two markets, and the i-th request of each kind of the mix."""
    tokens = []
    for name in ("rc-alice", "rc-bob"):
        await client.post(
            "mutation($i: RegisterInput!) { register(input: $i) { id } }",
            {"i": {"username": name, "email": f"{name}@bench.example", "password": PASSWORD}},
            None,
        )
        login = await client.post(
            "mutation($u: String!, $p: String!) "
            "{ login(username: $u, password: $p) { accessToken } }",
            {"u": name, "p": PASSWORD},
            None,
        )
        tokens.append(login["login"]["accessToken"])
    make = "mutation($i: CreateMarketInput!) { createMarket(input: $i) { id outcomes { id } } }"
    common = {"outcomes": ["Yes", "No"], "closesAt": "2099-01-01T00:00:00Z"}
    lmsr = (
        await client.post(
            make,
            {
                "i": {
                    "title": "Request cost LMSR market",
                    "marketType": "LMSR",
                    "liquidityParameter": 500.0,
                    **common,
                }
            },
            tokens[0],
        )
    )["createMarket"]
    book = (
        await client.post(
            make,
            {
                "i": {
                    "title": "Request cost order book market",
                    "marketType": "ORDER_BOOK",
                    **common,
                }
            },
            tokens[0],
        )
    )["createMarket"]
    yes = book["outcomes"][0]["id"]
    # Alice sells to Bob, then Bob sells back to Alice: every second order fills.
    for token in tokens:
        await client.post(
            "mutation($m: ID!) { mintCompleteSet(marketId: $m, quantity: 10) { cents } }",
            {"m": book["id"]},
            token,
        )
    traders = [tokens[0], tokens[1], tokens[1], tokens[0]]

    def lmsr_trade(i: int) -> Request:
        side = "BUY_YES" if i % 2 == 0 else "SELL_YES"
        return LMSR, lmsr_trade_vars(lmsr["id"], side), tokens[0]

    def limit_order(i: int) -> Request:
        side = "SELL" if i % 2 == 0 else "BUY"
        return ORDER, limit_order_vars(book["id"], yes, side), traders[i % 4]

    return {
        "lmsr_trade": lmsr_trade,
        "limit_order": limit_order,
        "read_prices": lambda i: (PRICES, {"id": lmsr["id"]}, tokens[0]),
        "read_book": lambda i: (BOOK, {"m": book["id"], "o": yes}, tokens[1]),
    }


class Statements:
    """Statements sent on every asyncpg connection, told apart by whether they ran in a
    market's batch; the bus's health check (``SELECT 1``) is left out."""

    def __init__(self) -> None:
        self.in_batch: contextvars.ContextVar[bool] = contextvars.ContextVar("in_batch")
        self.sent: Counter[tuple[bool, str]] = Counter()

    def install(self) -> None:
        import asyncpg.connection

        import domain.services.batching as batching

        # Benchmark instrumentation only: every connection the app opens gets the logger.
        opened = asyncpg.connection.Connection.__init__
        in_batch, sent = self.in_batch, self.sent

        def logged(conn: Any, *args: Any, **kwargs: Any) -> None:
            opened(conn, *args, **kwargs)
            conn.add_query_logger(
                lambda r: (
                    r.query == "SELECT 1"
                    or sent.update([(in_batch.get(False), " ".join(r.query.split())[:72])])
                )
            )

        asyncpg.connection.Connection.__init__ = logged  # type: ignore[method-assign]
        one_transaction = batching._in_one_transaction

        async def marked(*args: Any) -> Any:
            in_batch.set(True)
            return await one_transaction(*args)

        batching._in_one_transaction = marked  # type: ignore[assignment]

    def report(self, kind: str, requests: int) -> dict[str, float]:
        outside = sum(n for (batch, _), n in self.sent.items() if not batch) / requests
        inside = sum(n for (batch, _), n in self.sent.items() if batch) / requests
        print(f"{kind:12} {outside:5.2f} statements outside the batch, {inside:5.2f} in it")
        for (batch, text), n in self.sent.most_common():
            print(f"    {'in ' if batch else 'out'} {n / requests:5.2f}  {text}")
        self.sent.clear()
        return {f"{kind}_outside": round(outside, 2), f"{kind}_in_batch": round(inside, 2)}


async def run(
    requests: int,
    database_url: str,
    only: list[str],
    profile: str | None,
    statements: Statements | None = None,
) -> dict[str, float]:
    use_database(database_url)
    from web.app import app_from_env

    app = app_from_env()
    client = AsgiClient(app)
    async with app.router.lifespan_context(app):
        kinds = await request_kinds(client)
        figures: dict[str, float] = {}
        for kind, make_request in kinds.items():
            if only and kind not in only:
                continue
            for i in range(50):  # warm the caches
                await client.post(*make_request(i))
            await asyncio.sleep(0.1)  # query loggers run soon after their statement
            if statements is not None:
                statements.sent.clear()
            profiler = cProfile.Profile(time.process_time) if profile else None
            wall = time.perf_counter()
            started = time.process_time()
            if profiler:
                profiler.enable()
            for i in range(requests):
                await client.post(*make_request(i))
            if profiler:
                profiler.disable()
                profiler.dump_stats(f"{profile}.{kind}")
            figures[kind] = round((time.process_time() - started) * 1000 / requests, 3)
            figures[f"{kind}_wall"] = round((time.perf_counter() - wall) * 1000 / requests, 3)
            if statements is not None:
                await asyncio.sleep(0.1)
                figures.update(statements.report(kind, requests))
        return figures


async def _on_postgres(args: argparse.Namespace) -> dict[str, float]:
    from tests import dbtools

    url = await dbtools.create_postgres_database(args.postgres_url)
    statements = None
    if args.statements:
        statements = Statements()
        statements.install()
    try:
        return await run(args.requests, url, args.only, args.profile, statements)
    finally:
        await dbtools.drop_postgres_database(url, args.postgres_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--database", choices=["sqlite", "memory", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default=PG_ADMIN, help="server for --database postgres")
    parser.add_argument("--only", action="append", default=[], help="run only this kind")
    parser.add_argument(
        "--profile", help="write cProfile stats (CPU time) of each kind to PROFILE.<kind>"
    )
    parser.add_argument(
        "--statements", action="store_true", help="count each kind's statements (PostgreSQL)"
    )
    args = parser.parse_args()
    if args.statements and args.database != "postgres":
        parser.error("--statements counts asyncpg's statements: use --database postgres")
    if args.database == "postgres":
        figures = asyncio.run(_on_postgres(args))
    else:
        url = (
            "memory://" if args.database == "memory" else f"sqlite:///{tempfile.mkdtemp()}/cost.db"
        )
        figures = asyncio.run(run(args.requests, url, args.only, args.profile))
    for kind in [
        k for k in figures if k in ("lmsr_trade", "limit_order", "read_prices", "read_book")
    ]:
        print(
            f"{kind:12} {figures[kind]:7.3f} ms CPU per request, "
            f"{figures[kind + '_wall']:7.3f} ms wall (one request at a time)"
        )
    if args.only:
        return
    mix = (
        0.35 * figures["lmsr_trade"]
        + 0.30 * figures["limit_order"]
        + 0.20 * figures["read_prices"]
        + 0.15 * figures["read_book"]
    )
    figures["mix"] = round(mix, 3)
    print(f"{'mix':12} {mix:7.3f} ms CPU per request (35/30/20/15, as bench/api.py)")
    if args.statements:
        weights = {"lmsr_trade": 0.35, "limit_order": 0.30, "read_prices": 0.20, "read_book": 0.15}
        outside = sum(w * figures[f"{kind}_outside"] for kind, w in weights.items())
        figures["mix_outside"] = round(outside, 2)
        print(f"{'mix':12} {outside:5.2f} statements outside the batch per request")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
