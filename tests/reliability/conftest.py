"""Fixtures for the reliability tests: the bank test runner, PostgreSQL checks, the heavy switch.

Tests marked ``heavy`` (50 clients x 10,000 operations and more) run only with
``BELLWETHER_HEAVY=1`` (``make reliability``); the default run has a small
version of each. PostgreSQL tests skip when no server answers, unless
``BELLWETHER_REQUIRE_POSTGRES=1``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import asyncpg
import pytest

from bench import load
from tests import dbtools, pgcluster

# The live-server fixtures of the API tests (a real uvicorn in this event loop).
from tests.api.conftest import api, app, live_api, server, settings  # noqa: F401

HEAVY = os.environ.get("BELLWETHER_HEAVY") == "1"
FIGURES = os.environ.get("BELLWETHER_RELIABILITY_FIGURES")
"""A file to append each run's figures to (one JSON line per run; docs/RELIABILITY.md)."""


HEAVY_TIMEOUT = 1_200
"""Seconds a heavy run may take (the suite's default is 300). Each is a few minutes on an
idle 2-core machine and 3-5x that at a load average of 10 under ``nice``, which is how
the PostgreSQL restarts at 50% and 80% of 50 x 5,000 ran past 300 s on 2026-12-06;
the limit is there to catch a hang, not to time the run."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason="heavy: set BELLWETHER_HEAVY=1 (make reliability)")
    for item in items:
        if "heavy" in item.keywords:
            item.add_marker(pytest.mark.timeout(HEAVY_TIMEOUT) if HEAVY else skip)


@pytest.fixture
async def postgres_available() -> None:
    """Skip (or fail, in CI) when PostgreSQL does not answer."""
    try:
        conn = await asyncpg.connect(load.PG_ADMIN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        dbtools.postgres_unavailable(str(exc))
    else:
        await conn.close()


@pytest.fixture
def own_postgres_possible() -> None:
    """The tests that stop PostgreSQL stop a throwaway cluster that the bank test starts
    for itself (``tests/pgcluster.py``); skip (or fail, in CI) when none can be made."""
    reason = pgcluster.unavailable_reason()
    if reason is not None:
        dbtools.postgres_unavailable(reason)


async def bank_run(
    config: load.Config, directory: Path, probe: load.Probe | None = None
) -> load.Report:
    """Run the bank test and print its figures (``-s`` shows them)."""
    report = await load.run(config, directory, probe=probe)
    load.print_report(report)
    if FIGURES:
        record(Path(FIGURES), report.figures())
    return report


def record(path: Path, figures: dict[str, object]) -> None:
    with path.open("a") as out:
        out.write(json.dumps(figures) + "\n")


def assert_everything_held(report: load.Report) -> None:
    failures = report.holds()
    assert not failures, "\n".join(failures)
    figures = report.figures()
    assert figures["ok"] > 0 and figures["errors_by_code"], figures
    assert figures["money"]["difference"] == 0


def assert_batches_formed(report: load.Report) -> None:
    """Commands met in batches of more than one. Checked with one worker only, whose
    ``/metrics`` has every batch since the server last started; with two, a scrape
    reaches whichever worker accepts it (perhaps one just started after a kill)."""
    if report.config.workers == 1:
        assert report.batches.get("batch_max", 0) > 1, report.batches
