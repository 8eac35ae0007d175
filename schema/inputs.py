"""The contract's input types, each turned into a domain command by ``to_domain``."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

import strawberry

from domain import model
from domain.markets import MarketSpec
from domain.services.accounts import Registration
from domain.services.amm import LmsrOrder
from domain.services.orders import PlaceOrder
from schema.enums import AmountType, LmsrSide, MarketType, OrderSide, OrderType, TimeInForce

T = TypeVar("T")


def given(value: T | None, default: T) -> T:
    """An optional input (null or left out) or its default."""
    return default if value is None or value is strawberry.UNSET else value


def optional(value: T | None) -> T | None:
    return None if value is strawberry.UNSET else value


@strawberry.input(description="A new account; it starts with the configured starting balance.")
class RegisterInput:
    username: str = strawberry.field(description="3..50 characters of [A-Za-z0-9_.-].")
    email: str
    password: str = strawberry.field(description="8..128 characters.")

    def to_domain(self) -> Registration:
        return Registration(self.username, self.email, self.password)


@strawberry.input(description="A scalar market's range: Long pays 100 at upper and above.")
class ScalarRangeInput:
    lower: float
    upper: float = strawberry.field(description="> lower.")
    unit: str | None = strawberry.field(default="", description='0..20 characters, e.g. "%".')

    def to_domain(self) -> model.ScalarRange:
        return model.ScalarRange(self.lower, self.upper, given(self.unit, ""))


@strawberry.input
class OutcomePayoutInput:
    outcome_id: strawberry.ID
    cents: int = strawberry.field(
        description="Per share, 0..100; all outcomes' cents sum to exactly 100."
    )


@strawberry.input
class CreateMarketInput:
    title: str = strawberry.field(description="10..200 characters.")
    market_type: MarketType
    outcomes: list[str] = strawberry.field(
        description='2..10 unique names; binary markets are ["Yes", "No"].'
    )
    closes_at: datetime = strawberry.field(
        description="Must be in the future; a time without an offset is read as UTC."
    )
    description: str | None = ""
    liquidity_parameter: float | None = strawberry.field(
        default=100.0,
        description="LMSR only: b in shares. The creator pays the subsidy "
        "ceil(100 * b * ln(n)) cents into the market's pool.",
    )
    fee_bps: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Taker fee, 0..1000 basis points; default: the server's configured fee.",
    )
    resolution_source: str | None = ""
    scalar: ScalarRangeInput | None = strawberry.field(
        default=strawberry.UNSET,
        description="A two-outcome Long/Short market on a number; outcomes must be two names, "
        "the Long one first.",
    )
    dispute_window_seconds: int | None = strawberry.field(
        default=0,
        description="0..604800. 0: a resolution pays at once. Otherwise it is a proposal that "
        "holders may dispute for this long before it pays.",
    )

    def to_domain(self) -> MarketSpec:
        scalar = optional(self.scalar)
        return MarketSpec(
            title=self.title,
            market_type=model.MarketType(self.market_type.value),
            outcomes=tuple(self.outcomes),
            closes_at=self.closes_at,
            description=given(self.description, ""),
            liquidity=given(self.liquidity_parameter, 100.0),
            fee_bps=optional(self.fee_bps),
            resolution_source=given(self.resolution_source, ""),
            scalar=scalar.to_domain() if scalar is not None else None,
            dispute_window_seconds=given(self.dispute_window_seconds, 0),
        )


@strawberry.input
class PlaceOrderInput:
    market_id: strawberry.ID
    outcome_id: strawberry.ID
    side: OrderSide
    order_type: OrderType
    quantity: int = strawberry.field(description="Shares, > 0.")
    price_cents: int | None = strawberry.field(
        default=strawberry.UNSET, description="Required for LIMIT (1..99); forbidden for MARKET."
    )
    time_in_force: TimeInForce | None = strawberry.field(
        default=strawberry.UNSET, description="Default GTC for LIMIT, IOC for MARKET."
    )
    expires_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="Required for GTD, in the future; else forbidden."
    )
    post_only: bool | None = strawberry.field(
        default=False,
        description="LIMIT only: if it would trade on arrival it is rejected "
        "(PRICE_LIMIT_EXCEEDED) and nothing happens.",
    )
    client_order_id: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Idempotency key per user: a repeat asking for the same order returns "
        "the first order and does nothing; one asking for another is IDEMPOTENCY_CONFLICT.",
    )

    def to_domain(self) -> PlaceOrder:
        tif = optional(self.time_in_force)
        return PlaceOrder(
            market_id=self.market_id,
            outcome_id=self.outcome_id,
            side=model.Side(self.side.value),
            order_type=model.OrderType(self.order_type.value),
            quantity=self.quantity,
            price_cents=optional(self.price_cents),
            time_in_force=model.TimeInForce(tif.value) if tif is not None else None,
            expires_at=optional(self.expires_at),
            post_only=given(self.post_only, False),
            client_order_id=optional(self.client_order_id),
        )


@strawberry.input(description="An LMSR trade or quote. Money is integer cents.")
class LmsrTradeInput:
    market_id: strawberry.ID
    side: LmsrSide
    amount_type: AmountType
    amount: int = strawberry.field(description="Cents for SPEND, shares for SHARES; > 0.")
    outcome_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Which outcome YES/NO refer to; default: the first outcome.",
    )
    use_bonus: bool | None = strawberry.field(
        default=False, description="Pay a buy from the bonus balance only; payouts go to cash."
    )
    limit_cents: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Slippage guard: the most a buy may cost, the least a sell must pay "
        "(PRICE_LIMIT_EXCEEDED otherwise).",
    )

    def to_domain(self) -> LmsrOrder:
        return LmsrOrder(
            market_id=self.market_id,
            side=model.LmsrSide(self.side.value),
            amount_type=model.AmountType(self.amount_type.value),
            amount=self.amount,
            outcome_id=optional(self.outcome_id),
            use_bonus=given(self.use_bonus, False),
            limit_cents=optional(self.limit_cents),
        )
