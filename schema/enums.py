"""The contract's enums. Values equal the domain enums' values, so converting is by value."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="How a market prices trades.")
class MarketType(Enum):
    ORDER_BOOK = "ORDER_BOOK"
    LMSR = "LMSR"


@strawberry.enum(
    description="OPEN -> (PAUSED <-> OPEN) -> CLOSED -> RESOLVED or VOIDED. With a dispute "
    "window: CLOSED -> RESOLUTION_PROPOSED (-> DISPUTED) -> RESOLVED, or back to CLOSED "
    "when unresolved."
)
class MarketStatus(Enum):
    OPEN = "OPEN"
    PAUSED = "PAUSED"
    CLOSED = "CLOSED"
    RESOLVED = "RESOLVED"
    VOIDED = "VOIDED"
    RESOLUTION_PROPOSED = "RESOLUTION_PROPOSED"
    DISPUTED = "DISPUTED"


@strawberry.enum(
    description=(
        "The order of Query.markets: NEWEST (created, newest first) or CLOSING_SOON "
        "(closing time, soonest first). Both page stably."
    )
)
class MarketSort(Enum):
    NEWEST = "NEWEST"
    CLOSING_SOON = "CLOSING_SOON"


@strawberry.enum
class OrderSide(Enum):
    BUY = "BUY"
    SELL = "SELL"


@strawberry.enum(description="LIMIT orders carry priceCents 1..99; MARKET orders never rest.")
class OrderType(Enum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"


@strawberry.enum(
    description=(
        "GTC rests until filled or cancelled; GTD rests until expiresAt; IOC fills what it "
        "can now and cancels the rest; FOK fills completely now or does nothing."
    )
)
class TimeInForce(Enum):
    GTC = "GTC"
    GTD = "GTD"
    IOC = "IOC"
    FOK = "FOK"


@strawberry.enum
class OrderStatus(Enum):
    OPEN = "OPEN"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


@strawberry.enum(
    description=(
        "YES k shares of outcome i moves q_i by k; NO k shares of outcome i moves every "
        "other outcome by k (the trader gets or gives k shares of each of them)."
    )
)
class LmsrSide(Enum):
    BUY_YES = "BUY_YES"
    SELL_YES = "SELL_YES"
    BUY_NO = "BUY_NO"
    SELL_NO = "SELL_NO"


@strawberry.enum(
    description=(
        "SHARES: trade exactly `amount` shares. SPEND on a buy: the most whole shares whose "
        "cost including fee is at most `amount` cents; SPEND on a sell: the fewest whole "
        "shares whose payout after fee is at least `amount` cents."
    )
)
class AmountType(Enum):
    SPEND = "SPEND"
    SHARES = "SHARES"


@strawberry.enum(description="READ: queries and subscriptions. TRADE: also every mutation.")
class ApiKeyScope(Enum):
    READ = "READ"
    TRADE = "TRADE"
