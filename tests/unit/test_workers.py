"""The workers' supervisor: each slot listens on a socket of its own, which a worker
that dies hands to its replacement; one that was asked to stop, or could not start, is
not replaced; stop() ends them all."""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.harness import wait_until
from web.workers import (
    NEVER_STARTED,
    SPREADS_CONNECTIONS,
    Supervisor,
    listening_socket,
    listening_sockets,
    replaceable,
)

# A stand-in worker: says whether it was handed a listening socket, and which one (the
# socket's inode names it across processes), then waits (or exits with the status
# given in the environment).
WORKER = """
import os, socket, sys, time
fd = int(sys.argv[sys.argv.index("--socket-fd") + 1])
sock = socket.socket(fileno=fd)
listening = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
with open(os.path.join(os.environ["WORKER_LOG"], str(os.getpid())), "w") as out:
    out.write(f"{listening} {os.fstat(fd).st_ino}")
if "WORKER_EXIT" in os.environ:
    sys.exit(int(os.environ["WORKER_EXIT"]))
time.sleep(600)
"""

spreading = pytest.mark.skipif(not SPREADS_CONNECTIONS, reason="SO_REUSEPORT spreads on Linux")


@contextmanager
def supervised(tmp_path: Path, count: int, port: int = 0) -> Iterator[Supervisor]:
    sockets = listening_sockets("127.0.0.1", port, count)
    supervisor = Supervisor([sys.executable, "-c", WORKER], sockets)
    supervisor.start()
    try:
        yield supervisor
    finally:
        supervisor.stop()


@pytest.fixture(autouse=True)
def worker_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_LOG", str(tmp_path))


def started(tmp_path: Path) -> dict[int, str]:
    """The stand-in workers that reported: whether each held a listening socket, and its
    socket's inode."""
    return {
        int(entry.name): entry.read_text() for entry in tmp_path.iterdir() if entry.stat().st_size
    }


async def test_a_worker_that_dies_is_replaced_on_its_slots_socket(tmp_path: Path) -> None:
    with supervised(tmp_path, 2) as supervisor:
        first, second = supervisor.pids
        await wait_until(lambda: set(started(tmp_path)) == {first, second}, 30)
        os.kill(first, signal.SIGKILL)
        await wait_until(lambda: len(started(tmp_path)) == 3, 30)
        replacement = next(pid for pid in started(tmp_path) if pid not in (first, second))
        assert supervisor.pids == [replacement, second]
        assert supervisor.ended == [(first, -signal.SIGKILL)]
        reports = started(tmp_path)
        assert reports[replacement] == reports[first]
        assert {report.split()[0] for report in reports.values()} == {"1"}  # all listening


@spreading
async def test_each_slot_has_a_socket_of_its_own(tmp_path: Path) -> None:
    with supervised(tmp_path, 3) as supervisor:
        await wait_until(lambda: set(started(tmp_path)) == set(supervisor.pids), 30)
        assert len(set(started(tmp_path).values())) == 3


async def test_sighup_style_restart_replaces_every_worker_on_the_same_sockets(
    tmp_path: Path,
) -> None:
    with supervised(tmp_path, 2) as supervisor:
        old = supervisor.pids
        await wait_until(lambda: set(started(tmp_path)) == set(old), 30)
        supervisor.restart()
        new = supervisor.pids
        await wait_until(lambda: len(started(tmp_path)) == 4, 30)
        reports = started(tmp_path)
        assert [reports[pid] for pid in new] == [reports[pid] for pid in old]
        await wait_until(lambda: not any(os.path.exists(f"/proc/{pid}") for pid in old), 30)
        assert supervisor.ended == []  # restarted, not died
        assert supervisor.pids == new


