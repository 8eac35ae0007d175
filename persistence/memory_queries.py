"""The read model over the in-memory store (committed state only)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TypeVar

from domain.keys import ApiKey, KeyHolder
from domain.model import (
    Market,
    Order,
    OrderStatus,
    Position,
    PricePoint,
    SettledPosition,
    Trade,
    User,
)
from domain.queries import Cursor, MarketQuery, MarketSort, Page
from persistence.memory import MemoryStore

T = TypeVar("T")


def _page(
    rows: Iterable[T],
    key: Callable[[T], tuple[datetime, str]],
    first: int,
    after: Cursor | None,
    *,
    newest_first: bool = True,
) -> Page[T]:
    ordered = sorted(rows, key=key, reverse=newest_first)
    total = len(ordered)
    if after is not None:
        seen = (after.at, after.id)
        ordered = [row for row in ordered if (key(row) < seen) == newest_first and key(row) != seen]
    items = ordered[:first]
    return Page([copy.deepcopy(row) for row in items], len(ordered) > first, total)


class InMemoryReadModel:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def users_by_ids(self, ids: Sequence[str]) -> list[User]:
        users = self._store.state.users
        return [copy.copy(users[i]) for i in ids if i in users]

    async def user_by_username(self, username: str) -> User | None:
        found = (u for u in self._store.state.users.values() if u.username == username)
        return copy.copy(next(found, None))

    async def markets_by_ids(self, ids: Sequence[str]) -> list[Market]:
        found = self._store.state.markets
        return [copy.deepcopy(found[i]) for i in ids if i in found]

    async def markets_page(
        self, wanted: MarketQuery, first: int, after: Cursor | None
    ) -> Page[Market]:
        rows = [m for m in self._store.state.markets.values() if wanted.matches(m)]
        if wanted.sort is MarketSort.CLOSING_SOON:
            return _page(rows, lambda m: (m.closes_at, m.id), first, after, newest_first=False)
        return _page(rows, lambda m: (m.created_at, m.id), first, after)

    async def orders_page(
        self,
        user_id: str,
        status: OrderStatus | None,
        market_id: str | None,
        first: int,
        after: Cursor | None,
    ) -> Page[Order]:
        rows = [
            o
            for o in self._store.state.orders.values()
            if o.user_id == user_id
            and status in (None, o.status)
            and market_id in (None, o.market_id)
        ]
        return _page(rows, lambda o: (o.created_at, o.id), first, after)

    async def trades_page(
        self, user_id: str, market_id: str | None, first: int, after: Cursor | None
    ) -> Page[Trade]:
        rows = [
            t
            for t in self._store.state.trades
            if (user_id == t.maker_user_id or (user_id == t.taker_user_id and not t.is_leg))
            and market_id in (None, t.market_id)
        ]
        return _page(rows, lambda t: (t.executed_at, t.id), first, after)

    async def settlements_page(
        self, user_id: str, first: int, after: Cursor | None
    ) -> Page[SettledPosition]:
        rows = [s for s in self._store.state.settlements if s.user_id == user_id]
        return _page(rows, lambda s: (s.settled_at, s.id), first, after)

    async def trades_for_orders(self, order_ids: Sequence[str]) -> dict[str, list[Trade]]:
        wanted = set(order_ids)
        result: dict[str, list[Trade]] = {i: [] for i in order_ids}
        for trade in self._store.state.trades:
            for order_id in (trade.taker_order_id, trade.maker_order_id):
                if order_id in wanted:
                    result[order_id].append(trade)
        return result

    async def recent_trades(self, market_id: str, limit: int) -> list[Trade]:
        rows = [t for t in self._store.state.trades if t.market_id == market_id]
        return rows[::-1][:limit]

    async def orders_by_ids(self, ids: Sequence[str]) -> list[Order]:
        found = self._store.state.orders
        return [copy.copy(found[i]) for i in ids if i in found]

    async def resting_orders(self, market_id: str, outcome_id: str | None = None) -> list[Order]:
        rows = [
            o
            for o in self._store.state.orders.values()
            if o.is_resting and o.market_id == market_id and outcome_id in (None, o.outcome_id)
        ]
        return sorted((copy.copy(o) for o in rows), key=lambda o: o.sequence)

    async def positions(
        self, user_id: str, market_id: str | None, *, closed: bool = False
    ) -> list[Position]:
        return [
            copy.copy(p)
            for p in self._store.state.positions.values()
            if p.user_id == user_id
            and (p.shares or (closed and p.realized_pnl_cents))
            and market_id in (None, p.market_id)
        ]

    async def price_history(self, market_id: str, since: datetime | None) -> list[PricePoint]:
        return [
            p
            for p in self._store.state.price_history
            if p.market_id == market_id and (since is None or p.at >= since)
        ]

    async def api_key_holder(self, digest: str) -> KeyHolder | None:
        state = self._store.state
        key = next((k for k in state.api_keys.values() if k.digest == digest), None)
        if key is None or key.user_id not in state.users:
            return None
        user = state.users[key.user_id]
        return KeyHolder(copy.copy(key), user.is_active, user.is_admin)

    async def api_keys(self, user_id: str) -> list[ApiKey]:
        mine = [copy.copy(k) for k in self._store.state.api_keys.values() if k.user_id == user_id]
        return sorted(mine, key=lambda k: (k.created_at, k.id), reverse=True)
