"""The API's read model on Tortoise: keyset pages and the DataLoaders' batch reads.

Every method reads committed data only: outside any unit of work on
PostgreSQL, and on SQLite through its own connection (give it a second
:class:`Database` on the same file: WAL lets it read the last commit while a
command writes). Each method is a fixed number of queries, whatever the page
size: no query per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q

from domain.model import (
    RESTING_STATUSES,
    Market,
    MarketStatus,
    Order,
    OrderStatus,
    Position,
    PricePoint,
    Trade,
    User,
)
from domain.queries import Cursor, Page
from persistence.tortoise import mapping
from persistence.tortoise.database import Database
from persistence.tortoise.errors import translate_errors
from persistence.tortoise.models import (
    MarketRecord,
    OrderRecord,
    OutcomeRecord,
    PositionRecord,
    PricePointRecord,
    TradeRecord,
    UserRecord,
)

R = TypeVar("R")
RESTING = [status.value for status in RESTING_STATUSES]


def _before(cursor: Cursor | None, column: str) -> Q:
    """Rows strictly after ``cursor`` in newest-first ``(column, id)`` order."""
    if cursor is None:
        return Q()
    earlier: dict[str, object] = {f"{column}__lt": cursor.at}
    tied: dict[str, object] = {column: cursor.at, "id__lt": cursor.id}
    return Q(**earlier) | Q(**tied)  # type: ignore[arg-type]


class TortoiseReadModel:
    def __init__(self, database: Database) -> None:
        self._database = database

    @translate_errors
    async def _run(self, query: Callable[[BaseDBAsyncClient], Awaitable[R]]) -> R:
        token = self._database.activate()
        try:
            return await query(self._database.connection())
        finally:
            self._database.deactivate(token)

    async def users_by_ids(self, ids: Sequence[str]) -> list[User]:
        async def query(db: BaseDBAsyncClient) -> list[User]:
            rows = await UserRecord.filter(id__in=list(ids)).using_db(db)
            return [mapping.user_to_domain(row) for row in rows]

        return await self._run(query) if ids else []

    async def markets_by_ids(self, ids: Sequence[str]) -> list[Market]:
        async def query(db: BaseDBAsyncClient) -> list[Market]:
            rows = await MarketRecord.filter(id__in=list(ids)).using_db(db)
            return await _with_outcomes(db, list(rows))

        return await self._run(query) if ids else []

    async def markets_page(
        self, status: MarketStatus | None, first: int, after: Cursor | None
    ) -> Page[Market]:
        async def query(db: BaseDBAsyncClient) -> Page[Market]:
            matching = MarketRecord.filter(status=status.value) if status else MarketRecord.all()
            total = await matching.using_db(db).count()
            rows = await (
                matching.filter(_before(after, "created_at"))
                .order_by("-created_at", "-id")
                .limit(first + 1)
                .using_db(db)
            )
            markets = await _with_outcomes(db, list(rows[:first]))
            return Page(markets, len(rows) > first, total)

        return await self._run(query)

    async def orders_page(
        self,
        user_id: str,
        status: OrderStatus | None,
        market_id: str | None,
        first: int,
        after: Cursor | None,
    ) -> Page[Order]:
        async def query(db: BaseDBAsyncClient) -> Page[Order]:
            matching = OrderRecord.filter(user_id=user_id)
            if status is not None:
                matching = matching.filter(status=status.value)
            if market_id is not None:
                matching = matching.filter(market_id=market_id)
            total = await matching.using_db(db).count()
            rows = await (
                matching.filter(_before(after, "created_at"))
                .order_by("-created_at", "-id")
                .limit(first + 1)
                .using_db(db)
            )
            orders = [mapping.order_to_domain(row) for row in rows[:first]]
            return Page(orders, len(rows) > first, total)

        return await self._run(query)

    async def trades_page(
        self, user_id: str, market_id: str | None, first: int, after: Cursor | None
    ) -> Page[Trade]:
        async def query(db: BaseDBAsyncClient) -> Page[Trade]:
            matching = TradeRecord.filter(Q(taker_user_id=user_id) | Q(maker_user_id=user_id))
            if market_id is not None:
                matching = matching.filter(market_id=market_id)
            total = await matching.using_db(db).count()
            rows = await (
                matching.filter(_before(after, "executed_at"))
                .order_by("-executed_at", "-id")
                .limit(first + 1)
                .using_db(db)
            )
            trades = [mapping.trade_to_domain(row) for row in rows[:first]]
            return Page(trades, len(rows) > first, total)

        return await self._run(query)

    async def trades_for_orders(self, order_ids: Sequence[str]) -> dict[str, list[Trade]]:
        async def query(db: BaseDBAsyncClient) -> dict[str, list[Trade]]:
            wanted = list(order_ids)
            rows = await (
                TradeRecord.filter(Q(taker_order_id__in=wanted) | Q(maker_order_id__in=wanted))
                .order_by("executed_at", "id")
                .using_db(db)
            )
            found: dict[str, list[Trade]] = {order_id: [] for order_id in order_ids}
            for row in rows:
                trade = mapping.trade_to_domain(row)
                for order_id in {trade.taker_order_id, trade.maker_order_id}:
                    if order_id in found:
                        found[order_id].append(trade)
            return found

        return await self._run(query) if order_ids else {}

    async def recent_trades(self, market_id: str, limit: int) -> list[Trade]:
        async def query(db: BaseDBAsyncClient) -> list[Trade]:
            rows = await (
                TradeRecord.filter(market_id=market_id)
                .order_by("-executed_at", "-id")
                .limit(limit)
                .using_db(db)
            )
            return [mapping.trade_to_domain(row) for row in rows]

        return await self._run(query)

    async def orders_by_ids(self, ids: Sequence[str]) -> list[Order]:
        async def query(db: BaseDBAsyncClient) -> list[Order]:
            rows = await OrderRecord.filter(id__in=list(ids)).using_db(db)
            return [mapping.order_to_domain(row) for row in rows]

        return await self._run(query) if ids else []

    async def resting_orders(self, market_id: str, outcome_id: str) -> list[Order]:
        async def query(db: BaseDBAsyncClient) -> list[Order]:
            rows = await (
                OrderRecord.filter(market_id=market_id, outcome_id=outcome_id, status__in=RESTING)
                .order_by("sequence")
                .using_db(db)
            )
            return [mapping.order_to_domain(row) for row in rows]

        return await self._run(query)

    async def positions(self, user_id: str, market_id: str | None) -> list[Position]:
        async def query(db: BaseDBAsyncClient) -> list[Position]:
            matching = PositionRecord.filter(user_id=user_id, shares__gt=0)
            if market_id is not None:
                matching = matching.filter(market_id=market_id)
            rows = await matching.order_by("id").using_db(db)
            return [mapping.position_to_domain(row) for row in rows]

        return await self._run(query)

    async def price_history(self, market_id: str, since: datetime | None) -> list[PricePoint]:
        async def query(db: BaseDBAsyncClient) -> list[PricePoint]:
            matching = PricePointRecord.filter(market_id=market_id)
            if since is not None:
                matching = matching.filter(at__gte=since)
            rows = await matching.order_by("at", "id").using_db(db)
            return [mapping.price_point_to_domain(row) for row in rows]

        return await self._run(query)


async def _with_outcomes(db: BaseDBAsyncClient, rows: list[MarketRecord]) -> list[Market]:
    """Markets in the order of ``rows``, their outcomes read in one query."""
    if not rows:
        return []
    outcomes = await OutcomeRecord.filter(market_id__in=[r.id for r in rows]).using_db(db)
    by_market: dict[str, list[OutcomeRecord]] = defaultdict(list)
    for outcome in outcomes:
        by_market[outcome.market_id].append(outcome)
    return [mapping.market_to_domain(row, by_market[row.id]) for row in rows]
