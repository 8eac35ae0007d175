"""Hand-written SQL for the hot paths, on the transaction's own driver connection.

Building a statement through the ORM costs more CPU than running it, so the
statements a trade runs are written once here as text with PostgreSQL's
``$1`` placeholders; :class:`Statement` keeps the SQLite spelling (``?1``)
beside it. :class:`Sql` runs them on the open transaction's asyncpg or
aiosqlite connection. Driver errors are left to the repositories'
``translate_errors``; constraint violations are recognised with :func:`is_integrity_error`.
"""

from __future__ import annotations

import functools
import itertools
import re
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Protocol

import aiosqlite
import asyncpg
from tortoise.exceptions import IntegrityError

from persistence.tables import Params as Params
from persistence.tables import Row as Row
from persistence.tables import Timestamps as Timestamps
from persistence.tortoise import driver

Write = tuple["Statement", Params]

_PLACEHOLDER = re.compile(r"\$(\d+)")
# Up to this many writes go to PostgreSQL as one statement; more run as one
# executemany per statement (a market closing with a full book, say).
MAX_COMBINED = 32


class Statement:
    """One SQL text in both spellings. ``FOR UPDATE`` is dropped on SQLite (one writer).

    ``rows``, for a write, is PostgreSQL's text of the same write for many rows at once,
    ``$n`` the array of every row's n-th parameter (``Table.insert_rows``): deferred
    writes of the statement then go as one part of the combined write."""

    __slots__ = ("postgres", "rows", "sqlite")

    def __init__(self, text: str, rows: str | None = None) -> None:
        self.postgres, self.rows = text, rows
        self.sqlite = _PLACEHOLDER.sub(r"?\1", text.replace(" FOR UPDATE", ""))


class ListStatement:
    """A statement whose last parameter is a list of values, written ``{values}`` where
    it is compared (``WHERE id {values}``), after ``fixed`` single parameters.

    On PostgreSQL it is ``= ANY($n)``: one text, so one prepared statement, whatever
    the number of values. On SQLite ``IN (?n, ...)``, a text per number of values.
    """

    __slots__ = ("_text", "fixed", "postgres")

    def __init__(self, text: str, fixed: int = 0) -> None:
        self._text, self.fixed = text, fixed
        self.postgres = text.format(values=f"= ANY(${fixed + 1})")

    def sqlite(self, count: int) -> str:
        return _sqlite_in(self._text, self.fixed, count)


@functools.lru_cache(maxsize=512)
def _sqlite_in(text: str, fixed: int, count: int) -> str:
    numbers = ", ".join(f"${i}" for i in range(fixed + 1, fixed + 1 + count))
    return Statement(text.format(values=f"IN ({numbers})")).sqlite


class Sql(Timestamps, Protocol):
    """The statements of one open transaction."""

    async def fetch(self, statement: Statement, params: Params = ()) -> list[Row]: ...

    async def fetch_in(
        self, statement: ListStatement, params: Params, values: Sequence[object]
    ) -> list[Row]:
        """``fetch`` with ``values`` as the statement's list."""
        ...

    async def execute(self, statement: Statement, params: Params = ()) -> int:
        """Run a write; returns the number of rows it changed."""
        ...

    async def execute_many(self, statement: Statement, rows: Iterable[Params]) -> None:
        """Run one write per row of parameters, in one round trip."""
        ...

    async def write_all(self, writes: Sequence[Write]) -> None:
        """Run writes that touch distinct rows and need no row count, in order."""
        ...


class PostgresSql:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def fetch(self, statement: Statement, params: Params = ()) -> list[Row]:
        return list(await self._connection.fetch(statement.postgres, *params))

    async def fetch_in(
        self, statement: ListStatement, params: Params, values: Sequence[object]
    ) -> list[Row]:
        return list(await self._connection.fetch(statement.postgres, *params, list(values)))

    async def execute(self, statement: Statement, params: Params = ()) -> int:
        status: str = await self._connection.execute(statement.postgres, *params)
        return int(status.rsplit(" ", 1)[-1])

    async def execute_many(self, statement: Statement, rows: Iterable[Params]) -> None:
        batch = list(rows)
        if len(batch) == 1:
            await self._connection.execute(statement.postgres, *batch[0])
        elif batch:
            await self._connection.executemany(statement.postgres, batch)

    async def write_all(self, writes: Sequence[Write]) -> None:
        parts = _multi_row(writes)
        if len(parts) > MAX_COMBINED:
            await _grouped(self, writes)
        elif parts:
            text = _combined(tuple(text for text, _ in parts))
            params = [value for _, values in parts for value in values]
            await self._connection.execute(text, *params)

    @staticmethod
    def timestamp(value: object) -> datetime:
        assert isinstance(value, datetime)
        return value


