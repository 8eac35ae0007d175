"""Live workers under a supervisor of our own: replaced when they die, never killed for
being busy.

uvicorn's supervisor (what ``--workers N`` runs) pings each worker twice a second and
kills one that does not answer within its ``timeout_worker_healthcheck`` (5 s). A worker
accepting thousands of WebSockets at once answers later and later as its sockets add up
(docs/BENCHMARKS.md), and killing it drops every socket it holds, whose clients then
reconnect together: the storm again, on fewer workers. So ``bellwether serve
--live-workers N`` binds the live port itself and runs N processes (``bellwether serve
--socket-fd FD``) that accept on that one socket, and replaces a process only when it
ends (a crash, kill -9, the OOM killer), never pings one.

A worker that ends by SIGINT or SIGTERM was asked to stop (by this supervisor, an
operator or the terminal's Ctrl-C) and is not replaced; nor is one that could not start
(exit status :data:`NEVER_STARTED`): the next one would fail the same way.
"""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import threading
from collections.abc import Sequence

log = logging.getLogger("bellwether.serve")

NEVER_STARTED = 3
"""A worker's exit status when it could not start (uvicorn's own ``STARTUP_FAILURE``)."""
ASKED_TO_STOP = (-signal.SIGINT, -signal.SIGTERM)
"""``Popen.returncode`` of a process that a signal asked to stop."""
STOP_SECONDS = 15
"""How long a worker may take to close its sockets once asked, before it is killed."""


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host:port``, to be shared by the workers."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as error:
        raise SystemExit(f"bellwether serve: cannot listen on {host}:{port}: {error}") from None


def replaceable(returncode: int) -> bool:
    """Whether a worker that ended with ``returncode`` died (rather than being stopped)."""
    return returncode not in (0, NEVER_STARTED, *ASKED_TO_STOP)


class Supervisor:
    """``count`` processes of ``command --socket-fd FD``, each accepting on ``listener``."""

    def __init__(self, command: Sequence[str], listener: socket.socket, count: int) -> None:
        self._listener = listener
        self._command = [*command, "--socket-fd", str(listener.fileno())]
        self._count = count
        self._processes: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()
        self._stopping = False
        self.ended: list[tuple[int, int]] = []
        """(pid, returncode) of each worker that ended while serving, replaced or not."""

    @property
    def pids(self) -> list[int]:
        """The processes serving now (a replaced one is gone from the list)."""
        with self._lock:
            return [process.pid for process in self._processes]

    def start(self) -> None:
        with self._lock:
            for slot in range(self._count):
                self._processes.append(self._spawn())
                watcher = threading.Thread(
                    target=self._watch, args=(slot,), name=f"live-worker-{slot}", daemon=True
                )
                watcher.start()

    def stop(self) -> None:
        """Stop replacing, ask every worker to stop, kill those that outlive STOP_SECONDS."""
        with self._lock:
            self._stopping = True
            processes = list(self._processes)
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._listener.close()

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self._command, pass_fds=(self._listener.fileno(),))

    def _watch(self, slot: int) -> None:
        while True:
            process = self._processes[slot]
            returncode = process.wait()
            with self._lock:
                if self._stopping:
                    return
                self.ended.append((process.pid, returncode))
                if not replaceable(returncode):
                    log.error("live worker [%d] ended (%d); not replaced", process.pid, returncode)
                    return
                self._processes[slot] = self._spawn()
                log.warning(
                    "live worker [%d] died (%d); replaced by [%d]",
                    process.pid,
                    returncode,
                    self._processes[slot].pid,
                )
