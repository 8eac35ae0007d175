"""Orders, trades, positions, order books and AMM results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import strawberry

from domain import events, model
from domain import orderbook as engine
from domain.markets import current_prices
from domain.services import amm, complete_sets
from domain.services.books import book_changed, book_of
from schema.context import Info
from schema.enums import LmsrSide, OrderSide, OrderStatus, OrderType, TimeInForce
from schema.types.markets import Market, Outcome, load_outcome
from schema.views import StateViews

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""The time of a book state read from storage rather than announced (``OrderBook`` shows none)."""


@strawberry.type(
    description="An execution. Order book: at the maker's price, `takerSide` is the incoming "
    "order's side. LMSR: against the market maker."
)
class Trade:
    id: strawberry.ID
    price_cents: int = strawberry.field(
        description="Cents per share: the maker's price, or the AMM average price rounded."
    )
    quantity: int = strawberry.field(description="Shares.")
    is_amm_trade: bool
    taker_side: OrderSide
    executed_at: datetime
    market_id: strawberry.Private[str]
    outcome_id: strawberry.Private[str]
    lmsr_side: LmsrSide | None = strawberry.field(
        default=None,
        description="LMSR trades: what the taker did with `outcome` (BUY_NO: bought one share "
        "of every other outcome per share); null for order-book trades.",
    )
    sequence: int | None = strawberry.field(
        default=None,
        description="+1 per trade of this market, stored: the same on every worker and after "
        "a restart. In marketTrades a gap means this subscriber missed trades (it fell "
        "behind, or the server's event bus reconnected); re-read Market.recentTrades. "
        "Null for trades made before sequences were stored.",
    )

    @classmethod
    def from_domain(cls, trade: model.Trade) -> Trade:
        return cls(
            id=strawberry.ID(trade.id),
            price_cents=trade.price_cents,
            quantity=trade.quantity,
            is_amm_trade=trade.is_amm,
            taker_side=OrderSide(trade.taker_side.value),
            executed_at=trade.executed_at,
            market_id=trade.market_id,
            outcome_id=trade.outcome_id,
            lmsr_side=LmsrSide(trade.lmsr_side.value) if trade.lmsr_side else None,
            sequence=trade.sequence,
        )

    @strawberry.field
    async def market(self, info: Info) -> Market:
        return Market.from_domain(await info.context.market(self.market_id))

    @strawberry.field
    async def outcome(self, info: Info) -> Outcome:
        return await load_outcome(info, self.market_id, self.outcome_id)


@strawberry.type(description="An order-book order. Prices are cents per share, 1..99.")
class Order:
    id: strawberry.ID
    side: OrderSide
    order_type: OrderType
    time_in_force: TimeInForce
    price_cents: int | None = strawberry.field(description="Null for MARKET orders.")
    quantity: int
    filled_quantity: int
    remaining_quantity: int = strawberry.field(description="0 once the order stopped resting.")
    status: OrderStatus
    post_only: bool
    expires_at: datetime | None = strawberry.field(description="GTD orders only.")
    client_order_id: str | None
    created_at: datetime
    market_id: strawberry.Private[str]
    outcome_id: strawberry.Private[str]

    @classmethod
    def from_domain(cls, order: model.Order) -> Order:
        return cls(
            id=strawberry.ID(order.id),
            side=OrderSide(order.side.value),
            order_type=OrderType(order.order_type.value),
            time_in_force=TimeInForce(order.time_in_force.value),
            price_cents=order.price_cents,
            quantity=order.quantity,
            filled_quantity=order.filled_quantity,
            remaining_quantity=order.remaining_quantity,
            status=OrderStatus(order.status.value),
            post_only=order.post_only,
            expires_at=order.expires_at,
            client_order_id=order.client_order_id,
            created_at=order.created_at,
            market_id=order.market_id,
            outcome_id=order.outcome_id,
        )

    @strawberry.field
    async def market(self, info: Info) -> Market:
        return Market.from_domain(await info.context.market(self.market_id))

    @strawberry.field
    async def outcome(self, info: Info) -> Outcome:
        return await load_outcome(info, self.market_id, self.outcome_id)

    @strawberry.field(description="Fills of this order, as taker or maker, oldest first.")
    async def trades(self, info: Info) -> list[Trade]:
        trades = await info.context.loaders.trades_by_order.load(self.id)
        return [Trade.from_domain(t) for t in sorted(trades, key=lambda t: t.executed_at)]


