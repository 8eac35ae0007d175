"""The Starlette application: ``/graphql`` (HTTP, WebSocket, GraphiQL), ``/healthz``, ``/metrics``
and the bundled web app (``/``, ``/static``).

``create_app`` is the composition root: it wires settings, the storage
backend, the event bus, the live hub, metrics and the schema. Storage and the
bus open in the ``lifespan`` (migrations in development, demo data on a first
start, the sweeper that closes due markets and expires GTD orders).

Live updates have one path: the unit of work publishes committed events to the
event bus (``web.bus``: in-process, or PostgreSQL LISTEN/NOTIFY when the
database is PostgreSQL); the bus hands every batch, this worker's and every
other worker's, to this worker's hub (``web.live``), which fans them out.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry import UNSET
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UnsetType

from auth.apikeys import ApiKeySecrets, KeyAuthenticator, KeyUses
from auth.principals import RecentPrincipals
from auth.ratelimit import LoginGuard, LoginLimits, OrderRateLimit
from auth.tokens import TokenService, generate_secret
from domain.errors import Unauthenticated
from domain.events import BookChanged, DomainEvent, UserDeactivated
from domain.keys import ApiKey
from domain.ports import PasswordHasher
from domain.services import api_keys
from persistence.sequencer import AsyncioSequencer
from resolvers.live import FEEDS
from schema.context import Context, new_request_id
from schema.schema import build_schema
from schema.types.trading import BookView, remember_books
from schema.views import StateViews
from web.affinity import MarketLocator, OrderMarkets, WorkerSlot
from web.backends import Backend, default_hasher, open_backend
from web.bus import EventBus, EventListener, only, open_bus
from web.edge import Edge
from web.graphiql_assets import GraphiQLAssets
from web.headers import page_policy
from web.jsonposts import JsonPosts
from web.live import FanOutPublisher, LiveHub
from web.livegroups import LiveGroups
from web.metrics import Metrics
from web.middleware import configure_logging, http_refusal
from web.relay import Forwarder
from web.relayserver import RelayServer
from web.settings import AppSettings
from web.sweeper import run_heartbeat_watch, run_sweeper
from web.wsprotocols import LegacyWsHandler, TransportWsHandler

log = logging.getLogger("bellwether.app")

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""The bundled single-page app (served at ``/`` and ``/static``; see docs/WEBAPP.md)."""


def signing_secret(settings: AppSettings) -> str:
    """The configured secret; production refuses to start without one."""
    if settings.jwt_secret:
        return settings.jwt_secret
    if settings.is_production:
        raise SystemExit("BELLWETHER_JWT_SECRET is required when BELLWETHER_ENV=prod")
    log.warning(
        "BELLWETHER_JWT_SECRET is not set: generated a random signing secret for this "
        "process (development mode); tokens stop working when it restarts"
    )
    return generate_secret()


@dataclass
class AppState:
    settings: AppSettings
    tokens: TokenService
    limits: LoginLimits
    metrics: Metrics
    key_secrets: ApiKeySecrets
    guard: LoginGuard | None = None
    order_rate: OrderRateLimit | None = None
    backend: Backend | None = None
    keys: KeyAuthenticator | None = None
    hub: LiveHub | None = None
    groups: LiveGroups | None = None
    bus: EventBus | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    book_views: StateViews[BookView] = field(default_factory=StateViews)
    json_posts: JsonPosts | None = None
    """The lean path of JSON POSTs to /graphql (``web.jsonposts``)."""
    recent_principals: RecentPrincipals | None = None
    """Users signed in lately (``auth.principals``); None: looked up on every request."""

    def context(self, authorization: str | None, address: str, request_id: str) -> Context:
        if self.backend is None or self.hub is None or self.guard is None:
            raise RuntimeError("the app has not started (lifespan not run)")
        return Context(
            services=self.backend.services,
            reads=self.backend.reads,
            tokens=self.tokens,
            login_guard=self.guard,
            live=self.hub,
            keys=self.keys,
            counters=self.backend.counters,
            order_rate=self.order_rate,
            authorization=authorization,
            client_address=address,
            request_id=request_id,
            max_subscriptions=self.settings.max_subscriptions_per_connection,
            book_views=self.book_views,
            recent_principals=self.recent_principals,
        )

    @property
    def subscriber_count(self) -> int:
        """Open subscriptions: the hub's own (one per group), less groups, plus members."""
        if self.hub is None or self.groups is None:
            return 0
        groups = self.groups
        return self.hub.subscriber_count - groups.group_count + groups.member_count


class BellwetherGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context, WebSocket auth and JSON error bodies."""

    graphql_transport_ws_handler_class = TransportWsHandler
    graphql_ws_handler_class = LegacyWsHandler

    def __init__(self, state: AppState, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state = state
        self.ide = GraphiQLAssets(
            self.graphql_ide_html,
            state.settings.graphiql_assets,
            enabled=self.graphql_ide is not None,
        )
        if self.ide.problems:
            log.warning(
                "GraphiQL's files are not installed (%s): /graphql says so; `make graphiql` "
                "installs them, BELLWETHER_GRAPHIQL_ASSETS=cdn loads them from unpkg.com",
                "; ".join(self.ide.problems),
            )

    @property
    def live_groups(self) -> LiveGroups | None:
        """Grouped live subscriptions (``web.wsprotocols`` joins them)."""
        return self.state.groups

    # orjson instead of the json module: the body of every request and response. A str,
    # not bytes: Strawberry sends bytes over a WebSocket as binary frames, and the
    # GraphQL WebSocket protocols are text. orjson's decode error is a JSONDecodeError.
    def encode_json(self, data: object) -> str:
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    def context_for(self, scope: Scope, authorization: str | None) -> Context:
        """The context of one HTTP request or WebSocket connection (``web.jsonposts`` too)."""
        client = scope.get("client")
        request_id = scope.get("state", {}).get("request_id") or new_request_id()
        return self.state.context(authorization, client[0] if client else "unknown", request_id)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        if isinstance(request, WebSocket):
            context = self.context_for(request.scope, None)
            context.connection_params = {}
            return context
        return self.context_for(request.scope, request.headers.get("authorization"))

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL with a Content-Security-Policy made for its page (its inline script by
        hash, the origins its assets come from), instead of the app's stricter one."""
        html = self.ide.page
        return HTMLResponse(html, headers={"Content-Security-Policy": page_policy(html)})

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """A forged or expired token in ``connection_init`` closes the socket (4403)."""
        try:
            await context.principal()
        except Unauthenticated as error:
            payload: dict[str, object] = {"code": error.code, "message": error.message}
            raise ConnectionRejectionError(payload) from None
        unset: UnsetType = UNSET
        return unset

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as error:
            status, body = http_refusal(error)
            response = Response(body, status_code=status, media_type="application/json")
        await response(scope, receive, send)


async def market_of_order(state: AppState, order_id: str) -> str | None:
    """The market of the order ``order_id`` (None: no such order), for market affinity."""
    if state.backend is None:
        return None
    found = await state.backend.reads.orders_by_ids([order_id])
    return found[0].market_id if found else None


def remember_books_of(state: AppState) -> EventListener:
    """A bus listener: every book state announced (by any worker) is kept for ``orderBook``."""

    async def remember(events: Sequence[DomainEvent]) -> None:
        remember_books(state.book_views, events)

    return remember


def key_authenticator(secrets: ApiKeySecrets, backend: Backend) -> KeyAuthenticator:
    """Keys are looked up on every request: a revocation counts at once on every worker."""
    services = backend.services

    async def record_use(key: ApiKey) -> None:
        await api_keys.mark_key_used(services, key)

    return KeyAuthenticator(
        secrets, backend.reads.api_key_holder, KeyUses(record_use), services.clock.now
    )


def freeze_startup_heap() -> None:
    """Leave everything alive after the start (modules, the schema, caches, the demo
    data) out of the cyclic garbage collector's full collections.

    A full collection walks every tracked object; with the startup heap in it, each
    one stopped the worker, and every request in flight waited (the p99 figures with
    and without are in docs/BENCHMARKS.md). Frozen objects are still freed by
    reference counting; only a reference cycle among them outlives its last use, so
    this runs once, after a collection, not per request.
    """
    gc.collect()
    gc.freeze()


