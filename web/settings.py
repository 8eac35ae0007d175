"""Configuration from ``BELLWETHER_*`` environment variables (documented in the README)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from domain.services.context import DEFAULT_STARTING_BALANCE_CENTS

DEFAULT_DATABASE_PATH = Path("bellwether.db")
DEFAULT_DATABASE_URL = f"sqlite:///{DEFAULT_DATABASE_PATH.resolve()}"


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(f"BELLWETHER_{name}")
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"BELLWETHER_{name} must be an integer, got {raw!r}") from None


@dataclass(frozen=True, slots=True)
class AppSettings:
    database_url: str = DEFAULT_DATABASE_URL
    env: str = "dev"
    jwt_secret: str | None = None
    starting_balance_cents: int = DEFAULT_STARTING_BALANCE_CENTS
    default_fee_bps: int = 0

    @property
    def is_production(self) -> bool:
        return self.env == "prod"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AppSettings:
        env = os.environ if env is None else env
        return cls(
            database_url=env.get("BELLWETHER_DATABASE_URL") or DEFAULT_DATABASE_URL,
            env=env.get("BELLWETHER_ENV", "dev"),
            jwt_secret=env.get("BELLWETHER_JWT_SECRET") or None,
            starting_balance_cents=_int(
                env, "STARTING_BALANCE_CENTS", DEFAULT_STARTING_BALANCE_CENTS
            ),
            default_fee_bps=_int(env, "DEFAULT_FEE_BPS", 0),
        )
