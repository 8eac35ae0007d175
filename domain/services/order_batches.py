"""Orders in batches: place up to 100, cancel up to 1,000, cancel all (PRODUCT.md s. 11).

A batch is one transaction: it locks each market it names once (in id order,
as every command that locks several markets does), loads each market's books
once, and runs its items in order against them. An item that fails raises a
DomainError before changing anything, so the other items stand; with
``atomic`` the first failure rolls the whole batch back instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from domain.errors import DomainError, Forbidden, NotFound, OrderNotCancellable, QueryTooComplex
from domain.model import Market, MarketStatus, Order, OrderStatus, User
from domain.services.books import LoadedBooks, load_books
from domain.services.context import ServiceContext
from domain.services.orders import (
    PlaceOrder,
    announce,
    first_with_client_id,
    not_resting,
    place_in,
    repeat_of,
)
from domain.services.work import Work

MAX_PLACE_BATCH = 100
MAX_CANCEL_BATCH = 1_000


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One item of a batch: its order, or the error that refused it."""

    order: Order | None
    error: DomainError | None = None


def within(count: int, limit: int, what: str = "orders") -> None:
    """QUERY_TOO_COMPLEX for a batch of more than ``limit`` items."""
    if count > limit:
        raise QueryTooComplex(f"at most {limit} {what} in one request; got {count}")


def _item_error(index: int, error: DomainError) -> DomainError:
    """The atomic batch's error: the item's code, its 0-based index in the message."""
    failed = type(error)(f"item {index}: {error.message}")
    return failed


class _Batch:
    """The markets and books a batch has locked and loaded, each once."""

    def __init__(self, work: Work) -> None:
        self.work = work
        self.markets: dict[str, Market] = {}
        self.books: dict[str, LoadedBooks] = {}
        self.last_price: dict[str, int | None] = {}

    async def lock(self, market_ids: Iterable[str]) -> None:
        """Lock the markets that exist, in id order; unknown ids fail their items later."""
        for market_id in sorted(set(market_ids)):
            try:
                self.markets[market_id] = await self.work.market(market_id)
            except NotFound:
                continue

    def market(self, market_id: str) -> Market:
        market = self.markets.get(market_id)
        if market is None:
            raise NotFound(f"no market {market_id}")
        return market

    async def loaded(self, market: Market) -> LoadedBooks:
        if market.id not in self.books:
            self.books[market.id] = await load_books(self.work, market)
        return self.books[market.id]

    def traded(self, market_id: str, last: int | None) -> None:
        if last is not None or market_id not in self.last_price:
            self.last_price[market_id] = last

    def announce(self) -> None:
        for market_id, loaded in self.books.items():
            announce(self.work, loaded, self.last_price.get(market_id))


async def place_orders(
    ctx: ServiceContext, actor_id: str, commands: Sequence[PlaceOrder], *, atomic: bool = False
) -> list[ItemResult]:
    """Place each order in turn: one result per command, in order."""
    within(len(commands), MAX_PLACE_BATCH, "orders")
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        batch = _Batch(work)
        await batch.lock(command.market_id for command in commands)
        user = await work.actor(actor_id)
        results: list[ItemResult] = []
        by_client_id: dict[str, Order] = {}
        for index, command in enumerate(commands):
            try:
                order = await _place_one(batch, user, command, by_client_id)
            except DomainError as error:
                if atomic:
                    raise _item_error(index, error) from None
                results.append(ItemResult(None, error))
            else:
                results.append(ItemResult(order))
        batch.announce()
        await work.commit()
        return results


async def _place_one(
    batch: _Batch, user: User, command: PlaceOrder, by_client_id: dict[str, Order]
) -> Order:
    key = command.client_order_id
    if key is not None and key in by_client_id:  # a repeat within the batch
        return repeat_of(by_client_id[key], command)
    market = batch.market(command.market_id)
    first = await first_with_client_id(batch.work, user, command)
    if first is not None:
        return first
    market.outcome(command.outcome_id)
    order, last = await place_in(batch.work, await batch.loaded(market), user, command)
    batch.traded(market.id, last)
    if key is not None:
        by_client_id[key] = order
    return order


