"""Characters no string input may carry, refused at the edge for every field.

NUL cannot be stored in PostgreSQL text (asyncpg raises) and lone UTF-16
surrogates cannot be encoded as UTF-8, so a string with either would fail only on
some backends and only deep in a resolver. Both are refused before execution, in
literals (a validation rule, cached with the document) and in variables (checked
per request), with BAD_USER_INPUT, the same on every backend and for every field:
an ID with NUL names nothing, so lookups get the same answer.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from graphql import ASTValidationRule, GraphQLError, StringValueNode

from domain.errors import BadUserInput

FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
ESCAPED_NUL = b"\\u0000"
MESSAGE = "strings must not contain NUL characters or unpaired UTF-16 surrogates"


def has_forbidden(value: Any) -> bool:
    """True if any string (key or value) in a JSON value has a forbidden character.

    Most values have none, which their JSON shows at once: orjson refuses a lone
    surrogate and writes NUL as ``\\u0000``. Any other value (one with either, one
    orjson cannot write, or a ``\\u0000`` spelled out with a backslash) is walked,
    iteratively: variables may nest as deep as the JSON parser allows."""
    try:
        if ESCAPED_NUL not in orjson.dumps(value):
            return False
    except orjson.JSONEncodeError:
        pass
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if FORBIDDEN.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def forbidden_variables_error(variables: dict[str, Any] | None) -> GraphQLError | None:
    if variables and has_forbidden(variables):
        return GraphQLError(MESSAGE, original_error=BadUserInput(MESSAGE))
    return None


class NoForbiddenCharacters(ASTValidationRule):
    """A string literal with NUL or a lone surrogate fails validation."""

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if FORBIDDEN.search(node.value):
            self.report_error(GraphQLError(MESSAGE, node, original_error=BadUserInput(MESSAGE)))
