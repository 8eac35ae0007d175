"""``bellwether serve`` refuses what its database cannot serve, before starting anything;
each request worker of several runs uvloop, a server of one process asyncio's loop."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from web.serve import add_commands, request_worker_loop, serve_command, worker_command


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


def test_each_request_worker_of_several_is_told_uvloop_and_one_process_keeps_asyncio() -> None:
    pytest.importorskip("uvloop")
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers())
    request_worker = worker_command("127.0.0.1", 8000, request_worker_loop())
    assert request_worker[3] == "serve"
    assert parser.parse_args(request_worker[3:]).loop == "uvloop"
    live_worker = worker_command("127.0.0.1", 8001)
    assert parser.parse_args(live_worker[3:]).loop == "asyncio"
    assert parser.parse_args(["serve"]).loop == "asyncio"
