"""Cursor connections: newest first, opaque cursors, at most 100 per page.

One generic :class:`Connection` (edges, page info, total count); a listed type is a
subclass naming its node and its description, and ``from_domain`` says which time
orders the items."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Generic, Protocol, Self, TypeVar

import strawberry

from domain import model
from domain.queries import MarketSort, Page
from schema.pagination import encode_cursor
from schema.types.markets import Market
from schema.types.trading import Order, Trade

NodeT = TypeVar("NodeT")


class _Listed(Protocol):
    @property
    def id(self) -> str: ...


ItemT = TypeVar("ItemT", bound=_Listed)


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    node: NodeT
    cursor: str


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    total_count: int

    @classmethod
    def of(
        cls,
        page: Page[ItemT],
        node: Callable[[ItemT], NodeT],
        when: Callable[[ItemT], datetime],
    ) -> Self:
        """A page of domain items as a connection; the cursor is (``when(item)``, id)."""
        edges = [
            Edge(node=node(item), cursor=encode_cursor(when(item), item.id)) for item in page.items
        ]
        end = edges[-1].cursor if edges else None
        return cls(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=end),
            total_count=page.total_count,
        )


@strawberry.type(description="Markets in the order asked for (newest first by default).")
class MarketConnection(Connection[Market]):
    @classmethod
    def from_domain(
        cls, page: Page[model.Market], sort: MarketSort = MarketSort.NEWEST
    ) -> MarketConnection:
        closing = sort is MarketSort.CLOSING_SOON
        return cls.of(page, Market.from_domain, lambda m: m.closes_at if closing else m.created_at)


@strawberry.type(description="Orders, newest first.")
class OrderConnection(Connection[Order]):
    @classmethod
    def from_domain(cls, page: Page[model.Order]) -> OrderConnection:
        return cls.of(page, Order.from_domain, lambda o: o.created_at)


@strawberry.type(description="Trades, newest first.")
class TradeConnection(Connection[Trade]):
    @classmethod
    def from_domain(cls, page: Page[model.Trade]) -> TradeConnection:
        return cls.of(page, Trade.from_domain, lambda t: t.executed_at)