async def test_a_worker_asked_to_stop_is_not_replaced(tmp_path: Path) -> None:
    with supervised(tmp_path, 1) as supervisor:
        (pid,) = supervisor.pids
        await wait_until(lambda: pid in started(tmp_path), 30)
        os.kill(pid, signal.SIGTERM)
        await wait_until(lambda: bool(supervisor.ended), 30)
        assert supervisor.ended == [(pid, -signal.SIGTERM)]
        assert supervisor.pids == [pid]
        assert set(started(tmp_path)) == {pid}
        assert not supervisor.serving


@spreading
async def test_a_slot_left_without_a_worker_stops_taking_connections(tmp_path: Path) -> None:
    """Its socket is closed, so the kernel sends its share of connections elsewhere."""
    port = free_port()
    with supervised(tmp_path, 2, port) as supervisor:
        first, second = supervisor.pids
        await wait_until(lambda: set(started(tmp_path)) == {first, second}, 30)
        assert len(listening_inodes(port)) == 2
        os.kill(first, signal.SIGTERM)
        await wait_until(lambda: bool(supervisor.ended), 30)
        listening = int(started(tmp_path)[second].split()[1])
        assert listening_inodes(port) == {listening}
        assert supervisor.serving


async def test_a_worker_that_could_not_start_is_not_restarted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKER_EXIT", str(NEVER_STARTED))
    with supervised(tmp_path, 1) as supervisor:
        (pid,) = supervisor.pids
        await wait_until(lambda: bool(supervisor.ended), 30)
        assert supervisor.ended == [(pid, NEVER_STARTED)]
        assert supervisor.pids == [pid]
    assert set(started(tmp_path)) == {pid}


def test_only_a_death_counts_as_a_reason_to_replace() -> None:
    assert replaceable(1)  # an uncaught exception
    assert replaceable(-signal.SIGKILL)  # kill -9, the OOM killer
    assert replaceable(-signal.SIGSEGV)
    assert not replaceable(0)
    assert not replaceable(NEVER_STARTED)
    assert not replaceable(-signal.SIGTERM)
    assert not replaceable(-signal.SIGINT)


def test_stop_ends_every_worker(tmp_path: Path) -> None:
    with supervised(tmp_path, 2) as supervisor:
        pids = supervisor.pids
    assert all(not os.path.exists(f"/proc/{pid}") for pid in pids)


@spreading
def test_a_burst_of_connections_spreads_over_the_slots_sockets() -> None:
    sockets = listening_sockets("127.0.0.1", 0, 2)
    with ExitStack() as stack:
        for listener in sockets:
            stack.callback(listener.close)
        port = sockets[0].getsockname()[1]
        assert sockets[1].getsockname()[1] == port
        for _ in range(40):
            stack.enter_context(socket.create_connection(("127.0.0.1", port)))
        accepted = [accept_all(listener) for listener in sockets]
        assert sum(accepted) == 40
        assert min(accepted) > 0


def test_a_port_in_use_is_not_shared() -> None:
    """Not even by a second ``bellwether serve`` of the same user (SO_REUSEPORT would
    let it join the first one's sockets)."""
    served = listening_sockets("127.0.0.1", 0, 2)
    with ExitStack() as stack:
        for listener in served:
            stack.callback(listener.close)
        with pytest.raises(SystemExit, match="cannot listen"):
            listening_sockets("127.0.0.1", served[0].getsockname()[1], 2)
    with listening_socket("127.0.0.1", 0) as first, pytest.raises(SystemExit, match="cannot"):
        listening_sockets("127.0.0.1", first.getsockname()[1], 2)


def accept_all(listener: socket.socket) -> int:
    """Accept (and close) every connection waiting on ``listener``; how many."""
    listener.setblocking(False)
    count = 0
    while True:
        try:
            connection, _ = listener.accept()
        except BlockingIOError:
            return count
        connection.close()
        count += 1


def free_port() -> int:
    with listening_socket("127.0.0.1", 0) as probe:
        return int(probe.getsockname()[1])


def listening_inodes(port: int) -> set[int]:
    """The inodes of the sockets listening on local ``port`` (from /proc/net/tcp)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
            inodes.add(int(fields[9]))
    return inodes
