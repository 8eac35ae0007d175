"""The live workers' supervisor: a worker that dies is replaced on the same listening
socket; one that was asked to stop, or could not start, is not; stop() ends them all."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.harness import wait_until
from web.workers import NEVER_STARTED, Supervisor, listening_socket, replaceable

# A stand-in worker: checks that it was handed the listening socket, says so, then
# waits (or exits with the status given in the environment).
WORKER = """
import os, socket, sys, time
fd = int(sys.argv[sys.argv.index("--socket-fd") + 1])
listening = socket.socket(fileno=fd).getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
with open(os.path.join(os.environ["WORKER_LOG"], str(os.getpid())), "w") as out:
    out.write(str(listening))
if "WORKER_EXIT" in os.environ:
    sys.exit(int(os.environ["WORKER_EXIT"]))
time.sleep(600)
"""


@contextmanager
def supervised(tmp_path: Path, count: int) -> Iterator[Supervisor]:
    supervisor = Supervisor([sys.executable, "-c", WORKER], listening_socket("127.0.0.1", 0), count)
    supervisor.start()
    try:
        yield supervisor
    finally:
        supervisor.stop()


@pytest.fixture(autouse=True)
def worker_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_LOG", str(tmp_path))


def started(tmp_path: Path) -> dict[int, str]:
    """The stand-in workers that reported, and whether each held a listening socket."""
    return {
        int(entry.name): entry.read_text() for entry in tmp_path.iterdir() if entry.stat().st_size
    }


async def test_a_worker_that_dies_is_replaced_on_the_same_listening_socket(tmp_path: Path) -> None:
    with supervised(tmp_path, 2) as supervisor:
        first, second = supervisor.pids
        await wait_until(lambda: set(started(tmp_path)) == {first, second}, 30)
        os.kill(first, signal.SIGKILL)
        await wait_until(lambda: len(started(tmp_path)) == 3, 30)
        replacement = next(pid for pid in started(tmp_path) if pid not in (first, second))
        assert supervisor.pids == [replacement, second]
        assert supervisor.ended == [(first, -signal.SIGKILL)]
        assert set(started(tmp_path).values()) == {"1"}  # every one was listening


async def test_a_worker_asked_to_stop_is_not_replaced(tmp_path: Path) -> None:
    with supervised(tmp_path, 1) as supervisor:
        (pid,) = supervisor.pids
        await wait_until(lambda: pid in started(tmp_path), 30)
        os.kill(pid, signal.SIGTERM)
        await wait_until(lambda: bool(supervisor.ended), 30)
        assert supervisor.ended == [(pid, -signal.SIGTERM)]
        assert supervisor.pids == [pid]
        assert set(started(tmp_path)) == {pid}


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
