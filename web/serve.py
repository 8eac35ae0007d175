"""``bellwether serve`` and ``bellwether export-schema`` (registered by ``web.cli``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import uvicorn

from auth.tokens import generate_secret
from web.affinity import WorkerSlot
from web.settings import AppSettings
from web.tcp import HTTP_PROTOCOL
from web.workers import NEVER_STARTED, Supervisor, listening_sockets

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema" / "schema.graphql"
UVICORN_OPTIONS: dict[str, Any] = {
    "http": HTTP_PROTOCOL,
    "ws": "websockets-sansio",
    # X-Forwarded-For is read by web.middleware.TrustedProxies, from
    # BELLWETHER_TRUSTED_PROXIES only; uvicorn's own would trust any loopback peer.
    "proxy_headers": False,
    # No per-message compression: updates are small, its state costs ~50 KB per socket,
    # and a live group writes one uncompressed frame, the same bytes, to every socket
    # (web.livegroups).
    "ws_per_message_deflate": False,
}
"""What ``bellwether serve`` sets on uvicorn (the API tests' server uses the same)."""
LOOPS = ("asyncio", "uvloop")
"""uvicorn's event loops a worker may run (:func:`request_worker_loop`)."""


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="serve the GraphQL API (uvicorn)")
    serve.add_argument("--host", default=os.environ.get("BELLWETHER_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("BELLWETHER_PORT", "8000")))
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--live-workers",
        type=int,
        default=0,
        help="PostgreSQL: also serve on --live-port from this many processes of their own, "
        "for WebSocket subscriptions (route WebSocket upgrades there)",
    )
    serve.add_argument("--live-port", type=int, default=0, help="default: --port + 1")
    # A live worker accepts on the socket its supervisor bound (web.workers).
    serve.add_argument("--socket-fd", type=int, default=None, help=argparse.SUPPRESS)
    # Each request worker of several runs uvloop (request_worker_loop), told by its supervisor.
    serve.add_argument("--loop", choices=LOOPS, default="asyncio", help=argparse.SUPPRESS)
    serve.set_defaults(run=serve_command)
    export = sub.add_parser("export-schema", help="write the SDL to schema/schema.graphql")
    export.add_argument("--output", type=Path, default=SCHEMA_FILE)
    export.set_defaults(run=export_command)


def single_worker_problem(settings: AppSettings, workers: int) -> str | None:
    """Why ``workers`` processes cannot share this database, or None."""
    if workers <= 1:
        return None
    if settings.is_sqlite:
        return (
            "SQLite serves from one worker (one writer, an in-process market lock): "
            "use --workers 1, or set BELLWETHER_DATABASE_URL=postgres://... for several"
        )
    if settings.is_memory:
        return "the in-memory store lives in one process: use --workers 1"
    return None


def serve_command(args: argparse.Namespace) -> int:
    settings = AppSettings.from_env()
    problem = single_worker_problem(settings, args.workers + args.live_workers)
    if problem is not None:
        print(f"bellwether serve: {problem}")
        return 2
    if settings.is_production and not settings.jwt_secret:
        print("bellwether serve: BELLWETHER_JWT_SECRET is required when BELLWETHER_ENV=prod")
        return 2
    processes = args.workers + args.live_workers
    if processes > 1 and not settings.jwt_secret:
        # Every worker must sign with the same secret.
        os.environ["BELLWETHER_JWT_SECRET"] = generate_secret()
    if processes > 1:
        # Migrate and seed once here, not in N workers racing each other.
        asyncio.run(prepare_database(settings))
        os.environ["BELLWETHER_DEMO"] = "0"
    options: dict[str, Any] = {
        "access_log": False,
        "log_level": "warning",
        **UVICORN_OPTIONS,
        # asyncio's own loop for a server of one process; its supervisor gives each
        # request worker of several uvloop (request_worker_loop).
        "loop": args.loop,
    }
    with live_workers(args):
        return run_workers(args, options, settings.market_affinity)


def run_workers(args: argparse.Namespace, options: dict[str, Any], affinity: bool = False) -> int:
    """uvicorn in this process, or ``args.workers`` processes of it under our supervisor
    (``web.workers``), with market affinity (``web.affinity``) if ``affinity``; 0 once
    it stopped, 1 if it never started (a worker: NEVER_STARTED)."""
    if args.socket_fd is not None:
        server = uvicorn.Server(uvicorn.Config("web.app:app_from_env", factory=True, **options))
        server.run(sockets=[socket.socket(fileno=args.socket_fd)])
        return 0 if server.started else NEVER_STARTED
    if args.workers > 1:
        with relay_directory(affinity) as directory:
            sockets = listening_sockets(args.host, args.port, args.workers)
            supervisor = Supervisor(
                worker_command(args.host, args.port, request_worker_loop()),
                sockets,
                "request worker",
                slot_env(args.workers, directory),
            )
            supervisor.start()
            print(banner(args.host, args.port, args.workers), flush=True)
            try:
                return supervise(supervisor)
            finally:
                supervisor.stop()
    config = uvicorn.Config(
        "web.app:app_from_env", factory=True, host=args.host, port=args.port, **options
    )
    server = AnnouncingServer(config)
    server.run()
    return 0 if server.started else 1


@contextlib.contextmanager
def relay_directory(affinity: bool) -> Iterator[Path | None]:
    """A private directory (0700) for the workers' Unix sockets, removed at exit."""
    if not affinity:
        yield None
        return
    directory = tempfile.mkdtemp(prefix="bellwether-relay-")
    try:
        yield Path(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def slot_env(workers: int, directory: Path | None) -> Callable[[int], Mapping[str, str]]:
    """The environment of each slot's worker: where it stands for market affinity."""

    def env(slot: int) -> Mapping[str, str]:
        return {} if directory is None else WorkerSlot(slot, workers, directory).env()

    return env


def worker_command(host: str, port: int, loop: str = "asyncio") -> list[str]:
    """A worker process's command line, less its ``--socket-fd`` (``web.workers``)."""
    command = [sys.executable, "-m", "web.cli", "serve", "--host", host, "--port", str(port)]
    return command if loop == "asyncio" else [*command, "--loop", loop]


def request_worker_loop() -> str:
    """The event loop of each request worker of several: uvloop where it is installed.

    One process serving alone keeps asyncio's own loop: it is always busy, and asyncio
    queues the requests it reads behind the work already waiting, which gave it the
    lower p99. Each of several workers is idle part of the time, so it turns its loop
    more often per request, for fewer events each turn (PostgreSQL's answers, the
    relay, NOTIFY), and uvloop's cheaper turns save CPU per request; figures in
    docs/BENCHMARKS.md."""
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


def supervise(supervisor: Supervisor) -> int:
    """Wait for SIGINT or SIGTERM (0), or for every worker to end by itself (1); SIGHUP
    replaces the workers, as uvicorn's supervisor did."""
    # The handlers only note the signal (as uvicorn's do): this thread may hold the
    # supervisor's lock when one runs.
    received: list[int] = []
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, lambda number, _frame: received.append(number))
    while supervisor.serving:
        time.sleep(0.5)
        while received:
            if received.pop(0) != signal.SIGHUP:
                return 0
            supervisor.restart()
    return 1


def banner(host: str, port: int, workers: int = 1) -> str:
    """The line a person looks for: where to point the browser."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    where = f"[{shown}]" if ":" in shown else shown
    extra = f", {workers} workers" if workers > 1 else ""
    return f"Bellwether on http://{where}:{port} (GraphiQL at /graphql{extra})"


class AnnouncingServer(uvicorn.Server):
    """uvicorn's server that prints :func:`banner` once it listens (not before)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            print(banner(self.config.host, self.config.port), flush=True)


@contextlib.contextmanager
def live_workers(args: argparse.Namespace) -> Iterator[None]:
    """``--live-workers N``: N processes on ``--live-port`` under a supervisor of our own
    (``web.workers``), fed by the same LISTEN/NOTIFY bus, for the duration of the request
    workers."""
    if args.live_workers < 1:
        yield
        return
    port = args.live_port or args.port + 1
    sockets = listening_sockets(args.host, port, args.live_workers)
    supervisor = Supervisor(worker_command(args.host, port), sockets, "live worker")
    supervisor.start()

    def on_signal(number: int, _frame: object) -> None:
        # uvicorn (one request worker) restores this handler when it stops and raises its
        # signal again; supervise() (several) replaces it.
        supervisor.stop()
        signal.signal(number, signal.SIG_DFL)
        signal.raise_signal(number)

    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, on_signal)
    try:
        yield
    finally:
        supervisor.stop()


async def prepare_database(settings: AppSettings) -> None:
    """Apply migrations (development) and seed the demo data (if enabled) once."""
    from web.backends import default_hasher, open_backend
    from web.bus import InMemoryEventBus
    from web.seed import seed_if_empty

    backend = await open_backend(settings, InMemoryEventBus(), default_hasher())
    try:
        if settings.demo and not settings.is_production:
            await seed_if_empty(backend)
    finally:
        await backend.close()


def export_command(args: argparse.Namespace) -> int:
    from schema.schema import build_schema

    args.output.write_text(str(build_schema()) + "\n")
    print(f"wrote {args.output}")
    return 0
