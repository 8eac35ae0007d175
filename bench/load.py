"""The bank test: many clients, random valid and invalid operations, then count every cent.

Starts ``bellwether serve`` as a subprocess on a fresh database (SQLite with one
worker, or PostgreSQL with several), creates an admin with ``bellwether
create-admin``, registers the clients, opens markets of both types, and runs
the clients concurrently (see ``bench/load_ops.py`` for the operations). A
fault can be injected part-way: ``--fault kill-worker`` (kill -9 one worker),
``kill-server`` (kill -9 every process of the server, then start it again) or
``pg-restart`` (stop PostgreSQL for a moment, then start it: a throwaway cluster that
the run starts for itself, ``tests/pgcluster.py``, never the shared server). Afterwards it runs
``bellwether audit``, sums every balance straight from the database, and looks
up every order and trade whose response reached a client. Prints the figures;
the last line is one JSON object.

    python bench/load.py                                   # SQLite, 50 clients, 10,000 ops
    python bench/load.py --backend postgres --workers 2    # PostgreSQL at 127.0.0.1:5432
    python bench/load.py --backend postgres --workers 2 --fault kill-worker
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.api import batch_sizes, connections_held  # noqa: E402
from bench.load_ops import (  # noqa: E402
    GRANT,
    LOGIN,
    PASSWORD,
    REGISTER,
    UNAVAILABLE,
    Account,
    Client,
    Tally,
    Unreachable,
    World,
    create_market,
    post,
)
from tests.dbtools import create_empty_postgres_database, drop_postgres_database  # noqa: E402
from tests.pgcluster import ThrowawayCluster, throwaway_cluster  # noqa: E402

PG_ADMIN = (
    os.environ.get("BELLWETHER_TEST_POSTGRES_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
)
SECRET = "load-test-secret-" + "z" * 40
ADMIN = "loadadmin"
FAULTS = ("none", "kill-worker", "kill-server", "pg-restart")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bellwether_command() -> list[str]:
    script = Path(sys.executable).with_name("bellwether")
    return [str(script)] if script.exists() else [sys.executable, "-m", "web.cli"]


def server_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BELLWETHER_")}
    env.update(
        BELLWETHER_DATABASE_URL=database_url,
        BELLWETHER_JWT_SECRET=SECRET,
        BELLWETHER_DEMO="0",
        BELLWETHER_LOGIN_LIMIT_PER_ADDRESS="100000",
        BELLWETHER_SWEEP_INTERVAL_SECONDS="1",
        BELLWETHER_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*bellwether_command(), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- databases -------------------------------------------------------------------


@contextlib.asynccontextmanager
async def fresh_database(
    backend: str, directory: Path, admin_url: str = PG_ADMIN
) -> AsyncIterator[str]:
    """A new empty database URL (migrated by the caller); dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'load.db'}"
        return
    url = await create_empty_postgres_database(admin_url, "bellwether_load")
    try:
        yield url
    finally:
        for _ in range(30):  # PostgreSQL may be starting again after a fault
            try:
                await drop_postgres_database(url, admin_url)
                break
            except Exception as error:  # OSError, or asyncpg's while it stops or starts
                last = error
            await asyncio.sleep(1)
        else:
            print(f"could not drop {url}: {last}", file=sys.stderr)