class SqliteSql:
    """Runs on the ``sqlite3`` connection itself, in the event loop's thread.

    See ``persistence.tortoise.sqlite_engine``: the caller holds the write lock,
    and nothing else uses the connection meanwhile. No statement here waits on
    anything but the local file.
    """

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection: sqlite3.Connection = driver.sqlite3_connection(connection)

    async def fetch(self, statement: Statement, params: Params = ()) -> list[Row]:
        return self._connection.execute(statement.sqlite, params).fetchall()

    async def fetch_in(
        self, statement: ListStatement, params: Params, values: Sequence[object]
    ) -> list[Row]:
        text = statement.sqlite(len(values))
        return self._connection.execute(text, (*params, *values)).fetchall()

    async def execute(self, statement: Statement, params: Params = ()) -> int:
        return self._connection.execute(statement.sqlite, params).rowcount

    async def execute_many(self, statement: Statement, rows: Iterable[Params]) -> None:
        self._connection.executemany(statement.sqlite, rows)

    async def write_all(self, writes: Sequence[Write]) -> None:
        await _grouped(self, writes)

    @staticmethod
    def timestamp(value: object) -> datetime:
        """Tortoise stores datetimes as ISO text here (the sqlite3 adapter it registers).

        A stored time that has no UTC equivalent (``9999-12-31T23:59:59-14:00``, written
        before inputs were range-checked) reads as the nearest representable one rather
        than failing every read of its market."""
        parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            return _FAR_PAST if parsed.year < 2 else _FAR_FUTURE


_FAR_PAST = datetime.min.replace(tzinfo=UTC)
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


async def _grouped(sql: Sql, writes: Sequence[Write]) -> None:
    """One ``execute_many`` per run of writes of the same statement."""
    for statement, run in itertools.groupby(writes, key=lambda write: write[0]):
        await sql.execute_many(statement, [params for _, params in run])


def _multi_row(writes: Sequence[Write]) -> list[tuple[str, Params]]:
    """The writes as PostgreSQL texts with their parameters: every write of a statement
    that has a ``rows`` text as one part, at its first write's place, each parameter
    an array of the rows' values; any other write a part of its own. The parts touch
    distinct rows, so their order within one statement does not matter."""
    parts: list[Write | Statement] = []
    rows: dict[Statement, list[Params]] = {}
    for write in writes:
        statement = write[0]
        if statement.rows is None:
            parts.append(write)
        elif statement in rows:
            rows[statement].append(write[1])
        else:
            rows[statement] = [write[1]]
            parts.append(statement)
    return [
        (part.rows or "", _columns(rows[part]))
        if isinstance(part, Statement)
        else (part[0].postgres, part[1])
        for part in parts
    ]


def _columns(rows: list[Params]) -> list[list[object]]:
    """Rows of parameters as one array per parameter."""
    return [list(column) for column in zip(*rows, strict=True)]


@functools.lru_cache(maxsize=256)
def _combined(texts: tuple[str, ...]) -> str:
    """PostgreSQL writes as one statement: every one but the last in a ``WITH``.

    Each data-modifying ``WITH`` part runs exactly once; they must not touch the
    same row twice (they see one snapshot). Placeholders are renumbered in turn.
    """
    parts, offset = [], 0
    for text in texts:
        parts.append(_renumbered(text, offset))
        offset += max((int(n) for n in _PLACEHOLDER.findall(text)), default=0)
    *first, last = parts
    if not first:
        return last
    return "WITH " + ", ".join(f"w{i} AS ({p})" for i, p in enumerate(first)) + f" {last}"


def _renumbered(text: str, offset: int) -> str:
    def shifted(match: re.Match[str]) -> str:
        return f"${int(match[1]) + offset}"

    return _PLACEHOLDER.sub(shifted, text)


def optional_timestamp(sql: Timestamps, value: object) -> datetime | None:
    return None if value is None else sql.timestamp(value)


def is_integrity_error(exc: BaseException) -> bool:
    return isinstance(
        exc, IntegrityError | asyncpg.IntegrityConstraintViolationError | sqlite3.IntegrityError
    )
