"""Checks of client input that raise the contract's error codes."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from domain.errors import BadUserInput, InvalidAmount
from domain.model import MAX_PRICE_CENTS, MIN_PRICE_CENTS
from domain.money import MAX_AMOUNT, is_amount

EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(3000, 1, 1, tzinfo=UTC)
"""Every time a client gives lies in [EARLIEST_TIME, LATEST_TIME) once read as UTC: far
from the limits of ``datetime`` and of what SQLite text and PostgreSQL can store and read."""

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{3,50}")
EMAIL_PATTERN = re.compile(r"[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+")


def positive_amount(value: int, what: str) -> int:
    """An amount of cents or shares: an int in 1..MAX_AMOUNT-1."""
    if not is_amount(value):
        raise InvalidAmount(f"{what} must be a whole number from 1 to {MAX_AMOUNT - 1}")
    return value


def price_cents(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount("priceCents must be a whole number of cents")
    if not MIN_PRICE_CENTS <= value <= MAX_PRICE_CENTS:
        raise InvalidAmount(f"priceCents must be from {MIN_PRICE_CENTS} to {MAX_PRICE_CENTS}")
    return value


def bounded_float(value: float, what: str, low: float, high: float) -> float:
    """A finite float within low..high (INVALID_AMOUNT otherwise): every Float input has one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidAmount(f"{what} must be a number")
    if not (math.isfinite(value) and low <= value <= high):
        raise InvalidAmount(f"{what} must be from {low:g} to {high:g}")
    return float(value)


def utc_time(value: datetime, what: str) -> datetime:
    """The time in UTC (a time without an offset is read as UTC), within
    EARLIEST_TIME..LATEST_TIME; BAD_USER_INPUT otherwise (checked after the conversion:
    ``9999-12-31T23:59:59-14:00`` is in the year 10000 in UTC)."""
    try:
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError):
        moment = None
    if moment is None or not EARLIEST_TIME <= moment < LATEST_TIME:
        raise BadUserInput(
            f"{what} must be a time from {EARLIEST_TIME.year} to {LATEST_TIME.year - 1} (UTC)"
        )
    return moment


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def text(value: str, what: str, low: int, high: int) -> str:
    """Stripped text whose length is within low..high, without control characters
    (tabs and line breaks allowed): NUL in particular cannot be stored in PostgreSQL."""
    stripped = value.strip()
    if not low <= len(stripped) <= high:
        raise BadUserInput(f"{what} must be {low} to {high} characters long")
    if _CONTROL.search(stripped):
        raise BadUserInput(f"{what} must not contain control characters")
    return stripped


def username(value: str) -> str:
    if not USERNAME_PATTERN.fullmatch(value):
        raise BadUserInput("username must be 3 to 50 characters of letters, digits, _ . -")
    return value


def email(value: str) -> str:
    stripped = value.strip()
    if len(stripped) > 254 or not EMAIL_PATTERN.fullmatch(stripped):
        raise BadUserInput("email is not a valid address")
    return stripped.lower()


def password(value: str) -> str:
    if not 8 <= len(value) <= 128:
        raise BadUserInput("password must be 8 to 128 characters long")
    if "\x00" in value:
        raise BadUserInput("password must not contain NUL characters")
    return value
