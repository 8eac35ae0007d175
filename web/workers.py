"""Worker processes under a supervisor of our own: each on a listening socket of its
slot, replaced when it dies, never killed for being busy.

``bellwether serve --workers N`` (request workers) and ``--live-workers N`` both run
here. The supervisor binds the port before any worker starts, one socket per slot
(:func:`listening_sockets`), and runs N processes (``bellwether serve --socket-fd FD``),
each accepting on its slot's socket. On Linux the slots' sockets share the port with
``SO_REUSEPORT`` and the kernel hashes each new connection to one of them, so a burst
of connections spreads over the workers; on one shared socket the first worker to
wake accepted the whole burst (docs/BENCHMARKS.md). The supervisor keeps every socket
open, so a worker's death resets no queued connection: its replacement accepts them.

uvicorn's supervisor, which ``--workers N`` used to run, also pings each worker and
kills one that does not answer in time (5 s by default). A worker accepting thousands
of WebSockets at once answers later and later as its sockets add up, and killing it
dropped every socket it held, whose clients then reconnected together: the storm
again, on fewer workers. So no worker here is pinged; a process is replaced only when
it ends (a crash, kill -9, the OOM killer). A worker that ends by SIGINT or SIGTERM
was asked to stop (by this supervisor, an operator or the terminal's Ctrl-C) and is
not replaced; nor is one that could not start (exit status :data:`NEVER_STARTED`):
the next one would fail the same way. Its slot's socket is then closed, so that the
kernel sends no more connections where nobody accepts them.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence

log = logging.getLogger("bellwether.serve")

NEVER_STARTED = 3
"""A worker's exit status when it could not start (uvicorn's own ``STARTUP_FAILURE``)."""
ASKED_TO_STOP = (-signal.SIGINT, -signal.SIGTERM)
"""``Popen.returncode`` of a process that a signal asked to stop."""
STOP_SECONDS = 15
"""How long a worker may take to close its sockets once asked, before it is killed."""
SPREADS_CONNECTIONS = sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")
"""Whether the kernel balances new connections over sockets bound with ``SO_REUSEPORT``
(Linux; the BSDs' option of that name lets the last socket bound take them all)."""


def listening_socket(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """A TCP socket listening on ``host:port``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server(
            (host, port), family=family, backlog=2048, reuse_port=reuse_port
        )
    except OSError as error:
        raise SystemExit(f"bellwether serve: cannot listen on {host}:{port}: {error}") from None


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` sockets listening on ``host:port``, one per worker slot: each its own
    where the kernel spreads connections over them (:data:`SPREADS_CONNECTIONS`), else
    the same one ``count`` times."""
    # Bound without SO_REUSEPORT first, so that a port already served (by another
    # bellwether serve of the same user, say) fails here instead of being shared.
    probe = listening_socket(host, port)
    if not SPREADS_CONNECTIONS or count < 2:
        return [probe] * count
    port = probe.getsockname()[1]
    probe.close()
    return [listening_socket(host, port, reuse_port=True) for _ in range(count)]


def replaceable(returncode: int) -> bool:
    """Whether a worker that ended with ``returncode`` died (rather than being stopped)."""
    return returncode not in (0, NEVER_STARTED, *ASKED_TO_STOP)


def no_env(slot: int) -> Mapping[str, str]:
    return {}


class Supervisor:
    """One process of ``command --socket-fd FD`` per socket of ``listeners`` (a slot); a
    replacement gets the socket of the process it replaces, and each process the
    environment variables ``env(slot)`` adds."""

    def __init__(
        self,
        command: Sequence[str],
        listeners: Sequence[socket.socket],
        role: str = "worker",
        env: Callable[[int], Mapping[str, str]] = no_env,
    ) -> None:
        self._command = list(command)
        self._env = env
        self._listeners = list(listeners)
        self._role = role
        self._processes: list[subprocess.Popen[bytes]] = []
        self._ended_slots: set[int] = set()
        self._lock = threading.Lock()
        self._stopping = False
        self.ended: list[tuple[int, int]] = []
        """(pid, returncode) of each worker that ended while serving, replaced or not."""

    @property
    def pids(self) -> list[int]:
        """The processes serving now, by slot (a replaced one is gone from the list)."""
        with self._lock:
            return [process.pid for process in self._processes]

    @property
    def serving(self) -> bool:
        """Whether any slot still has a worker (running, or being replaced)."""
        with self._lock:
            return len(self._ended_slots) < len(self._listeners)

    def start(self) -> None:
        with self._lock:
            for slot in range(len(self._listeners)):
                self._processes.append(self._spawn(slot))
                watcher = threading.Thread(
                    target=self._watch, args=(slot,), name=f"{self._role}-{slot}", daemon=True
                )
                watcher.start()

    def restart(self) -> None:
        """Replace every worker (new code, new settings): each slot's new process starts
        on its socket while the old one finishes the requests it holds."""
        with self._lock:
            for slot, old in enumerate(self._processes):
                if slot not in self._ended_slots:
                    self._processes[slot] = self._spawn(slot)
                    old.terminate()

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
        for listener in self._listeners:
            listener.close()

    def _spawn(self, slot: int) -> subprocess.Popen[bytes]:
        fd = self._listeners[slot].fileno()
        command = [*self._command, "--socket-fd", str(fd)]
        extra = self._env(slot)
        env = {**os.environ, **extra} if extra else None
        return subprocess.Popen(command, pass_fds=(fd,), env=env)

    def _watch(self, slot: int) -> None:
        while True:
            process = self._processes[slot]
            returncode = process.wait()
            with self._lock:
                if self._stopping:
                    return
                if self._processes[slot] is not process:
                    continue  # restart() replaced it
                self.ended.append((process.pid, returncode))
                if not replaceable(returncode):
                    self._end_slot(slot, process.pid, returncode)
                    return
                self._processes[slot] = self._spawn(slot)
                log.warning(
                    "%s [%d] died (%d); replaced by [%d]",
                    self._role,
                    process.pid,
                    returncode,
                    self._processes[slot].pid,
                )

    def _end_slot(self, slot: int, pid: int, returncode: int) -> None:
        log.error("%s [%d] ended (%d); not replaced", self._role, pid, returncode)
        self._ended_slots.add(slot)
        listener = self._listeners[slot]
        if self._listeners.count(listener) == 1:
            listener.close()
