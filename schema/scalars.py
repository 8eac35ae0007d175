"""Scalars whose input is checked at the edge, before any resolver runs.

``DateTime`` replaces Strawberry's own (same name, same ISO 8601 text): a time is
read as UTC when it has no offset, converted to UTC, and must lie within the
domain's range (``domain.validation.utc_time``); otherwise the request fails with
BAD_USER_INPUT, whether the time came as a literal or in a variable. Resolvers
and services receive timezone-aware UTC times only.
"""

from __future__ import annotations

from datetime import datetime

from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

from domain.errors import BadUserInput
from domain.validation import EARLIEST_TIME, LATEST_TIME, utc_time


def _parse_iso(value: str) -> object:
    parse = DateTimeDefinition.parse_value
    assert parse is not None, "Strawberry's DateTime parses its input"
    return parse(value)


def parse_time(value: object) -> datetime:
    """An ISO 8601 text as an aware UTC datetime in the allowed range."""
    try:
        parsed = _parse_iso(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if not isinstance(parsed, datetime):
        raise BadUserInput("a DateTime must be an ISO 8601 text, e.g. 2031-01-01T00:00:00Z")
    return utc_time(parsed, "a DateTime")


DATETIME = ScalarDefinition(
    name="DateTime",
    description=(
        "Date with time (ISO 8601). Inputs without an offset are read as UTC; every input "
        f"must lie from {EARLIEST_TIME.year} to {LATEST_TIME.year - 1} in UTC. "
        "Outputs are in UTC."
    ),
    specified_by_url=None,
    serialize=DateTimeDefinition.serialize,
    parse_value=parse_time,
    parse_literal=None,
    origin=datetime,
)
SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {datetime: DATETIME}
