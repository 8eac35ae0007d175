"""Orders and positions: written only under their market's lock.

``save_many`` writes only what changed since the rows were loaded (a command
loads a whole book but changes a few orders), deferred to the commit
(``TortoiseUnitOfWork.defer``); a position that is new and still all zero is
never inserted. A new order is deferred too, unless it has a ``clientOrderId``:
then it is inserted at once, so a reused one is reported where it happens.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from domain.errors import BadUserInput
from domain.model import RESTING_STATUSES, Order, Position, TimeInForce
from persistence.tables import ORDERS, POSITIONS
from persistence.tortoise.errors import translate_errors
from persistence.tortoise.models import OrderRecord
from persistence.tortoise.sql import ListStatement, Row, Statement, is_integrity_error

if TYPE_CHECKING:
    from persistence.tortoise.unit_of_work import TortoiseUnitOfWork

_RESTING = tuple(status.value for status in RESTING_STATUSES)
_IS_RESTING = f"status IN ({', '.join(repr(s) for s in _RESTING)})"
_ORDER = f"SELECT {ORDERS.select()} FROM orders"
_GET = Statement(f"{_ORDER} WHERE id = $1")
_BY_CLIENT_ID = Statement(f"{_ORDER} WHERE user_id = $1 AND client_order_id = $2")
_RESTING_IN_MARKET = Statement(f"{_ORDER} WHERE market_id = $1 AND {_IS_RESTING} ORDER BY sequence")
_RESTING_IN_BOOK = Statement(
    f"{_ORDER} WHERE market_id = $1 AND outcome_id = $2 AND {_IS_RESTING} ORDER BY sequence"
)
_RESTING_OF_USER = Statement(f"{_ORDER} WHERE user_id = $1 AND {_IS_RESTING} ORDER BY sequence")
_INSERT_ORDER = Statement(ORDERS.insert, ORDERS.insert_rows)
_UPDATE_ORDER = Statement(ORDERS.update, ORDERS.update_rows)
_POSITION = f"SELECT {POSITIONS.select()} FROM positions"
_GET_POSITION = Statement(f"{_POSITION} WHERE user_id = $1 AND outcome_id = $2")
_POSITIONS_IN_MARKET = Statement(f"{_POSITION} WHERE market_id = $1 ORDER BY id")
_POSITIONS_OF_USERS = ListStatement(
    f"{_POSITION} WHERE market_id = $1 AND user_id {{values}} ORDER BY id", fixed=1
)
_POSITIONS_OF_USER = Statement(f"{_POSITION} WHERE user_id = $1 ORDER BY id")
_POSITIONS_OF_USER_IN_MARKET = Statement(
    f"{_POSITION} WHERE user_id = $1 AND market_id = $2 ORDER BY id"
)
_UPSERTED = ", ".join(f"{c.name} = excluded.{c.name}" for c in POSITIONS.mutable)
_ON_CONFLICT = f" ON CONFLICT ({', '.join(POSITIONS.key)}) DO UPDATE SET {_UPSERTED}"
_UPSERT_POSITION = Statement(POSITIONS.insert + _ON_CONFLICT, POSITIONS.insert_rows + _ON_CONFLICT)


State = tuple[object, ...]
_order_state, _fixed = ORDERS.state, ORDERS.fixed
_position_state = POSITIONS.state


class TortoiseOrderRepository:
    def __init__(self, uow: TortoiseUnitOfWork) -> None:
        self._uow = uow
        self._loaded: dict[str, tuple[State, State]] = {}
        """Per order id: its fixed fields and its mutable columns as loaded or last saved."""

    def _remember(self, rows: list[Row]) -> list[Order]:
        sql, from_row, loaded = self._uow.sql, ORDERS.from_row, self._loaded
        orders = [from_row(sql, row) for row in rows]
        for order in orders:
            loaded[order.id] = (_fixed(order), _order_state(order))
        return orders

    def _one(self, rows: list[Row]) -> Order | None:
        return self._remember(rows[:1])[0] if rows else None

    @translate_errors
    async def get(self, order_id: str) -> Order | None:
        return self._one(await self._uow.sql.fetch(_GET, (order_id,)))

    @translate_errors
    async def get_by_client_id(self, user_id: str, client_order_id: str) -> Order | None:
        """The user's order with this key. On PostgreSQL it also locks the key until the
        transaction ends, so a racing retry waits and then finds the first order."""
        await self._uow.lock_key(f"client-order:{user_id}:{client_order_id}")
        return self._one(await self._uow.sql.fetch(_BY_CLIENT_ID, (user_id, client_order_id)))

    @translate_errors
    async def add(self, order: Order) -> None:
        """Insert the order: at once when it has a ``client_order_id`` (a reused one is
        refused here, as BAD_USER_INPUT), else with the other writes at commit."""
        if order.client_order_id is None:
            self._uow.defer(_INSERT_ORDER, ORDERS.values(order))
            self._loaded[order.id] = (_fixed(order), _order_state(order))
            return
        try:
            await self._uow.sql.execute(_INSERT_ORDER, ORDERS.values(order))
        except Exception as exc:
            if not is_integrity_error(exc):
                raise
            raise BadUserInput(
                f"clientOrderId {order.client_order_id!r} was already used for another order"
            ) from None
        self._loaded[order.id] = (_fixed(order), _order_state(order))

    async def save_many(self, orders: Sequence[Order]) -> None:
        """Defer the orders whose mutable columns (``ORDERS.mutable``) changed since
        loaded; a changed fixed field raises :class:`FixedFieldChanged`."""
        loaded = self._loaded
        for order in orders:
            fixed, before = loaded.get(order.id, ((), None))
            if fixed:
                ORDERS.check_fixed(fixed, order)
            state = _order_state(order)
            if before != state:
                self._uow.defer(_UPDATE_ORDER, (order.id, *state))
                loaded[order.id] = (fixed or _fixed(order), state)

    def remember(self, orders: Sequence[Order]) -> None:
        for order in orders:
            self._loaded[order.id] = (_fixed(order), _order_state(order))

    @translate_errors
    async def resting(self, market_id: str, outcome_id: str | None = None) -> list[Order]:
        sql = self._uow.sql
        if outcome_id is None:
            return self._remember(await sql.fetch(_RESTING_IN_MARKET, (market_id,)))
        return self._remember(await sql.fetch(_RESTING_IN_BOOK, (market_id, outcome_id)))

    @translate_errors
    async def resting_for_user(self, user_id: str) -> list[Order]:
        return self._remember(await self._uow.sql.fetch(_RESTING_OF_USER, (user_id,)))

    @translate_errors
    async def markets_with_expired(self, now: datetime) -> list[str]:
        query = OrderRecord.filter(
            status__in=list(_RESTING), time_in_force=TimeInForce.GTD.value, expires_at__lte=now
        )
        ids = await query.using_db(self._uow.db).distinct().values_list("market_id", flat=True)
        return sorted({str(i) for i in ids})


class TortoisePositionRepository:
    def __init__(self, uow: TortoiseUnitOfWork) -> None:
        self._uow = uow
        self._loaded: dict[tuple[str, str], State] = {}

    def remember_rows(self, rows: list[Row], at: int = 0) -> list[Position]:
        """The positions of ``rows`` (from column ``at`` on), remembered as loaded."""
        sql, from_row = self._uow.sql, POSITIONS.from_row
        positions = [from_row(sql, row, at) for row in rows]
        for p in positions:
            self._loaded[(p.user_id, p.outcome_id)] = _position_state(p)
        return positions

    @translate_errors
    async def get(self, user_id: str, outcome_id: str) -> Position | None:
        rows = await self._uow.sql.fetch(_GET_POSITION, (user_id, outcome_id))
        return self.remember_rows(rows)[0] if rows else None

    @translate_errors
    async def for_market(self, market_id: str) -> list[Position]:
        return self.remember_rows(await self._uow.sql.fetch(_POSITIONS_IN_MARKET, (market_id,)))

    @translate_errors
    async def of_users(self, market_id: str, user_ids: Sequence[str]) -> list[Position]:
        if not user_ids:
            return []
        rows = await self._uow.sql.fetch_in(_POSITIONS_OF_USERS, (market_id,), user_ids)
        return self.remember_rows(rows)

    @translate_errors
    async def for_user(self, user_id: str, market_id: str | None = None) -> list[Position]:
        sql = self._uow.sql
        if market_id is None:
            return self.remember_rows(await sql.fetch(_POSITIONS_OF_USER, (user_id,)))
        return self.remember_rows(
            await sql.fetch(_POSITIONS_OF_USER_IN_MARKET, (user_id, market_id))
        )

    async def save_many(self, positions: Sequence[Position]) -> None:
        """Defer an upsert of each position changed since loaded (never a new all-zero one)."""
        for p in positions:
            key, state = (p.user_id, p.outcome_id), _position_state(p)
            old = self._loaded.get(key)
            if old != state and (old is not None or any(state)):
                self._uow.defer(_UPSERT_POSITION, POSITIONS.values(p))
                self._loaded[key] = state
