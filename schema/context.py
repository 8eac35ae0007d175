"""The typed per-request context and the ``Info`` alias every resolver takes.

One :class:`Context` is made per HTTP request and per WebSocket connection.
It holds the application's ports (services, read model, tokens, live feed),
the caller's credentials, and per-request DataLoaders so nested fields
(``market.creator``, ``order.market``, ``order.trades``...) batch their reads.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from auth.apikeys import KeyAuthenticator
from auth.principals import RecentPrincipals
from auth.ratelimit import LoginGuard, OrderRateLimit
from auth.tokens import CREDENTIALS_HINT, Principal, TokenService, authenticate
from domain.errors import Forbidden, NotFound, RateLimited, Unauthenticated
from domain.model import Market, Trade, User
from domain.ports import SharedCounters
from domain.queries import ReadModel
from domain.services.context import ServiceContext
from schema.live import LiveFeed
from schema.views import StateViews

if TYPE_CHECKING:
    from schema.types.trading import BookView

T = TypeVar("T")

_ID_PREFIX = secrets.token_hex(4)
_ID_COUNTER = itertools.count(1)


def new_request_id() -> str:
    """16 hex digits: 8 random per process, then a counter (wraps after 4 billion).

    Request ids name log lines and masked errors; they grant nothing, so they need
    not be unguessable (and a counter costs no system call, unlike ``uuid4``)."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER) % 16**8:08x}"


class made_once(Generic[T]):
    """``functools.cached_property`` without the lock it takes on Python 3.11 (a context
    serves one event loop): the value is made on first use, then read as an attribute."""

    def __init__(self, make: Callable[[Any], T]) -> None:
        self._make = make
        self._name = make.__name__

    def __get__(self, instance: Any, owner: type | None = None) -> T:
        value = instance.__dict__[self._name] = self._make(instance)
        return value


class Loaders:
    """Per-request batch loaders over the read model (one query per kind and tick), each
    made when first used: most requests use one kind, or none."""

    def __init__(self, reads: ReadModel) -> None:
        self._reads = reads

    @made_once
    def users(self) -> DataLoader[str, User | None]:
        return DataLoader(load_fn=self._users)

    @made_once
    def markets(self) -> DataLoader[str, Market | None]:
        return DataLoader(load_fn=self._markets)

    @made_once
    def trades_by_order(self) -> DataLoader[str, list[Trade]]:
        return DataLoader(load_fn=self._trades)

    async def user_now(self, user_id: str) -> User | None:
        """One user read at once, and remembered for the loader.

        ``load`` waits a tick of the event loop for other keys to batch with; the
        principal and root fields ask for one key before any nested field runs, and
        under load every tick a request waits is a turn of every other request."""
        return await self._now(self.users, self._users, user_id)

    async def market_now(self, market_id: str) -> Market | None:
        """One market read at once (see :meth:`user_now`)."""
        return await self._now(self.markets, self._markets, market_id)

    @staticmethod
    async def _now(
        loader: DataLoader[str, T | None],
        fetch: Callable[[Sequence[str]], Awaitable[list[T | None]]],
        key: str,
    ) -> T | None:
        cached = loader.cache_map.get(key)  # the loaders here always cache
        if cached is not None and not cached.cancelled():  # load() skips cancelled ones too
            return await cached
        (found,) = await fetch([key])
        loader.prime(key, found)
        return found

    async def _users(self, ids: Sequence[str]) -> list[User | None]:
        found = {user.id: user for user in await self._reads.users_by_ids(list(ids))}
        return [found.get(i) for i in ids]

    async def _markets(self, ids: Sequence[str]) -> list[Market | None]:
        found = {market.id: market for market in await self._reads.markets_by_ids(list(ids))}
        return [found.get(i) for i in ids]

    async def _trades(self, ids: Sequence[str]) -> list[list[Trade]]:
        found = await self._reads.trades_for_orders(list(ids))
        return [found.get(i, []) for i in ids]

    def clear(self) -> None:
        """Forget cached rows (a long-lived WebSocket context between events)."""
        for made in ("users", "markets", "trades_by_order"):
            loader = self.__dict__.get(made)
            if loader is not None:
                loader.clear_all()


