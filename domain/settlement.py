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
from datetime import datetime

from domain import ledger
from domain import positions as shares
from domain.book_types import CrossFill, Fill
from domain.events import DomainEvent, OrderChanged, TradeExecuted
from domain.ledger import Journal, Reason
from domain.model import SHARE_PAYOUT_CENTS, Market, Order, OrderStatus, Position, Side, Trade

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
        self.events.append(OrderChanged(order.copy()))

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
        trade = self._trade(
            taker, maker, taker.outcome_id, fill.price_cents, fill.quantity, fill.fee_cents
        )
        buyer, seller = (taker, maker) if taker.side is Side.BUY else (maker, taker)
        self._move_cash(trade, buyer, seller, maker)
        self._move_shares(trade, buyer, seller, maker)
        self.consume(maker, fill.quantity, fill.maker_remaining)
        self._traded(trade)
        return trade

    def cross(self, taker: Order, makers: list[Order], fill: CrossFill) -> list[Trade]:
        """Settle a mint (taker BUY) or merge (taker SELL) of ``fill.quantity`` sets: one
        Trade per leg at that leg's price, the taker's at 100 minus the makers' prices.

        A mint: every buyer pays its price into the pool (makers from their
        reservations), the pool passes any surplus beyond 100 a set to the fee account,
        and each buyer gets its outcome's shares. A merge: every seller gives its
        shares (makers' reserved ones) and receives its price from the pool."""
        q = fill.quantity
        trades = [self._trade(taker, None, taker.outcome_id, fill.price_cents, q, fill.fee_cents)]
        trades += [
            self._trade(taker, maker, maker.outcome_id, leg.price_cents, q, 0)
            for maker, leg in zip(makers, fill.legs, strict=True)
        ]
        reason = Reason.MINT_MATCH if fill.mint else Reason.MERGE_MATCH
        pool, market_id = ledger.pool(self.market.id), self.market.id
        for order, trade in zip([taker, *makers], trades, strict=True):
            refs = {"market_id": market_id, "trade_id": trade.id}
            is_maker = order is not taker
            position = self.position(order.user_id, order.outcome_id)
            if fill.mint:
                source = ledger.reserved if is_maker else ledger.cash
                self.journal.move(source(order.user_id), pool, trade.notional_cents, reason, **refs)
                if is_maker:
                    order.reserved_cents -= trade.notional_cents
                shares.add_shares(position, q, trade.notional_cents)
            else:
                self.journal.move(
                    pool, ledger.cash(order.user_id), trade.notional_cents, reason, **refs
                )
                take = shares.remove_reserved_shares if is_maker else shares.remove_shares
                take(position, q, trade.notional_cents)
        refs = {"market_id": market_id, "trade_id": trades[0].id}
        self.journal.move(pool, ledger.fees(market_id), fill.surplus_cents * q, Reason.FEE, **refs)
        self.journal.move(
            ledger.cash(taker.user_id), ledger.fees(market_id), fill.fee_cents, Reason.FEE, **refs
        )
        for outcome in self.market.outcomes:
            outcome.shares_outstanding += q if fill.mint else -q
        for maker, leg in zip(makers, fill.legs, strict=True):
            self.consume(maker, q, leg.maker_remaining)
        for trade in trades:
            self._traded(trade)
        return trades

    def _trade(
        self, taker: Order, maker: Order | None, outcome_id: str, price: int, q: int, fee: int
    ) -> Trade:
        """A trade of one order: a direct fill (the maker and the taker on ``outcome_id``),
        or a leg of a cross fill, tied to its one order (``maker`` None: the taker's leg;
        a maker's leg on another outcome names the taker's user but not its order)."""
        return Trade(
            id=self.new_id(),
            market_id=self.market.id,
            outcome_id=outcome_id,
            price_cents=price,
            quantity=q,
            is_amm=False,
            taker_side=taker.side,
            taker_user_id=taker.user_id,
            executed_at=self.now,
            notional_cents=price * q,
            fee_cents=fee,
            maker_user_id=None if maker is None else maker.user_id,
            taker_order_id=taker.id if taker.outcome_id == outcome_id else None,
            maker_order_id=None if maker is None else maker.id,
        )

    def consume(self, maker: Order, quantity: int, remaining: int) -> None:
        """A resting order filled ``quantity`` more; ``remaining`` is what the book kept."""
        maker.filled_quantity += quantity
        maker.status = OrderStatus.FILLED if remaining == 0 else OrderStatus.PARTIALLY_FILLED
        self.changed(maker)

    def _traded(self, trade: Trade) -> None:
        """Record a trade. In a binary market a trade of one outcome at p is the other's
        at 100 - p (one book), so both outcomes' last trade prices move."""
        for outcome in self.market.outcomes:
            if outcome.id == trade.outcome_id:
                outcome.last_trade_cents = trade.price_cents
            elif len(self.market.outcomes) == 2:
                outcome.last_trade_cents = SHARE_PAYOUT_CENTS - trade.price_cents
        self.market.volume_cents += trade.notional_cents
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
