"""Shared counters in the database (tables ``counters`` and ``deadlines``): every worker
of a PostgreSQL deployment, or the one SQLite file, sees the same buckets.

Each operation is one statement, atomic on its own: a bucket is refilled, checked and
drawn from in one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING``, so two
workers taking the last token at once cannot both get it. Times are seconds since the
epoch from the app's clock; a clock that steps back refills nothing.
"""

from __future__ import annotations

from datetime import datetime

from domain.ports import Clock, Rate
from persistence.tortoise.errors import translate_errors
from persistence.tortoise.sql import Params, Row, Statement
from persistence.tortoise.unit_of_work import TortoiseUnitOfWorkFactory


def _statement(text: str) -> Statement:
    """PostgreSQL's LEAST/GREATEST are SQLite's two-argument min/max."""
    statement = Statement(text)
    statement.sqlite = statement.sqlite.replace("LEAST(", "min(").replace("GREATEST(", "max(")
    return statement


_F = "CAST({} AS DOUBLE PRECISION)"
_NOW, _BURST, _RATE, _COST = (_F.format(f"${i}") for i in (2, 3, 4, 5))
_REFILLED = (
    f"LEAST({_BURST}, counters.tokens + GREATEST(0, {_NOW} - counters.updated_at) * {_RATE})"
)
_TAKE = _statement(
    "INSERT INTO counters (key, tokens, updated_at, full_at) "
    f"VALUES ($1, {_BURST} - {_COST}, {_NOW}, {_NOW} + {_COST} / {_RATE}) "
    "ON CONFLICT (key) DO UPDATE SET "
    f"tokens = {_REFILLED} - {_COST}, "
    f"updated_at = GREATEST(counters.updated_at, {_NOW}), "
    f"full_at = {_NOW} + ({_BURST} - ({_REFILLED} - {_COST})) / {_RATE} "
    f"WHERE {_REFILLED} >= {_COST} "
    "RETURNING tokens"
)
_GIVE_BACK = _statement(
    "UPDATE counters SET tokens = LEAST({burst}, tokens + {cost}), "
    "full_at = full_at - {cost} / {rate} WHERE key = $1".format(
        burst=_F.format("$2"), cost=_F.format("$3"), rate=_F.format("$4")
    )
)
_PRUNE = _statement("DELETE FROM counters WHERE full_at <= CAST($1 AS DOUBLE PRECISION)")
_SET_DEADLINE = _statement(
    "INSERT INTO deadlines (key, due_at) VALUES ($1, CAST($2 AS DOUBLE PRECISION)) "
    "ON CONFLICT (key) DO UPDATE SET due_at = excluded.due_at"
)
_CLEAR_DEADLINE = _statement("DELETE FROM deadlines WHERE key = $1")
_CLAIM_DUE = _statement(
    "DELETE FROM deadlines WHERE substr(key, 1, length($1)) = $1 "
    "AND due_at <= CAST($2 AS DOUBLE PRECISION) RETURNING key"
)


class TortoiseSharedCounters:
    """:class:`domain.ports.SharedCounters` on the database (each call one statement)."""

    def __init__(self, uow: TortoiseUnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    @translate_errors
    async def _run(self, statement: Statement, params: Params) -> list[Row]:
        database = self._uow.database
        if database.is_sqlite:  # in a unit of work: it holds the write lock
            async with self._uow() as uow:
                rows = await uow.sql.fetch(statement, params)
                await uow.commit()
            return rows
        # Each statement is atomic on its own: on PostgreSQL it runs outside any
        # transaction (Database.statement), one round trip instead of three.
        return await database.statement(statement.postgres, params)

    def _now(self) -> float:
        return self._clock.now().timestamp()

    async def take(self, key: str, rate: Rate, cost: int = 1) -> bool:
        if cost > rate.burst:
            return False
        params = (key, self._now(), rate.burst, rate.per_second, cost)
        return bool(await self._run(_TAKE, params))

    async def give_back(self, key: str, rate: Rate, cost: int = 1) -> None:
        await self._run(_GIVE_BACK, (key, rate.burst, cost, rate.per_second))

    async def set_deadline(self, key: str, due: datetime | None) -> None:
        if due is None:
            await self._run(_CLEAR_DEADLINE, (key,))
        else:
            await self._run(_SET_DEADLINE, (key, due.timestamp()))

    async def claim_due(self, prefix: str, now: datetime) -> list[str]:
        return [str(row[0]) for row in await self._run(_CLAIM_DUE, (prefix, now.timestamp()))]

    async def prune(self, now: datetime) -> None:
        await self._run(_PRUNE, (now.timestamp(),))