FIGURES_SQL = {
    "issued": "SELECT COALESCE(SUM(issued_cents), 0) FROM platform",
    "cash": "SELECT COALESCE(SUM(cash_cents), 0) FROM users",
    "bonus": "SELECT COALESCE(SUM(bonus_cents), 0) FROM users",
    "reserved": "SELECT COALESCE(SUM(reserved_cents), 0) FROM users",
    "pools": "SELECT COALESCE(SUM(pool_cents), 0) FROM markets",
    "fees": "SELECT COALESCE(SUM(fees_cents), 0) FROM markets",
    "negative_users": "SELECT COUNT(*) FROM users WHERE cash_cents < 0 OR bonus_cents < 0 "
    "OR reserved_cents < 0",
    "negative_markets": "SELECT COUNT(*) FROM markets WHERE pool_cents < 0 OR fees_cents < 0",
    "negative_positions": "SELECT COUNT(*) FROM positions WHERE shares < 0 "
    "OR reserved_shares < 0 OR cost_cents < 0",
    "negative_orders": "SELECT COUNT(*) FROM orders WHERE reserved_cents < 0",
    "users": "SELECT COUNT(*) FROM users",
    "markets": "SELECT COUNT(*) FROM markets",
    "orders": "SELECT COUNT(*) FROM orders",
    "trades": "SELECT COUNT(*) FROM trades",
    "ledger_entries": "SELECT COUNT(*) FROM ledger_entries",
    "duplicate_client_order_ids": "SELECT COUNT(*) FROM (SELECT user_id, client_order_id "
    "FROM orders WHERE client_order_id IS NOT NULL GROUP BY user_id, client_order_id "
    "HAVING COUNT(*) > 1) AS d",
}


CANCELLED_SQL = "SELECT id FROM orders WHERE status = 'CANCELLED'"


@dataclass
class Stored:
    figures: dict[str, int]
    order_ids: set[str]
    trade_ids: set[str]
    cancelled_ids: set[str]


async def read_stored(url: str) -> Stored:
    """The money figures and every order and trade id, straight from the database."""
    if url.startswith("sqlite:"):
        path = urlsplit(url).path
        with contextlib.closing(sqlite3.connect(path)) as conn:
            figures = {k: int(conn.execute(q).fetchone()[0]) for k, q in FIGURES_SQL.items()}
            orders = {row[0] for row in conn.execute("SELECT id FROM orders")}
            trades = {row[0] for row in conn.execute("SELECT id FROM trades")}
            cancelled = {row[0] for row in conn.execute(CANCELLED_SQL)}
        return Stored(figures, orders, trades, cancelled)
    import asyncpg

    conn = await asyncpg.connect(url, timeout=10)
    try:
        figures = {k: int(await conn.fetchval(q)) for k, q in FIGURES_SQL.items()}
        orders = {r[0] for r in await conn.fetch("SELECT id FROM orders")}
        trades = {r[0] for r in await conn.fetch("SELECT id FROM trades")}
        cancelled = {r[0] for r in await conn.fetch(CANCELLED_SQL)}
    finally:
        await conn.close()
    return Stored(figures, orders, trades, cancelled)


