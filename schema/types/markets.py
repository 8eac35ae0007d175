"""Markets, their outcomes, prices and price history."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain import events, history, model
from domain import markets as market_rules
from domain.errors import QueryTooComplex
from domain.services import resolution
from schema.context import Info
from schema.enums import MarketStatus, MarketType
from schema.types.accounts import User

if TYPE_CHECKING:
    from schema.types.trading import Trade

INT_MAX = 2**31 - 1
MAX_HISTORY_POINTS = 1000
MAX_RECENT_TRADES = 100

RESOLUTION_RULES = (
    "Resolve: every share is paid its outcome's payout (cents per share, 0..100, all "
    "outcomes summing to 100: 100 to the winner for resolveMarket, a split, or a scalar "
    "market's Long/Short) from the market's pool; what is left in the pool goes back to the "
    "creator. With disputeWindowSeconds > 0 a resolution is first a proposal: nothing is "
    "paid until the window ends undisputed. "
    "Void: every holder gets back the cost basis (average cost, fees excluded) of the shares "
    "they still hold, pro rata (rounded down) if the pool cannot cover all of it; the "
    "remainder goes back to the creator; cash already received from sales stays."
)


def saturating(cents: int) -> int:
    """GraphQL Int is 32 bits: running totals saturate at 2^31 - 1."""
    return min(cents, INT_MAX)


@strawberry.type(description="One outcome of a market. A winning share pays 100 cents.")
class Outcome:
    id: strawberry.ID
    name: str
    index: int = strawberry.field(description="0-based position in the market.")
    price: float = strawberry.field(
        description="Current probability in [0, 1]: LMSR price, or the order book's mid "
        "(else last trade, else 1/n); its payout / 100 once resolved."
    )
    shares_outstanding: int = strawberry.field(
        description="LMSR: q_i, shares the market maker has sold; ORDER_BOOK: shares in "
        "existence (minted complete sets). 0 after settlement."
    )

    @classmethod
    def from_domain(cls, outcome: model.Outcome, price: float, *, lmsr: bool) -> Outcome:
        return cls(
            id=strawberry.ID(outcome.id),
            name=outcome.name,
            index=outcome.index,
            price=price,
            shares_outstanding=outcome.amm_shares if lmsr else outcome.shares_outstanding,
        )


def outcomes_of(market: model.Market) -> list[Outcome]:
    prices = market_rules.current_prices(market)
    lmsr = market.market_type is model.MarketType.LMSR
    return [
        Outcome.from_domain(o, p, lmsr=lmsr) for o, p in zip(market.outcomes, prices, strict=True)
    ]


async def load_outcome(info: Info, market_id: str, outcome_id: str) -> Outcome:
    """One outcome of a market, priced now (the market is read once per request)."""
    market = await info.context.market(market_id)
    return next(o for o in outcomes_of(market) if o.id == outcome_id)


@strawberry.type(description="What one share of an outcome pays, in cents (0..100).")
class OutcomePayout:
    outcome: Outcome
    cents: int


@strawberry.type(description="A scalar market's range: Long pays 100 at upper and above.")
class ScalarRange:
    lower: float
    upper: float
    unit: str

    @classmethod
    def from_domain(cls, scalar: model.ScalarRange) -> ScalarRange:
        return cls(lower=scalar.lower, upper=scalar.upper, unit=scalar.unit)


def payouts_of(market: model.Market, outcomes: list[Outcome]) -> list[OutcomePayout] | None:
    payouts = market.payouts
    if payouts is None:
        return None
    return [OutcomePayout(outcome=o, cents=c) for o, c in zip(outcomes, payouts, strict=True)]


@strawberry.type(description="The market's prices at a moment (start of a history bucket).")
class PricePoint:
    at: datetime
    prices: list[float]

    @classmethod
    def from_domain(cls, point: model.PricePoint) -> PricePoint:
        return cls(at=point.at, prices=list(point.prices))


@strawberry.type(description="A prediction market. Money is integer cents. " + RESOLUTION_RULES)
class Market:
    id: strawberry.ID
    title: str
    description: str
    market_type: MarketType
    status: MarketStatus
    outcomes: list[Outcome]
    prices: list[float] = strawberry.field(
        description="Probabilities in outcome order; LMSR prices sum to 1."
    )
    liquidity_parameter: float | None = strawberry.field(
        description="LMSR b in shares (null for ORDER_BOOK); the creator paid the subsidy "
        "ceil(100 * b * ln(n)) cents, the market maker's worst-case loss."
    )
    fee_bps: int = strawberry.field(description="Taker fee in basis points of the notional.")
    resolution_source: str
    closes_at: datetime = strawberry.field(description="Trading stops at this time.")
    created_at: datetime
    resolved_at: datetime | None = strawberry.field(description="When resolved or voided.")
    winning_outcome: Outcome | None = strawberry.field(
        description="Once resolved, the outcome paying 100 cents a share; null for a split."
    )
    volume_cents: int = strawberry.field(
        description="Traded notional in cents (saturates at 2^31 - 1)."
    )
    payouts: list[OutcomePayout] | None = strawberry.field(
        description="Once resolved or proposed: cents per share of each outcome."
    )
    scalar: ScalarRange | None = strawberry.field(
        description="Set for a scalar (Long/Short) market: Long pays round(100 * clamp((value "
        "- lower) / (upper - lower), 0, 1)) cents, halves up; Short the rest."
    )
    resolution_value: float | None = strawberry.field(
        description="Scalar markets: the number resolved to (or proposed)."
    )
    dispute_window_seconds: int = strawberry.field(
        description="0: a resolution pays at once. Otherwise it is a proposal for this long."
    )
    dispute_window_ends_at: datetime | None = strawberry.field(
        description="While a resolution is proposed: when it becomes final if undisputed."
    )
    dispute_reason: str | None = strawberry.field(description="Why it was disputed.")
    creator_id: strawberry.Private[str]

    @classmethod
    def from_domain(cls, market: model.Market) -> Market:
        outcomes = outcomes_of(market)
        winner = next((o for o in outcomes if o.id == market.winning_outcome_id), None)
        return cls(
            id=strawberry.ID(market.id),
            title=market.title,
            description=market.description,
            market_type=MarketType(market.market_type.value),
            status=MarketStatus(market.status.value),
            outcomes=outcomes,
            prices=[o.price for o in outcomes],
            liquidity_parameter=market.liquidity,
            fee_bps=market.fee_bps,
            resolution_source=market.resolution_source,
            closes_at=market.closes_at,
            created_at=market.created_at,
            resolved_at=market.resolved_at,
            winning_outcome=winner,
            volume_cents=saturating(market.volume_cents),
            payouts=payouts_of(market, outcomes),
            scalar=ScalarRange.from_domain(market.scalar) if market.scalar else None,
            resolution_value=market.resolution_value,
            dispute_window_seconds=market.dispute_window_seconds,
            dispute_window_ends_at=market.dispute_window_ends_at,
            dispute_reason=market.dispute_reason,
            creator_id=market.creator_id,
        )

    @strawberry.field
    async def creator(self, info: Info) -> User:
        return User.from_domain(await info.context.user(self.creator_id))

    @strawberry.field(
        description="Price history downsampled to one point per bucket (resolution 1m, 5m, "
        "1h or 1d; the last prices in each bucket), oldest first, at most the newest `first` "
        f"(1..{MAX_HISTORY_POINTS}) buckets. Recorded on every price change; kept after "
        "resolution."
    )
    async def price_history(
        self, info: Info, resolution: str | None = "1h", first: int | None = 500
    ) -> list[PricePoint]:
        resolution, first = resolution or "1h", 500 if first is None else first
        width = history.bucket_width(resolution)
        if not 0 <= first <= MAX_HISTORY_POINTS:
            raise QueryTooComplex(f"first must be from 0 to {MAX_HISTORY_POINTS}")
        market = await info.context.market(self.id)
        until = market.resolved_at or info.context.services.clock.now()
        points = await info.context.reads.price_history(self.id, until - width * (first + 1))
        return [PricePoint.from_domain(p) for p in history.downsample(points, resolution, first)]

    @strawberry.field(
        description="The market's latest trades (public tape), newest first, at most `first` "
        f"(0..{MAX_RECENT_TRADES}). Live: the marketTrades subscription."
    )
    async def recent_trades(
        self, info: Info, first: int | None = 20
    ) -> list[Annotated[Trade, strawberry.lazy("schema.types.trading")]]:
        from schema.types.trading import Trade

        first = 20 if first is None else first
        if not 0 <= first <= MAX_RECENT_TRADES:
            raise QueryTooComplex(f"first must be from 0 to {MAX_RECENT_TRADES}")
        trades = await info.context.reads.recent_trades(self.id, first)
        return [Trade.from_domain(t) for t in trades]


@strawberry.type(description="A live price update of one market.")
class PriceUpdate:
    market_id: strawberry.ID
    prices: list[float]
    last_trade_price_cents: int | None
    volume_cents: int
    sequence: int = strawberry.field(
        description="Increases by one with every update of this market; a gap means a "
        "missed update (re-read the market)."
    )
    at: datetime

    @classmethod
    def from_domain(cls, event: events.PricesChanged) -> PriceUpdate:
        return cls(
            market_id=strawberry.ID(event.market_id),
            prices=list(event.prices),
            last_trade_price_cents=event.last_trade_cents,
            volume_cents=saturating(event.volume_cents),
            sequence=event.sequence,
            at=event.at,
        )

    @classmethod
    def from_market(
        cls, market: model.Market, at: datetime, last_trade_cents: int | None
    ) -> PriceUpdate:
        """The current state, sent first to a new subscriber."""
        return cls(
            market_id=strawberry.ID(market.id),
            prices=list(market_rules.current_prices(market)),
            last_trade_price_cents=last_trade_cents,
            volume_cents=saturating(market.volume_cents),
            sequence=market.price_sequence,
            at=at,
        )


@strawberry.type(description="A market's status: the current one first, then every change.")
class MarketStatusUpdate:
    market_id: strawberry.ID
    status: MarketStatus
    at: datetime

    @classmethod
    def from_domain(cls, event: events.MarketStatusChanged) -> MarketStatusUpdate:
        return cls(
            market_id=strawberry.ID(event.market_id),
            status=MarketStatus(event.status.value),
            at=event.at,
        )


@strawberry.type(description="The outcome of resolving or voiding a market. " + RESOLUTION_RULES)
class Resolution:
    market: Market
    total_payout_cents: int = strawberry.field(
        description="Paid to shares (0 for a mere proposal and for a void)."
    )
    winners_count: int = strawberry.field(
        description="Users paid more than 0 (0 for a proposal and for a void)."
    )
    refunded_cents: int = strawberry.field(
        description="Resolve: what went back to the creator. Void: what went back to "
        "participants (cost basis) and the creator."
    )

    @classmethod
    def from_domain(cls, result: resolution.Resolution) -> Resolution:
        return cls(
            market=Market.from_domain(result.market),
            total_payout_cents=result.total_payout_cents,
            winners_count=result.winners_count,
            refunded_cents=result.refunded_cents,
        )
