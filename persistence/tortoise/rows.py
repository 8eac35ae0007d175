"""Column lists of the hand-written statements, and their rows as domain objects.

Each ``*_COLUMNS`` string is the select list that the matching ``*_from_row``
reads by position; ``*_values`` gives the parameters of an insert in the
order of its ``*_INSERT`` column list.
"""

from __future__ import annotations

import json

from domain.ledger import LedgerEntry
from domain.model import (
    Market,
    MarketStatus,
    MarketType,
    Order,
    OrderStatus,
    OrderType,
    Outcome,
    Position,
    PricePoint,
    Side,
    TimeInForce,
    Trade,
    User,
)
from persistence.tortoise.sql import Params, Row, Timestamps, optional_timestamp

USER_COLUMNS = (
    "id, username, email, password_hash, created_at, cash_cents, bonus_cents,"
    " reserved_cents, is_admin, is_active"
)
MARKET_COLUMNS = (
    "m.id, m.title, m.description, m.market_type, m.status, m.creator_id, m.liquidity,"
    " m.fee_bps, m.resolution_source, m.closes_at, m.created_at, m.resolved_at,"
    " m.winning_outcome_id, m.volume_cents, m.pool_cents, m.fees_cents, m.order_sequence,"
    " m.price_sequence, o.id, o.name, o.ordinal, o.amm_shares, o.shares_outstanding,"
    " o.last_trade_cents, o.best_bid_cents, o.best_ask_cents, o.book_sequence"
)
ORDER_COLUMNS = (
    "id, user_id, market_id, outcome_id, side, order_type, time_in_force, price_cents,"
    " quantity, created_at, sequence, filled_quantity, status, post_only, expires_at,"
    " client_order_id, reserved_cents, updated_at"
)
POSITION_COLUMNS = "user_id, market_id, outcome_id, shares, reserved_shares, cost_cents"
TRADE_INSERT = (
    "id, market_id, outcome_id, price_cents, quantity, is_amm, taker_side, taker_user_id,"
    " maker_user_id, taker_order_id, maker_order_id, lmsr_side, notional_cents, fee_cents,"
    " executed_at"
)
ENTRY_INSERT = "id, source, destination, amount_cents, reason, at, market_id, order_id, trade_id"
POINT_INSERT = "market_id, at, prices"


def user_from_row(sql: Timestamps, row: Row) -> User:
    return User(
        id=row[0],
        username=row[1],
        email=row[2],
        password_hash=row[3],
        created_at=sql.timestamp(row[4]),
        cash_cents=row[5],
        bonus_cents=row[6],
        reserved_cents=row[7],
        is_admin=bool(row[8]),
        is_active=bool(row[9]),
    )


def market_from_rows(sql: Timestamps, rows: list[Row]) -> Market:
    """A market from its rows joined with its outcomes, ordered by ordinal (one per outcome)."""
    m = rows[0]
    return Market(
        id=m[0],
        title=m[1],
        description=m[2],
        market_type=MarketType(m[3]),
        status=MarketStatus(m[4]),
        creator_id=m[5],
        outcomes=[_outcome(m[0], row) for row in rows],
        liquidity=m[6],
        fee_bps=m[7],
        resolution_source=m[8],
        closes_at=sql.timestamp(m[9]),
        created_at=sql.timestamp(m[10]),
        resolved_at=optional_timestamp(sql, m[11]),
        winning_outcome_id=m[12],
        volume_cents=m[13],
        pool_cents=m[14],
        fees_cents=m[15],
        order_sequence=m[16],
        price_sequence=m[17],
    )


def _outcome(market_id: str, row: Row) -> Outcome:
    return Outcome(
        id=row[18],
        market_id=market_id,
        name=row[19],
        index=row[20],
        amm_shares=row[21],
        shares_outstanding=row[22],
        last_trade_cents=row[23],
        best_bid_cents=row[24],
        best_ask_cents=row[25],
        book_sequence=row[26],
    )


def order_from_row(sql: Timestamps, row: Row) -> Order:
    return Order(
        id=row[0],
        user_id=row[1],
        market_id=row[2],
        outcome_id=row[3],
        side=Side(row[4]),
        order_type=OrderType(row[5]),
        time_in_force=TimeInForce(row[6]),
        price_cents=row[7],
        quantity=row[8],
        created_at=sql.timestamp(row[9]),
        sequence=row[10],
        filled_quantity=row[11],
        status=OrderStatus(row[12]),
        post_only=bool(row[13]),
        expires_at=optional_timestamp(sql, row[14]),
        client_order_id=row[15],
        reserved_cents=row[16],
        updated_at=optional_timestamp(sql, row[17]),
    )


def order_values(order: Order) -> Params:
    """Parameters for an insert in ``ORDER_COLUMNS`` order."""
    return (
        order.id,
        order.user_id,
        order.market_id,
        order.outcome_id,
        order.side.value,
        order.order_type.value,
        order.time_in_force.value,
        order.price_cents,
        order.quantity,
        order.created_at,
        order.sequence,
        order.filled_quantity,
        order.status.value,
        order.post_only,
        order.expires_at,
        order.client_order_id,
        order.reserved_cents,
        order.updated_at,
    )


def position_from_row(row: Row) -> Position:
    return Position(
        user_id=row[0],
        market_id=row[1],
        outcome_id=row[2],
        shares=row[3],
        reserved_shares=row[4],
        cost_cents=row[5],
    )


def trade_values(trade: Trade) -> Params:
    return (
        trade.id,
        trade.market_id,
        trade.outcome_id,
        trade.price_cents,
        trade.quantity,
        trade.is_amm,
        trade.taker_side.value,
        trade.taker_user_id,
        trade.maker_user_id,
        trade.taker_order_id,
        trade.maker_order_id,
        trade.lmsr_side.value if trade.lmsr_side else None,
        trade.notional_cents,
        trade.fee_cents,
        trade.executed_at,
    )


def entry_values(entry: LedgerEntry) -> Params:
    return (
        entry.id,
        str(entry.source),
        str(entry.destination),
        entry.amount_cents,
        entry.reason.value,
        entry.at,
        entry.market_id,
        entry.order_id,
        entry.trade_id,
    )


def point_values(point: PricePoint) -> Params:
    # Compact JSON, as the model's field writes it.
    return (point.market_id, point.at, json.dumps(list(point.prices), separators=(",", ":")))
