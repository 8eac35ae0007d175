"""Baseline: the seed chapter's FastAPI REST app under bench/api.py's workload.

The issue asks for our GraphQL API to reach 10x the throughput of "the seed chapter's REST
app on the same workload and machine". This script measures that app here, reproducibly:

1. It extracts the chapter's Python code blocks from the seed text at run time
   (``../shared/seeds/000_81b4101d4ca939bd.txt`` beside the repository; the seed's code is
   never copied into this repository) into a temporary directory laid out as the chapter's
   project tree (its section 32.1.2), and applies the few patches listed below.
2. It creates once, and caches, a virtualenv with the chapter's dependencies pinned:
   ``$BELLWETHER_SEED_VENV/sqlalchemy-1.4``, ``$BELLWETHER_SEED_VENV`` defaulting to
   ``~/.cache/bellwether-seed-venv``; rebuilt when the pins change. The server stack (uvicorn,
   httptools, uvloop, starlette) is pinned to the same versions as our own venv, so the two
   runs differ in the application, not the server.
3. It serves the app with uvicorn (1 worker, ``--no-access-log``, log level warning) on a
   free port, from the temporary directory, so the chapter's ``sqlite:///./prediction_market.db``
   is a fresh SQLite file there, and waits for ``/health``.
4. It runs bench/api.py's workload through aiohttp: N clients (default 20), closed loop, for
   ``--seconds``: 35% LMSR trades, 30% crossing limit orders, 20% price reads, 15% book reads.
5. It prints ops/s, p50 and p99 per kind and overall like bench/api.py, and as its last line
   one JSON object of the figures: bench/api.py's keys plus ``"app": "seed-rest"``,
   ``sqlalchemy``, ``read_book_via``, ``limit_orders_filled`` (the share of limit orders
   answered "filled"), ``setup_seconds`` and ``server_exceptions`` (tracebacks it logged).

    python bench/seed_api.py                       # 20 clients, 15 s
    python bench/seed_api.py --seconds 10
    python bench/seed_api.py --sqlalchemy 2.1             # the stalls described below
    python bench/seed_api.py --extract-only /tmp/seed-app   # write the patched app and stop

File mapping (section 32.1.2's layout; each block runs from the line that starts with its
first marker to the line before the one that starts with its end marker, see ``FILES``):

    main.py                      "Main application entry point ..."  (32.1.3)
    database.py                  "Database connection and session management." (32.1.4)
    models/database_models.py    "SQLAlchemy database models ..." (32.1.5)
    engines/order_book.py        "Continuous double auction ..." + "class OrderBook:" (32.2.1-2)
    engines/lmsr.py              "Logarithmic Market Scoring Rule ..." (32.3.3)
    models/schemas.py            "Pydantic schemas ..." (32.4.2)
    routers/markets.py           "Market management endpoints." (32.4.3)
    routers/trading.py           "Trading endpoints ..." (32.4.4)
    services/auth_service.py     "Authentication service ..." (32.5.2)
    routers/auth.py              "Authentication endpoints ..." (32.5.3)
    services/market_service.py   "Market resolution and payout service." (32.6.2, the layout's
                                 "market lifecycle management" module; see patch 2)
    services/trading_service.py  "Trading service that routes orders ..." (32.7.1)
    models/, routers/, services/, engines/ __init__.py: empty, as in the layout.

Left out: ``config.py`` (listed in the layout, never shown, imported by nothing), the
frontend and WebSocket snippets of 32.8 (not part of ``main.py``'s app; the WebSocket one
calls an undefined ``get_current_prices``), the usage examples, and the tests.

Patches (``PATCHES``: exact string replacements, each must match exactly once; ``APPENDS``:
code added at a file's end; nothing is made faster than written):

1. routers/auth.py, ``data={"sub": user.id}`` -> ``data={"sub": str(user.id)}`` (login):
   python-jose (3.5.0 here) refuses to decode a token whose ``sub`` is not a string
   ("Subject must be a string."), so as written every authenticated request is a 401. The
   decoded ``"42"`` is compared with the integer column; SQLite's affinity rules match it.
2. services/market_service.py, appended (``APPENDS``): routers/markets.py imports
   ``MarketService`` from there, and the chapter never shows it. ``MARKET_SERVICE`` is a
   minimal one in the chapter's style (one SQLAlchemy session, plain queries), doing what
   the router's docstrings say: create a market with its outcomes; list; get (a
   ``MarketResponse`` with ``outcomes`` as ``{"id", "name"}`` dicts and ``prices``); prices
   by outcome name (LMSR: the chapter's ``LMSRMarketMaker`` on the stored
   ``shares_outstanding``; order book: the chapter's ``TradingService._get_current_price``,
   the best bid/ask midpoint); resolve (through the chapter's ``ResolutionService``).

Versions (``REQUIREMENTS``, every package pinned): pydantic 2 (the chapter uses
``field_validator``), FastAPI, python-multipart (``OAuth2PasswordRequestForm`` for login),
python-jose, passlib with ``bcrypt==4.0.1`` (passlib 1.7.4's last clean match: 4.1 drops the
``__about__`` it reads, 5.0 rejects the over-long password of its self-test), and
SQLAlchemy 1.4 by default. The chapter's code is SQLAlchemy 1.x style
(``sqlalchemy.ext.declarative.declarative_base``, ``Column``, ``session.query``; 1.4 itself
warns "pin sqlalchemy<2.0" on it), and it only runs under this load on 1.4: there a file
SQLite engine has no connection pool limit (``NullPool``). SQLAlchemy 2 gives it a
``QueuePool`` of 5 + 10 connections, and the app stalls: its endpoints are ``async def`` and
run their synchronous queries on the event loop, while ``get_db`` and ``get_current_user`` are
plain functions FastAPI runs in its thread pool. With 20 clients, 15 requests hold a
connection while they wait for the loop, an unauthenticated read then blocks the loop itself
in the pool's checkout, and nothing moves until the pool's 30 s timeout (a 500) or the
client's 30 s timeout. ``--sqlalchemy 2.1`` shows it: about 1-6 ops/s, most requests either
fine or 30 s, and every run lasting at least 30 s whatever ``--seconds`` says.

Endpoint mapping (bench/api.py operation -> the seed's REST call):

    register + login     POST /api/v1/auth/register (JSON), POST /api/v1/auth/login (form)
    createMarket         POST /api/v1/markets/  market_type "lmsr" with liquidity_parameter
                         500, and "order_book"; outcomes ["Yes", "No"]; closes_at is naive
                         (the router compares it with ``datetime.utcnow()``)
    mintCompleteSet      nothing: the seed never checks holdings before a sell (short selling
                         is allowed), and every user starts with a balance of 1000
    lmsr_trade           POST /api/v1/trading/orders  order_type "market", side buy / sell
                         alternating, quantity 2, outcome "Yes" of the LMSR market
    limit_order          POST /api/v1/trading/orders  order_type "limit", price 0.50,
                         quantity 1, sell / buy alternating, outcome "Yes" of the book market
    read_prices          GET /api/v1/markets/{lmsr_id}/prices
    read_book            GET /api/v1/markets/{book_id}: the seed has no order-book endpoint;
                         its market detail carries the prices read from the in-memory book
                         (best bid/ask midpoint), the closest read it has

Set-up registers and logs in the users one at a time (bench/api.py does it concurrently):
each is a bcrypt hash and a bcrypt check on the server's event loop anyway (0.6 s a user, 12 s
for 20), and
concurrent registrations alone stall the app on SQLAlchemy 2 as above. The first run builds
the virtualenv first (about half a minute here).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from api import free_port, report, summarize, tree_cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT.parent / "shared" / "seeds" / "000_81b4101d4ca939bd.txt"
VENVS = Path(
    os.environ.get("BELLWETHER_SEED_VENV", Path.home() / ".cache" / "bellwether-seed-venv")
)
PASSWORD = "bench-password-1"
API = "/api/v1"
READ_BOOK_VIA = "GET /api/v1/markets/{id} (the seed has no order-book endpoint)"

# The seed's virtualenv, every package pinned (pip freeze of a working install).
REQUIREMENTS = [
    # the chapter's own imports
    "fastapi==0.163.2",
    "pydantic==2.14.3",
    "python-jose==3.5.0",
    "passlib==1.7.4",
    "bcrypt==4.0.1",  # see the docstring
    "python-multipart==0.0.34",  # OAuth2PasswordRequestForm (login)
    # the server, as in our own venv
    "uvicorn==0.54.0",
    "httptools==0.9.0",
    "uvloop==0.23.0",
    "starlette==1.10.0",
    # what those pull in, pinned too
    "annotated-doc==0.0.7",
    "annotated-types==0.8.0",
    "anyio==4.16.0",
    "click==8.5.1",
    "ecdsa==0.19.2",
    "h11==0.16.0",
    "idna==3.20",
    "opentelemetry-api==1.45.2",
    "pyasn1==0.6.5",
    "pydantic-core==2.50.4",
    "rsa==4.9.1",
    "six==1.17.0",
    "typing-extensions==4.16.0",
    "typing-inspection==0.4.5",
]
# SQLAlchemy, by --sqlalchemy: 1.4 (the default, see the docstring) or 2.1.
SQLALCHEMY = {
    "1.4": ["sqlalchemy==1.4.54", "greenlet==3.5.6"],
    "2.1": ["sqlalchemy==2.1.9"],
}

# (relative path, line the block starts with, line that starts the prose after it).
FILES = [
    (
        "main.py",
        '"""Main application entry point for the prediction market platform."""',
        "Best Practice: Always version your API",
    ),
    ("database.py", '"""Database connection and session management."""', "32.1.5 "),
    (
        "models/database_models.py",
        '"""SQLAlchemy database models for the prediction market platform."""',
        "⚠️ Common Pitfall: Using Float",
    ),
    (
        "engines/order_book.py",
        '"""Continuous double auction order book engine.',
        "32.2.2 ",
    ),
    ("engines/order_book.py", "class OrderBook:", "32.2.3 "),
    (
        "engines/lmsr.py",
        '"""Logarithmic Market Scoring Rule (LMSR) automated market maker.',
        "32.3.4 ",
    ),
    ("models/schemas.py", '"""Pydantic schemas for API request validation', "32.4.3 "),
    ("routers/markets.py", '"""Market management endpoints."""', "32.4.4 "),
    (
        "routers/trading.py",
        '"""Trading endpoints for order management and position tracking."""',
        "Best Practice: Notice how the router",
    ),
    ("services/auth_service.py", '"""Authentication service with JWT', "32.5.3 "),
    (
        "routers/auth.py",
        '"""Authentication endpoints for registration and login."""',
        "⚠️ Common Pitfall: Never store the SECRET_KEY",
    ),
    ("services/market_service.py", '"""Market resolution and payout service."""', "32.6.3 "),
    (
        "services/trading_service.py",
        '"""Trading service that routes orders to the appropriate pricing engine."""',
        "💡 Intuition: The trading service acts as a dispatcher",
    ),
]
PACKAGES = ["models", "routers", "services", "engines"]

