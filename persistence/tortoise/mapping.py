"""Explicit conversions between ``…Record`` rows and domain objects.

``*_to_domain`` builds a fresh domain object from a row; ``*_fields`` gives
the column values for a domain object (what ``save``/``add`` write).
"""

from __future__ import annotations

from typing import Any

from domain.ledger import AccountId, LedgerEntry, Reason
from domain.model import (
    LmsrSide,
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
from persistence.tortoise.models import (
    LedgerEntryRecord,
    MarketRecord,
    OrderRecord,
    OutcomeRecord,
    PositionRecord,
    PricePointRecord,
    TradeRecord,
    UserRecord,
)

Fields = dict[str, Any]

USER_BALANCES = ("cash_cents", "bonus_cents", "reserved_cents")
USER_ATTRIBUTES = ("username", "email", "password_hash", "is_admin", "is_active")
MARKET_COLUMNS = (
    "title",
    "description",
    "status",
    "liquidity",
    "fee_bps",
    "resolution_source",
    "closes_at",
    "resolved_at",
    "winning_outcome_id",
    "volume_cents",
    "pool_cents",
    "fees_cents",
    "order_sequence",
    "price_sequence",
)
OUTCOME_COLUMNS = (
    "amm_shares",
    "shares_outstanding",
    "last_trade_cents",
    "best_bid_cents",
    "best_ask_cents",
    "book_sequence",
)
ORDER_COLUMNS = (
    "filled_quantity",
    "status",
    "reserved_cents",
    "updated_at",
    "price_cents",  # price, quantity and queue place change when an order is amended
    "quantity",
    "sequence",
)
POSITION_COLUMNS = ("shares", "reserved_shares", "cost_cents")


def user_to_domain(row: UserRecord) -> User:
    return User(
        id=row.id,
        username=row.username,
        email=row.email,
        password_hash=row.password_hash,
        created_at=row.created_at,
        cash_cents=row.cash_cents,
        bonus_cents=row.bonus_cents,
        reserved_cents=row.reserved_cents,
        is_admin=row.is_admin,
        is_active=row.is_active,
    )


def user_fields(user: User) -> Fields:
    return {
        "id": user.id,
        "created_at": user.created_at,
        "username_key": user.username.casefold(),
        **{name: getattr(user, name) for name in USER_BALANCES + USER_ATTRIBUTES},
    }


def outcome_to_domain(row: OutcomeRecord) -> Outcome:
    return Outcome(
        id=row.id,
        market_id=row.market_id,
        name=row.name,
        index=row.ordinal,
        amm_shares=row.amm_shares,
        shares_outstanding=row.shares_outstanding,
        last_trade_cents=row.last_trade_cents,
        best_bid_cents=row.best_bid_cents,
        best_ask_cents=row.best_ask_cents,
        book_sequence=row.book_sequence,
    )


def outcome_fields(outcome: Outcome) -> Fields:
    return {
        "id": outcome.id,
        "market_id": outcome.market_id,
        "name": outcome.name,
        "ordinal": outcome.index,
        **outcome_columns(outcome),
    }


def outcome_columns(outcome: Outcome) -> Fields:
    return {name: getattr(outcome, name) for name in OUTCOME_COLUMNS}


def market_to_domain(row: MarketRecord, outcomes: list[OutcomeRecord]) -> Market:
    return Market(
        id=row.id,
        title=row.title,
        description=row.description,
        market_type=MarketType(row.market_type),
        status=MarketStatus(row.status),
        creator_id=row.creator_id,
        outcomes=[outcome_to_domain(o) for o in sorted(outcomes, key=lambda o: o.ordinal)],
        liquidity=row.liquidity,
        fee_bps=row.fee_bps,
        resolution_source=row.resolution_source,
        closes_at=row.closes_at,
        created_at=row.created_at,
        resolved_at=row.resolved_at,
        winning_outcome_id=row.winning_outcome_id,
        volume_cents=row.volume_cents,
        pool_cents=row.pool_cents,
        fees_cents=row.fees_cents,
        order_sequence=row.order_sequence,
        price_sequence=row.price_sequence,
    )


def market_columns(market: Market) -> Fields:
    columns = {name: getattr(market, name) for name in MARKET_COLUMNS}
    columns["status"] = market.status.value
    return columns


def market_fields(market: Market) -> Fields:
    return {
        "id": market.id,
        "market_type": market.market_type.value,
        "creator_id": market.creator_id,
        "created_at": market.created_at,
        **market_columns(market),
    }


def order_to_domain(row: OrderRecord) -> Order:
    return Order(
        id=row.id,
        user_id=row.user_id,
        market_id=row.market_id,
        outcome_id=row.outcome_id,
        side=Side(row.side),
        order_type=OrderType(row.order_type),
        time_in_force=TimeInForce(row.time_in_force),
        price_cents=row.price_cents,
        quantity=row.quantity,
        created_at=row.created_at,
        sequence=row.sequence,
        filled_quantity=row.filled_quantity,
        status=OrderStatus(row.status),
        post_only=row.post_only,
        expires_at=row.expires_at,
        client_order_id=row.client_order_id,
        reserved_cents=row.reserved_cents,
        updated_at=row.updated_at,
    )


def order_columns(order: Order) -> Fields:
    columns = {name: getattr(order, name) for name in ORDER_COLUMNS}
    columns["status"] = order.status.value
    return columns


def order_fields(order: Order) -> Fields:
    return {
        "id": order.id,
        "user_id": order.user_id,
        "market_id": order.market_id,
        "outcome_id": order.outcome_id,
        "side": order.side.value,
        "order_type": order.order_type.value,
        "time_in_force": order.time_in_force.value,
        "price_cents": order.price_cents,
        "quantity": order.quantity,
        "post_only": order.post_only,
        "expires_at": order.expires_at,
        "client_order_id": order.client_order_id,
        "sequence": order.sequence,
        "created_at": order.created_at,
        **order_columns(order),
    }


def position_to_domain(row: PositionRecord) -> Position:
    return Position(
        user_id=row.user_id,
        market_id=row.market_id,
        outcome_id=row.outcome_id,
        shares=row.shares,
        reserved_shares=row.reserved_shares,
        cost_cents=row.cost_cents,
    )


def position_columns(position: Position) -> Fields:
    return {name: getattr(position, name) for name in POSITION_COLUMNS}


def position_fields(position: Position) -> Fields:
    return {
        "user_id": position.user_id,
        "market_id": position.market_id,
        "outcome_id": position.outcome_id,
        **position_columns(position),
    }


def trade_to_domain(row: TradeRecord) -> Trade:
    return Trade(
        id=row.id,
        market_id=row.market_id,
        outcome_id=row.outcome_id,
        price_cents=row.price_cents,
        quantity=row.quantity,
        is_amm=row.is_amm,
        taker_side=Side(row.taker_side),
        taker_user_id=row.taker_user_id,
        executed_at=row.executed_at,
        notional_cents=row.notional_cents,
        fee_cents=row.fee_cents,
        maker_user_id=row.maker_user_id,
        taker_order_id=row.taker_order_id,
        maker_order_id=row.maker_order_id,
        lmsr_side=LmsrSide(row.lmsr_side) if row.lmsr_side else None,
    )


def entry_to_domain(row: LedgerEntryRecord) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,
        source=AccountId.parse(row.source),
        destination=AccountId.parse(row.destination),
        amount_cents=row.amount_cents,
        reason=Reason(row.reason),
        at=row.at,
        market_id=row.market_id,
        order_id=row.order_id,
        trade_id=row.trade_id,
    )


def price_point_to_domain(row: PricePointRecord) -> PricePoint:
    return PricePoint(row.market_id, row.at, tuple(float(p) for p in row.prices))
