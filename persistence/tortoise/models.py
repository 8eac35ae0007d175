"""Tortoise ORM tables (``…Record``) for the platform's entities.

Money and quantities are ``BigIntField`` (cents, shares); ids are the domain's
32-hex-character strings. Rows are converted to domain objects and back only
by ``persistence.tortoise.mapping``; nothing outside ``persistence`` sees them.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

ID_LENGTH = 32


def _id() -> fields.CharField[str]:
    return fields.CharField(max_length=ID_LENGTH, primary_key=True)


class NonNullIndex(Index):
    """An index of a nullable column's non-NULL values (``WHERE column IS NOT NULL``): a
    row whose column is NULL costs it no entry, and a lookup by value (``=``, ``IN``)
    still uses it, on PostgreSQL (prepared statements too) as on SQLite."""

    def __init__(self, *, fields: tuple[str, ...] | list[str], name: str | None = None) -> None:
        super().__init__(fields=fields, name=name)
        self.extra = " WHERE " + " AND ".join(f'"{field}" IS NOT NULL' for field in self.fields)


class UserRecord(Model):
    id = _id()
    username = fields.CharField(max_length=64, db_index=True)
    username_key = fields.CharField(max_length=64, unique=True)  # casefolded: one per spelling
    email = fields.CharField(max_length=254, unique=True)
    password_hash = fields.CharField(max_length=255)
    created_at = fields.DatetimeField()
    cash_cents = fields.BigIntField(default=0)
    bonus_cents = fields.BigIntField(default=0)
    reserved_cents = fields.BigIntField(default=0)
    is_admin = fields.BooleanField(default=False)
    is_active = fields.BooleanField(default=True)
    fill_sequence = fields.BigIntField(default=0)  # the last myFills sequence of this user

    class Meta:
        table = "users"


class MarketRecord(Model):
    id = _id()
    title = fields.CharField(max_length=200)
    description = fields.TextField()
    market_type = fields.CharField(max_length=16)
    status = fields.CharField(max_length=24, db_index=True)
    creator: fields.ForeignKeyRelation[UserRecord] = fields.ForeignKeyField(
        "models.UserRecord", related_name=False, on_delete=fields.RESTRICT
    )
    creator_id: str
    liquidity = fields.FloatField(null=True)  # LMSR b in shares: a parameter, not money
    fee_bps = fields.IntField()
    resolution_source = fields.TextField()
    closes_at = fields.DatetimeField(db_index=True)
    created_at = fields.DatetimeField()
    resolved_at = fields.DatetimeField(null=True)
    winning_outcome_id = fields.CharField(max_length=ID_LENGTH, null=True)
    volume_cents = fields.BigIntField(default=0)
    pool_cents = fields.BigIntField(default=0)
    fees_cents = fields.BigIntField(default=0)
    order_sequence = fields.BigIntField(default=0)
    price_sequence = fields.BigIntField(default=0)
    trade_sequence = fields.BigIntField(default=0)
    scalar_lower = fields.FloatField(null=True)  # a scalar market's range: parameters, not money
    scalar_upper = fields.FloatField(null=True)
    scalar_unit = fields.CharField(max_length=20, default="")
    resolution_value = fields.FloatField(null=True)
    dispute_window_seconds = fields.IntField(default=0)
    dispute_window_ends_at = fields.DatetimeField(null=True, db_index=True)
    dispute_reason = fields.TextField(null=True)

    class Meta:
        table = "markets"


class OutcomeRecord(Model):
    id = _id()
    market: fields.ForeignKeyRelation[MarketRecord] = fields.ForeignKeyField(
        "models.MarketRecord", related_name=False, on_delete=fields.CASCADE
    )
    market_id: str
    name = fields.CharField(max_length=100)
    ordinal = fields.IntField()
    amm_shares = fields.BigIntField(default=0)
    shares_outstanding = fields.BigIntField(default=0)
    last_trade_cents = fields.IntField(null=True)
    best_bid_cents = fields.IntField(null=True)
    best_ask_cents = fields.IntField(null=True)
    book_sequence = fields.BigIntField(default=0)
    payout_cents = fields.IntField(null=True)  # per share, once a resolution is proposed

    class Meta:
        table = "outcomes"
        unique_together = (("market", "ordinal"),)


class OrderRecord(Model):
    id = _id()
    user: fields.ForeignKeyRelation[UserRecord] = fields.ForeignKeyField(
        "models.UserRecord", related_name=False, on_delete=fields.RESTRICT
    )
    user_id: str
    market: fields.ForeignKeyRelation[MarketRecord] = fields.ForeignKeyField(
        "models.MarketRecord", related_name=False, on_delete=fields.CASCADE
    )
    market_id: str
    outcome: fields.ForeignKeyRelation[OutcomeRecord] = fields.ForeignKeyField(
        "models.OutcomeRecord", related_name=False, on_delete=fields.CASCADE
    )
    outcome_id: str
    side = fields.CharField(max_length=4)
    order_type = fields.CharField(max_length=8)
    time_in_force = fields.CharField(max_length=4)
    price_cents = fields.IntField(null=True)
    quantity = fields.BigIntField()
    filled_quantity = fields.BigIntField(default=0)
    status = fields.CharField(max_length=16)
    post_only = fields.BooleanField(default=False)
    expires_at = fields.DatetimeField(null=True)
    client_order_id = fields.CharField(max_length=64, null=True)
    reserved_cents = fields.BigIntField(default=0)
    sequence = fields.BigIntField()
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "orders"
        # NULL client ids never collide: the key is optional.
        unique_together = (("user", "client_order_id"),)
        indexes = (
            Index(fields=("market_id", "outcome_id", "status", "side", "price_cents", "sequence")),
            Index(fields=("user_id", "status")),
            Index(fields=("status", "time_in_force", "expires_at")),
        )


class PositionRecord(Model):
    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[UserRecord] = fields.ForeignKeyField(
        "models.UserRecord", related_name=False, on_delete=fields.RESTRICT
    )
    user_id: str
    market: fields.ForeignKeyRelation[MarketRecord] = fields.ForeignKeyField(
        "models.MarketRecord", related_name=False, on_delete=fields.CASCADE
    )
    market_id: str
    outcome: fields.ForeignKeyRelation[OutcomeRecord] = fields.ForeignKeyField(
        "models.OutcomeRecord", related_name=False, on_delete=fields.CASCADE
    )
    outcome_id: str
    shares = fields.BigIntField(default=0)
    reserved_shares = fields.BigIntField(default=0)
    cost_cents = fields.BigIntField(default=0)
    realized_pnl_cents = fields.BigIntField(default=0)

    class Meta:
        table = "positions"
        unique_together = (("user", "outcome"),)
        indexes = (Index(fields=("user_id", "market_id")), Index(fields=("market_id",)))


TRADE_PARTIAL = {
    "maker_user_id": "idx_trades_maker_u_6f0f89",
    "taker_order_id": "idx_trades_taker_o_48930b",
    "maker_order_id": "idx_trades_maker_o_75527f",
}
"""Trades' indexes of their non-NULL values only, by column (the names they had in full)."""


