"""The private feeds' views: the caller's fills (``myFills``) and account (``myAccount``)."""

from __future__ import annotations

import strawberry

from domain.events import AccountChanged, FillExecuted
from schema.context import Info
from schema.enums import OrderSide
from schema.types.accounts import User
from schema.types.trading import Order, Position, Trade, load_positions


@strawberry.type(description="One fill of the caller's, maker or taker, book or market maker.")
class Fill:
    trade: Trade
    side: OrderSide = strawberry.field(description="The caller's side.")
    price_cents: int = strawberry.field(description="The caller's price per share.")
    quantity: int
    fee_cents: int = strawberry.field(description="The caller's fee (makers pay none).")
    is_maker: bool
    sequence: int = strawberry.field(
        description="+1 per fill of this user; stored, so the same on every worker and "
        "after a restart: a gap means a fill was missed."
    )
    order_id: strawberry.Private[str | None]

    @classmethod
    def from_domain(cls, event: FillExecuted) -> Fill:
        return cls(
            trade=Trade.from_domain(event.trade),
            side=OrderSide(event.side.value),
            price_cents=event.price_cents,
            quantity=event.quantity,
            fee_cents=event.fee_cents,
            is_maker=event.is_maker,
            sequence=event.sequence,
            order_id=event.order_id,
        )

    @strawberry.field(description="Null for a market-maker fill without an order.")
    async def order(self, info: Info) -> Order | None:
        if self.order_id is None:
            return None
        found = await info.context.reads.orders_by_ids([self.order_id])
        return Order.from_domain(found[0]) if found else None


@strawberry.type(description="The caller's balances and positions, read after a change.")
class AccountUpdate:
    user_id: strawberry.Private[str]
    sequence: int = strawberry.field(
        description="0 for the state sent on subscribe, then +1 per update this worker sent."
    )

    @classmethod
    def from_domain(cls, event: AccountChanged, number: int) -> AccountUpdate:
        return cls(user_id=event.user_id, sequence=number)

    @strawberry.field
    async def user(self, info: Info) -> User:
        return User.from_domain(await info.context.user(self.user_id))

    @strawberry.field
    async def positions(self, info: Info) -> list[Position]:
        return await load_positions(info, self.user_id)
