"""A trade's fills: each side of it as that side's user sees it (``myFills``).

The taker's fill carries the taker's side and fee; the maker's (when a user
made the other side, not the market maker) the opposite side and no fee.
Both are at the trade's price per share.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import FillExecuted
from domain.ledger import AccountKind
from domain.model import Side, Trade

USER_ACCOUNT_KINDS = frozenset({AccountKind.CASH, AccountKind.BONUS, AccountKind.RESERVED})


@dataclass(frozen=True, slots=True)
class Fill:
    user_id: str
    trade: Trade
    is_maker: bool

    def event(self, sequence: int) -> FillExecuted:
        trade = self.trade
        if self.is_maker:
            side = Side.SELL if trade.taker_side is Side.BUY else Side.BUY
            if trade.is_leg:  # a mint's legs all buy, a merge's all sell
                side = trade.taker_side
            order_id, fee = trade.maker_order_id, 0
        else:
            side, order_id, fee = trade.taker_side, trade.taker_order_id, trade.fee_cents
        return FillExecuted(
            user_id=self.user_id,
            trade=trade,
            order_id=order_id,
            side=side,
            price_cents=trade.price_cents,
            quantity=trade.quantity,
            fee_cents=fee,
            is_maker=self.is_maker,
            sequence=sequence,
        )


def fills_by_user(trades: list[Trade]) -> dict[str, list[Fill]]:
    """Every fill of ``trades``, per user, in trade order."""
    fills: dict[str, list[Fill]] = {}
    for trade in trades:
        if not trade.is_leg:
            taker = Fill(trade.taker_user_id, trade, False)
            fills.setdefault(trade.taker_user_id, []).append(taker)
        if trade.maker_user_id is not None:
            maker = Fill(trade.maker_user_id, trade, True)
            fills.setdefault(trade.maker_user_id, []).append(maker)
    return fills