class TradeRecord(Model):
    # Append-only. Its market and outcome are plain ids, not foreign keys: `bellwether
    # audit` checks they exist (docs/PERSISTENCE.md, "Foreign keys").
    id = _id()
    market_id = fields.CharField(max_length=ID_LENGTH)
    outcome_id = fields.CharField(max_length=ID_LENGTH)
    price_cents = fields.IntField()
    quantity = fields.BigIntField()
    is_amm = fields.BooleanField()
    taker_side = fields.CharField(max_length=4)
    taker_user_id = fields.CharField(max_length=ID_LENGTH, db_index=True)
    maker_user_id = fields.CharField(max_length=ID_LENGTH, null=True)
    taker_order_id = fields.CharField(max_length=ID_LENGTH, null=True)
    maker_order_id = fields.CharField(max_length=ID_LENGTH, null=True)
    lmsr_side = fields.CharField(max_length=8, null=True)
    notional_cents = fields.BigIntField()
    fee_cents = fields.BigIntField(default=0)
    executed_at = fields.DatetimeField()
    sequence = fields.BigIntField(null=True)  # +1 per trade of the market

    class Meta:
        table = "trades"
        # An LMSR trade has no maker and no order: those three cost it no entry (0011).
        indexes = (
            Index(fields=("market_id", "executed_at")),
            *(NonNullIndex(fields=(column,), name=name) for column, name in TRADE_PARTIAL.items()),
        )


