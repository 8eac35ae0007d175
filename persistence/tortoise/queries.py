"""The API's read model on Tortoise: keyset pages and the DataLoaders' batch reads.

Every method reads committed data only: outside any unit of work on
PostgreSQL, and on SQLite through its own connection (give it a second
:class:`Database` on the same file: WAL lets it read the last commit while a
command writes). Each method is a fixed number of queries, whatever the page
size: no query per row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from domain.keys import ApiKey, KeyHolder
from domain.model import (
    RESTING_STATUSES,
    Market,
    Order,
    OrderStatus,
    Position,
    PricePoint,
    SettledPosition,
    Trade,
    User,
)
from domain.queries import Cursor, MarketQuery, MarketSort, Page
from persistence.tables import (
    MARKETS,
    ORDERS,
    OUTCOMES,
    POSITIONS,
    PRICE_POINTS,
    SETTLEMENTS,
    TRADES,
    USERS,
    AsStored,
    Table,
)
from persistence.tortoise import api_keys as keys
from persistence.tortoise import driver
from persistence.tortoise.accounts import USER_BY_NAME, USERS_BY_IDS
from persistence.tortoise.database import Database
from persistence.tortoise.errors import translate_errors
from persistence.tortoise.markets import MARKET_COLUMNS, markets_from_rows
from persistence.tortoise.models import (
    MarketRecord,
    OrderRecord,
    OutcomeRecord,
    PositionRecord,
    PricePointRecord,
    SettlementRecord,
    TradeRecord,
)
from persistence.tortoise.sql import (
    ListStatement,
    Params,
    PostgresSql,
    Row,
    SqliteSql,
    Statement,
    Timestamps,
)

R = TypeVar("R")
E = TypeVar("E")
RESTING = [status.value for status in RESTING_STATUSES]
_RESTING_IN_MARKET = Statement(
    f"SELECT {ORDERS.select()} FROM orders WHERE market_id = $1"
    f" AND status IN ({', '.join(repr(s) for s in RESTING)}) ORDER BY sequence"
)
_RESTING_IN_BOOK = Statement(
    f"SELECT {ORDERS.select()} FROM orders WHERE market_id = $1 AND outcome_id = $2"
    f" AND status IN ({', '.join(repr(s) for s in RESTING)}) ORDER BY sequence"
)


# The DataLoaders' batch reads, hand-written: they run on nearly every request.
_MARKETS_BY_IDS = ListStatement(
    f"SELECT {MARKET_COLUMNS} FROM markets m JOIN outcomes o ON o.market_id = m.id"
    " WHERE m.id {values} ORDER BY m.id, o.ordinal"
)
_ORDERS_BY_IDS = ListStatement(f"SELECT {ORDERS.select()} FROM orders WHERE id {{values}}")


def _beyond(cursor: Cursor | None, column: str, *, newest_first: bool = True) -> Q:
    """Rows strictly after ``cursor`` in ``(column, id)`` order, descending for
    ``newest_first``, else ascending."""
    if cursor is None:
        return Q()
    op = "lt" if newest_first else "gt"
    beyond: dict[str, object] = {f"{column}__{op}": cursor.at}
    tied: dict[str, object] = {column: cursor.at, f"id__{op}": cursor.id}
    return Q(**beyond) | Q(**tied)  # type: ignore[arg-type]


class TortoiseReadModel:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._timestamps: Timestamps = SqliteSql if database.is_sqlite else PostgresSql

    @translate_errors
    async def _run(self, query: Callable[[BaseDBAsyncClient], Awaitable[R]]) -> R:
        token = self._database.activate()
        try:
            return await query(self._database.connection())
        finally:
            self._database.deactivate(token)

    async def _fetch(self, statement: Statement, params: Params) -> list[Row]:
        """One hand-written read on the pool (PostgreSQL) or the read connection (SQLite)."""
        if self._database.is_sqlite:
            return await self._read(statement.sqlite, params)
        return await self._read(statement.postgres, params)

    async def _fetch_in(self, statement: ListStatement, values: Sequence[object]) -> list[Row]:
        """``_fetch`` of the rows of ``values``."""
        if self._database.is_sqlite:
            return await self._read(statement.sqlite(len(values)), values)
        return await self._read(statement.postgres, (list(values),))

    @translate_errors
    async def _read(self, text: str, params: Params) -> list[Row]:
        database = self._database
        if not database.is_sqlite:
            return cast(list[Row], await database.statement(text, params))
        client = database.connection()
        connection = driver.connected_sqlite3(client)
        if connection is not None:
            # In the loop's thread, like the unit of work (``sqlite_engine``): a WAL read
            # takes microseconds, a hop to aiosqlite's thread and back far longer.
            return cast(list[Row], connection.execute(text, params).fetchall())
        _, rows = await client.execute_query(text, list(params))
        return cast(list[Row], rows)  # asyncpg Records, sqlite3.Row: both read by position

    async def users_by_ids(self, ids: Sequence[str]) -> list[User]:
        if not ids:
            return []
        rows = await self._fetch_in(USERS_BY_IDS, ids)
        return [USERS.from_row(self._timestamps, row) for row in rows]

    async def user_by_username(self, username: str) -> User | None:
        rows = await self._fetch(USER_BY_NAME, (username,))
        return USERS.from_row(self._timestamps, rows[0]) if rows else None

    async def markets_by_ids(self, ids: Sequence[str]) -> list[Market]:
        if not ids:
            return []
        rows = await self._fetch_in(_MARKETS_BY_IDS, ids)
        return markets_from_rows(self._timestamps, rows)

    async def markets_page(
        self, wanted: MarketQuery, first: int, after: Cursor | None
    ) -> Page[Market]:
        async def query(db: BaseDBAsyncClient) -> Page[Market]:
            matching = MarketRecord.all()
            if wanted.status is not None:
                matching = matching.filter(status=wanted.status.value)
            if wanted.search is not None:
                matching = matching.filter(title__icontains=wanted.search)
            total = await matching.using_db(db).count()
            if wanted.sort is MarketSort.CLOSING_SOON:
                ordered = matching.filter(_beyond(after, "closes_at", newest_first=False)).order_by(
                    "closes_at", "id"
                )
            else:
                ordered = matching.filter(_beyond(after, "created_at")).order_by(
                    "-created_at", "-id"
                )
            rows = await ordered.limit(first + 1).using_db(db).values_list(*MARKETS.column_names)
            markets = await _with_outcomes(db, rows[:first])
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
            return await _newest_page(db, matching, ORDERS, "created_at", first, after)

        return await self._run(query)

    async def trades_page(
        self, user_id: str, market_id: str | None, first: int, after: Cursor | None
    ) -> Page[Trade]:
        async def query(db: BaseDBAsyncClient) -> Page[Trade]:
            leg = Q(is_amm=False, maker_order_id__isnull=False, taker_order_id__isnull=True)
            taker = Q(taker_user_id=user_id) & ~leg  # see Trade.is_leg
            matching = TradeRecord.filter(taker | Q(maker_user_id=user_id))
            if market_id is not None:
                matching = matching.filter(market_id=market_id)
            return await _newest_page(db, matching, TRADES, "executed_at", first, after)

        return await self._run(query)

    async def settlements_page(
        self, user_id: str, first: int, after: Cursor | None
    ) -> Page[SettledPosition]:
        async def query(db: BaseDBAsyncClient) -> Page[SettledPosition]:
            matching = SettlementRecord.filter(user_id=user_id)
            return await _newest_page(db, matching, SETTLEMENTS, "settled_at", first, after)

        return await self._run(query)

    async def trades_for_orders(self, order_ids: Sequence[str]) -> dict[str, list[Trade]]:
        async def query(db: BaseDBAsyncClient) -> dict[str, list[Trade]]:
            wanted = list(order_ids)
            matching = TradeRecord.filter(
                Q(taker_order_id__in=wanted) | Q(maker_order_id__in=wanted)
            ).order_by("executed_at", "id")
            found: dict[str, list[Trade]] = {order_id: [] for order_id in order_ids}
            for trade in await _entities(db, matching, TRADES):
                for order_id in {trade.taker_order_id, trade.maker_order_id}:
                    if order_id in found:
                        found[order_id].append(trade)
            return found

        return await self._run(query) if order_ids else {}

    async def recent_trades(self, market_id: str, limit: int) -> list[Trade]:
        async def query(db: BaseDBAsyncClient) -> list[Trade]:
            newest = TradeRecord.filter(market_id=market_id).order_by("-executed_at", "-id")
            return await _entities(db, newest.limit(limit), TRADES)

        return await self._run(query)

    async def orders_by_ids(self, ids: Sequence[str]) -> list[Order]:
        if not ids:
            return []
        rows = await self._fetch_in(_ORDERS_BY_IDS, ids)
        return [ORDERS.from_row(self._timestamps, row) for row in rows]

    async def resting_orders(self, market_id: str, outcome_id: str | None = None) -> list[Order]:
        if outcome_id is None:
            rows = await self._fetch(_RESTING_IN_MARKET, (market_id,))
        else:
            rows = await self._fetch(_RESTING_IN_BOOK, (market_id, outcome_id))
        return [ORDERS.from_row(self._timestamps, row) for row in rows]

    async def positions(
        self, user_id: str, market_id: str | None, *, closed: bool = False
    ) -> list[Position]:
        async def query(db: BaseDBAsyncClient) -> list[Position]:
            held = Q(shares__gt=0) | Q(realized_pnl_cents__not=0) if closed else Q(shares__gt=0)
            matching = PositionRecord.filter(held, user_id=user_id)
            if market_id is not None:
                matching = matching.filter(market_id=market_id)
            return await _entities(db, matching.order_by("id"), POSITIONS)

        return await self._run(query)

    async def price_history(self, market_id: str, since: datetime | None) -> list[PricePoint]:
        async def query(db: BaseDBAsyncClient) -> list[PricePoint]:
            matching = PricePointRecord.filter(market_id=market_id)
            if since is not None:
                matching = matching.filter(at__gte=since)
            return await _entities(db, matching.order_by("at", "id"), PRICE_POINTS)

        return await self._run(query)

    async def api_key_holder(self, digest: str) -> KeyHolder | None:
        rows = await self._fetch(keys.HOLDER, (digest,))
        return keys.holder_from_row(self._timestamps, rows[0]) if rows else None

    async def api_keys(self, user_id: str) -> list[ApiKey]:
        rows = await self._fetch(keys.FOR_USER, (user_id,))
        return [keys.key_from_row(self._timestamps, row) for row in rows]


async def _newest_page(
    db: BaseDBAsyncClient,
    matching: QuerySet[Any],
    table: Table[E],
    column: str,
    first: int,
    after: Cursor | None,
) -> Page[E]:
    """A keyset page of ``matching``, newest ``column`` first (ties by id), after ``after``."""
    total = await matching.using_db(db).count()
    newest = matching.filter(_beyond(after, column)).order_by(f"-{column}", "-id")
    items = await _entities(db, newest.limit(first + 1), table)
    return Page(items[:first], len(items) > first, total)


async def _entities(db: BaseDBAsyncClient, query: QuerySet[Any], table: Table[E]) -> list[E]:
    """The rows of an ORM query as entities: its columns read as ``table`` describes them."""
    rows = await query.using_db(db).values_list(*table.column_names)
    return [table.from_row(AsStored, row) for row in rows]


async def _with_outcomes(db: BaseDBAsyncClient, rows: Sequence[Row]) -> list[Market]:
    """Markets from their rows (``MARKETS`` columns), in order, their outcomes read in
    one query."""
    markets = {}
    for row in rows:
        market = MARKETS.from_row(AsStored, row, outcomes=[])
        markets[market.id] = market
    matching = OutcomeRecord.filter(market_id__in=list(markets)).order_by("ordinal")
    for outcome in await _entities(db, matching, OUTCOMES):
        markets[outcome.market_id].outcomes.append(outcome)
    return list(markets.values())
