"""Live fan-out at scale: N ``marketPrices`` subscribers held by lean Node clients,
trades at a steady rate over HTTP, delivery latency and the trade's own round trip.

Run a server first (``bellwether serve``), install the client once
(``make bench-live`` does both steps: ``npm ci --prefix bench/live``), then::

    python bench/live.py --url http://127.0.0.1:8000 --subscribers 5000 --trades 30 --rate 10

The WebSocket sockets are held by ``--clients`` Node processes: ``bench/live/raw.js``
(the default: WebSocket frames on Node's ``net``, about half the CPU of ``ws`` per
socket) or ``bench/live/client.js`` (Node's ``ws``). On loopback each client
connects from an address of its own (127.0.0.2, .3, ...: ephemeral ports and
TIME_WAIT per address), and the open-file limit is raised to what one client needs
(20,000 sockets: ``--clients 4``). The run:

1. trades ``--idle-trades`` times with nobody subscribed: the idle round trip;
2. opens the subscribers, ``--batch`` at a time per client (server memory before
   and after: per subscriber);
3. trades ``--trades`` times at ``--rate`` per second: each trade's round trip
   under fan-out, and each subscriber's delivery latency, from the trade's HTTP
   request being sent to the update carrying its sequence arriving;
4. prints delivered/expected, p50/p99/max delivery, the round trips, the CPU over
   step 3 of the server (``--server-pid``: the process and its children, each
   process apart too) and of the clients, the 1-minute load average, whether a
   server process was replaced meanwhile, and how many subscribers saw the last
   update. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

CLIENTS = {
    "ws": Path(__file__).resolve().parent / "live" / "client.js",
    "raw": Path(__file__).resolve().parent / "live" / "raw.js",
}
PRICES = "subscription($m: ID!) { marketPrices(marketId: $m) { sequence prices } }"
TRADE = "mutation($i: LmsrTradeInput!) { lmsrTrade(input: $i) { costOrPayoutCents } }"
TICKS = os.sysconf("SC_CLK_TCK")


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


async def new_market(client: httpx.AsyncClient, token: str) -> str:
    closes = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    market = await gql(
        client,
        "mutation($i: CreateMarketInput!) { createMarket(input: $i) { id } }",
        {"i": {"title": "Bench: live fan-out", "marketType": "LMSR", "outcomes": ["Yes", "No"],
               "closesAt": closes, "liquidityParameter": 1000.0}},
        token,
    )  # fmt: skip
    market_id: str = market["createMarket"]["id"]
    return market_id


async def trades(
    client: httpx.AsyncClient, token: str, market_id: str, count: int, rate: float
) -> tuple[list[float], list[float]]:
    """``count`` trades, one every 1/rate s: (epoch ms each was sent, round trips in ms)."""
    variables = {"i": {"marketId": market_id, "side": "BUY_YES", "amountType": "SHARES",
                       "amount": 1}}  # fmt: skip
    sent: list[float] = []
    round_trips: list[float] = []
    start = time.perf_counter()
    for number in range(count):
        await asyncio.sleep(max(0.0, start + number / rate - time.perf_counter()))
        sent.append(time.time() * 1000)
        began = time.perf_counter()
        await gql(client, TRADE, variables, token)
        round_trips.append((time.perf_counter() - began) * 1000)
    return sent, round_trips


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's workers, ``--live-workers`` processes)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    tree = [pid]
    for member in tree:
        tree += [child for child, parent in parents.items() if parent == member]
    return tree


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


class NodeClient:
    """One ``client.js`` process holding ``count`` subscribed sockets."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.base = -1

    @classmethod
    async def start(
        cls, script: Path, ws_url: str, count: int, market_id: str, source: str, batch: int
    ) -> NodeClient:
        """``count`` sockets from address ``source`` ("" for any), ``batch`` opening at once."""
        spec = json.dumps({"query": PRICES, "variables": {"m": market_id}})
        process = await asyncio.create_subprocess_exec(
            "node", str(script), ws_url, str(count), spec, source, str(batch),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            limit=2**30,
        )  # fmt: skip
        client = cls(process)
        assert process.stdout is not None
        words = (await process.stdout.readline()).decode().split()  # ready N failed F base B
        if not words or int(words[3]) or int(words[1]) != count:
            raise SystemExit(f"client could not subscribe every socket: {words}")
        client.base = int(words[5])
        return client

    async def results(self, sent: dict[int, float]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write((json.dumps({"sent": sent}) + "\n").encode())
        await self.process.stdin.drain()
        result: dict[str, Any] = json.loads(await self.process.stdout.readline())
        await self.process.wait()
        return result


def sources(ws_url: str, clients: int) -> list[str]:
    """A loopback source address per client (127.0.0.2, .3, ...) when the server is on
    loopback: each address has its own ephemeral ports (and TIME_WAIT) towards the port."""
    host = urlsplit(ws_url).hostname or ""
    if host not in ("127.0.0.1", "localhost"):
        return [""] * clients
    return [f"127.0.0.{2 + number % 250}" for number in range(clients)]


def open_files_for(per_client: int) -> None:
    """Raise this process's soft open-file limit (the Node clients inherit it) to what one
    client's sockets need, or say how many clients it takes."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = per_client + 256
    if needed > hard:
        raise SystemExit(
            f"{per_client} sockets per client exceed the open-file limit ({hard}): "
            "use more --clients"
        )
    if needed > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def closed_by_server(results: list[dict[str, Any]]) -> dict[str, int]:
    """Sockets the server closed during the run, by WebSocket close code."""
    codes: dict[str, int] = {}
    for result in results:
        for code, count in result["closed"].items():
            codes[code] = codes.get(code, 0) + count
    return codes


def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


async def main(args: argparse.Namespace) -> dict[str, Any]:
    ws_url = args.ws_url or args.url.replace("http", "ws", 1) + "/graphql"
    started = process_tree(args.server_pid) if args.server_pid else []
    async with httpx.AsyncClient(base_url=args.url, timeout=60) as client:
        token = await trader(client)
        market_id = await new_market(client, token)
        _, idle = await trades(client, token, market_id, args.idle_trades, args.rate)
        memory_before = rss_bytes(started) if started else 0
        shares = [args.subscribers // args.clients] * args.clients
        shares[0] += args.subscribers - sum(shares)
        open_files_for(shares[0])
        opened = time.perf_counter()
        nodes = await asyncio.gather(
            *(
                NodeClient.start(CLIENTS[args.client], ws_url, n, market_id, source, args.batch)
                for n, source in zip(shares, sources(ws_url, args.clients), strict=True)
            )
        )
        connect_seconds = time.perf_counter() - opened
        await asyncio.sleep(args.calm)  # let the server settle after the connection storm
        pids = process_tree(args.server_pid) if args.server_pid else []  # replaced ones too
        memory_after = rss_bytes(pids) if pids else 0
        node_pids = [node.process.pid for node in nodes]
        load = os.getloadavg()[0]
        cpu_before = {pid: cpu_seconds([pid]) for pid in pids + node_pids}
        wall_before = time.perf_counter()
        sent, busy = await trades(client, token, market_id, args.trades, args.rate)
        await asyncio.sleep(args.settle)
        wall = time.perf_counter() - wall_before
        cores = {pid: (cpu_seconds([pid]) - cpu_before[pid]) / wall for pid in cpu_before}
    base = nodes[0].base
    by_sequence = {base + number: at for number, at in enumerate(sent, start=1)}
    results = await asyncio.gather(*(node.results(by_sequence) for node in nodes))
    latencies = sorted(x for result in results for x in result["latencies"])
    expected = args.subscribers * args.trades
    return {
        "subscribers": args.subscribers,
        "trades": args.trades,
        "rate": args.rate,
        "delivered": len(latencies),
        "expected": expected,
        "saw_last": sum(result["saw_last"] for result in results),
        "closed_by_server": closed_by_server(results),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(latencies[-1], 1) if latencies else None,
        "trade_round_trip_idle_p50_ms": round(statistics.median(idle), 1),
        "trade_round_trip_fanout_p50_ms": round(statistics.median(busy), 1),
        "trade_round_trip_fanout_p99_ms": round(percentile(sorted(busy), 0.99), 1),
        "round_trip_ratio": round(statistics.median(busy) / statistics.median(idle), 2),
        "server_processes": len(pids),
        "server_processes_replaced": len(set(started) - set(pids)),
        "server_cpu_cores": round(sum(cores[pid] for pid in pids), 2) if pids else None,
        "server_cpu_cores_by_process": [round(cores[pid], 2) for pid in pids],
        "client_cpu_cores": round(sum(cores[pid] for pid in node_pids), 2),
        "load_average_1m": round(load, 2),
        "server_bytes_per_subscriber": (
            round((memory_after - memory_before) / args.subscribers) if pids else None
        ),
        "connect_seconds": round(connect_seconds, 1),
        "clients": args.clients,
        "client": args.client,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument(
        "--ws-url", default="", help="subscribe here (--live-port); default: --url's /graphql"
    )
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--trades", type=int, default=30)
    parser.add_argument("--rate", type=float, default=10.0, help="trades per second")
    parser.add_argument("--idle-trades", type=int, default=30)
    parser.add_argument("--clients", type=int, default=1, help="Node processes holding sockets")
    parser.add_argument(
        "--client", choices=sorted(CLIENTS), default="raw", help="raw: Node's net, leaner"
    )
    parser.add_argument("--batch", type=int, default=100, help="sockets a client opens at once")
    parser.add_argument(
        "--calm", type=float, default=1.0, help="seconds between the last socket and trading"
    )
    parser.add_argument("--settle", type=float, default=3.0, help="seconds to wait at the end")
    parser.add_argument("--server-pid", type=int, default=0, help="for CPU and memory")
    figures = asyncio.run(main(parser.parse_args()))
    print(
        f"subscribers={figures['subscribers']} delivered={figures['delivered']}/"
        f"{figures['expected']} saw_last={figures['saw_last']} "
        f"closed={figures['closed_by_server']} p50={figures['p50_ms']}ms "
        f"p99={figures['p99_ms']}ms max={figures['max_ms']}ms trade p50 "
        f"idle={figures['trade_round_trip_idle_p50_ms']}ms "
        f"fan-out={figures['trade_round_trip_fanout_p50_ms']}ms "
        f"cpu={figures['server_cpu_cores']} client cpu={figures['client_cpu_cores']} "
        f"bytes/sub={figures['server_bytes_per_subscriber']} load={figures['load_average_1m']}"
    )
    print(json.dumps(figures))