# Patch 2: the MarketService that routers/markets.py imports and the chapter never shows.
MARKET_SERVICE = '''

# --- Added by bench/seed_api.py (patch 2): the chapter never shows MarketService. ---
from fastapi import HTTPException

from engines.lmsr import LMSRMarketMaker
from models.database_models import MarketType
from models.schemas import MarketResponse
from services.trading_service import TradingService


class MarketService:
    """Market lifecycle: creation, listing, lookup, prices and resolution."""

    def __init__(self, db: Session):
        self.db = db

    def create_market(self, market_data, creator_id: int) -> MarketResponse:
        market = Market(
            title=market_data.title,
            description=market_data.description,
            market_type=MarketType(market_data.market_type),
            status=MarketStatus.OPEN,
            creator_id=creator_id,
            liquidity_parameter=market_data.liquidity_parameter,
            resolution_source=market_data.resolution_source,
            closes_at=market_data.closes_at,
        )
        self.db.add(market)
        self.db.flush()
        for name in market_data.outcomes:
            self.db.add(Outcome(market_id=market.id, name=name, shares_outstanding=0.0))
        self.db.commit()
        return self._response(market)

    def list_markets(self, status=None, skip: int = 0, limit: int = 20) -> list[MarketResponse]:
        query = self.db.query(Market)
        if status:
            query = query.filter(Market.status == MarketStatus(status))
        markets = query.order_by(Market.id).offset(skip).limit(limit).all()
        return [self._response(market) for market in markets]

    def get_market(self, market_id: int):
        market = self.db.query(Market).filter(Market.id == market_id).first()
        return self._response(market) if market else None

    def get_prices(self, market_id: int) -> dict:
        market = self.db.query(Market).filter(Market.id == market_id).first()
        if not market:
            raise HTTPException(status_code=404, detail="Market not found")
        outcomes = self._outcomes(market)
        return {o.name: p for o, p in zip(outcomes, self._prices(market, outcomes))}

    def resolve_market(self, market_id: int, winning_outcome_id: int):
        ResolutionService(self.db).resolve_market(market_id, winning_outcome_id)
        return self.get_market(market_id)

    def _outcomes(self, market: Market) -> list[Outcome]:
        return (
            self.db.query(Outcome)
            .filter(Outcome.market_id == market.id)
            .order_by(Outcome.id)
            .all()
        )

    def _prices(self, market: Market, outcomes: list[Outcome]) -> list[float]:
        if market.market_type == MarketType.LMSR:
            amm = LMSRMarketMaker(
                b=market.liquidity_parameter,
                num_outcomes=len(outcomes),
                shares=[o.shares_outstanding for o in outcomes],
            )
            return amm.all_prices()
        trading = TradingService(self.db)
        return [trading._get_current_price(market, o.id) for o in outcomes]

    def _response(self, market: Market) -> MarketResponse:
        outcomes = self._outcomes(market)
        return MarketResponse(
            id=market.id,
            title=market.title,
            description=market.description or "",
            market_type=market.market_type.value,
            status=market.status.value,
            creator_id=market.creator_id,
            liquidity_parameter=market.liquidity_parameter,
            closes_at=market.closes_at,
            created_at=market.created_at,
            outcomes=[{"id": o.id, "name": o.name} for o in outcomes],
            prices=self._prices(market, outcomes),
        )
'''

