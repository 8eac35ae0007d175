"""``bellwether serve`` refuses what its database cannot serve, before starting anything."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from web.serve import serve_command


@pytest.mark.parametrize(("workers", "live_workers"), [(2, 0), (1, 1)])
def test_several_processes_need_postgresql(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    workers: int,
    live_workers: int,
) -> None:
    monkeypatch.setenv("BELLWETHER_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    args = argparse.Namespace(
        host="127.0.0.1", port=0, workers=workers, live_workers=live_workers, live_port=0
    )
    assert serve_command(args) == 2
    assert "SQLite serves from one worker" in capsys.readouterr().out
    assert not (tmp_path / "x.db").exists()
