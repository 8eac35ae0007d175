"""API keys on Tortoise: the ``api_keys`` table as ``persistence.tables.API_KEYS``
describes it (its select list, row function and insert)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.keys import ApiKey, KeyHolder
from persistence.tables import API_KEYS
from persistence.tortoise.errors import translate_errors
from persistence.tortoise.sql import (
    Row,
    Statement,
    Timestamps,
)

if TYPE_CHECKING:
    from persistence.tortoise.unit_of_work import TortoiseUnitOfWork

KEY_COLUMNS = API_KEYS.select()
_COLUMN_COUNT = len(API_KEYS.columns)

INSERT = Statement(API_KEYS.insert)
GET = Statement(f"SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1")
FOR_USER = Statement(
    f"SELECT {KEY_COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
)
HOLDER = Statement(
    f"SELECT {API_KEYS.select('k')}, u.is_active, u.is_admin"
    " FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.digest = $1"
)
_REVOKE = Statement("UPDATE api_keys SET revoked_at = $2 WHERE id = $1")
_COUNT_ACTIVE = Statement("SELECT COUNT(*) FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL")
_MARK_USED = Statement(
    "UPDATE api_keys SET last_used_at = $2"
    " WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)"
)
key_from_row = API_KEYS.from_row


def holder_from_row(sql: Timestamps, row: Row) -> KeyHolder:
    return KeyHolder(
        key_from_row(sql, row),
        user_is_active=bool(row[_COLUMN_COUNT]),
        user_is_admin=bool(row[_COLUMN_COUNT + 1]),
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
        await self._uow.sql.execute(INSERT, API_KEYS.values(key))

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