@strawberry.type(description="A user's shares of one outcome, valued at the current price.")
class Position:
    market: Market
    outcome: Outcome
    shares: int
    reserved_shares: int = strawberry.field(description="Held for resting sell orders.")
    average_cost_cents: float = strawberry.field(
        description="Average cost per share in cents (fees excluded); what a void refunds."
    )
    current_price: float = strawberry.field(description="The outcome's probability now.")
    unrealized_pnl_cents: float = strawberry.field(
        description="(currentPrice * 100 - averageCostCents) * shares."
    )
    realized_pnl_cents: int = strawberry.field(
        description="What sales realized: proceeds (after the seller's fee) minus the average "
        "cost of the shares sold, each sale rounded to the nearest cent. Settlements are "
        "not counted here: see mySettlements."
    )

    @classmethod
    def from_domain(cls, position: model.Position, market: model.Market) -> Position:
        prices = current_prices(market)
        outcome = market.outcome(position.outcome_id)
        average = position.cost_cents / position.shares if position.shares else 0.0
        price = prices[outcome.index]
        return cls(
            market=Market.from_domain(market),
            outcome=Outcome.from_domain(
                outcome, price, lmsr=market.market_type is model.MarketType.LMSR
            ),
            shares=position.shares,
            reserved_shares=position.reserved_shares,
            average_cost_cents=average,
            current_price=price,
            unrealized_pnl_cents=(price * 100 - average) * position.shares,
            realized_pnl_cents=position.realized_pnl_cents,
        )


async def load_positions(
    info: Info, user_id: str, market_id: str | None = None, *, closed: bool = False
) -> list[Position]:
    """The user's positions (``closed``: also those with realized P&L and no shares),
    each valued with its market read through the request's loader."""
    held = await info.context.reads.positions(user_id, market_id, closed=closed)
    markets = await info.context.loaders.markets.load_many([p.market_id for p in held])
    return [Position.from_domain(p, m) for p, m in zip(held, markets, strict=True) if m]


@strawberry.type(description="Resting quantity at one price.")
class PriceLevel:
    price_cents: int
    quantity: int = strawberry.field(
        description="Shares available at this price: resting orders of this outcome plus"
        " syntheticQuantity."
    )
    orders: int = strawberry.field(description="Number of this outcome's resting orders.")
    synthetic_quantity: int = strawberry.field(
        default=0,
        description="Part of quantity made of the other outcomes' orders (a bid of NO at p"
        " is an ask of YES at 100 - p): taking it mints or merges complete sets.",
    )

    @classmethod
    def from_domain(cls, level: engine.PriceLevel) -> PriceLevel:
        return cls(
            price_cents=level.price_cents,
            quantity=level.quantity,
            orders=level.orders,
            synthetic_quantity=level.synthetic,
        )


@strawberry.type(
    description="Depth of one outcome's order book, its own resting orders merged with its"
    " synthetic levels (the other outcomes' orders: a mint or merge of complete sets);"
    " in a binary market the two books are mirrors, bestBid(YES) = 100 - bestAsk(NO)."
    " Prices in cents, 1..99. An LMSR market's book shows its resting limit orders only,"
    " never the market maker's curve."
)
class OrderBook:
    market_id: strawberry.ID
    outcome_id: strawberry.ID
    bids: list[PriceLevel] = strawberry.field(description="Best (highest) first.")
    asks: list[PriceLevel] = strawberry.field(description="Best (lowest) first.")
    best_bid_cents: int | None
    best_ask_cents: int | None
    spread_cents: int | None
    last_trade_cents: int | None
    sequence: int = strawberry.field(description="Increases with every change of this book.")

    @classmethod
    def from_event(cls, event: events.BookChanged, depth: int) -> OrderBook:
        """The book as its event carries it (the levels the command computed)."""
        bid = event.bids[0].price_cents if event.bids else None
        ask = event.asks[0].price_cents if event.asks else None
        return cls(
            market_id=strawberry.ID(event.market_id),
            outcome_id=strawberry.ID(event.outcome_id),
            bids=[PriceLevel.from_domain(level) for level in event.bids[:depth]],
            asks=[PriceLevel.from_domain(level) for level in event.asks[:depth]],
            best_bid_cents=bid,
            best_ask_cents=ask,
            spread_cents=ask - bid if bid is not None and ask is not None else None,
            last_trade_cents=event.last_trade_cents,
            sequence=event.sequence,
        )


@dataclass
class BookView:
    """One state of an outcome's book; its views per depth are built once and shared (by
    a live feed's subscribers, and by the ``orderBook`` queries of that state)."""

    event: events.BookChanged
    _views: dict[int, OrderBook] = field(default_factory=dict)

    @classmethod
    def from_domain(
        cls, market: model.Market, outcome: model.Outcome, resting: Sequence[model.Order]
    ) -> BookView:
        """The outcome's book, own and synthetic levels merged, from the market's
        ``resting`` orders."""
        return cls(book_changed(outcome, EPOCH, book_of(market, resting)))

    @property
    def sequence(self) -> int:
        return self.event.sequence

    @property
    def key(self) -> tuple[str, str]:
        """The book: its market and outcome."""
        return self.event.market_id, self.event.outcome_id

    @property
    def stamp(self) -> tuple[int, int | None]:
        """The book's state: equal to :meth:`stamp_of` its outcome in that state."""
        return self.event.sequence, self.event.last_trade_cents

    @staticmethod
    def stamp_of(outcome: model.Outcome) -> tuple[int, int | None]:
        """The state of ``outcome``'s book as stored: every change of a market's books
        bumps each outcome's ``book_sequence``; the last trade shows in the view too."""
        return outcome.book_sequence, outcome.last_trade_cents

    def view(self, depth: int) -> OrderBook:
        if depth not in self._views:
            self._views[depth] = OrderBook.from_event(self.event, depth)
        return self._views[depth]


