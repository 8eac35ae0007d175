"""kill -9 in the middle of the bank test's load: one worker, then the whole server.

After each: the server serves again, ``bellwether audit`` passes, the money adds
up to the cent, every order and trade whose response reached a client is in
the database, and no command is half applied (the audit checks every balance
against the ledger, every reservation against the resting orders, every share
against the outcomes). Requests cut by the kill get no response at all (counted
as transport errors), never a 5xx or a malformed body.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import load
from tests.reliability.conftest import assert_batches_formed, assert_everything_held, bank_run


@pytest.mark.postgres
async def test_kill_9_of_a_worker_under_load(tmp_path: Path, postgres_available: None) -> None:
    config = load.Config(
        clients=10, ops=300, backend="postgres", workers=2, seed=21, fault="kill-worker"
    )
    report = await bank_run(config, tmp_path)
    assert_everything_held(report)
    assert report.fault["kind"] == "kill-worker"
    assert report.tally.done >= 290, "the surviving and the new worker serve the rest"


async def test_kill_9_of_the_whole_sqlite_server_under_load(tmp_path: Path) -> None:
    config = load.Config(
        clients=10, ops=300, backend="sqlite", workers=1, seed=22, fault="kill-server"
    )
    report = await bank_run(config, tmp_path)
    assert_everything_held(report)
    assert report.tally.transport_errors > 0, "requests were in flight when it died"
    assert report.tally.done >= 290


@pytest.mark.heavy
@pytest.mark.postgres
@pytest.mark.parametrize("fault", ["kill-worker", "kill-server"])
@pytest.mark.parametrize("fault_at", [0.2, 0.5, 0.8])
async def test_kill_9_under_heavy_load_on_postgres(
    tmp_path: Path, postgres_available: None, fault: str, fault_at: float
) -> None:
    config = load.Config(
        clients=50,
        ops=5_000,
        backend="postgres",
        workers=2,
        seed=int(fault_at * 100),
        fault=fault,
        fault_at=fault_at,
    )
    report = await bank_run(config, tmp_path)
    assert_everything_held(report)


@pytest.mark.heavy
@pytest.mark.parametrize("fault_at", [0.2, 0.5, 0.8])
async def test_kill_9_under_heavy_load_on_sqlite(tmp_path: Path, fault_at: float) -> None:
    config = load.Config(
        clients=50,
        ops=5_000,
        backend="sqlite",
        workers=1,
        seed=int(fault_at * 100) + 1,
        fault="kill-server",
        fault_at=fault_at,
    )
    report = await bank_run(config, tmp_path)
    assert_everything_held(report)


def hot(backend: str, workers: int, fault: str) -> load.Config:
    """Every client on one market of each type (and their replacements), so the kill
    lands on batches of many commands (``test_batch_crashes.py`` holds one there)."""
    return load.Config(
        clients=50,
        ops=5_000,
        backend=backend,
        workers=workers,
        seed=52,
        fault=fault,
        fault_at=0.5,
        markets_per_type=1,
    )


@pytest.mark.heavy
@pytest.mark.postgres
@pytest.mark.parametrize("fault", ["kill-worker", "kill-server"])
async def test_kill_9_while_two_hot_markets_batch_on_postgres(
    tmp_path: Path, postgres_available: None, fault: str
) -> None:
    report = await bank_run(hot("postgres", 2, fault), tmp_path)
    assert_everything_held(report)
    assert_batches_formed(report)


@pytest.mark.heavy
async def test_kill_9_while_two_hot_markets_batch_on_sqlite(tmp_path: Path) -> None:
    report = await bank_run(hot("sqlite", 1, "kill-server"), tmp_path)
    assert_everything_held(report)
    assert_batches_formed(report)
