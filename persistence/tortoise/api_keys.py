"""API keys on Tortoise: the ``api_keys`` table, described once here.

``KEY_COLUMNS`` is the select list :func:`key_from_row` reads by position and
the insert list :func:`key_values` fills, in the same order.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.keys import ApiKey, KeyHolder, scopes_from_text, scopes_text
from persistence.tortoise.errors import translate_errors
from persistence.tortoise.sql import (
    Params,
    Row,
    Statement,
    Timestamps,
    optional_timestamp,
    placeholders,
)

if TYPE_CHECKING:
    from persistence.tortoise.unit_of_work import TortoiseUnitOfWork

KEY_COLUMNS = "id, user_id, name, prefix, digest, scopes, created_at, last_used_at, revoked_at"
_COLUMN_COUNT = len(KEY_COLUMNS.split(","))
_KEYS = ", ".join(f"k.{column.strip()}" for column in KEY_COLUMNS.split(","))

INSERT = Statement(f"INSERT INTO api_keys ({KEY_COLUMNS}) VALUES ({placeholders(1, 9)})")
GET = Statement(f"SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1")
FOR_USER = Statement(
    f"SELECT {KEY_COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
)
HOLDER = Statement(
    f"SELECT {_KEYS}, u.is_active, u.is_admin FROM api_keys k JOIN users u ON u.id = k.user_id"
    " WHERE k.digest = $1"
)
_REVOKE = Statement("UPDATE api_keys SET revoked_at = $2 WHERE id = $1")
_COUNT_ACTIVE = Statement("SELECT COUNT(*) FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL")
_MARK_USED = Statement(
    "UPDATE api_keys SET last_used_at = $2"
    " WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)"
)


def key_from_row(sql: Timestamps, row: Row) -> ApiKey:
    return ApiKey(
        id=row[0],
        user_id=row[1],
        name=row[2],
        prefix=row[3],
        digest=row[4],
        scopes=scopes_from_text(row[5]),
        created_at=sql.timestamp(row[6]),
        last_used_at=optional_timestamp(sql, row[7]),
        revoked_at=optional_timestamp(sql, row[8]),
    )


def holder_from_row(sql: Timestamps, row: Row) -> KeyHolder:
    return KeyHolder(
        key_from_row(sql, row),
        user_is_active=bool(row[_COLUMN_COUNT]),
        user_is_admin=bool(row[_COLUMN_COUNT + 1]),
    )


def key_values(key: ApiKey) -> Params:
    return (
        key.id,
        key.user_id,
        key.name,
        key.prefix,
        key.digest,
        scopes_text(key.scopes),
        key.created_at,
        key.last_used_at,
        key.revoked_at,
    )


class TortoiseApiKeyRepository:
    """Keys are created and revoked rarely: each write runs at once, not deferred."""

    def __init__(self, uow: TortoiseUnitOfWork) -> None:
        self._uow = uow

    @translate_errors
    async def get(self, key_id: str) -> ApiKey | None:
        rows = await self._uow.sql.fetch(GET, (key_id,))
        return key_from_row(self._uow.sql, rows[0]) if rows else None

    @translate_errors
    async def add(self, key: ApiKey) -> None:
        await self._uow.sql.execute(INSERT, key_values(key))

    @translate_errors
    async def save(self, key: ApiKey) -> None:
        """Keys change in one way only: revocation."""
        await self._uow.sql.execute(_REVOKE, (key.id, key.revoked_at))

    @translate_errors
    async def count_active(self, user_id: str) -> int:
        rows = await self._uow.sql.fetch(_COUNT_ACTIVE, (user_id,))
        return int(rows[0][0])

    @translate_errors
    async def mark_used(self, key_id: str, at: datetime, not_since: datetime) -> None:
        await self._uow.sql.execute(_MARK_USED, (key_id, at, not_since))
