"""The bank test: concurrent clients, random valid and invalid operations over HTTP,
then every cent accounted for (``bench/load.py`` does the work; see docs/RELIABILITY.md).

Holds when: ``bellwether audit`` passes; users' money plus pools plus fees equals
what the issuer issued, to the cent; nothing is negative; no response is a 5xx;
every response is data or errors that all carry a contract code; no
``clientOrderId`` is applied twice; every acknowledged order and trade is stored.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import load
from tests.reliability.conftest import assert_batches_formed, assert_everything_held, bank_run


async def test_sqlite_one_worker_keeps_every_cent(tmp_path: Path) -> None:
    config = load.Config(clients=10, ops=300, backend="sqlite", workers=1, seed=11)
    report = await bank_run(config, tmp_path)
    assert_everything_held(report)
    assert report.figures()["acked_trades"] > 0


@pytest.mark.postgres
async def test_postgres_two_workers_keep_every_cent(
    tmp_path: Path, postgres_available: None
) -> None:
    config = load.Config(clients=10, ops=300, backend="postgres", workers=2, seed=12)
    report = await bank_run(config, tmp_path)
    assert_everything_held(report)
    assert report.figures()["acked_trades"] > 0


def heavy_config(backend: str, workers: int) -> load.Config:
    return load.Config(clients=50, ops=10_000, backend=backend, workers=workers, seed=50)


@pytest.mark.heavy
async def test_sqlite_fifty_clients_ten_thousand_operations(tmp_path: Path) -> None:
    report = await bank_run(heavy_config("sqlite", 1), tmp_path)
    assert_everything_held(report)
    assert report.tally.done >= 9_900


@pytest.mark.heavy
@pytest.mark.postgres
async def test_postgres_fifty_clients_ten_thousand_operations(
    tmp_path: Path, postgres_available: None
) -> None:
    report = await bank_run(heavy_config("postgres", 2), tmp_path)
    assert_everything_held(report)
    assert report.tally.done >= 9_900


def hot_config(backend: str, workers: int) -> load.Config:
    """Every client on one LMSR and one order-book market (and their replacements): the
    markets' commands meet in batches of many."""
    return load.Config(
        clients=50, ops=10_000, backend=backend, workers=workers, seed=51, markets_per_type=1
    )


@pytest.mark.heavy
async def test_sqlite_fifty_clients_on_two_hot_markets(tmp_path: Path) -> None:
    report = await bank_run(hot_config("sqlite", 1), tmp_path)
    assert_everything_held(report)
    assert report.tally.done >= 9_900
    assert_batches_formed(report)


@pytest.mark.heavy
@pytest.mark.postgres
@pytest.mark.parametrize("workers", [1, 2])
async def test_postgres_fifty_clients_on_two_hot_markets(
    tmp_path: Path, postgres_available: None, workers: int
) -> None:
    report = await bank_run(hot_config("postgres", workers), tmp_path)
    assert_everything_held(report)
    assert report.tally.done >= 9_900
    assert_batches_formed(report)
