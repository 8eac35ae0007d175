"""Settlement of order-book orders: reserving, releasing and filling, in one place.

Pure and synchronous. The service loads every entity a command touches up front
(the users and positions of the orders the engine named, one query each), then
settles what the engine returned through a :class:`Settlement`; nothing here
awaits, reads a clock or does I/O.

Money flow of a fill of q shares at the maker's price p: the buyer pays p*q to
the seller's cash (from reserved cents when the buyer is the resting maker,
from cash when the buyer is the taker); the taker also pays its fee to the fee
account: ``taker_fee`` of the order's whole notional, each fill carrying its
share. Shares move from seller to buyer with their cost basis. A resting BUY
reserves p*remaining cents; a resting SELL reserves its shares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from domain import ledger
from domain import positions as shares
from domain.book_types import Fill
from domain.events import DomainEvent, OrderChanged, TradeExecuted
from domain.ledger import Journal, Reason
from domain.model import Market, Order, OrderStatus, Position, Side, Trade

PositionLookup = Callable[[str, str], Position]
"""``(user_id, outcome_id)`` -> the loaded position (a new empty one if none is stored)."""


class Settlement:
    """Settles one command's order-book events in one market.

    ``journal`` must have every user it names attached (and the market);
    ``position`` returns loaded positions. Changed orders and executed trades
    are announced on ``events`` and trades appended to ``trades``, in order.
    """

    def __init__(
        self,
        market: Market,
        journal: Journal,
        position: PositionLookup,
        *,
        new_id: Callable[[], str],
        events: list[DomainEvent],
        trades: list[Trade],
    ) -> None:
        self.market = market
        self.journal = journal
        self.position = position
        self.new_id = new_id
        self.events = events
        self.trades = trades

    @property
    def now(self) -> datetime:
        return self.journal.at

    def changed(self, order: Order) -> None:
        """Stamp the order and announce a snapshot of it."""
        order.updated_at = self.now
        self.events.append(OrderChanged(replace(order)))

    def reserve(self, order: Order) -> None:
        """Hold what a resting order needs: price * remaining cents, or its shares."""
        if order.side is Side.BUY:
            assert order.price_cents is not None
            cents = order.price_cents * order.remaining_quantity
            self.journal.move(
                ledger.cash(order.user_id),
                ledger.reserved(order.user_id),
                cents,
                Reason.RESERVE,
                market_id=order.market_id,
                order_id=order.id,
            )
            order.reserved_cents = cents
        else:
            shares.reserve_shares(
                self.position(order.user_id, order.outcome_id), order.remaining_quantity
            )

    def release(self, order: Order, quantity: int) -> None:
        """Release what ``quantity`` of a resting order's remaining shares hold (an amend):
        price * quantity cents of a BUY, or that many shares of a SELL."""
        if order.side is Side.BUY:
            assert order.price_cents is not None
            cents = order.price_cents * quantity
            self.journal.move(
                ledger.reserved(order.user_id),
                ledger.cash(order.user_id),
                cents,
                Reason.RELEASE,
                market_id=order.market_id,
                order_id=order.id,
            )
            order.reserved_cents -= cents
        else:
            shares.release_shares(self.position(order.user_id, order.outcome_id), quantity)

    def end(self, order: Order, status: OrderStatus) -> None:
        """Cancel or expire a resting order and release what it still reserves."""
        if order.side is Side.BUY:
            self.journal.move(
                ledger.reserved(order.user_id),
                ledger.cash(order.user_id),
                order.reserved_cents,
                Reason.RELEASE,
                market_id=order.market_id,
                order_id=order.id,
            )
            order.reserved_cents = 0
        else:
            position = self.position(order.user_id, order.outcome_id)
            shares.release_shares(position, order.remaining_quantity)
        order.status = status
        self.changed(order)

    def fill(self, taker: Order, maker: Order, fill: Fill) -> Trade:
        """Settle a direct fill: shares of one outcome from seller to buyer at the maker's price."""
        notional = fill.price_cents * fill.quantity
        trade = Trade(
            id=self.new_id(),
            market_id=self.market.id,
            outcome_id=taker.outcome_id,
            price_cents=fill.price_cents,
            quantity=fill.quantity,
            is_amm=False,
            taker_side=taker.side,
            taker_user_id=taker.user_id,
            executed_at=self.now,
            notional_cents=notional,
            fee_cents=fill.fee_cents,
            maker_user_id=maker.user_id,
            taker_order_id=taker.id,
            maker_order_id=maker.id,
        )
        buyer, seller = (taker, maker) if taker.side is Side.BUY else (maker, taker)
        self._move_cash(trade, buyer, seller, maker)
        self._move_shares(trade, buyer, seller, maker)
        self.consume(maker, fill.quantity, fill.maker_remaining)
        self.market.outcome(taker.outcome_id).last_trade_cents = fill.price_cents
        self.market.volume_cents += notional
        self._record(trade)
        return trade

    def consume(self, maker: Order, quantity: int, remaining: int) -> None:
        """A resting order filled ``quantity`` more; ``remaining`` is what the book kept."""
        maker.filled_quantity += quantity
        maker.status = OrderStatus.FILLED if remaining == 0 else OrderStatus.PARTIALLY_FILLED
        self.changed(maker)

    def _record(self, trade: Trade) -> None:
        self.trades.append(trade)
        self.events.append(TradeExecuted(trade))

    def _move_cash(self, trade: Trade, buyer: Order, seller: Order, maker: Order) -> None:
        refs = {"market_id": trade.market_id, "trade_id": trade.id}
        if buyer is maker:
            source = ledger.reserved(buyer.user_id)
            buyer.reserved_cents -= trade.notional_cents
        else:
            source = ledger.cash(buyer.user_id)
        self.journal.move(
            source, ledger.cash(seller.user_id), trade.notional_cents, Reason.TRADE, **refs
        )
        taker_cash = ledger.cash(trade.taker_user_id)
        self.journal.move(
            taker_cash, ledger.fees(trade.market_id), trade.fee_cents, Reason.FEE, **refs
        )

    def _move_shares(self, trade: Trade, buyer: Order, seller: Order, maker: Order) -> None:
        selling = self.position(seller.user_id, trade.outcome_id)
        if seller is maker:
            shares.remove_reserved_shares(selling, trade.quantity, trade.notional_cents)
        else:
            proceeds = trade.notional_cents - trade.fee_cents
            shares.remove_shares(selling, trade.quantity, proceeds)
        buying = self.position(buyer.user_id, trade.outcome_id)
        shares.add_shares(buying, trade.quantity, trade.notional_cents)
