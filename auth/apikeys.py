"""API key secrets, their digests, and authentication by ``Authorization: Key <secret>``.

A secret is 32 random bytes (256 bits) from :mod:`secrets`, written as
``bwk_`` and 43 URL-safe characters. Only ``HMAC-SHA256(server key, secret)``
is stored. A password needs a slow hash (argon2) because people choose
guessable ones; a 256-bit random secret cannot be guessed however fast each
guess is, so one fast keyed hash is enough, and it costs microseconds on a
request path where argon2 would cost tens of milliseconds. The server key
(derived from the JWT signing secret) means a stolen copy of the table alone
does not even allow checking a candidate secret offline.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from domain.errors import Unauthenticated
from domain.keys import ApiKey, KeyHolder

log = logging.getLogger("bellwether.auth")

SECRET_BYTES = 32
SECRET_PREFIX = "bwk_"
VISIBLE_CHARACTERS = 12
"""The secret's first characters, kept to recognise a key (``bwk_`` and 8 random ones)."""
_DERIVATION_LABEL = b"bellwether api key digests v1"


@dataclass(frozen=True, slots=True)
class MintedKey:
    secret: str
    prefix: str
    digest: str


class ApiKeySecrets:
    """Makes secrets and digests them with the server key."""

    def __init__(self, server_key: bytes) -> None:
        if len(server_key) < SECRET_BYTES:
            raise ValueError(f"the API key server key must be at least {SECRET_BYTES} bytes")
        self._server_key = server_key

    @classmethod
    def from_signing_secret(cls, signing_secret: str) -> ApiKeySecrets:
        """A server key of its own, derived from the JWT signing secret."""
        key = hmac.new(signing_secret.encode(), _DERIVATION_LABEL, hashlib.sha256).digest()
        return cls(key)

    def mint(self) -> MintedKey:
        secret = SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
        return MintedKey(secret, secret[:VISIBLE_CHARACTERS], self.digest(secret))

    def digest(self, secret: str) -> str:
        """64 hex digits: HMAC-SHA256 of the secret under the server key."""
        return hmac.new(self._server_key, secret.encode(), hashlib.sha256).hexdigest()


HolderLookup = Callable[[str], Awaitable[KeyHolder | None]]
UseRecorder = Callable[[ApiKey], Awaitable[None]]


class KeyUses:
    """Writes ``last_used_at`` at most once a minute per key, not once per request.

    The key row is read on every request (that is what makes a revocation count
    at once on every worker), so its stored ``last_used_at`` says whether a write
    is due; concurrent requests of this process with one key write it once.
    """

    def __init__(self, record: UseRecorder) -> None:
        self._record = record
        self._pending: set[str] = set()

    async def used(self, key: ApiKey, now: datetime) -> None:
        if not key.is_due_for_use_mark(now) or key.id in self._pending:
            return
        self._pending.add(key.id)
        try:
            await self._record(key)
        finally:
            self._pending.discard(key.id)


@dataclass(frozen=True, slots=True)
class KeyAuthenticator:
    secrets: ApiKeySecrets
    lookup: HolderLookup
    uses: KeyUses
    clock: Callable[[], datetime]

    async def holder(self, secret: str) -> KeyHolder | None:
        """The holder of a live key; UNAUTHENTICATED for an unknown or revoked one.

        None (anonymous) when the key's user was deactivated, as for tokens."""
        if not secret.startswith(SECRET_PREFIX):
            raise Unauthenticated("the API key is invalid")
        found = await self.lookup(self.secrets.digest(secret))
        if found is None:
            raise Unauthenticated("the API key is invalid")
        if not found.key.is_active:
            raise Unauthenticated("the API key was revoked")
        if not found.user_is_active:
            return None
        await self.uses.used(found.key, self.clock())
        return found
