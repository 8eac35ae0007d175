"""One command's working set: the entities it loaded, its journal, its events.

``Work`` is an identity map over a unit of work. Every user, market, position
and order a command touches is loaded through it once, and ``commit`` saves
them all, writes the journal's ledger entries and hands the events to the unit
of work, which publishes them only after the transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from domain import markets as market_rules
from domain.errors import InvariantViolation, NotFound, Unauthenticated
from domain.events import (
    AccountChanged,
    DomainEvent,
    FillExecuted,
    OrderChanged,
    PricesChanged,
    TradeExecuted,
    conflated,
)
from domain.fills import USER_ACCOUNT_KINDS, fills_by_user
from domain.ledger import Journal
from domain.model import (
    Market,
    Order,
    Platform,
    Position,
    PricePoint,
    SettledPosition,
    Trade,
    User,
)
from domain.ports import UnitOfWork
from domain.settlement import Settlement

if TYPE_CHECKING:
    from domain.services.books import LoadedBooks
    from domain.services.context import ServiceContext


class Work:
    """One command's working set, or a batch's (:mod:`domain.services.batching`): the
    commands of a batch share it, so each sees the ones before it (one ``now``)."""

    def __init__(self, ctx: ServiceContext, uow: UnitOfWork, now: datetime | None = None) -> None:
        self.ctx = ctx
        self.uow = uow
        self.now: datetime = ctx.clock.now() if now is None else now
        self.journal = Journal(self.now, ctx.ids.new_id)
        self._users: dict[str, User] = {}
        self._markets: dict[str, Market] = {}
        self._positions: dict[tuple[str, str], Position] = {}
        self._orders: dict[str, Order] = {}
        self._trades: list[Trade] = []
        self._settled: list[SettledPosition] = []
        self._platform: Platform | None = None
        self._events: list[DomainEvent] = []
        self._points: dict[str, PricePoint] = {}
        """Each market's last price point: a batch's commands share one ``now``."""
        self._created: set[str] = set()
        self._actors: set[str] = set()
        self._holdings_loaded: set[tuple[str, str]] = set()
        self._client_ids: dict[tuple[str, str], Order] = {}
        self._at_commit: dict[Hashable, Callable[[datetime], Iterable[DomainEvent]]] = {}
        self.books: dict[str, LoadedBooks] = {}
        """Each market's books once loaded (``books.load_books``), shared by its commands."""

    def new_id(self) -> str:
        return self.ctx.ids.new_id()

    async def user(self, user_id: str) -> User:
        if user_id not in self._users:
            user = await self.uow.users.get(user_id)
            if user is None:
                raise NotFound(f"no user {user_id}")
            self.attach_user(user)
        return self._users[user_id]

    async def load_users(self, user_ids: Iterable[str]) -> None:
        """Load, in one query, every user of ``user_ids`` not loaded yet."""
        missing = sorted(set(user_ids) - self._users.keys())
        if missing:
            for user in await self.uow.users.get_many(missing):
                self.attach_user(user)

    def attach_user(self, user: User, *, new: bool = False) -> None:
        if new:
            self._created.add(user.id)
        self._users[user.id] = user
        self.journal.attach_user(user)

    async def actor(self, user_id: str) -> User:
        """The signed-in user making the command; must exist and be active."""
        try:
            user = await self.user(user_id)
        except NotFound:
            raise Unauthenticated("the signed-in user no longer exists") from None
        if not user.is_active:
            raise Unauthenticated("this account is deactivated")
        self._actors.add(user.id)
        return user

    async def market(self, market_id: str) -> Market:
        """The market, locked for the rest of the transaction.

        Commands lock their market before loading any user, so that the balances
        they read already include every earlier command in that market.
        """
        if market_id not in self._markets:
            market = await self.uow.markets.get_for_update(market_id)
            if market is None:
                raise NotFound(f"no market {market_id}")
            self.attach_market(market)
        return self._markets[market_id]

    async def market_holding(self, market_id: str, user_ids: Iterable[str]) -> Market:
        """:meth:`market`, locked, with the users of ``user_ids`` and their positions in it
        as :meth:`load_holders` loads them if the repository could read them with the lock
        (on PostgreSQL: unless someone else held it since the statement's snapshot), in
        one round trip; else :meth:`load_holders` reads them once the caller asks."""
        if market_id in self._markets:
            return self._markets[market_id]
        new = sorted(set(user_ids) - self._users.keys())
        found = await self.uow.markets.get_for_update_holding(market_id, new)
        if found is None:
            raise NotFound(f"no market {market_id}")
        market, holders = found
        self.attach_market(market)
        if holders is not None:
            self._attach_holders(market, new, *holders)
        return market

    def attach_market(self, market: Market, *, new: bool = False) -> None:
        if new:
            self._created.add(market.id)
        self._markets[market.id] = market
        self.journal.attach_market(market)

    async def platform(self) -> Platform:
        if self._platform is None:
            self._platform = await self.uow.platform.get()
            self.journal.attach_platform(self._platform)
        return self._platform

    async def position(self, user_id: str, market_id: str, outcome_id: str) -> Position:
        key = (user_id, outcome_id)
        if key not in self._positions:
            found = await self.uow.positions.get(user_id, outcome_id)
            self._positions[key] = found or Position(user_id, market_id, outcome_id)
        return self._positions[key]

    async def positions(self, user_id: str, market: Market) -> list[Position]:
        """The user's position in each of the market's outcomes, in outcome order.

        Loads them with one query unless every one is already tracked.
        """
        keys = [(user_id, outcome.id) for outcome in market.outcomes]
        if (user_id, market.id) in self._holdings_loaded:
            return [self.holding(market.id, user_id, outcome_id) for _, outcome_id in keys]
        if any(key not in self._positions for key in keys):
            for found in await self.uow.positions.for_user(user_id, market.id):
                self._positions.setdefault((user_id, found.outcome_id), found)
            for _, outcome_id in keys:
                self._positions.setdefault(
                    (user_id, outcome_id), Position(user_id, market.id, outcome_id)
                )
        return [self._positions[key] for key in keys]

    async def load_holdings(self, market: Market, user_ids: Iterable[str]) -> None:
        """Load, in one query, the positions in ``market`` of every user of ``user_ids``
        whose positions there are not loaded yet; tracked positions are kept."""
        missing = sorted({u for u in user_ids if (u, market.id) not in self._holdings_loaded})
        if not missing:
            return
        for found in await self.uow.positions.of_users(market.id, missing):
            self._positions.setdefault((found.user_id, found.outcome_id), found)
        self._holdings_loaded.update((u, market.id) for u in missing)

    async def load_holders(self, market: Market, user_ids: Iterable[str]) -> None:
        """:meth:`load_users` and :meth:`load_holdings` of ``user_ids``: the users not
        loaded yet come with their positions in ``market`` (one query for both)."""
        new = sorted(set(user_ids) - self._users.keys())
        if new:
            users, positions = await self.uow.users.get_many_holding(market.id, new)
            self._attach_holders(market, new, users, positions)
        await self.load_holdings(market, user_ids)

    def _attach_holders(
        self, market: Market, user_ids: list[str], users: list[User], positions: list[Position]
    ) -> None:
        """Track users read with their positions in ``market`` (all of ``user_ids``')."""
        for user in users:
            self.attach_user(user)
        for found in positions:
            self._positions.setdefault((found.user_id, found.outcome_id), found)
        self._holdings_loaded.update((u, market.id) for u in user_ids)

    def holding(self, market_id: str, user_id: str, outcome_id: str) -> Position:
        """A position loaded by :meth:`load_holdings` (or tracked earlier), without I/O."""
        key = (user_id, outcome_id)
        if key not in self._positions:
            if (user_id, market_id) not in self._holdings_loaded:
                raise InvariantViolation(f"position {key} was not loaded before settlement")
            self._positions[key] = Position(user_id, market_id, outcome_id)
        return self._positions[key]

    async def settlement(self, market: Market, orders: Iterable[Order]) -> Settlement:
        """A :class:`Settlement` for ``market`` once the users and positions of ``orders``
        (and the actor) are loaded, in one query."""
        user_ids = {order.user_id for order in orders} | self._actors
        await self.load_holders(market, user_ids)
        return Settlement(
            market,
            self.journal,
            lambda user_id, outcome_id: self.holding(market.id, user_id, outcome_id),
            new_id=self.new_id,
            events=self._events,
            trades=self._trades,
        )

    def track_position(self, position: Position) -> Position:
        key = (position.user_id, position.outcome_id)
        return self._positions.setdefault(key, position)

    def track_order(self, order: Order, *, new: bool = False) -> Order:
        tracked = self._orders.setdefault(order.id, order)
        if new:
            self._created.add(order.id)
            if order.client_order_id is not None:
                self._client_ids[(order.user_id, order.client_order_id)] = order
        return tracked

    def tracked_order(self, order_id: str) -> Order | None:
        """The order as this work has it (changed by an earlier command of the batch)."""
        return self._orders.get(order_id)

    def placed_with(self, user_id: str, client_order_id: str) -> Order | None:
        """The order this work placed for ``user_id`` with ``client_order_id``, if any
        (an earlier command of the batch: not stored yet)."""
        return self._client_ids.get((user_id, client_order_id))

    def order_changed(self, order: Order) -> None:
        order.updated_at = self.now
        self.track_order(order)
        self.emit(OrderChanged(order.copy()))

    def add_trade(self, trade: Trade) -> None:
        self._trades.append(trade)

    def add_settled(self, settled: SettledPosition) -> None:
        self._settled.append(settled)

    def emit(self, event: DomainEvent) -> None:
        self._events.append(event)

    def announce_at_commit(
        self, key: Hashable, events: Callable[[datetime], Iterable[DomainEvent]]
    ) -> None:
        """Announce ``events(now)`` at the commit, made from the state the transaction
        ends with; of several under one ``key``, the last (a market's books: viewed once,
        however many commands of a batch changed them)."""
        self._at_commit[key] = events

    def prices_changed(
        self, market: Market, last_trade_cents: int | None = None
    ) -> tuple[float, ...]:
        """Record the market's price point and announce its new prices; returns them.

        One point per market per transaction, its last state (as its ``PricesChanged`` is
        conflated): the commands of a batch share one ``now``, so points between its first
        and last would be indistinguishable on a chart (docs/PERSISTENCE.md)."""
        prices = market_rules.current_prices(market)
        market.price_sequence += 1
        self._points[market.id] = PricePoint(market.id, self.now, prices)
        self.emit(
            PricesChanged(
                market_id=market.id,
                prices=prices,
                last_trade_cents=last_trade_cents,
                volume_cents=market.volume_cents,
                sequence=market.price_sequence,
                at=self.now,
            )
        )
        return prices

    async def commit(self) -> None:
        await self._flush()
        for event in conflated(self._events):
            self.uow.emit(event)
        await self.uow.commit()

    def _number_trades(self) -> None:
        """Give each trade the next number of its market (the market row is locked), in
        the trades list and in the events that announce them."""
        numbered: dict[str, Trade] = {}
        for index, trade in enumerate(self._trades):
            market = self._markets[trade.market_id]
            market.trade_sequence += 1
            numbered[trade.id] = self._trades[index] = trade.numbered(market.trade_sequence)
        for index, event in enumerate(self._events):
            if isinstance(event, TradeExecuted) and event.trade.id in numbered:
                self._events[index] = TradeExecuted(numbered[event.trade.id])

    async def _flush(self) -> None:
        uow = self.uow
        self._number_trades()
        await self._save_users()
        for market_id in sorted(self._markets):
            market = self._markets[market_id]
            await (uow.markets.add if market_id in self._created else uow.markets.save)(market)
        if self._platform is not None:
            await uow.platform.save(self._platform)
        await uow.positions.save_many([self._positions[key] for key in sorted(self._positions)])
        changed = []
        for order_id, order in self._orders.items():
            if order_id in self._created:
                await uow.orders.add(order)
            else:
                changed.append(order)
        await uow.orders.save_many(changed)
        for trade in self._trades:
            await uow.trades.add(trade)
        for point in self._points.values():
            await uow.price_history.add(point)
        if self._settled:
            await uow.settlements.add(self._settled)
        await uow.ledger.add(self.journal.entries)
        for events in self._at_commit.values():
            self._events.extend(events(self.now))
        self._events.extend(AccountChanged(u, self.now) for u in sorted(self._accounts_changed()))

    async def _save_users(self) -> None:
        """Insert the new users, then save them all in one write (their rows locked in id
        order, before the platform row) and number each one's fills."""
        users = self._users
        for user_id in sorted(self._created & users.keys()):
            await self.uow.users.add(users[user_id])
        saved = [users[user_id] for user_id in sorted(users)]
        fills = {u: f for u, f in fills_by_user(self._trades).items() if u in users}
        counts = {user_id: len(user_fills) for user_id, user_fills in fills.items()}
        last = await self.uow.users.save_all(saved, self._actors, counts)
        for user_id in sorted(fills):
            first = last[user_id] - counts[user_id] + 1
            self._events.extend(fill.event(first + i) for i, fill in enumerate(fills[user_id]))

    def _accounts_changed(self) -> set[str]:
        """Users whose balances, reservations or shares this command changed."""
        changed: set[str] = set()
        for entry in self.journal.entries:
            for account in (entry.source, entry.destination):
                if account.kind in USER_ACCOUNT_KINDS:
                    changed.add(account.owner)
        for event in self._events:
            if isinstance(event, OrderChanged):
                changed.add(event.order.user_id)
            elif isinstance(event, FillExecuted):
                changed.add(event.user_id)
        return changed
