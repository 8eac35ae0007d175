"""Turning Tortoise and driver exceptions into the platform's own.

Nothing from ``tortoise``, ``asyncpg`` or ``sqlite3`` leaves the persistence
adapters: an expected conflict becomes a :class:`DomainError` where the
adapter knows what it means (a taken username), anything else becomes
:class:`PersistenceError`, an internal error the API edge masks.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import asyncpg
from tortoise.exceptions import BaseORMException

P = ParamSpec("P")
R = TypeVar("R")

DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    BaseORMException,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    sqlite3.Error,
    OSError,
)


class PersistenceError(Exception):
    """The database failed in a way no client caused; reported as an internal error."""


def translate_errors(func: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Re-raise any driver or ORM exception from ``func`` as :class:`PersistenceError`."""

    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await func(*args, **kwargs)
        except DRIVER_ERRORS as exc:
            raise PersistenceError(f"{type(exc).__name__}: {exc}") from exc

    return wrapper
