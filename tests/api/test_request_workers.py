"""``bellwether serve --workers N`` on PostgreSQL, over TCP: a burst of connections is
spread over the workers (each worker's slot has a socket of its own), and a worker that
dies is replaced on its slot's socket while the port keeps serving, no connection lost."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from tests.api.test_live_postgres import clean_postgres, serve_subprocess
from tests.api.test_live_workers import leaves
from tests.harness import wait_until
from web.workers import SPREADS_CONNECTIONS

pytestmark = pytest.mark.postgres
__all__ = ["clean_postgres"]  # the fixture


@pytest.mark.skipif(not SPREADS_CONNECTIONS, reason="one shared socket without SO_REUSEPORT")
async def test_a_burst_of_connections_is_answered_by_every_worker(clean_postgres: str) -> None:
    with serve_subprocess(clean_postgres, "--workers", "2") as (url, process):
        await wait_until(lambda: len(leaves(process.pid)) == 2, 30)
        answers = await burst(url, 40)
        assert len(answers) == 40
        assert len(answered_by(answers)) == 2


async def test_a_killed_worker_is_replaced_and_the_port_keeps_serving(clean_postgres: str) -> None:
    with serve_subprocess(clean_postgres, "--workers", "2") as (url, process):
        await wait_until(lambda: len(leaves(process.pid)) == 2, 30)
        first, second = leaves(process.pid)
        os.kill(first, signal.SIGKILL)
        # Those for the dead worker's slot wait on its socket for the replacement.
        assert len(await burst(url, 40)) == 40
        await wait_until(lambda: len(leaves(process.pid)) == 2, 30)
        assert first not in leaves(process.pid)
        assert second in leaves(process.pid)
        assert len(await burst(url, 40)) == 40


async def burst(url: str, count: int) -> list[str]:
    """Open ``count`` connections at once, then ask ``/healthz`` on each: the request id
    of each answer, all of which must be 200."""
    host, port = url.removeprefix("http://").split(":")
    async with asyncio.timeout(60):  # a liveness bound: a replacement starts slowly
        connections = await asyncio.gather(
            *(asyncio.open_connection(host, int(port)) for _ in range(count))
        )
        return list(await asyncio.gather(*(healthz(*c) for c in connections)))


async def healthz(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str:
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: bellwether\r\nConnection: close\r\n\r\n")
    head = (await reader.readuntil(b"\r\n\r\n")).decode().lower()
    writer.close()
    assert head.startswith("http/1.1 200"), head
    return head.split("x-request-id: ", 1)[1].split("\r\n", 1)[0]


def answered_by(request_ids: list[str]) -> set[str]:
    """The workers that answered: a request id starts with 8 hex digits of its process's
    own (``schema.context.new_request_id``)."""
    return {request_id[:8] for request_id in request_ids}


async def test_sighup_replaces_the_workers_and_sigterm_stops_them(clean_postgres: str) -> None:
    """As under uvicorn's supervisor: SIGHUP for new code or settings, SIGTERM to stop."""
    with serve_subprocess(clean_postgres, "--workers", "2") as (url, process):
        await wait_until(lambda: len(leaves(process.pid)) == 2, 30)
        old = leaves(process.pid)
        process.send_signal(signal.SIGHUP)
        await wait_until(lambda: not set(old) & set(leaves(process.pid)), 30)
        assert len(await burst(url, 20)) == 20
        new = leaves(process.pid)
        assert len(new) == 2
        process.terminate()
        assert process.wait(30) == 0
        assert all(ended(pid) for pid in new)


def ended(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False
