"""Configuration from ``BELLWETHER_*`` environment variables (documented in docs/API.md)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from domain.money import MAX_FEE_BPS, is_fee_bps
from domain.services.context import DEFAULT_STARTING_BALANCE_CENTS

DEFAULT_DATABASE_PATH = Path("bellwether.db")
DEFAULT_DATABASE_URL = f"sqlite:///{DEFAULT_DATABASE_PATH.resolve()}"
MEMORY_DATABASE_URL = "memory://"
"""No database at all: the in-memory adapters (tests, demos; lost on exit)."""

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(f"BELLWETHER_{name}")
    return None if raw is None or raw.strip() == "" else raw.strip()


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = _raw(env, name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"BELLWETHER_{name} must be an integer, got {raw!r}") from None


def _fee_bps(name: str, fee_bps: int) -> int:
    if not is_fee_bps(fee_bps):
        raise SystemExit(f"BELLWETHER_{name} must be from 0 to {MAX_FEE_BPS}, got {fee_bps}")
    return fee_bps


def _seconds(env: Mapping[str, str], name: str, default: int, most: int) -> int:
    seconds = _int(env, name, default)
    if not 0 <= seconds <= most:
        raise SystemExit(f"BELLWETHER_{name} must be 0..{most} seconds, got {seconds}")
    return seconds


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _raw(env, name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise SystemExit(f"BELLWETHER_{name} must be 1/0 (true/false), got {raw!r}")


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = _raw(env, name) or ""
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Addresses or CIDR networks (``10.0.0.0/8``), checked here so a typo fails at start."""
    items = _list(env, name)
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise SystemExit(
                f"BELLWETHER_{name} must list IP addresses or networks, got {item!r}"
            ) from None
    return items


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """What one GraphQL request may ask for; over a limit is QUERY_TOO_COMPLEX."""

    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    max_body_bytes: int = 100_000
    max_cost: int = 10_000
    """Estimated cost of a query (``schema.cost``): fields times the list sizes above them."""
    query_timeout_seconds: int = 10
    """A query still running after this many seconds fails (mutations run to the end)."""


@dataclass(frozen=True, slots=True)
class AppSettings:
    database_url: str = DEFAULT_DATABASE_URL
    env: str = "dev"
    jwt_secret: str | None = None
    starting_balance_cents: int = DEFAULT_STARTING_BALANCE_CENTS
    default_fee_bps: int = 0
    jwt_ttl_minutes: int = 60
    limits: QueryLimits = QueryLimits()
    introspection: bool = True
    graphiql: bool = True
    graphiql_assets: str = "local"
    """Where GraphiQL's files come from: ``local`` (this server, ``web.graphiql_assets``)
    or ``cdn`` (unpkg.com, as Strawberry ships the page)."""
    allowed_origins: tuple[str, ...] = ()
    demo: bool = True
    login_limit_per_username: int = 10
    login_limit_per_address: int = 60
    login_window_seconds: int = 60
    trusted_proxies: tuple[str, ...] = ()
    """Peers whose ``X-Forwarded-For`` names the client (addresses or networks); none
    by default, so a client cannot choose the address its login attempts count against."""
    sweep_interval_seconds: int = 5
    order_rate_per_second: float = 100
    """A user's order operations per second on average, counted across workers."""
    order_burst: int = 500
    """...and at most this many at once (a full bucket)."""
    principal_cache_seconds: int = 2
    """How long a worker trusts a token's user it found active (``auth.principals``);
    0 looks the user up on every request."""
    log_level: str = "INFO"
    max_subscriptions_per_connection: int = 50
    """Open subscriptions one WebSocket may hold; one more is refused with RATE_LIMITED."""
    live_queue_size: int = 256
    """Trades and order updates buffered per subscriber; beyond it the oldest are dropped."""
    market_affinity: bool = True
    """With ``--workers`` above 1: relay each mutation to the worker that owns its market
    (``web.affinity``); 0 runs every request where it arrived."""
    relay_timeout_seconds: int = 15
    """How long a relayed mutation waits for its market's owner (``web.relay``) before
    its client is told SERVICE_UNAVAILABLE (the command's fate unknown); that owner's
    markets' mutations then run where they arrive for as long again."""
    gc_freeze: bool = True
    """Freeze the heap after the start (``web.app.freeze_startup_heap``); tests that start
    many apps in one process turn it off."""

    @property
    def is_production(self) -> bool:
        return self.env == "prod"

    @property
    def is_memory(self) -> bool:
        return self.database_url.startswith("memory:")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def is_postgres(self) -> bool:
        return self.database_url.split(":", 1)[0] in ("postgres", "postgresql", "asyncpg")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AppSettings:
        env = os.environ if env is None else env
        mode = _raw(env, "ENV") or "dev"
        if mode not in ("dev", "prod"):
            raise SystemExit(f"BELLWETHER_ENV must be dev or prod, got {mode!r}")
        dev = mode == "dev"
        return cls(
            database_url=_raw(env, "DATABASE_URL") or DEFAULT_DATABASE_URL,
            env=mode,
            jwt_secret=_raw(env, "JWT_SECRET"),
            starting_balance_cents=_int(
                env, "STARTING_BALANCE_CENTS", DEFAULT_STARTING_BALANCE_CENTS
            ),
            default_fee_bps=_fee_bps("DEFAULT_FEE_BPS", _int(env, "DEFAULT_FEE_BPS", 0)),
            jwt_ttl_minutes=_int(env, "JWT_TTL_MINUTES", 60),
            limits=QueryLimits(
                max_depth=_int(env, "MAX_QUERY_DEPTH", 10),
                max_aliases=_int(env, "MAX_ALIASES", 15),
                max_tokens=_int(env, "MAX_TOKENS", 2000),
                max_body_bytes=_int(env, "MAX_BODY_BYTES", 100_000),
                max_cost=_int(env, "MAX_QUERY_COST", 10_000),
                query_timeout_seconds=_int(env, "QUERY_TIMEOUT_SECONDS", 10),
            ),
            introspection=_bool(env, "INTROSPECTION", dev),
            graphiql=_bool(env, "GRAPHIQL", dev),
            graphiql_assets=_raw(env, "GRAPHIQL_ASSETS") or "local",
            allowed_origins=_list(env, "ALLOWED_ORIGINS"),
            demo=_bool(env, "DEMO", dev),
            login_limit_per_username=_int(env, "LOGIN_LIMIT_PER_USERNAME", 10),
            login_limit_per_address=_int(env, "LOGIN_LIMIT_PER_ADDRESS", 60),
            login_window_seconds=_int(env, "LOGIN_WINDOW_SECONDS", 60),
            trusted_proxies=_networks(env, "TRUSTED_PROXIES"),
            sweep_interval_seconds=_int(env, "SWEEP_INTERVAL_SECONDS", 5),
            order_rate_per_second=_int(env, "ORDER_RATE_PER_SECOND", 100),
            order_burst=_int(env, "ORDER_BURST", 500),
            principal_cache_seconds=_seconds(env, "PRINCIPAL_CACHE_SECONDS", 2, 60),
            log_level=(_raw(env, "LOG_LEVEL") or "INFO").upper(),
            max_subscriptions_per_connection=_int(env, "MAX_SUBSCRIPTIONS_PER_CONNECTION", 50),
            live_queue_size=_int(env, "LIVE_QUEUE_SIZE", 256),
            market_affinity=_bool(env, "MARKET_AFFINITY", True),
            relay_timeout_seconds=max(1, _seconds(env, "RELAY_TIMEOUT_SECONDS", 15, 3600)),
            gc_freeze=_bool(env, "GC_FREEZE", True),
        )