# (relative path, exact text, replacement): each must occur exactly once after extraction.
PATCHES = [
    # Patch 1: python-jose decodes only string subjects; as written every token is refused.
    (
        "routers/auth.py",
        'create_access_token(data={"sub": user.id})',
        'create_access_token(data={"sub": str(user.id)})',
    ),
]
# (relative path, text added at its end).
APPENDS = [
    # Patch 2: the missing MarketService (see MARKET_SERVICE).
    ("services/market_service.py", MARKET_SERVICE),
]


def extract(target: Path) -> None:
    """Write the chapter's app, patched, into ``target``."""
    lines = SEED.read_text(encoding="utf-8").splitlines()
    files: dict[str, list[str]] = defaultdict(list)
    for path, start, end in FILES:
        starts = [i for i, line in enumerate(lines) if line.startswith(start)]
        if len(starts) != 1:
            raise SystemExit(f"{path}: {len(starts)} lines start with {start!r} in {SEED}")
        stop = next(i for i in range(starts[0] + 1, len(lines)) if lines[i].startswith(end))
        block = lines[starts[0] : stop]
        while block and not block[-1].strip():
            block.pop()
        if files[path]:
            files[path] += ["", ""]
        files[path] += block
    texts = {path: "\n".join(block) + "\n" for path, block in files.items()}
    texts.update({f"{package}/__init__.py": "" for package in PACKAGES})
    for path, old, new in PATCHES:
        if texts[path].count(old) != 1:
            raise SystemExit(f"patch for {path} does not match exactly once: {old!r}")
        texts[path] = texts[path].replace(old, new)
    for path, text in APPENDS:
        texts[path] += text
    for path, text in texts.items():
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        (target / path).write_text(text, encoding="utf-8")


