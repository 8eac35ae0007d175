"""A throwaway PostgreSQL cluster: ``initdb`` + ``pg_ctl`` in a temporary directory on a
free port, stopped and deleted afterwards.

The fault tests stop and start *this* cluster, never the machine's own server
(``BELLWETHER_TEST_POSTGRES_URL``), which other checkouts and test runs share.
``initdb`` refuses to run as root, so as root the cluster runs as the ``postgres``
OS user (Debian's packages create it) in a directory that user owns. It listens on
127.0.0.1 and, when asked, on a Unix-domain socket in a directory of its own (in the
cluster's directory, so its user's, which root reads anyway).

The binaries come from ``BELLWETHER_PG_BIN`` or the newest
``/usr/lib/postgresql/*/bin`` (Debian's layout), else from ``PATH``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

OS_USER = "postgres"
"""The OS user the cluster runs as when the tests run as root."""


def _bin_directory() -> Path | None:
    configured = os.environ.get("BELLWETHER_PG_BIN")
    if configured:
        return Path(configured)
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True
    )
    for directory in debian:
        if (directory / "initdb").exists():
            return directory
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def unavailable_reason() -> str | None:
    """Why no throwaway cluster can be made here (None: it can)."""
    directory = _bin_directory()
    if directory is None or not (directory / "pg_ctl").exists():
        return "no initdb/pg_ctl (set BELLWETHER_PG_BIN)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(OS_USER)
        except KeyError:
            return f"running as root and there is no {OS_USER!r} OS user to run initdb as"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayCluster:
    """One PostgreSQL server of our own, reachable at ``admin_url`` (user postgres, trust),
    and through a Unix socket in ``socket_directory`` when one is asked for."""

    def __init__(self, directory: Path, *, unix_socket: bool = False) -> None:
        bin_directory = _bin_directory()
        assert bin_directory is not None, unavailable_reason()
        self.bin = bin_directory
        self.directory = directory
        self.data = directory / "data"
        self.log = directory / "postgres.log"
        self.port = _free_port()
        self.admin_url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        self.socket_directory = directory / "socket" if unix_socket else None
        self._as_user = pwd.getpwnam(OS_USER) if os.geteuid() == 0 else None

    def _run(self, *command: str, timeout: float = 60) -> None:
        kwargs: dict[str, Any] = {}
        if self._as_user is not None:
            uid, gid = self._as_user.pw_uid, self._as_user.pw_gid
            kwargs = {"user": uid, "group": gid, "extra_groups": []}
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=self.directory,
            **kwargs,
        )
        if done.returncode != 0:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}{tail}")

    def init(self) -> None:
        if self._as_user is not None:
            os.chown(self.directory, self._as_user.pw_uid, self._as_user.pw_gid)
        self._run(
            str(self.bin / "initdb"),
            *("-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"),
        )
        if self.socket_directory is not None:
            self._run("mkdir", "-m", "0700", str(self.socket_directory))

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories='{self.socket_directory or ''}' "
            # fsync off: writes reach the OS, which outlives a crash of the server (stop
            # -m immediate) though not of the machine; synchronous_commit stays on, so
            # an acknowledged commit survives the crashes the tests cause.
            "-c fsync=off -c full_page_writes=off"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            *("-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options),
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: disconnect clients, roll back; ``immediate``: crash)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def ensure_stopped(self) -> None:
        if self.running():
            with contextlib.suppress(RuntimeError):
                self.stop("immediate")


@contextlib.contextmanager
def throwaway_cluster(*, unix_socket: bool = False) -> Iterator[ThrowawayCluster]:
    """A started cluster of our own (with a Unix socket if asked); stopped and its
    directory deleted afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="bellwether-pg-"))
    try:
        cluster = ThrowawayCluster(directory, unix_socket=unix_socket)
        cluster.init()
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.ensure_stopped()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
