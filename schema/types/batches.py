"""Results of batch order operations: one per item, the order or the item's error."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.errors import DomainError
from domain.services.order_batches import ItemResult
from schema.types.trading import Order


@strawberry.type(description="Why one item of a batch failed: a code of the error table.")
class OperationError:
    code: str
    message: str

    @classmethod
    def from_domain(cls, error: DomainError | None) -> OperationError | None:
        return None if error is None else cls(code=error.code, message=error.message)


def _order(result: ItemResult) -> Order | None:
    return None if result.order is None else Order.from_domain(result.order)


@strawberry.type(description="One input of placeOrders: the order, or the error (never both).")
class PlaceOrderResult:
    order: Order | None
    error: OperationError | None

    @classmethod
    def from_domain(cls, result: ItemResult) -> PlaceOrderResult:
        return cls(order=_order(result), error=OperationError.from_domain(result.error))


@strawberry.type(description="One id of cancelOrders: the cancelled order, or the error.")
class CancelOrderResult:
    id: strawberry.ID
    order: Order | None
    error: OperationError | None

    @classmethod
    def from_domain(cls, order_id: str, result: ItemResult) -> CancelOrderResult:
        return cls(
            id=strawberry.ID(order_id),
            order=_order(result),
            error=OperationError.from_domain(result.error),
        )


@strawberry.type(description="The dead-man switch: open orders are cancelled at expiresAt.")
class Heartbeat:
    timeout_seconds: int = strawberry.field(description="0: switched off.")
    expires_at: datetime | None = strawberry.field(
        description="When every open order is cancelled unless another heartbeat comes first."
    )
