"""Password hashing with passlib (the maintained ``libpass`` fork) and argon2.

Hashes are self-describing PHC strings (``$argon2id$v=19$m=...``), so parameters
can be raised later (passlib's ``CryptContext.needs_update`` says when a stored hash
should be redone; nothing rehashes yet).
"""

from __future__ import annotations

from passlib.context import CryptContext


class PasslibHasher:
    """The production :class:`domain.ports.PasswordHasher`."""

    def __init__(self) -> None:
        self._context = CryptContext(schemes=["argon2"], deprecated="auto")

    def hash(self, password: str) -> str:
        return str(self._context.hash(password))

    def verify(self, password: str, password_hash: str) -> bool:
        """False for a wrong password and for a hash this context cannot read."""
        try:
            return bool(self._context.verify(password, password_hash))
        except (ValueError, TypeError):
            return False
