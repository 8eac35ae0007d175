"""Access tokens: HS256 JWTs whose ``sub`` is the user id.

Authentication answers "who is calling?" with a :class:`Principal` or None
(anonymous). It raises only when the caller presented a credential that is
forged, tampered with, malformed or expired: that is ``UNAUTHENTICATED``, never
silently anonymous. A token of a user who was deactivated or deleted since it
was issued authenticates nobody.
"""

from __future__ import annotations

import functools
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import jwt

from auth.apikeys import KeyAuthenticator
from domain.errors import Unauthenticated
from domain.model import User

if TYPE_CHECKING:
    from auth.principals import RecentPrincipals

ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32
"""HS256 keys shorter than the hash output (32 bytes) are weak; pyjwt warns about them."""
VERIFIED_CACHE_SIZE = 4096
"""Tokens whose signature was checked, kept with their ``sub`` and ``exp`` (LRU)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in, active user a request acts for."""

    user_id: str
    is_admin: bool
    key_id: str | None = None
    """The API key the request came with; None for a session (access token)."""
    may_trade: bool = True
    """False for a READ-only API key: queries and subscriptions only."""

    @property
    def is_session(self) -> bool:
        return self.key_id is None

    @property
    def viewer(self) -> tuple[str, bool, str | None]:
        """Who sees a private view: the user, as admin or not, through which API key."""
        return (self.user_id, self.is_admin, self.key_id)

    @property
    def credential(self) -> str | None:
        """The API key's name for live subscriptions (:func:`key_credential`); None for a
        session."""
        return None if self.key_id is None else key_credential(self.key_id)


def key_credential(key_id: str) -> str:
    """The name a live subscription made with an API key is kept under (its revocation
    ends them)."""
    return f"key:{key_id}"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime


def generate_secret() -> str:
    """A random signing secret (development mode makes one when none is configured)."""
    return secrets.token_urlsafe(48)


class TokenService:
    """Issues and verifies access tokens valid for ``ttl`` from the moment of issue.

    ``clock`` (seconds since the epoch) judges the expiry of tokens already verified;
    pyjwt judges a token's first use by the system clock, which is the default here.
    """

    def __init__(self, secret: str, ttl: timedelta, clock: Callable[[], float] = time.time) -> None:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"the JWT secret must be at least {MIN_SECRET_BYTES} bytes long")
        self._secret = secret
        self.ttl = ttl
        self._clock = clock
        # Checking a signature is most of pyjwt's cost and a client sends the same token
        # with every request. Only tokens that passed are cached (a raise is not); expiry
        # is checked again on every use below.
        self._verified = functools.lru_cache(maxsize=VERIFIED_CACHE_SIZE)(self._verify)

    def issue(self, user_id: str) -> IssuedToken:
        # pyjwt checks exp and iat against the system clock, so tokens use it too.
        now = datetime.now(UTC).replace(microsecond=0)
        expires = now + self.ttl
        claims = {"sub": user_id, "iat": now, "exp": expires}
        return IssuedToken(jwt.encode(claims, self._secret, algorithm=ALGORITHM), expires)

    def user_id(self, token: str) -> str:
        """The ``sub`` of a valid token; UNAUTHENTICATED if forged, malformed or expired."""
        subject, expires = self._verified(token)
        # pyjwt's own rule (no leeway): expired once the clock reaches ``exp``.
        if self._clock() >= expires:
            raise Unauthenticated("the access token has expired; log in again")
        return subject

    def _verify(self, token: str) -> tuple[str, int]:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["sub", "exp", "iat"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the access token has expired; log in again") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("the access token is invalid") from None
        subject, expires = claims["sub"], claims["exp"]
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated("the access token is invalid")
        return subject, int(expires)  # as pyjwt reads it


GONE = "this account is deactivated or no longer exists"
CREDENTIALS_HINT = "send 'Authorization: Bearer <token>' or 'Authorization: Key <secret>'"


def credentials(authorization: str | None) -> tuple[str, str] | None:
    """``("bearer", token)`` or ``("key", secret)`` from an Authorization value."""
    if authorization is None or not authorization.strip():
        return None
    scheme, _, value = authorization.strip().partition(" ")
    scheme = scheme.lower()
    if scheme not in ("bearer", "key") or not value.strip():
        raise Unauthenticated(CREDENTIALS_HINT)
    return scheme, value.strip()


UserLookup = Callable[[str], Awaitable[User | None]]


async def authenticate(
    tokens: TokenService,
    authorization: str | None,
    lookup: UserLookup,
    keys: KeyAuthenticator | None = None,
    recent: RecentPrincipals | None = None,
) -> Principal | None:
    """The principal behind an Authorization value, or None when there is none.

    A valid token or key of a deactivated or deleted user is UNAUTHENTICATED: never
    silently anonymous, so a client learns at once that it must sign in again. A
    token's user is taken from ``recent`` when it was looked up lately
    (:mod:`auth.principals` says how long and why that is safe), else looked up.
    """
    presented = credentials(authorization)
    if presented is None:
        return None
    scheme, value = presented
    if scheme == "key":
        if keys is None:
            raise Unauthenticated("API keys are not accepted here")
        holder = await keys.holder(value)
        if holder is None:
            raise Unauthenticated(GONE)
        key = holder.key
        return Principal(key.user_id, holder.user_is_admin, key.id, key.may_trade)
    user_id = tokens.user_id(value)
    if recent is None:
        return await _looked_up(lookup, user_id)
    principal = recent.get(user_id)
    if principal is None:
        mark = recent.mark()
        principal = await _looked_up(lookup, user_id)
        recent.keep(principal, mark)
    return principal


async def _looked_up(lookup: UserLookup, user_id: str) -> Principal:
    user = await lookup(user_id)
    if user is None or not user.is_active:
        raise Unauthenticated(GONE)
    return Principal(user.id, user.is_admin)
