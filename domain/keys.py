"""API keys: long-lived credentials for programs (PRODUCT.md section 11).

A key belongs to one user and carries scopes: READ (queries and
subscriptions) and TRADE (also every mutation a session may do, except
managing keys). The secret itself is never stored: only its ``digest`` (a
keyed hash made by ``auth.apikeys``) and a short visible ``prefix`` that lets
a person recognise it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain import validation
from domain.errors import BadUserInput

LAST_USED_GRANULARITY = timedelta(seconds=60)
"""``last_used_at`` is written at most once per this interval per key (not per request)."""
MAX_ACTIVE_KEYS = 50
"""Unrevoked keys one user may hold."""
NAME_LENGTH = (1, 64)


class ApiKeyScope(StrEnum):
    READ = "READ"
    TRADE = "TRADE"


@dataclass(slots=True)
class ApiKey:
    id: str
    user_id: str
    name: str
    prefix: str
    digest: str
    scopes: frozenset[ApiKeyScope]
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def may_trade(self) -> bool:
        return ApiKeyScope.TRADE in self.scopes

    def is_due_for_use_mark(self, now: datetime) -> bool:
        """Whether a use at ``now`` should be written (coarse ``last_used_at``)."""
        last = self.last_used_at
        return last is None or now - last >= LAST_USED_GRANULARITY


@dataclass(frozen=True, slots=True)
class KeyHolder:
    """A key found by its digest, with whether its user may still act."""

    key: ApiKey
    user_is_active: bool
    user_is_admin: bool


def key_name(name: str) -> str:
    return validation.text(name, "name", *NAME_LENGTH)


def key_scopes(scopes: list[ApiKeyScope]) -> frozenset[ApiKeyScope]:
    if not scopes:
        raise BadUserInput("a key needs at least one scope: READ and/or TRADE")
    return frozenset(scopes)


def scopes_text(scopes: frozenset[ApiKeyScope]) -> str:
    """Scopes as stored: names in a fixed order, comma-separated."""
    return ",".join(scope.value for scope in ApiKeyScope if scope in scopes)


def scopes_from_text(text: str) -> frozenset[ApiKeyScope]:
    return frozenset(ApiKeyScope(part) for part in text.split(",") if part)