class SettlementRecord(Model):
    """A position settled by a resolution or a void (append-only)."""

    id = _id()
    user_id = fields.CharField(max_length=ID_LENGTH)
    market_id = fields.CharField(max_length=ID_LENGTH)
    outcome_id = fields.CharField(max_length=ID_LENGTH)
    shares = fields.BigIntField()
    payout_cents = fields.BigIntField()
    cost_basis_cents = fields.BigIntField()
    settled_at = fields.DatetimeField()

    class Meta:
        table = "settlements"
        indexes = (Index(fields=("user_id", "settled_at")),)


class LedgerEntryRecord(Model):
    """One movement of money (append-only). Accounts are ``kind:owner`` strings."""

    id = _id()
    source = fields.CharField(max_length=48)
    destination = fields.CharField(max_length=48)
    amount_cents = fields.BigIntField()
    reason = fields.CharField(max_length=16)
    at = fields.DatetimeField()
    market_id = fields.CharField(max_length=ID_LENGTH, null=True)
    order_id = fields.CharField(max_length=ID_LENGTH, null=True)
    trade_id = fields.CharField(max_length=ID_LENGTH, null=True)

    class Meta:
        table = "ledger_entries"


class PricePointRecord(Model):
    # A market's prices as a transaction left them (append-only); its market is a plain
    # id, as a trade's.
    id = fields.BigIntField(primary_key=True)
    market_id = fields.CharField(max_length=ID_LENGTH)
    at = fields.DatetimeField()
    prices: fields.JSONField[list[float]] = fields.JSONField()

    class Meta:
        table = "price_points"
        indexes = (Index(fields=("market_id", "at")),)


class PlatformRecord(Model):
    """The single platform row (``id`` = 1): what the issuer has issued."""

    id = fields.IntField(primary_key=True, generated=False)
    issued_cents = fields.BigIntField(default=0)

    class Meta:
        table = "platform"


class ApiKeyRecord(Model):
    """An API key: only a keyed digest of its secret is kept (``auth.apikeys``)."""

    id = _id()
    user: fields.ForeignKeyRelation[UserRecord] = fields.ForeignKeyField(
        "models.UserRecord", related_name=False, on_delete=fields.CASCADE
    )
    user_id: str
    name = fields.CharField(max_length=64)
    prefix = fields.CharField(max_length=16)
    digest = fields.CharField(max_length=64, unique=True)
    scopes = fields.CharField(max_length=32)  # "READ,TRADE"
    created_at = fields.DatetimeField()
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_keys"
        indexes = (Index(fields=("user_id", "created_at")),)


class CounterRecord(Model):
    """A token bucket shared by every worker (times in seconds since the epoch).

    ``full_at`` is when it is full again: then the row can go (``persistence.tortoise.counters``).
    """

    key = fields.CharField(max_length=255, primary_key=True)
    tokens = fields.FloatField()
    updated_at = fields.FloatField()
    full_at = fields.FloatField(db_index=True)

    class Meta:
        table = "counters"


class DeadlineRecord(Model):
    """A deadline shared by every worker: the first to claim it once due deletes it."""

    key = fields.CharField(max_length=255, primary_key=True)
    due_at = fields.FloatField(db_index=True)

    class Meta:
        table = "deadlines"
