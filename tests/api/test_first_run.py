"""The first run (issue 19 item 9): ``make run`` installs the app alone, ``bellwether
serve`` says where it listens, and the demo it seeds looks like a market place."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import SECRET, LiveServer, free_port

ROOT = Path(__file__).resolve().parents[2]
BANNER = "Bellwether on http://127.0.0.1:{port} (GraphiQL at /graphql)"

DEMO = """{ markets(first: 20) { edges { node {
  title status marketType volumeCents outcomes { id }
  priceHistory(resolution: "1h", first: 48) { at }
  recentTrades(first: 50) { id } } } } }"""


def test_make_run_installs_the_app_without_the_dev_tools() -> None:
    plan = subprocess.run(
        # Under `make test` (CI) make is a sub-make: --no-print-directory keeps its
        # "Entering directory" lines out of the plan.
        ["make", "--no-print-directory", "-n", "-B", "run"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "pip install --quiet -e .\n" in plan
    assert "[dev]" not in plan
    assert plan.rstrip().endswith("bellwether serve")


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[int, list[str]]]:
    """``bellwether serve`` as ``make run`` starts it (demo on), on a free port."""
    port = free_port()
    env = {
        **os.environ,
        "BELLWETHER_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "BELLWETHER_JWT_SECRET": SECRET,
        "BELLWETHER_PORT": str(port),
        "BELLWETHER_DEMO": "1",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web.cli", "serve", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    lines: list[str] = []
    try:
        while BANNER.format(port=port) not in lines:
            line = await asyncio.wait_for(process.stdout.readline(), 120)
            assert line, f"the server stopped: {lines}"
            lines.append(line.decode().strip())
        yield port, lines
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), 60)


async def test_serve_prints_its_address_once_it_listens(served: tuple[int, list[str]]) -> None:
    port, lines = served
    assert lines[-1] == BANNER.format(port=port)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        assert (await client.get("/")).status_code == 200


async def test_the_demo_has_markets_of_both_kinds_with_history(
    served: tuple[int, list[str]],
) -> None:
    port, _ = served
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        body = (await client.post("/graphql", json={"query": DEMO})).json()
    markets = [edge["node"] for edge in body["data"]["markets"]["edges"]]
    open_markets = [m for m in markets if m["status"] == "OPEN"]
    kinds = {m["marketType"] for m in open_markets}
    assert len(open_markets) >= 5 and kinds == {"LMSR", "ORDER_BOOK"}
    assert any(len(m["outcomes"]) > 2 for m in open_markets)
    assert any(m["status"] == "RESOLVED" for m in markets)
    for market in open_markets:
        assert market["volumeCents"] > 0 and market["recentTrades"], market["title"]
        times = [datetime.fromisoformat(p["at"]) for p in market["priceHistory"]]
        assert (max(times) - min(times)).total_seconds() > 24 * 3600, market["title"]


@pytest.mark.parametrize("settings", [{"demo": True}], indirect=True)
async def test_the_demo_client_names_its_users_and_never_repeats_a_market(
    server: LiveServer,
) -> None:
    outputs = []
    for _ in range(2):
        run = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "examples" / "demo_client.py"), "--url",
            f"{server.url}/graphql", stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(run.communicate(), 120)
        assert run.returncode == 0
        outputs.append(out.decode())
    for out in outputs:
        names = re.findall(r"^Step 1: (\S+) registered", out, re.MULTILINE)
        assert len(names) == 2 and all(re.fullmatch(r"(alice|bob)_[0-9a-f]{6}", n) for n in names)
        assert re.search(rf"^Step 2: {names[0]} logged in", out, re.MULTILINE)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        body = (await client.post("/graphql", json={"query": DEMO})).json()
    titles = [edge["node"]["title"] for edge in body["data"]["markets"]["edges"]]
    assert len(titles) == len(set(titles)) > 2
