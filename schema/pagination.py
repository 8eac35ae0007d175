"""Opaque cursors and page sizes for the cursor connections.

A cursor is the base64url text of the keyset position ``(created_at, id)`` of
the last row seen; a page after it stays the same however many rows arrive.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from domain.errors import BadUserInput, QueryTooComplex
from domain.queries import MAX_PAGE_SIZE, MAX_SEARCH_LENGTH, Cursor

_PREFIX = "c1|"


def encode_cursor(at: datetime, row_id: str) -> str:
    raw = f"{_PREFIX}{at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Cursor | None:
    """The keyset position of a cursor; BAD_USER_INPUT when it is not one of ours."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
        if not text.startswith(_PREFIX):
            raise ValueError(cursor)
        at, _, row_id = text.removeprefix(_PREFIX).partition("|")
        moment = datetime.fromisoformat(at)
        if not row_id or moment.tzinfo is None:
            raise ValueError(cursor)
    except (ValueError, UnicodeError, binascii.Error):
        raise BadUserInput("after: not a cursor this API issued") from None
    return Cursor(moment, row_id)


def page_size(first: int | None, default: int) -> int:
    """``first`` checked: 0..100 (null: the default), above is QUERY_TOO_COMPLEX."""
    if first is None:
        return default
    if first < 0:
        raise BadUserInput("first must not be negative")
    if first > MAX_PAGE_SIZE:
        raise QueryTooComplex(f"first may be at most {MAX_PAGE_SIZE}")
    return first


def search_text(search: str | None) -> str | None:
    """A title search, trimmed; None for no search (null or blank).

    BAD_USER_INPUT above MAX_SEARCH_LENGTH characters (no title is longer)."""
    if search is None or not search.strip():
        return None
    if len(search) > MAX_SEARCH_LENGTH:
        raise BadUserInput(f"search may be at most {MAX_SEARCH_LENGTH} characters")
    return search.strip()