def create_app(
    settings: AppSettings | None = None,
    *,
    hasher: PasswordHasher | None = None,
    slot: WorkerSlot | None = None,
) -> Starlette:
    """The app; ``slot``: this request worker's place among several (``web.affinity``),
    whose mutations on another worker's market are relayed to it."""
    settings = settings or AppSettings.from_env()
    metrics = Metrics()
    limits = LoginLimits(
        settings.login_limit_per_username,
        settings.login_limit_per_address,
        settings.login_window_seconds,
    )
    secret = signing_secret(settings)
    state = AppState(
        settings=settings,
        tokens=TokenService(secret, timedelta(minutes=settings.jwt_ttl_minutes)),
        limits=limits,
        metrics=metrics,
        key_secrets=ApiKeySecrets.from_signing_secret(secret),
    )
    if settings.principal_cache_seconds:
        state.recent_principals = RecentPrincipals(settings.principal_cache_seconds)
    metrics.watch_subscriptions(lambda: state.subscriber_count)
    schema = build_schema(
        max_depth=settings.limits.max_depth,
        max_aliases=settings.limits.max_aliases,
        max_tokens=settings.limits.max_tokens,
        max_cost=settings.limits.max_cost,
        query_timeout_seconds=settings.limits.query_timeout_seconds,
        introspection=settings.introspection,
        observers=(metrics.extension(),),
    )
    graphql = BellwetherGraphQL(
        state,
        schema=schema,
        graphql_ide="graphiql" if settings.graphiql else None,
        allowed_origins=settings.allowed_origins,
        keep_alive=True,
        keep_alive_interval=15,
        # Our own limit (Context.subscription_slot) refuses with RATE_LIMITED; Strawberry's,
        # which counts every in-flight operation on the socket, is a backstop (also
        # RATE_LIMITED, see web.wsprotocols) that a pipelined flood can reach first.
        max_subscriptions_per_connection=2 * settings.max_subscriptions_per_connection + 10,
    )

    forwarder = relay_server = None
    if slot is not None:  # market affinity (web.affinity): relay to and from the others
        metrics.slot.set(slot.slot)
        locator = MarketLocator(settings.limits.max_tokens)
        timeout = settings.relay_timeout_seconds
        orders = OrderMarkets(functools.partial(market_of_order, state))
        forwarder = Forwarder(slot, locator, metrics.observe_relay, timeout, orders)
    state.json_posts = posts = JsonPosts(graphql, forwarder=forwarder)
    if slot is not None:
        path = slot.socket_path(slot.slot)
        relay_server = RelayServer(path, posts.run_relayed, metrics.relayed_in.inc)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        bus = open_bus(settings)
        notify = bus.in_transaction  # PostgreSQL: events ride the command's transaction
        targets = (metrics.publish,) if notify else (bus.publish, metrics.publish)
        publisher = FanOutPublisher(*targets)
        sequencer = AsyncioSequencer(observe=metrics.batch_sizes.observe)
        metrics.watch_queue(sequencer.waiting)
        backend = await open_backend(
            settings, publisher, hasher or default_hasher(), notify, sequencer
        )
        hub = LiveHub(
            FEEDS,
            backend.reads,
            backend.services.clock,
            queue_size=settings.live_queue_size,
            on_dropped=metrics.dropped.inc,
        )
        bus.add_listener(hub.on_events, hub.wants)
        bus.add_listener(remember_books_of(state), only(BookChanged))
        bus.on_reconnect(hub.resync)
        if state.recent_principals is not None:
            bus.add_listener(state.recent_principals.on_events, only(UserDeactivated))
            bus.on_reconnect(state.recent_principals.on_reconnect)
        await bus.start()
        groups = LiveGroups(schema, FEEDS, hub, settings.live_queue_size, metrics.dropped.inc)
        state.backend, state.hub, state.groups, state.bus = backend, hub, groups, bus
        state.keys = key_authenticator(state.key_secrets, backend)
        state.guard = LoginGuard(limits, backend.counters)
        state.order_rate = OrderRateLimit(
            backend.counters, settings.order_rate_per_second, settings.order_burst
        )
        if settings.demo and not settings.is_production:
            from web.seed import seed_if_empty

            await seed_if_empty(backend)
        interval = settings.sweep_interval_seconds
        sweeper = asyncio.create_task(run_sweeper(backend.services, interval, backend.counters))
        watch = asyncio.create_task(run_heartbeat_watch(backend.services, backend.counters))
        if relay_server is not None:
            await relay_server.start()
        state.ready.set()
        if settings.gc_freeze:
            freeze_startup_heap()
        try:
            yield
        finally:
            for task in (sweeper, watch):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if relay_server is not None:
                await relay_server.close()
            if forwarder is not None:
                forwarder.client.close()
            await bus.stop()
            await groups.close()
            await hub.close()
            await backend.close()

    async def healthz(request: Request) -> JSONResponse:
        ok = state.backend is not None
        return JSONResponse({"status": "ok" if ok else "starting"}, status_code=200 if ok else 503)

    async def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    async def index(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html")

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/healthz", healthz),
            Route("/metrics", metrics_endpoint),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/graphiql/{path:path}", graphql.ide.serve, methods=["GET"]),
            WebSocketRoute("/graphql", graphql),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=[
            Middleware(
                Edge,
                metrics=metrics,
                trusted_proxies=settings.trusted_proxies,
                allowed_origins=settings.allowed_origins,
                max_body_bytes=settings.limits.max_body_bytes,
                posts=state.json_posts,
            )
        ],
        lifespan=lifespan,
    )
    app.state.bellwether = state
    return app


def app_from_env() -> Starlette:
    """The uvicorn factory (``bellwether serve``)."""
    settings = AppSettings.from_env()
    configure_logging(settings.log_level)
    return create_app(settings, slot=WorkerSlot.from_env(os.environ))
