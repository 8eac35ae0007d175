"""Markets with their outcomes; ``get_for_update`` takes the market row lock.

A market, its outcomes, its orders and its positions are only written by a
command holding that market's lock, so their saves are plain writes of the
columns that changed since they were loaded.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import TYPE_CHECKING

from domain.model import Market, MarketStatus
from persistence.tortoise import mapping
from persistence.tortoise.errors import translate_errors
from persistence.tortoise.models import MarketRecord, OutcomeRecord

if TYPE_CHECKING:
    from persistence.tortoise.unit_of_work import TortoiseUnitOfWork


class TortoiseMarketRepository:
    def __init__(self, uow: TortoiseUnitOfWork) -> None:
        self._uow = uow
        self._loaded: dict[str, Market] = {}

    @translate_errors
    async def get(self, market_id: str) -> Market | None:
        row = await MarketRecord.filter(id=market_id).using_db(self._uow.db).first()
        return await self._with_outcomes(row)

    @translate_errors
    async def get_for_update(self, market_id: str) -> Market | None:
        """SELECT ... FOR UPDATE on PostgreSQL; on SQLite the unit of work's write lock."""
        query = MarketRecord.filter(id=market_id).select_for_update().using_db(self._uow.db)
        market = await self._with_outcomes(await query.first())
        if not self._uow.database.is_sqlite:
            await self._uow.users.refresh_balances()
        return market

    async def _with_outcomes(self, row: MarketRecord | None) -> Market | None:
        if row is None:
            return None
        outcomes = await OutcomeRecord.filter(market_id=row.id).using_db(self._uow.db)
        market = mapping.market_to_domain(row, list(outcomes))
        self._loaded[market.id] = copy.deepcopy(market)
        return market

    @translate_errors
    async def add(self, market: Market) -> None:
        db = self._uow.db
        await MarketRecord(**mapping.market_fields(market)).save(using_db=db, force_create=True)
        outcomes = [OutcomeRecord(**mapping.outcome_fields(o)) for o in market.outcomes]
        await OutcomeRecord.bulk_create(outcomes, using_db=db)
        self._loaded[market.id] = copy.deepcopy(market)

    @translate_errors
    async def save(self, market: Market) -> None:
        before = self._loaded.get(market.id)
        db = self._uow.db
        old = mapping.market_columns(before) if before else {}
        changed = {k: v for k, v in mapping.market_columns(market).items() if old.get(k) != v}
        if changed:
            await MarketRecord.filter(id=market.id).using_db(db).update(**changed)
        old_outcomes = {
            o.id: mapping.outcome_columns(o) for o in (before.outcomes if before else [])
        }
        for outcome in market.outcomes:
            columns = mapping.outcome_columns(outcome)
            if old_outcomes.get(outcome.id) != columns:
                await OutcomeRecord.filter(id=outcome.id).using_db(db).update(**columns)
        self._loaded[market.id] = copy.deepcopy(market)

    @translate_errors
    async def due_to_close(self, now: datetime) -> list[str]:
        live = [MarketStatus.OPEN.value, MarketStatus.PAUSED.value]
        query = MarketRecord.filter(status__in=live, closes_at__lte=now).order_by("id")
        return [str(i) for i in await query.using_db(self._uow.db).values_list("id", flat=True)]