# --- the server --------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """``pid``'s child processes, whichever of its threads started them (the supervisor
    replaces a worker from a thread of its own)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class Server:
    """``bellwether serve`` in its own session, so that only its processes are ever killed."""

    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        self.env = env
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.killed_pids: list[int] = []

    def start(self) -> None:
        command = [*bellwether_command(), "serve", "--port", str(self.port)]
        command += ["--workers", str(self.workers)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command,
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def wait_ready(self, within: float = 60) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as http:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/healthz")).status_code == 200 and self._all_up():
                        return
                await asyncio.sleep(0.1)
        raise TimeoutError(f"the server did not become ready: {self.log.read_text()[-2000:]}")

    def _all_up(self) -> bool:
        return self.workers == 1 or len(self.worker_pids()) >= self.workers

    def worker_pids(self) -> list[int]:
        """The worker processes (children of the supervisor, ``web.workers``)."""
        if self.process is None or self.workers == 1:
            return [] if self.process is None else [self.process.pid]
        return [pid for pid in children(self.process.pid) if "--socket-fd" in cmdline(pid)]

    def connections(self, pid: int) -> int:
        """How many client connections to the server's port the process holds open."""
        return connections_held([pid], self.port).get(pid, 0)

    def kill_worker(self) -> int:
        """kill -9 the worker holding the most connections; the supervisor starts a new one."""
        pid = max(self.worker_pids(), key=self.connections)
        os.kill(pid, signal.SIGKILL)
        self.killed_pids.append(pid)
        return pid

    def kill(self) -> None:
        """kill -9 every process of the server (its own session)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.killed_pids.append(self.process.pid)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- PostgreSQL control --------------------------------------------------------------


@contextlib.contextmanager
def own_postgres(config: Config) -> Iterator[ThrowawayCluster | None]:
    """The cluster the ``pg-restart`` fault may stop: a throwaway one of this run's own
    (initdb + pg_ctl on a free port), never the shared server at ``PG_ADMIN``."""
    if config.fault != "pg-restart":
        yield None
        return
    with throwaway_cluster() as cluster:
        yield cluster


# --- the run -------------------------------------------------------------------------


@dataclass
class Config:
    clients: int = 50
    ops: int = 10_000
    backend: str = "sqlite"
    workers: int = 1
    seed: int = 7
    fault: str = "none"
    fault_at: float = 0.4
    """The fault fires when this share of the operations is done."""
    outage_seconds: float = 2.0
    markets_per_type: int | None = None
    """Markets of each type (LMSR, order book); default 2..clients/8. One makes every
    client's commands meet on two hot markets, so the markets' batches grow."""


@dataclass
class Report:
    config: Config
    tally: Tally
    seconds: float
    audit_rc: int = -1
    audit_output: str = ""
    stored: Stored | None = None
    fault: dict[str, Any] = field(default_factory=dict)
    probe: dict[str, Any] = field(default_factory=dict)
    batches: dict[str, Any] = field(default_factory=dict)
    """Commands per market batch at the end, from ``/metrics`` (``bench/api.py``'s
    ``batch_sizes``: the workers alive then; a killed worker's batches are not in it)."""

    @property
    def missing_orders(self) -> set[str]:
        return self.tally.acked_orders - (self.stored.order_ids if self.stored else set())

    @property
    def missing_trades(self) -> set[str]:
        return self.tally.acked_trades - (self.stored.trade_ids if self.stored else set())

    @property
    def missing_cancels(self) -> set[str]:
        return self.tally.acked_cancels - (self.stored.cancelled_ids if self.stored else set())

    @property
    def money(self) -> dict[str, int]:
        f = self.stored.figures if self.stored else {}
        held = sum(f.get(k, 0) for k in ("cash", "bonus", "reserved", "pools", "fees"))
        return {"issued": f.get("issued", 0), "held": held, "difference": held - f.get("issued", 0)}

    def figures(self) -> dict[str, Any]:
        lat = sorted(self.tally.latencies) or [0.0]
        stored = self.stored.figures if self.stored else {}
        return {
            "backend": self.config.backend,
            "workers": self.config.workers,
            "clients": self.config.clients,
            "ops": self.tally.done,
            "responses": self.tally.responses,
            "seconds": round(self.seconds, 2),
            "ops_per_second": round(self.tally.done / self.seconds, 1) if self.seconds else 0,
            "p50_ms": round(statistics.median(lat) * 1000, 1),
            "p99_ms": round(lat[int(len(lat) * 0.99) - 1 if len(lat) > 1 else 0] * 1000, 1),
            "ok": self.tally.count("ok"),
            "errors_by_code": {k: v for k, v in self.tally.by_result().items() if k != "ok"},
            "http_5xx": sum(n for s, n in self.tally.statuses.items() if s >= 500),
            "problems": self.problems_during_load(),
            "transport_errors": self.tally.transport_errors,
            "idempotency_violations": self.tally.idempotency_violations,
            "audit_ok": self.audit_rc == 0,
            "money": self.money,
            "negatives": sum(v for k, v in stored.items() if k.startswith("negative")),
            "duplicate_client_order_ids": stored.get("duplicate_client_order_ids", -1),
            "acked_orders": len(self.tally.acked_orders),
            "acked_trades": len(self.tally.acked_trades),
            "missing_orders": len(self.missing_orders),
            "missing_trades": len(self.missing_trades),
            "acked_cancels": len(self.tally.acked_cancels),
            "missing_cancels": len(self.missing_cancels),
            "stored": {k: v for k, v in stored.items() if not k.startswith(("neg", "dup"))},
            "fault": self.fault,
            "probe": self.probe,
            "batches": self.batches,
        }

    def problems_during_load(self) -> dict[str, int]:
        from bench.load_ops import PROBLEMS

        return {p: self.tally.count(p) for p in sorted(PROBLEMS) if self.tally.count(p)}

    def holds(self) -> list[str]:
        """What did not hold (empty when everything did)."""
        f = self.figures()
        failures = []
        if not f["audit_ok"]:
            failures.append(f"audit failed: {self.audit_output[-2000:]}")
        if f["money"]["difference"] != 0:
            failures.append(f"money does not add up: {f['money']}")
        if f["negatives"]:
            failures.append(f"{f['negatives']} negative balances")
        if f["http_5xx"]:
            failures.append(f"{f['http_5xx']} responses were 5xx")
        bad = f["problems"]  # an outage too must give SERVICE_UNAVAILABLE, never these
        if bad:
            failures.append(f"malformed or internal responses: {bad}: {self.tally.samples[:5]}")
        if f["idempotency_violations"] or f["duplicate_client_order_ids"]:
            failures.append("a clientOrderId was applied twice")
        if self.missing_orders or self.missing_trades or self.missing_cancels:
            failures.append(
                f"acknowledged but not stored: {len(self.missing_orders)} orders, "
                f"{len(self.missing_trades)} trades, {len(self.missing_cancels)} cancels"
            )
        return failures


async def setup_call(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    """A set-up request, retried while the server or its database is briefly away
    (a fault of this run may have stopped it); returns the body."""
    body: dict[str, Any] = {}
    for _ in range(40):
        try:
            body = (await post(http, query, variables, token)).json()
        except Unreachable:
            await asyncio.sleep(0.5)
            continue
        codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
        if UNAVAILABLE not in codes:
            return body
        await asyncio.sleep(0.5)
    raise RuntimeError(f"set-up request kept failing: {query[:60]} -> {body}")


async def sign_up(http: httpx.AsyncClient, name: str) -> Account:
    """Register (a retry that finds the name taken is fine) and sign in."""
    credentials = {"username": name, "email": f"{name}@load.example", "password": PASSWORD}
    body = await setup_call(http, REGISTER, {"i": credentials})
    codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
    if codes and codes != ["USERNAME_TAKEN"]:
        raise RuntimeError(f"could not register {name}: {body}")
    return await sign_in(http, name)


async def sign_in(http: httpx.AsyncClient, name: str, admin: bool = False) -> Account:
    body = await setup_call(http, LOGIN, {"u": name, "p": PASSWORD})
    token: str = body["data"]["login"]["accessToken"]
    me = await setup_call(http, "{ me { id } }", {}, token)
    return Account(me["data"]["me"]["id"], name, token, admin)


async def set_up_world(url: str, config: Config, tally: Tally) -> World:
    """The admin, the other clients' users and 2..clients/8 markets of each type."""
    rng = random.Random(config.seed)
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        admin = await sign_in(http, ADMIN, admin=True)
        gate = asyncio.Semaphore(8)

        async def one(i: int) -> Account:
            async with gate:
                return await sign_up(http, f"trader{i}")

        accounts = [admin, *await asyncio.gather(*(one(i) for i in range(1, config.clients)))]
        world = World(accounts, [])
        per_type = config.markets_per_type or max(2, config.clients // 8)
        for account in accounts[1:]:
            await setup_call(http, GRANT, {"u": account.id, "a": 2_000}, admin.token)
        for i in range(per_type * 2):
            creator = accounts[1 + i % max(1, len(accounts) - 1)] if len(accounts) > 1 else admin
            kind = "ORDER_BOOK" if i % 2 else "LMSR"
            market = await create_market(http, creator, kind, rng, tally)
            if market is not None:
                world.markets.append(market)
    return world


async def run_clients(
    url: str, world: World, config: Config, tally: Tally, deadline: float
) -> None:
    per_client = max(1, config.ops // config.clients)

    async def one(index: int) -> None:
        rng = random.Random(config.seed * 1000 + index)
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:
            client = Client(world, world.accounts[index], http, tally, rng)
            done = 0
            while done < per_client and time.monotonic() < deadline:
                failed = tally.count(UNAVAILABLE)
                try:
                    await client.step()
                except Unreachable:
                    await asyncio.sleep(0.2)
                    continue
                if tally.count(UNAVAILABLE) > failed:  # the database is away: back off
                    await asyncio.sleep(0.2)
                    continue
                done += 1
                tally.done += 1

    await asyncio.gather(*(one(i) for i in range(len(world.accounts))))


Fault = Callable[[Server, Tally], Awaitable[dict[str, Any]]]


async def when_done(tally: Tally, count: int) -> None:
    while tally.done < count:  # noqa: ASYNC110 (polling a counter the clients bump)
        await asyncio.sleep(0.02)


async def fault_kill_worker(server: Server, tally: Tally) -> dict[str, Any]:
    pid = server.kill_worker()
    started = time.monotonic()
    while len(server.worker_pids()) < server.workers or pid in server.worker_pids():  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    return {
        "kind": "kill-worker",
        "killed_pid": pid,
        "replaced_in_s": round(time.monotonic() - started, 2),
    }


async def fault_kill_server(server: Server, tally: Tally) -> dict[str, Any]:
    server.kill()
    started = time.monotonic()
    server.start()
    await server.wait_ready()
    return {"kind": "kill-server", "down_s": round(time.monotonic() - started, 2)}


async def first_success(url: str, within: float = 60) -> float:
    """Seconds until a query that needs the database succeeds again."""
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:
        while time.monotonic() - started < within:
            with contextlib.suppress(Unreachable):
                response = await post(http, "{ markets(first: 1) { totalCount } }", {}, None)
                if response.status_code == 200 and not response.json().get("errors"):
                    return time.monotonic() - started
            await asyncio.sleep(0.1)
    raise TimeoutError("the server did not recover after PostgreSQL came back")


def pg_restart(cluster: ThrowawayCluster, outage: float) -> Fault:
    async def fault(server: Server, tally: Tally) -> dict[str, Any]:
        refused = tally.count(UNAVAILABLE)
        started = time.monotonic()
        try:
            await asyncio.to_thread(cluster.stop)
            stopped = time.monotonic()
            await asyncio.sleep(outage)
        finally:
            if not cluster.running():
                await asyncio.to_thread(cluster.start)
        restarted = time.monotonic()
        recovered = await first_success(server.url)
        return {
            "kind": "pg-restart",
            "down_s": round(restarted - stopped, 2),
            "stop_took_s": round(stopped - started, 2),
            "refused_while_down": tally.count(UNAVAILABLE) - refused,
            "recovered_in_s": round(recovered, 2),
        }

    return fault


def choose_fault(config: Config, cluster: ThrowawayCluster | None) -> Fault | None:
    if config.fault == "pg-restart":
        assert cluster is not None
        return pg_restart(cluster, config.outage_seconds)
    return {
        "none": None,
        "kill-worker": fault_kill_worker,
        "kill-server": fault_kill_server,
    }[config.fault]


class Probe(Protocol):
    """Something a test watches across the run (live subscriptions, for example)."""

    async def before(self, server: Server, world: World) -> None: ...

    async def after(self, server: Server, world: World) -> dict[str, Any]: ...


async def run(
    config: Config, directory: Path, *, within: float = 600, probe: Probe | None = None
) -> Report:
    """The whole bank test on a fresh database; the server is stopped before it returns."""
    with own_postgres(config) as cluster:
        admin_url = cluster.admin_url if cluster is not None else PG_ADMIN
        return await _run(config, directory, admin_url, cluster, within, probe)


def prepare(env: dict[str, str]) -> None:
    """Migrate the empty database of ``env`` and create the load's admin."""
    migrated = cli(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    made = cli(
        env,
        "create-admin",
        "--username",
        ADMIN,
        "--email",
        "root@load.example",
        "--password",
        PASSWORD,
    )
    assert made.returncode == 0, made.stdout + made.stderr


async def _run(
    config: Config,
    directory: Path,
    admin_url: str,
    cluster: ThrowawayCluster | None,
    within: float,
    probe: Probe | None,
) -> Report:
    tally = Tally()
    async with fresh_database(config.backend, directory, admin_url) as database_url:
        env = server_env(database_url)
        prepare(env)
        server = Server(env, config.workers, directory / "server.log")
        report = Report(config, tally, 0.0)
        with running(server):
            await server.wait_ready()
            world = await set_up_world(server.url, config, tally)
            if probe is not None:
                await probe.before(server, world)
            started = time.monotonic()
            fault = choose_fault(config, cluster)
            load = asyncio.create_task(
                run_clients(server.url, world, config, tally, started + within)
            )
            if fault is not None:
                await when_done(tally, int(config.ops * config.fault_at))
                report.fault = await fault(server, tally)
            await load
            report.seconds = time.monotonic() - started
            if probe is not None:
                report.probe = await probe.after(server, world)
            report.batches = await asyncio.to_thread(batch_sizes, server.url, 32)
        audited = cli(env, "audit")
        report.audit_rc, report.audit_output = audited.returncode, audited.stdout + audited.stderr
        report.stored = await read_stored(database_url)
    return report


def print_report(report: Report) -> None:
    figures = report.figures()
    print(
        f"backend {figures['backend']} x{figures['workers']} workers, {figures['clients']} clients"
    )
    print(
        f"  {figures['ops']} operations in {figures['seconds']} s "
        f"({figures['ops_per_second']} ops/s), "
        f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms"
    )
    print(f"  ok {figures['ok']}; refused with a code: {figures['errors_by_code']}")
    print(
        f"  5xx {figures['http_5xx']}; problems {figures['problems']}; "
        f"transport errors {figures['transport_errors']}"
    )
    print(
        f"  audit {'passes' if figures['audit_ok'] else 'FAILS'}; money {figures['money']}; "
        f"negatives {figures['negatives']}"
    )
    print(
        f"  acknowledged orders {figures['acked_orders']} (missing {figures['missing_orders']}), "
        f"trades {figures['acked_trades']} (missing {figures['missing_trades']}), "
        f"cancels {figures['acked_cancels']} (missing {figures['missing_cancels']})"
    )
    if report.fault:
        print(f"  fault {report.fault}")
    if report.batches:
        sizes = report.batches
        print(
            f"  {sizes['batches']} market batches: p50 <= {sizes['batch_p50']:g}, "
            f"p99 <= {sizes['batch_p99']:g}, max <= {sizes['batch_max']:g} commands"
        )
    for failure in report.holds():
        print(f"  DID NOT HOLD: {failure}")
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--workers", type=int, default=None, help="default: 1 SQLite, 2 PostgreSQL")
    parser.add_argument("--fault", choices=FAULTS, default="none")
    parser.add_argument("--fault-at", type=float, default=0.4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--markets-per-type", type=int, default=None, help="default: 2..clients/8 of each type"
    )
    args = parser.parse_args()
    workers = args.workers or (1 if args.backend == "sqlite" else 2)
    config = Config(
        args.clients,
        args.ops,
        args.backend,
        workers,
        args.seed,
        args.fault,
        args.fault_at,
        markets_per_type=args.markets_per_type,
    )
    with tempfile.TemporaryDirectory(prefix="bellwether-load-") as directory:
        report = asyncio.run(run(config, Path(directory)))
    print_report(report)
    raise SystemExit(1 if report.holds() else 0)


if __name__ == "__main__":
    main()