def remember_books(views: StateViews[BookView], announced: Sequence[events.DomainEvent]) -> None:
    """Keep the view of each book state ``announced``: its event carries the levels its
    command computed, the ones a read of that state computes."""
    for event in announced:
        if isinstance(event, events.BookChanged):
            view = BookView(event)
            views.put(view.key, view.stamp, view)


@strawberry.type(description="What an LMSR trade would do now, fee included; nothing trades.")
class LmsrQuote:
    cost_or_payout_cents: int = strawberry.field(
        description="Buys: what it would cost (rounded up); sells: what it would pay "
        "(rounded down)."
    )
    shares_delta: int = strawberry.field(
        description="Shares the trader would gain (buy, > 0) or give (sell, < 0)."
    )
    fee_cents: int
    average_price: float = strawberry.field(description="costOrPayoutCents / shares / 100.")
    prices_after: list[float]
    market_maker_shares: int = strawberry.field(
        description="Shares the market maker supplies (buy) or takes (sell)."
    )
    market_maker_cents: int = strawberry.field(
        description="The market maker's part in cents, priced as one LMSR trade and rounded "
        "once against the trader, before the fee."
    )
    book_shares: int = strawberry.field(
        description="Shares taken from resting limit orders (direct or synthetic levels)."
    )
    book_cents: int = strawberry.field(
        description="The resting orders' part in cents (their prices times shares), before "
        "the taker fee."
    )

    @classmethod
    def from_domain(cls, quote: amm.LmsrQuote) -> LmsrQuote:
        return cls(
            cost_or_payout_cents=quote.trader_cents,
            shares_delta=quote.shares if quote.buy else -quote.shares,
            fee_cents=quote.fee_cents,
            average_price=quote.average_price,
            prices_after=list(quote.prices_after),
            market_maker_shares=quote.maker_shares,
            market_maker_cents=quote.maker_cents,
            book_shares=quote.book_shares,
            book_cents=quote.book_cents,
        )


@strawberry.type(description="An executed LMSR trade.")
class LmsrTradeResult:
    cost_or_payout_cents: int = strawberry.field(
        description="Buys: what it cost, fee included; sells: what it paid, after the fee."
    )
    shares_delta: int
    fee_cents: int
    new_position_yes: int = strawberry.field(description="The trader's shares of the outcome.")
    new_position_no: int = strawberry.field(
        description="The trader's shares of 'not the outcome': the fewest they hold among "
        "the other outcomes."
    )
    prices: list[float]
    trade: Trade
    market_maker_shares: int = strawberry.field(
        description="Shares the market maker supplied (buy) or took (sell)."
    )
    market_maker_cents: int = strawberry.field(
        description="The market maker's part in cents, as charged, before the fee."
    )
    book_shares: int = strawberry.field(description="Shares taken from resting limit orders.")
    book_cents: int = strawberry.field(
        description="The resting orders' part in cents, before the taker fee."
    )

    @classmethod
    def from_domain(cls, result: amm.LmsrTradeResult) -> LmsrTradeResult:
        quote = LmsrQuote.from_domain(result.quote)
        return cls(
            cost_or_payout_cents=quote.cost_or_payout_cents,
            shares_delta=quote.shares_delta,
            fee_cents=quote.fee_cents,
            new_position_yes=result.position_yes,
            new_position_no=result.position_no,
            prices=list(result.prices),
            trade=Trade.from_domain(result.trade),
            market_maker_shares=quote.market_maker_shares,
            market_maker_cents=quote.market_maker_cents,
            book_shares=quote.book_shares,
            book_cents=quote.book_cents,
        )


@strawberry.type(description="Minted or redeemed complete sets (one share of every outcome).")
class CompleteSetResult:
    quantity: int
    cents: int = strawberry.field(description="Paid for a mint, received for a redeem (100/set).")
    positions: list[Position]

    @classmethod
    def from_domain(cls, result: complete_sets.CompleteSetResult) -> CompleteSetResult:
        return cls(
            quantity=result.quantity,
            cents=result.cents,
            positions=[Position.from_domain(p, result.market) for p in result.positions],
        )