def ensure_venv(sqlalchemy: str) -> Path:
    """The seed's virtualenv, built on first use and whenever the pins change."""
    venv = VENVS / f"sqlalchemy-{sqlalchemy}"
    python = venv / "bin" / "python"
    stamp = venv / "bellwether-requirements.txt"
    requirements = REQUIREMENTS + SQLALCHEMY[sqlalchemy]
    wanted = "\n".join(requirements) + "\n"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    print(f"building the seed's virtualenv in {venv} ...", file=sys.stderr)
    started = time.perf_counter()
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *requirements,
        ],
        check=True,
    )
    stamp.write_text(wanted)
    print(f"built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return python


def start_server(
    python: Path, app_dir: Path, loop: str, http: str
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [
        str(python),
        "-m",
        "uvicorn",
        "main:app",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
        "--loop",
        loop,
        "--http",
        http,
    ]
    with (app_dir / "server.log").open("wb") as log:
        process = subprocess.Popen(command, cwd=app_dir, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    sys.stderr.write((app_dir / "server.log").read_text(errors="replace")[-3000:])
    raise SystemExit("the seed app did not start")


def stop_server(process: subprocess.Popen[bytes], app_dir: Path) -> dict[str, Any]:
    """Stop the server (killed if its event loop is stuck) and sum up what it logged."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
    log = (app_dir / "server.log").read_text(errors="replace").splitlines()
    # The last line of each traceback: the exception the server answered 500 with.
    raised = [line for line in log if line[:1].isalpha() and ": " in line and "Error" in line]
    summary: dict[str, Any] = {
        "server_exceptions": sum("Exception in ASGI application" in line for line in log)
    }
    if raised:
        summary["server_first_exception"] = raised[0][:300]
    return summary


async def call(
    client: aiohttp.ClientSession,
    method: str,
    path: str,
    token: str | None = None,
    **kwargs: Any,
) -> Any:
    """One request; a non-2xx answer raises with its status and body."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with client.request(method, API + path, headers=headers, **kwargs) as response:
        body = await response.read()
        if not 200 <= response.status < 300:
            raise RuntimeError(f"{response.status}: {body[:200].decode(errors='replace')}")
        return json.loads(body)


async def user(client: aiohttp.ClientSession, name: str) -> str:
    await call(
        client,
        "POST",
        "/auth/register",
        json={"username": name, "email": f"{name}@bench.example", "password": PASSWORD},
    )
    login = await call(client, "POST", "/auth/login", data={"username": name, "password": PASSWORD})
    return str(login["access_token"])


async def setup(
    client: aiohttp.ClientSession, clients: int
) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
    tag = f"b{int(time.time() * 1000) % 10**8}"
    # One user at a time: concurrent registrations stall the seed app (see the docstring).
    tokens = [await user(client, f"{tag}u{i}") for i in range(clients)]
    closes = "2099-01-01T00:00:00"  # naive: the seed compares it with datetime.utcnow()
    lmsr = await call(
        client,
        "POST",
        "/markets/",
        tokens[0],
        json={
            "title": "Benchmark LMSR market",
            "market_type": "lmsr",
            "outcomes": ["Yes", "No"],
            "closes_at": closes,
            "liquidity_parameter": 500.0,
        },
    )
    book = await call(
        client,
        "POST",
        "/markets/",
        tokens[0],
        json={
            "title": "Benchmark order book market",
            "market_type": "order_book",
            "outcomes": ["Yes", "No"],
            "closes_at": closes,
        },
    )
    # No minting: the seed lets anyone sell shares they do not hold.
    return tokens, lmsr, book


async def run_client(
    client: aiohttp.ClientSession,
    token: str,
    lmsr: dict[str, Any],
    book: dict[str, Any],
    deadline: float,
    samples: dict[str, list[float]],
    errors: list[str],
    fills: list[bool],
    seed: int,
) -> None:
    rng = random.Random(seed)
    lmsr_yes = lmsr["outcomes"][0]["id"]
    book_yes = book["outcomes"][0]["id"]
    steps: dict[str, int] = defaultdict(int)
    while time.perf_counter() < deadline:
        roll = rng.random()
        method, path, body = "GET", "", None
        if roll < 0.35:
            kind = "lmsr_trade"
            steps[kind] += 1
            method, path = "POST", "/trading/orders"
            body = {
                "market_id": lmsr["id"],
                "outcome_id": lmsr_yes,
                "side": "buy" if steps[kind] % 2 else "sell",
                "order_type": "market",
                "quantity": 2,
            }
        elif roll < 0.65:
            kind = "limit_order"
            steps[kind] += 1
            method, path = "POST", "/trading/orders"
            body = {
                "market_id": book["id"],
                "outcome_id": book_yes,
                "side": "sell" if steps[kind] % 2 else "buy",
                "order_type": "limit",
                "price": 0.5,
                "quantity": 1,
            }
        elif roll < 0.85:
            kind, path = "read_prices", f"/markets/{lmsr['id']}/prices"
        else:
            kind, path = "read_book", f"/markets/{book['id']}"
        started = time.perf_counter()
        try:
            answer = await call(client, method, path, token, json=body)
            if kind == "limit_order":
                fills.append(answer.get("status") == "filled")
        except Exception as error:  # counted; the run goes on
            errors.append(f"{kind}: {type(error).__name__}: {error}"[:300])
        samples[kind].append(time.perf_counter() - started)


async def measure(
    url: str, clients: int, seconds: float, server_pid: int | None = None
) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=clients + 5)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as client:
        setup_started = time.perf_counter()
        tokens, lmsr, book = await setup(client, clients)
        setup_seconds = time.perf_counter() - setup_started
        samples: dict[str, list[float]] = defaultdict(list)
        errors: list[str] = []
        fills: list[bool] = []
        cpu_before = tree_cpu_seconds(server_pid) if server_pid else 0.0
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(
                run_client(client, t, lmsr, book, deadline, samples, errors, fills, i)
                for i, t in enumerate(tokens)
            )
        )
        elapsed = time.perf_counter() - started
        server_cpu = tree_cpu_seconds(server_pid) - cpu_before if server_pid else None
    figures = summarize(samples, errors, elapsed, clients, server_cpu)
    if fills:
        figures["limit_orders_filled"] = round(sum(fills) / len(fills), 3)
    figures["setup_seconds"] = round(setup_seconds, 1)
    if errors:
        figures["first_errors"] = errors[:3]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--url", help="benchmark a running seed app instead of starting one")
    parser.add_argument("--loop", default="auto", help="uvicorn's --loop (auto, asyncio, uvloop)")
    parser.add_argument("--http", default="auto", help="uvicorn's --http (auto, h11, httptools)")
    parser.add_argument(
        "--sqlalchemy",
        choices=sorted(SQLALCHEMY),
        default="1.4",
        help="SQLAlchemy for the seed app (2.1 stalls under this load, see the docstring)",
    )
    parser.add_argument(
        "--extract-only", metavar="DIR", help="write the patched seed app into DIR and stop"
    )
    args = parser.parse_args()
    if args.extract_only:
        extract(Path(args.extract_only))
        print(f"the seed app is in {args.extract_only}")
        return
    process = None
    app_dir = None
    url = args.url
    if url is None:
        python = ensure_venv(args.sqlalchemy)
        app_dir = Path(tempfile.mkdtemp(prefix="bellwether-seed-app-"))
        extract(app_dir)
        process, url = start_server(python, app_dir, args.loop, args.http)
    server: dict[str, Any] = {}
    try:
        pid = process.pid if process is not None else None
        figures = asyncio.run(measure(url, args.clients, args.seconds, pid))
    finally:
        if process is not None and app_dir is not None:
            server = stop_server(process, app_dir)
        if app_dir is not None:
            shutil.rmtree(app_dir, ignore_errors=True)
    figures.update(server)
    figures.update(
        database="sqlite" if args.url is None else "external",
        workers=1,
        app="seed-rest",
        sqlalchemy=args.sqlalchemy if args.url is None else "external",
        read_book_via=READ_BOOK_VIA,
    )
    print(f"read_book is {READ_BOOK_VIA}")
    report(figures)


if __name__ == "__main__":
    main()
