"""Markets with their outcomes; ``get_for_update`` takes the market row lock.

A market, its outcomes, its orders and its positions are only written by a
command holding that market's lock, so their saves are plain writes of the
columns that changed since they were loaded, deferred to the commit
(``TortoiseUnitOfWork.defer``).
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import TYPE_CHECKING

from domain.model import Market, MarketStatus
from persistence.tortoise import mapping
from persistence.tortoise.errors import translate_errors
from persistence.tortoise.models import MarketRecord, OutcomeRecord
from persistence.tortoise.rows import MARKET_COLUMNS, market_from_rows
from persistence.tortoise.sql import Statement

if TYPE_CHECKING:
    from persistence.tortoise.unit_of_work import TortoiseUnitOfWork

_SELECT = (
    f"SELECT {MARKET_COLUMNS} FROM markets m JOIN outcomes o ON o.market_id = m.id"
    " WHERE m.id = $1 ORDER BY o.ordinal"
)
_GET = Statement(_SELECT)
# Locks the market row and its outcome rows, market first (ORDER BY runs before the
# locking): when it had to wait, PostgreSQL returns the latest committed version
# of every locked row, so the outcomes can't be older than the market.
_GET_FOR_UPDATE = Statement(f"{_SELECT} FOR UPDATE")
_UPDATE_OUTCOME = Statement(
    "UPDATE outcomes SET "
    + ", ".join(f"{name} = ${i}" for i, name in enumerate(mapping.OUTCOME_COLUMNS, start=2))
    + " WHERE id = $1"
)

Snapshot = tuple[tuple[object, ...], dict[str, tuple[object, ...]]]


@functools.cache
def _update_market(columns: tuple[str, ...]) -> Statement:
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(columns, start=2))
    return Statement(f"UPDATE markets SET {sets} WHERE id = $1")


def _market_values(market: Market) -> tuple[object, ...]:
    return tuple(mapping.market_columns(market).values())


def _outcome_values(market: Market) -> dict[str, tuple[object, ...]]:
    names = mapping.OUTCOME_COLUMNS
    return {o.id: tuple(getattr(o, name) for name in names) for o in market.outcomes}


class TortoiseMarketRepository:
    def __init__(self, uow: TortoiseUnitOfWork) -> None:
        self._uow = uow
        self._loaded: dict[str, Snapshot] = {}

    def _remember(self, market: Market) -> Market:
        self._loaded[market.id] = (_market_values(market), _outcome_values(market))
        return market

    @translate_errors
    async def get(self, market_id: str) -> Market | None:
        rows = await self._uow.sql.fetch(_GET, (market_id,))
        return self._remember(market_from_rows(self._uow.sql, rows)) if rows else None

    @translate_errors
    async def get_for_update(self, market_id: str) -> Market | None:
        """SELECT ... FOR UPDATE on PostgreSQL; on SQLite the unit of work's write lock."""
        rows = await self._uow.sql.fetch(_GET_FOR_UPDATE, (market_id,))
        market = self._remember(market_from_rows(self._uow.sql, rows)) if rows else None
        if not self._uow.database.is_sqlite:
            await self._uow.users.refresh_balances()
        return market

    @translate_errors
    async def add(self, market: Market) -> None:
        db = self._uow.db
        await MarketRecord(**mapping.market_fields(market)).save(using_db=db, force_create=True)
        outcomes = [OutcomeRecord(**mapping.outcome_fields(o)) for o in market.outcomes]
        await OutcomeRecord.bulk_create(outcomes, using_db=db)
        self._remember(market)

    async def save(self, market: Market) -> None:
        """Defer the changed columns of the market and its outcomes to the commit."""
        uow = self._uow
        before_market, before_outcomes = self._loaded.get(market.id, ((), {}))
        columns = mapping.market_columns(market)
        old_values = before_market or (None,) * len(columns)
        changed = {
            name: value
            for (name, value), old in zip(columns.items(), old_values, strict=True)
            if old != value
        }
        if changed:
            uow.defer(_update_market(tuple(changed)), (market.id, *changed.values()))
        outcomes = _outcome_values(market)
        for outcome_id, values in outcomes.items():
            if before_outcomes.get(outcome_id) != values:
                uow.defer(_UPDATE_OUTCOME, (outcome_id, *values))
        self._loaded[market.id] = (tuple(columns.values()), outcomes)

    @translate_errors
    async def due_to_close(self, now: datetime) -> list[str]:
        live = [MarketStatus.OPEN.value, MarketStatus.PAUSED.value]
        query = MarketRecord.filter(status__in=live, closes_at__lte=now).order_by("id")
        return [str(i) for i in await query.using_db(self._uow.db).values_list("id", flat=True)]
