"""The connection parameters of a PostgreSQL URL: a TCP server, or a Unix-domain socket.

``postgres://user:password@host:port/database?options`` names a server over TCP. A
server on the same host is reached through its Unix-domain socket, named by the
socket's directory in either of libpq's two spellings:

- percent-encoded in place of the host, ``postgres://user@%2Fvar%2Frun%2Fpostgresql/db``
  (case preserved; a port, ``...%2Fpostgresql:5433/db``, names the socket file
  ``.s.PGSQL.5433`` in that directory),
- or in the query, ``postgres://user@/db?host=/var/run/postgresql`` (which wins over a
  host in the URL, as it always did here).

asyncpg, Tortoise's pool and pgbench all take that directory as the host. The pool, the
event bus's LISTEN connection and the benchmarks read this one parse, so they reach the
same server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5432
DEFAULT_NAME = "postgres"
"""The user and the database when the URL names none."""
CONNECTION_OPTIONS = ("ssl",)
"""Options of the query that say how to connect (asyncpg's ``ssl``: ``require``,
``verify-full``, ...), so every connection to the server takes them, the bus's too."""


@dataclass(frozen=True, slots=True)
class PostgresParams:
    host: str
    """A host name or address, or a Unix-socket directory (an absolute path)."""
    port: int
    """The TCP port, or the number in the socket file's name (``.s.PGSQL.<port>``)."""
    user: str
    password: str = field(repr=False)  # kept out of logs and tracebacks
    database: str
    options: dict[str, str] = field(default_factory=dict)
    """The query's other parameters, for the pool (Tortoise's ``minsize``, ``maxsize``)."""

    @classmethod
    def parse(cls, url: str) -> PostgresParams:
        parts = urlsplit(url)
        options = dict(parse_qsl(parts.query))
        host = options.pop("host", None) or _url_host(parts) or DEFAULT_HOST
        port = options.pop("port", None) or parts.port or DEFAULT_PORT
        return cls(
            host=host,
            port=int(port),
            user=unquote(parts.username or DEFAULT_NAME),
            password=unquote(parts.password or ""),
            database=unquote(parts.path.lstrip("/")) or DEFAULT_NAME,
            options=options,
        )

    @property
    def is_socket(self) -> bool:
        return self.host.startswith("/")

    def connect_kwargs(self) -> dict[str, Any]:
        """Where, as whom and how to connect, as asyncpg (and Tortoise's pool) take it:
        of the ``options`` only :data:`CONNECTION_OPTIONS` (asyncpg would send the others
        to the server as settings)."""
        how = {name: value for name, value in self.options.items() if name in CONNECTION_OPTIONS}
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "database": self.database,
            **how,
        }


def _url_host(parts: SplitResult) -> str | None:
    """The host between ``@`` and the port: a socket directory percent-decoded with its
    case, else as ``urlsplit`` reads a host name (lower case)."""
    spelled = parts.netloc.rpartition("@")[2].partition(":")[0]
    directory = unquote(spelled)
    return directory if directory.startswith("/") else parts.hostname
