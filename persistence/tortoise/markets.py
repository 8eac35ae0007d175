"""Markets with their outcomes; ``get_for_update`` takes the market row lock.

A market, its outcomes, its orders and its positions are only written by a
command holding that market's lock, so their saves are plain writes of the
columns that changed since they were loaded, deferred to the commit
(``TortoiseUnitOfWork.defer``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from domain.model import Market, MarketStatus, Position, User
from persistence.tables import MARKETS, OUTCOMES, POSITIONS, USERS, FixedFieldChanged
from persistence.tortoise.accounts import HOLDING
from persistence.tortoise.errors import translate_errors
from persistence.tortoise.models import MarketRecord
from persistence.tortoise.sql import Row, Statement, Timestamps

if TYPE_CHECKING:
    from persistence.tortoise.unit_of_work import TortoiseUnitOfWork

MARKET_COLUMNS = f"{MARKETS.select('m')}, {OUTCOMES.select('o')}"
"""A market joined with its outcomes, one row per outcome: read by :func:`market_from_rows`."""
_OUTCOMES_AT = len(MARKETS.columns)
_MARKET_ID = MARKETS.column_names.index("id")
_FROM = " FROM markets m JOIN outcomes o ON o.market_id = m.id WHERE m.id = $1 ORDER BY o.ordinal"
_SELECT = f"SELECT {MARKET_COLUMNS}{_FROM}"
_GET = Statement(_SELECT)
# Locks the market row and its outcome rows, market first (ORDER BY runs before the
# locking): when it had to wait, PostgreSQL returns the latest committed version
# of every locked row, so the outcomes can't be older than the market.
_GET_FOR_UPDATE = Statement(f"{_SELECT} FOR UPDATE")
_SOME_COLUMN = MARKETS.mutable[0].name


def _nulls(count: int) -> str:
    return ", ".join(["NULL"] * count)


_FRESH_AT = len(MARKETS.columns) + len(OUTCOMES.columns)
_HOLDERS_AT = _FRESH_AT + 1
# get_for_update and users.get_many_holding in one round trip. The holders are read
# with the statement's snapshot, taken before the lock: if the lock waited for another
# transaction, or one committed between the snapshot and the lock, they miss its writes.
# ``fresh`` says whether the locked market row is the version the snapshot sees; every
# transaction that locks a market writes its row (``defer_touches``), so when it is,
# every earlier holder of the lock had committed before the snapshot and the holders are
# as current as a read after the lock. When not, the caller reads them again.
_GET_FOR_UPDATE_HOLDING = Statement(
    "WITH locked AS MATERIALIZED ("
    f"SELECT {MARKET_COLUMNS}, m.xmin = (SELECT xmin FROM markets WHERE id = $1) AS fresh"
    f"{_FROM} FOR UPDATE)"
    f" SELECT *, {_nulls(len(USERS.columns) + len(POSITIONS.columns))} FROM locked"
    f" UNION ALL SELECT {_nulls(_HOLDERS_AT)}, h.* FROM ({HOLDING.postgres}) h"
)
_TOUCH = Statement(f"UPDATE markets SET {_SOME_COLUMN} = {_SOME_COLUMN} WHERE id = $1")
"""A new version of the market row that changes nothing: see ``defer_touches``."""
_INSERT_MARKET = Statement(MARKETS.insert)
_INSERT_OUTCOME = Statement(OUTCOMES.insert)
_UPDATE_OUTCOME = Statement(OUTCOMES.update, OUTCOMES.update_rows)
_MARKET_COLUMNS = tuple(c.name for c in MARKETS.mutable)

Snapshot = tuple[tuple[object, ...], dict[str, tuple[object, ...]]]


def market_from_rows(sql: Timestamps, rows: list[Row]) -> Market:
    """A market from its rows joined with its outcomes, ordered by ordinal (one per outcome)."""
    outcomes = [OUTCOMES.from_row(sql, row, _OUTCOMES_AT) for row in rows]
    return MARKETS.from_row(sql, rows[0], outcomes=outcomes)


def markets_from_rows(sql: Timestamps, rows: list[Row]) -> list[Market]:
    """Markets from rows of several markets joined with their outcomes, grouped by
    market (in the order of their first rows), each market's rows by ordinal."""
    by_market: dict[str, list[Row]] = {}
    for row in rows:
        by_market.setdefault(row[_MARKET_ID], []).append(row)
    return [market_from_rows(sql, group) for group in by_market.values()]


@functools.cache
def _update_market(columns: tuple[str, ...]) -> Statement:
    return Statement(MARKETS.update_of(columns))


def _outcome_values(market: Market) -> dict[str, tuple[object, ...]]:
    return {o.id: OUTCOMES.state(o) for o in market.outcomes}


