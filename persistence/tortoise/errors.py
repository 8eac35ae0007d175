"""Turning Tortoise and driver exceptions into the platform's own.

Nothing from ``tortoise``, ``asyncpg`` or ``sqlite3`` leaves the persistence
adapters: an expected conflict becomes a :class:`DomainError` where the
adapter knows what it means (a taken username); a database that cannot be
reached (refused, reset or closed connections, a server shutting down or
starting, a locked SQLite file) becomes :class:`ServiceUnavailable`
(SERVICE_UNAVAILABLE); anything else becomes :class:`PersistenceError`, an
internal error the API edge masks.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import asyncpg
from tortoise.exceptions import BaseORMException

from domain.errors import ServiceUnavailable

P = ParamSpec("P")
R = TypeVar("R")

DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    BaseORMException,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    sqlite3.Error,
    OSError,
)
"""What Tortoise and the drivers raise; the LISTEN/NOTIFY bus (``web/pgbus.py``) treats
any of them on its own connections as that connection failing."""


UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, timed out (tortoise's DBConnectionError is one too)
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08, and a connection that went away
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)
SQLITE_UNREACHABLE = ("database is locked", "unable to open database file", "disk I/O error")
NOT_REACHED = "the database cannot be reached right now; nothing was changed: try again shortly"


def is_unreachable(error: BaseException) -> bool:
    """Whether ``error``, or an error it was raised from, says the database is out of reach."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, UNREACHABLE):
            return True
        if isinstance(seen, asyncpg.InterfaceError) and "closed" in str(seen):
            return True
        # A pooled connection that the server's shutdown interrupted: its next statement
        # finds the cut-off one still "in progress".
        if isinstance(seen, asyncpg.InternalClientError) and "in progress" in str(seen):
            return True
        if isinstance(seen, sqlite3.OperationalError) and str(seen) in SQLITE_UNREACHABLE:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class PersistenceError(Exception):
    """The database failed in a way no client caused; reported as an internal error."""


def translate_errors(func: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Re-raise any driver or ORM exception from ``func`` as :class:`ServiceUnavailable`
    when the database is out of reach, else as :class:`PersistenceError`."""

    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await func(*args, **kwargs)
        except DRIVER_ERRORS as exc:
            if is_unreachable(exc):
                raise ServiceUnavailable(NOT_REACHED) from exc
            raise PersistenceError(f"{type(exc).__name__}: {exc}") from exc

    return wrapper
