"""The one tree of expected failures.

Every error a client can cause is a :class:`DomainError` carrying its contract
code (PRODUCT.md section 6). The API edge turns them into GraphQL errors with
``extensions.code``. A command that raises one changes nothing.

:class:`InvariantViolation` is not a ``DomainError``: it means a bug (for
example a pool that would go negative) and must surface as an internal error.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """Base of every expected failure (client-caused, or storage out of reach); ``code``
    is the contract code."""

    code: ClassVar[str] = "BAD_USER_INPUT"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


DEACTIVATED_MEANWHILE = "this account was deactivated meanwhile"
"""Why a command whose actor was deactivated after it was loaded is refused."""


class Forbidden(DomainError):
    code = "FORBIDDEN"


class NotFound(DomainError):
    code = "NOT_FOUND"


class BadUserInput(DomainError):
    code = "BAD_USER_INPUT"


class InvalidAmount(DomainError):
    code = "INVALID_AMOUNT"


class InsufficientBalance(DomainError):
    code = "INSUFFICIENT_BALANCE"


class InsufficientShares(DomainError):
    code = "INSUFFICIENT_SHARES"


class MarketPaused(DomainError):
    code = "MARKET_PAUSED"


class MarketClosed(DomainError):
    code = "MARKET_CLOSED"


class MarketResolved(DomainError):
    code = "MARKET_RESOLVED"


class WrongMarketType(DomainError):
    code = "WRONG_MARKET_TYPE"


class PriceLimitExceeded(DomainError):
    code = "PRICE_LIMIT_EXCEEDED"


class OrderNotCancellable(DomainError):
    code = "ORDER_NOT_CANCELLABLE"


class UsernameTaken(DomainError):
    code = "USERNAME_TAKEN"


class RateLimited(DomainError):
    code = "RATE_LIMITED"


class QueryTooComplex(DomainError):
    code = "QUERY_TOO_COMPLEX"


class ServiceUnavailable(DomainError):
    """Storage cannot be reached right now (PRODUCT.md section 13). The command changed
    nothing, except when the connection failed during its commit: then its fate is
    unknown, and the message says so (a retry with the same ``clientOrderId`` is safe)."""

    code = "SERVICE_UNAVAILABLE"


class IdempotencyConflict(DomainError):
    """A ``clientOrderId`` already used for an order that asked for something else."""

    code = "IDEMPOTENCY_CONFLICT"


class InvariantViolation(AssertionError):
    """A broken money invariant: a bug, never a client error. Fails loudly."""


ERROR_CODES: frozenset[str] = frozenset(cls.code for cls in DomainError.__subclasses__())