@dataclass
class Context:
    services: ServiceContext
    reads: ReadModel
    tokens: TokenService
    login_guard: LoginGuard
    live: LiveFeed
    keys: KeyAuthenticator | None = None
    counters: SharedCounters | None = None
    """The deployment's shared counters (heartbeats); None where there are none (tests)."""
    order_rate: OrderRateLimit | None = None
    """The order-rate limit; None: unlimited."""
    recent_principals: RecentPrincipals | None = None
    """The worker's users signed in lately (``auth.principals``); None: look up each time."""
    authorization: str | None = None
    client_address: str = "unknown"
    request_id: str = field(default_factory=new_request_id)
    connection_params: dict[str, Any] | None = None
    """The WebSocket ``connection_init`` payload (Strawberry sets it)."""
    max_subscriptions: int | None = None
    """Open subscriptions one connection may hold (one context per WebSocket)."""
    book_views: StateViews[BookView] = field(default_factory=StateViews)
    """``orderBook`` views per book state, shared by the worker's requests."""
    open_subscriptions: int = field(default=0, init=False)
    loaders: Loaders = field(init=False)
    _principal: asyncio.Future[Principal | None] | None = field(default=None, init=False)
    _admin_read: asyncio.Future[Principal | None] | None = field(default=None, init=False)
    """The principal lookup :meth:`admin_now` made: admin powers are read once per request."""

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.reads)

    def _credentials(self) -> str | None:
        if self.connection_params is not None:
            value = self.connection_params.get("authorization")
            if value is None:
                value = self.connection_params.get("Authorization")
            if value is not None and not isinstance(value, str):
                raise Unauthenticated("connection_init authorization must be a string")
            return value
        return self.authorization

    async def principal(self, *, fresh: bool = False) -> Principal | None:
        """Who is calling, checked once per request (the user must still be active).

        None for anonymous callers; UNAUTHENTICATED for forged, tampered or expired
        tokens and for tokens of deactivated or deleted users. A token's user comes
        from the worker's recent principals when it was looked up lately
        (``auth.principals``). ``fresh``: look the user up again, whatever the worker
        remembers (a WebSocket's context lives as long as its connection, and each
        subscription is checked anew).
        """
        recent = self.recent_principals
        if fresh:
            recent = None
            if self._principal is not None and self._principal.done():
                self._principal = None
                self.loaders.users.clear_all()
        pending = self._principal
        if pending is not None:
            if not pending.done():
                await asyncio.wait([pending])  # raises only if this caller is cancelled
            if not pending.cancelled():
                return pending.result()
            return await self.principal(fresh=fresh)  # its caller was cancelled: look it up
        # The first caller looks it up inline (no task, no batching tick: on SQLite it
        # does not wait at all); callers meanwhile, if any, wait for its result.
        pending = self._principal = asyncio.get_running_loop().create_future()
        try:
            principal = await authenticate(
                self.tokens, self._credentials(), self.loaders.user_now, self.keys, recent
            )
        except Exception as error:
            pending.set_exception(error)
            pending.exception()  # retrieved: this caller raises it
            raise
        except BaseException:  # cancelled: a later call looks it up again
            self._principal = None
            pending.cancel()
            raise
        pending.set_result(principal)
        return principal

    async def admin_now(self) -> Principal | None:
        """The caller if an admin as the database says now, else None.

        Admin powers are never taken from the worker's recent principals
        (``auth.principals``): a promotion (``bellwether make-admin``, another process)
        or a demotion holds on the next request. Admin requests are few, so the extra
        read costs nothing measurable."""
        principal = await self.principal()
        if principal is None or self.recent_principals is None:
            return principal if principal is not None and principal.is_admin else None
        if self._admin_read is None or self._admin_read is not self._principal:
            principal = await self.principal(fresh=True)  # once per request (and per refresh)
            self._admin_read = self._principal
        return principal if principal is not None and principal.is_admin else None

    async def require_principal(self, *, fresh: bool = False) -> Principal:
        principal = await self.principal(fresh=fresh)
        if principal is None:
            raise Unauthenticated(f"sign in first: {CREDENTIALS_HINT}")
        return principal

    async def order_operations(self, count: int = 1, *, refusable: bool = True) -> Principal:
        """The signed-in caller, once ``count`` order operations are counted against its
        rate (RATE_LIMITED beyond it, nothing counted; never when not ``refusable``)."""
        principal = await self.require_principal()
        if self.order_rate is not None:
            await self.order_rate.spend(principal.user_id, count, refusable=refusable)
        return principal

    def user_changed(self, user_id: str) -> None:
        """This request deactivated ``user_id``: the worker looks them up again on their
        next request (other workers hear of it on the event bus)."""
        if self.recent_principals is not None:
            self.recent_principals.forget(user_id)

    def shared_counters(self) -> SharedCounters:
        if self.counters is None:
            raise RuntimeError("this context has no shared counters")
        return self.counters

    async def require_session(self) -> Principal:
        """The caller, who must have signed in with a password (not with an API key)."""
        principal = await self.require_principal()
        if not principal.is_session:
            raise Forbidden("API keys are managed with a session token, not with an API key")
        return principal

    @contextmanager
    def subscription_slot(self) -> Iterator[None]:
        """Hold one of the connection's subscription slots; RATE_LIMITED when none is left."""
        limit = self.max_subscriptions
        if limit is not None and self.open_subscriptions >= limit:
            raise RateLimited(
                f"at most {limit} subscriptions per connection: complete one before starting "
                "another, or open another connection"
            )
        self.open_subscriptions += 1
        try:
            yield
        finally:
            self.open_subscriptions -= 1

    async def may_see_private(self, user_id: str) -> bool:
        """Private user fields are for the user themself and for admins."""
        try:
            principal = await self.principal()
            if principal is None:
                return False
            return principal.user_id == user_id or await self.admin_now() is not None
        except Unauthenticated:
            return False

    async def market(self, market_id: str, *, now: bool = False) -> Market:
        """The market (NOT_FOUND if none); ``now`` for root fields (:meth:`Loaders.user_now`)."""
        loaders = self.loaders
        market = await (loaders.market_now if now else loaders.markets.load)(market_id)
        if market is None:
            raise NotFound(f"no market {market_id}")
        return market

    async def user(self, user_id: str) -> User:
        user = await self.loaders.users.load(user_id)
        if user is None:
            raise NotFound(f"no user {user_id}")
        return user


Info: TypeAlias = strawberry.Info[Context, None]
