"""The error edge: every error leaves with ``extensions.code``; bugs leave masked.

- A :class:`DomainError` keeps its message and gets its contract code.
- Errors that already carry a contract code (permission classes) pass as they are.
- Parse, validation and variable errors (no resolver path) are BAD_USER_INPUT,
  or QUERY_TOO_COMPLEX when a depth, alias or token limit refused the query.
- Anything else is a bug: the client gets ``INTERNAL_SERVER_ERROR`` with the
  request id, the log gets the stack trace under the same id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult

from domain.errors import DomainError

logger = logging.getLogger("bellwether.api")

INTERNAL = "INTERNAL_SERVER_ERROR"
CONTRACT_CODES = frozenset(
    {
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "NOT_FOUND",
        "BAD_USER_INPUT",
        "INVALID_AMOUNT",
        "INSUFFICIENT_BALANCE",
        "INSUFFICIENT_SHARES",
        "MARKET_PAUSED",
        "MARKET_CLOSED",
        "MARKET_RESOLVED",
        "WRONG_MARKET_TYPE",
        "PRICE_LIMIT_EXCEEDED",
        "ORDER_NOT_CANCELLABLE",
        "USERNAME_TAKEN",
        "RATE_LIMITED",
        "QUERY_TOO_COMPLEX",
    }
)
LIMIT_MESSAGES = (
    "exceeds maximum operation depth",
    "aliases found. Allowed",
    "Document contains more than",
)
CLIENT_INPUT_ERRORS = (GraphQLError, ValueError, TypeError, OverflowError)


def _with_code(error: GraphQLError, message: str, code: str, **extra: Any) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": code, **extra},
    )


def classify(error: GraphQLError, request_id: str) -> GraphQLError:
    """The error as the client sees it (logging the internal ones)."""
    original = error.original_error
    if isinstance(original, DomainError):
        return _with_code(error, original.message, original.code)
    code = (error.extensions or {}).get("code")
    if code in CONTRACT_CODES:
        return error
    if error.path is None and (original is None or isinstance(original, CLIENT_INPUT_ERRORS)):
        limited = any(text in error.message for text in LIMIT_MESSAGES)
        return _with_code(
            error, error.message, "QUERY_TOO_COMPLEX" if limited else "BAD_USER_INPUT"
        )
    exc_info = (type(original), original, original.__traceback__) if original else None
    logger.error(
        "internal error (request %s) at %s: %s",
        request_id,
        error.path,
        error.message,
        exc_info=exc_info,
        extra={"request_id": request_id},
    )
    return _with_code(error, "Internal server error", INTERNAL, requestId=request_id)


class ErrorCodes(SchemaExtension):
    """Rewrites every result's errors through :func:`classify` (also for subscriptions)."""

    def _request_id(self) -> str:
        return str(getattr(self.execution_context.context, "request_id", "-"))

    def _process(self, result: object) -> None:
        if isinstance(result, GraphQLExecutionResult | ExecutionResult) and result.errors:
            request_id = self._request_id()
            result.errors = [classify(e, request_id) for e in result.errors]

    def on_operation(self) -> Iterator[None]:
        self._streamed = False
        yield
        if not self._streamed:
            self._process(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        self._streamed = True
        self._process(result)
        yield None
