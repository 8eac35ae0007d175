"""Orders and positions: written only under their market's lock.

``save`` writes only what changed since the row was loaded (a command loads a
whole book but changes a few orders), and a position that is new and still
all zero is never inserted.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from tortoise.exceptions import IntegrityError

from domain.errors import BadUserInput
from domain.model import RESTING_STATUSES, Order, Position, TimeInForce
from persistence.tortoise import mapping
from persistence.tortoise.errors import translate_errors
from persistence.tortoise.models import OrderRecord, PositionRecord

if TYPE_CHECKING:
    from persistence.tortoise.unit_of_work import TortoiseUnitOfWork

_RESTING = [status.value for status in RESTING_STATUSES]


class TortoiseOrderRepository:
    def __init__(self, uow: TortoiseUnitOfWork) -> None:
        self._uow = uow
        self._loaded: dict[str, mapping.Fields] = {}

    def _remember(self, rows: list[OrderRecord]) -> list[Order]:
        orders = [mapping.order_to_domain(row) for row in rows]
        for order in orders:
            self._loaded[order.id] = mapping.order_columns(order)
        return orders

    async def _one(self, row: OrderRecord | None) -> Order | None:
        return self._remember([row])[0] if row is not None else None

    @translate_errors
    async def get(self, order_id: str) -> Order | None:
        return await self._one(await OrderRecord.filter(id=order_id).using_db(self._uow.db).first())

    @translate_errors
    async def get_by_client_id(self, user_id: str, client_order_id: str) -> Order | None:
        """The user's order with this key. On PostgreSQL it also locks the key until the
        transaction ends, so a racing retry waits and then finds the first order."""
        await self._uow.lock_key(f"client-order:{user_id}:{client_order_id}")
        query = OrderRecord.filter(user_id=user_id, client_order_id=client_order_id)
        return await self._one(await query.using_db(self._uow.db).first())

    @translate_errors
    async def add(self, order: Order) -> None:
        try:
            await OrderRecord(**mapping.order_fields(order)).save(
                using_db=self._uow.db, force_create=True
            )
        except IntegrityError:
            raise BadUserInput(
                f"clientOrderId {order.client_order_id!r} was already used for another order"
            ) from None
        self._loaded[order.id] = mapping.order_columns(order)

    @translate_errors
    async def save(self, order: Order) -> None:
        columns = mapping.order_columns(order)
        old = self._loaded.get(order.id, {})
        changed = {k: v for k, v in columns.items() if old.get(k) != v}
        if changed:
            await OrderRecord.filter(id=order.id).using_db(self._uow.db).update(**changed)
            self._loaded[order.id] = columns

    @translate_errors
    async def resting(self, market_id: str, outcome_id: str | None = None) -> list[Order]:
        query = OrderRecord.filter(market_id=market_id, status__in=_RESTING)
        if outcome_id is not None:
            query = query.filter(outcome_id=outcome_id)
        return self._remember(list(await query.order_by("sequence").using_db(self._uow.db)))

    @translate_errors
    async def resting_for_user(self, user_id: str) -> list[Order]:
        query = OrderRecord.filter(user_id=user_id, status__in=_RESTING).order_by("sequence")
        return self._remember(list(await query.using_db(self._uow.db)))

    @translate_errors
    async def markets_with_expired(self, now: datetime) -> list[str]:
        query = OrderRecord.filter(
            status__in=_RESTING, time_in_force=TimeInForce.GTD.value, expires_at__lte=now
        )
        ids = await query.using_db(self._uow.db).distinct().values_list("market_id", flat=True)
        return sorted({str(i) for i in ids})


class TortoisePositionRepository:
    def __init__(self, uow: TortoiseUnitOfWork) -> None:
        self._uow = uow
        self._loaded: dict[tuple[str, str], mapping.Fields] = {}

    def _remember(self, rows: list[PositionRecord]) -> list[Position]:
        positions = [mapping.position_to_domain(row) for row in rows]
        for p in positions:
            self._loaded[(p.user_id, p.outcome_id)] = mapping.position_columns(p)
        return positions

    @translate_errors
    async def get(self, user_id: str, outcome_id: str) -> Position | None:
        query = PositionRecord.filter(user_id=user_id, outcome_id=outcome_id)
        row = await query.using_db(self._uow.db).first()
        return self._remember([row])[0] if row is not None else None

    @translate_errors
    async def for_market(self, market_id: str) -> list[Position]:
        query = PositionRecord.filter(market_id=market_id).order_by("id")
        return self._remember(list(await query.using_db(self._uow.db)))

    @translate_errors
    async def for_user(self, user_id: str, market_id: str | None = None) -> list[Position]:
        query = PositionRecord.filter(user_id=user_id)
        if market_id is not None:
            query = query.filter(market_id=market_id)
        return self._remember(list(await query.order_by("id").using_db(self._uow.db)))

    @translate_errors
    async def save(self, position: Position) -> None:
        key = (position.user_id, position.outcome_id)
        columns = mapping.position_columns(position)
        old = self._loaded.get(key)
        if old == columns:
            return
        db = self._uow.db
        if old is None:
            if not any(columns.values()):
                return
            await PositionRecord(**mapping.position_fields(position)).save(
                using_db=db, force_create=True
            )
        else:
            query = PositionRecord.filter(user_id=position.user_id, outcome_id=position.outcome_id)
            await query.using_db(db).update(**columns)
        self._loaded[key] = columns