async def cancel_orders(
    ctx: ServiceContext, actor_id: str, order_ids: Sequence[str]
) -> list[ItemResult]:
    """Cancel each order: one result per id, in order (NOT_FOUND, FORBIDDEN,
    ORDER_NOT_CANCELLABLE for the ones that cannot be)."""
    within(len(order_ids), MAX_CANCEL_BATCH, "orders")
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        found = {order.id: order for order in await uow.orders.resting_for_user(actor_id)}
        for order_id in set(order_ids) - found.keys():
            stored = await uow.orders.get(order_id)
            if stored is not None:
                found[order_id] = stored
        batch = _Batch(work)
        await batch.lock(found[i].market_id for i in order_ids if i in found)
        user = await work.actor(actor_id)
        ended: list[Order] = []
        results = [await _cancel_one(batch, user, found.get(i), i, ended) for i in order_ids]
        await _end(work, ended)
        batch.announce()
        await work.commit()
        return results


async def _cancel_one(
    batch: _Batch, user: User, found: Order | None, order_id: str, ended: list[Order]
) -> ItemResult:
    if found is None:
        return ItemResult(None, NotFound(f"no order {order_id}"))
    if found.user_id != user.id:
        return ItemResult(None, Forbidden("only the order's owner may cancel it"))
    loaded = await batch.loaded(batch.market(found.market_id))
    order = loaded.orders.pop(order_id, None)
    if order is None:
        if any(done.id == order_id for done in ended):
            return ItemResult(None, OrderNotCancellable(f"order {order_id} is cancelled"))
        return ItemResult(None, await not_resting(batch.work, order_id))
    loaded.book(order.outcome_id).cancel(order_id)
    loaded.touched.add(order.outcome_id)
    ended.append(order)
    return ItemResult(order)


async def _end(work: Work, orders: list[Order]) -> None:
    """Cancel ``orders`` (already out of their books), releasing what they reserve."""
    by_market: dict[str, list[Order]] = {}
    for order in orders:
        by_market.setdefault(order.market_id, []).append(order)
    for market_id, mine in by_market.items():
        settle = await work.settlement(await work.market(market_id), mine)
        for order in mine:
            settle.end(order, OrderStatus.CANCELLED)


async def cancel_all_orders(
    ctx: ServiceContext, actor_id: str, market_id: str | None = None
) -> list[Order]:
    """Cancel every open order of the actor (in one market, or everywhere)."""
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        if market_id is not None:
            await work.market(market_id)  # NOT_FOUND for an unknown market
        await work.actor(actor_id)
        cancelled = await cancel_all_of(work, actor_id, market_id)
        await work.commit()
        return cancelled


async def cancel_all_of(work: Work, user_id: str, market_id: str | None = None) -> list[Order]:
    """Cancel every resting order of ``user_id`` (in ``market_id`` or everywhere) within
    ``work``: the markets are locked in id order before any balance is read."""
    resting = await work.uow.orders.resting_for_user(user_id)
    market_ids = sorted({o.market_id for o in resting if market_id in (None, o.market_id)})
    batch = _Batch(work)
    await batch.lock(market_ids)
    await work.load_users([user_id])
    cancelled: list[Order] = []
    for found in market_ids:
        loaded = await batch.loaded(batch.market(found))
        mine = [order for order in loaded.orders.values() if order.user_id == user_id]
        for order in mine:
            del loaded.orders[order.id]
            loaded.book(order.outcome_id).cancel(order.id)
            loaded.touched.add(order.outcome_id)
        cancelled.extend(mine)
    await _end(work, cancelled)
    for loaded in batch.books.values():
        if loaded.touched:
            loaded.refresh_tops(work)
            if loaded.market.status is MarketStatus.OPEN:
                work.prices_changed(loaded.market)
    return cancelled
