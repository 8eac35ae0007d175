"""Cursor connections: newest first, opaque cursors, at most 100 per page."""

from __future__ import annotations

import strawberry

from domain import model
from domain.queries import MarketSort, Page
from schema.pagination import encode_cursor
from schema.types.markets import Market
from schema.types.trading import Order, Trade


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class MarketEdge:
    node: Market
    cursor: str


@strawberry.type(description="Markets in the order asked for (newest first by default).")
class MarketConnection:
    edges: list[MarketEdge]
    page_info: PageInfo
    total_count: int

    @classmethod
    def from_domain(
        cls, page: Page[model.Market], sort: MarketSort = MarketSort.NEWEST
    ) -> MarketConnection:
        def cursor(m: model.Market) -> str:
            at = m.closes_at if sort is MarketSort.CLOSING_SOON else m.created_at
            return encode_cursor(at, m.id)

        edges = [MarketEdge(node=Market.from_domain(m), cursor=cursor(m)) for m in page.items]
        end = edges[-1].cursor if edges else None
        return cls(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=end),
            total_count=page.total_count,
        )


@strawberry.type
class OrderEdge:
    node: Order
    cursor: str


@strawberry.type(description="Orders, newest first.")
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo
    total_count: int

    @classmethod
    def from_domain(cls, page: Page[model.Order]) -> OrderConnection:
        edges = [
            OrderEdge(node=Order.from_domain(o), cursor=encode_cursor(o.created_at, o.id))
            for o in page.items
        ]
        end = edges[-1].cursor if edges else None
        return cls(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=end),
            total_count=page.total_count,
        )


@strawberry.type
class TradeEdge:
    node: Trade
    cursor: str


@strawberry.type(description="Trades, newest first.")
class TradeConnection:
    edges: list[TradeEdge]
    page_info: PageInfo
    total_count: int

    @classmethod
    def from_domain(cls, page: Page[model.Trade]) -> TradeConnection:
        edges = [
            TradeEdge(node=Trade.from_domain(t), cursor=encode_cursor(t.executed_at, t.id))
            for t in page.items
        ]
        end = edges[-1].cursor if edges else None
        return cls(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=end),
            total_count=page.total_count,
        )
