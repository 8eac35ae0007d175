"""Domain events to compact JSON and back, for the PostgreSQL LISTEN/NOTIFY bus.

NOTIFY payloads must stay under 8000 bytes: events are encoded as short arrays
and packed into as few payloads as fit under :data:`MAX_PAYLOAD_BYTES`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from domain.book_types import PriceLevel
from domain.events import (
    BookChanged,
    DomainEvent,
    MarketStatusChanged,
    OrderChanged,
    PricesChanged,
    TradeExecuted,
)
from domain.model import (
    LmsrSide,
    MarketStatus,
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    Trade,
)

MAX_PAYLOAD_BYTES = 7000


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _order(order: Order) -> list[Any]:
    return [
        order.id, order.user_id, order.market_id, order.outcome_id, order.side.value,
        order.order_type.value, order.time_in_force.value, order.price_cents, order.quantity,
        _time(order.created_at), order.sequence, order.filled_quantity, order.status.value,
        order.post_only, _time(order.expires_at), order.client_order_id, order.reserved_cents,
        _time(order.updated_at),
    ]  # fmt: skip


def _order_from(row: list[Any]) -> Order:
    created, expires, updated = _parse(row[9]), _parse(row[14]), _parse(row[17])
    assert created is not None
    return Order(
        id=row[0], user_id=row[1], market_id=row[2], outcome_id=row[3], side=Side(row[4]),
        order_type=OrderType(row[5]), time_in_force=TimeInForce(row[6]), price_cents=row[7],
        quantity=row[8], created_at=created, sequence=row[10], filled_quantity=row[11],
        status=OrderStatus(row[12]), post_only=row[13], expires_at=expires,
        client_order_id=row[15], reserved_cents=row[16], updated_at=updated,
    )  # fmt: skip


def _trade(trade: Trade) -> list[Any]:
    return [
        trade.id, trade.market_id, trade.outcome_id, trade.price_cents, trade.quantity,
        trade.is_amm, trade.taker_side.value, trade.taker_user_id, _time(trade.executed_at),
        trade.notional_cents, trade.fee_cents, trade.maker_user_id, trade.taker_order_id,
        trade.maker_order_id, trade.lmsr_side.value if trade.lmsr_side else None,
    ]  # fmt: skip


def _trade_from(row: list[Any]) -> Trade:
    executed = _parse(row[8])
    assert executed is not None
    return Trade(
        id=row[0], market_id=row[1], outcome_id=row[2], price_cents=row[3], quantity=row[4],
        is_amm=row[5], taker_side=Side(row[6]), taker_user_id=row[7], executed_at=executed,
        notional_cents=row[9], fee_cents=row[10], maker_user_id=row[11],
        taker_order_id=row[12], maker_order_id=row[13],
        lmsr_side=LmsrSide(row[14]) if row[14] else None,
    )  # fmt: skip


def encode_event(event: DomainEvent) -> list[Any]:
    match event:
        case PricesChanged():
            return ["p", event.market_id, list(event.prices), event.last_trade_cents,
                    event.volume_cents, event.sequence, _time(event.at)]  # fmt: skip
        case BookChanged():
            return ["b", event.market_id, event.outcome_id, event.sequence, _time(event.at),
                    event.bids, event.asks, event.last_trade_cents]  # fmt: skip
        case TradeExecuted():
            return ["t", _trade(event.trade)]
        case OrderChanged():
            return ["o", _order(event.order)]
        case MarketStatusChanged():
            return ["s", event.market_id, event.status.value, _time(event.at)]
    raise TypeError(f"cannot encode {event!r}")


def decode_event(row: list[Any]) -> DomainEvent:
    kind = row[0]
    if kind == "p":
        return PricesChanged(row[1], tuple(row[2]), row[3], row[4], row[5], _at(row[6]))
    if kind == "b":
        bids, asks = (tuple(PriceLevel(*level) for level in side) for side in row[5:7])
        return BookChanged(row[1], row[2], row[3], _at(row[4]), bids, asks, row[7])
    if kind == "t":
        return TradeExecuted(_trade_from(row[1]))
    if kind == "o":
        return OrderChanged(_order_from(row[1]))
    if kind == "s":
        return MarketStatusChanged(row[1], MarketStatus(row[2]), _at(row[3]))
    raise ValueError(f"unknown event kind {kind!r}")


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def pack(events: Sequence[DomainEvent]) -> Iterator[str]:
    """JSON payloads of at most :data:`MAX_PAYLOAD_BYTES` bytes, events in order."""
    batch: list[str] = []
    size = 2
    for event in events:
        item = json.dumps(encode_event(event), separators=(",", ":"))
        if len(item.encode()) + 2 > MAX_PAYLOAD_BYTES:
            raise ValueError("one event exceeds the payload limit")
        if batch and size + len(item.encode()) + 1 > MAX_PAYLOAD_BYTES:
            yield "[" + ",".join(batch) + "]"
            batch, size = [], 2
        batch.append(item)
        size += len(item.encode()) + 1
    if batch:
        yield "[" + ",".join(batch) + "]"


def unpack(payload: str) -> list[DomainEvent]:
    return [decode_event(row) for row in json.loads(payload)]