class TortoiseMarketRepository:
    def __init__(self, uow: TortoiseUnitOfWork) -> None:
        self._uow = uow
        self._loaded: dict[str, Snapshot] = {}
        self._fixed: dict[str, tuple[tuple[object, ...], list[tuple[object, ...]]]] = {}
        self._locked: set[str] = set()
        self._written: set[str] = set()

    def _remember(self, market: Market) -> Market:
        outcomes = [OUTCOMES.fixed(o) for o in market.outcomes]
        self._fixed[market.id] = (MARKETS.fixed(market), outcomes)
        self._loaded[market.id] = (MARKETS.state(market), _outcome_values(market))
        return market

    @translate_errors
    async def get(self, market_id: str) -> Market | None:
        rows = await self._uow.sql.fetch(_GET, (market_id,))
        return self._remember(market_from_rows(self._uow.sql, rows)) if rows else None

    @translate_errors
    async def get_for_update(self, market_id: str) -> Market | None:
        """SELECT ... FOR UPDATE on PostgreSQL; on SQLite the unit of work's write lock."""
        rows = await self._uow.sql.fetch(_GET_FOR_UPDATE, (market_id,))
        return await self._locked_from(rows)

    @translate_errors
    async def get_for_update_holding(
        self, market_id: str, user_ids: Sequence[str]
    ) -> tuple[Market, tuple[list[User], list[Position]] | None] | None:
        """:meth:`get_for_update`, and on PostgreSQL ``users.get_many_holding`` of
        ``user_ids`` in the same statement when it can tell them as current as a read
        after the lock (:data:`_GET_FOR_UPDATE_HOLDING`); else None for them."""
        if self._uow.database.is_sqlite or not user_ids:
            market = await self.get_for_update(market_id)
            return None if market is None else (market, None)
        rows = await self._uow.sql.fetch(_GET_FOR_UPDATE_HOLDING, (market_id, list(user_ids)))
        locked = [row for row in rows if row[0] is not None]
        market = await self._locked_from(locked)
        if market is None:
            return None
        if locked[0][_FRESH_AT] is not True:
            return market, None
        held = [row for row in rows if row[0] is None]
        return market, self._uow.users.remember_holding(held, _HOLDERS_AT)

    async def _locked_from(self, rows: list[Row]) -> Market | None:
        """The market of its locked rows, if any; balances read before the lock refreshed."""
        market = self._remember(market_from_rows(self._uow.sql, rows)) if rows else None
        if not self._uow.database.is_sqlite:
            if market is not None:
                self._locked.add(market.id)
            await self._uow.users.refresh_balances()
        return market

    def defer_touches(self) -> None:
        """Write the row of every market this transaction locked and did not write
        otherwise, changing nothing: every transaction that held a market's lock then
        leaves a new version of its row, which ``get_for_update_holding`` relies on."""
        for market_id in sorted(self._locked - self._written):
            self._uow.defer(_TOUCH, (market_id,))
        self._written |= self._locked

    @translate_errors
    async def add(self, market: Market) -> None:
        sql = self._uow.sql
        await sql.execute(_INSERT_MARKET, MARKETS.values(market))
        await sql.execute_many(_INSERT_OUTCOME, [OUTCOMES.values(o) for o in market.outcomes])
        self._remember(market)

    async def save(self, market: Market) -> None:
        """Defer the changed mutable columns of the market and its outcomes to the commit;
        a changed fixed field raises :class:`FixedFieldChanged`."""
        uow = self._uow
        self._check_fixed(market)
        before_market, before_outcomes = self._loaded.get(market.id, ((), {}))
        values = MARKETS.state(market)
        old_values = before_market or (None,) * len(values)
        changed = {
            name: value
            for name, value, old in zip(_MARKET_COLUMNS, values, old_values, strict=True)
            if old != value
        }
        if changed:
            uow.defer(_update_market(tuple(changed)), (market.id, *changed.values()))
            self._written.add(market.id)
        outcomes = _outcome_values(market)
        for outcome_id, state in outcomes.items():
            if before_outcomes.get(outcome_id) != state:
                uow.defer(_UPDATE_OUTCOME, (outcome_id, *state))
        self._loaded[market.id] = (values, outcomes)

    def _check_fixed(self, market: Market) -> None:
        fixed = self._fixed.get(market.id)
        if fixed is None:
            return
        MARKETS.check_fixed(fixed[0], market)
        if len(fixed[1]) != len(market.outcomes):
            raise FixedFieldChanged(f"Market {market.id}: outcomes cannot change once stored")
        for stored, outcome in zip(fixed[1], market.outcomes, strict=True):
            OUTCOMES.check_fixed(stored, outcome)

    @translate_errors
    async def due_to_close(self, now: datetime) -> list[str]:
        live = [MarketStatus.OPEN.value, MarketStatus.PAUSED.value]
        query = MarketRecord.filter(status__in=live, closes_at__lte=now).order_by("id")
        return [str(i) for i in await query.using_db(self._uow.db).values_list("id", flat=True)]

    @translate_errors
    async def due_to_finalize(self, now: datetime) -> list[str]:
        proposed = MarketStatus.RESOLUTION_PROPOSED.value
        query = MarketRecord.filter(status=proposed, dispute_window_ends_at__lte=now).order_by("id")
        return [str(i) for i in await query.using_db(self._uow.db).values_list("id", flat=True)]
