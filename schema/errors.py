"""The error edge: every error leaves with ``extensions.code``; bugs leave masked.

- A :class:`DomainError` keeps its message and gets its contract code.
- Errors that already carry a contract code (permission classes) pass as they are.
- Parse, validation and variable errors (no resolver path) are BAD_USER_INPUT,
  or QUERY_TOO_COMPLEX when a depth, alias or token limit refused the query.
- Anything else is a bug: the client gets ``INTERNAL_SERVER_ERROR`` with the
  request id, the log gets the stack trace under the same id.

Strawberry hands every result's errors, on every path (parse, validation,
execution, each subscription event), to ``Schema.process_errors`` before the
result leaves; the schema calls :func:`classify_all` there.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from domain.errors import ERROR_CODES, DomainError

logger = logging.getLogger("bellwether.api")

INTERNAL = "INTERNAL_SERVER_ERROR"
CONTRACT_CODES = ERROR_CODES  # the codes of PRODUCT.md section 6, one per DomainError
LIMIT_MESSAGES = (
    "exceeds maximum operation depth",
    "aliases found. Allowed",
    "Document contains more than",
)
# GraphQL Int is 32 bits: an amount beyond it is refused before any resolver runs.
AMOUNT_MESSAGES = ("Int cannot represent non 32-bit signed integer value",)
# Strawberry's own refusals of a request (an operation type the transport does not carry,
# e.g. a query over the legacy WebSocket protocol) are the client's, not bugs.
CLIENT_INPUT_ERRORS = (
    GraphQLError,
    ValueError,
    TypeError,
    OverflowError,
    InvalidOperationTypeError,
    CannotGetOperationTypeError,
    MissingQueryError,
)


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
    if code in CONTRACT_CODES or code == INTERNAL:
        return error
    if error.path is None and (original is None or isinstance(original, CLIENT_INPUT_ERRORS)):
        return _with_code(error, error.message, _input_code(error.message))
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


def _input_code(message: str) -> str:
    if any(text in message for text in LIMIT_MESSAGES):
        return "QUERY_TOO_COMPLEX"
    if any(text in message for text in AMOUNT_MESSAGES):
        return "INVALID_AMOUNT"
    return "BAD_USER_INPUT"


def classify_all(errors: list[GraphQLError], request_id: str) -> None:
    """Replace, in place, every error of a result by what the client may see."""
    errors[:] = [classify(error, request_id) for error in errors]
