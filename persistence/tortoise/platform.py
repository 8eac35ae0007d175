"""The single platform row: what the issuer has issued, saved as a delta."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.model import Platform
from persistence.tortoise.errors import PersistenceError, translate_errors
from persistence.tortoise.sql import Statement

if TYPE_CHECKING:
    from persistence.tortoise.unit_of_work import TortoiseUnitOfWork

PLATFORM_ROW = 1
_GET_PLATFORM = Statement(f"SELECT issued_cents FROM platform WHERE id = {PLATFORM_ROW}")
_ADD_TO_PLATFORM = Statement(
    f"UPDATE platform SET issued_cents = issued_cents + $1 WHERE id = {PLATFORM_ROW}"
)
_CREATE_PLATFORM = Statement(
    f"INSERT INTO platform (id, issued_cents) VALUES ({PLATFORM_ROW}, 0) ON CONFLICT DO NOTHING"
)


class TortoisePlatformRepository:
    """The single platform row; ``issued_cents`` only grows, added as a delta."""

    def __init__(self, uow: TortoiseUnitOfWork) -> None:
        self._uow = uow
        self._loaded: int | None = None

    @translate_errors
    async def get(self) -> Platform:
        rows = await self._uow.sql.fetch(_GET_PLATFORM)
        self._loaded = rows[0][0] if rows else 0
        return Platform(issued_cents=self._loaded)

    @translate_errors
    async def save(self, platform: Platform) -> None:
        if self._loaded is None:
            raise PersistenceError("the platform row was saved without being loaded first")
        delta = platform.issued_cents - self._loaded
        if delta == 0:
            return
        sql = self._uow.sql
        if not await sql.execute(_ADD_TO_PLATFORM, (delta,)):
            # First movement ever: create the row (a racing creator wins harmlessly).
            await sql.execute(_CREATE_PLATFORM)
            await sql.execute(_ADD_TO_PLATFORM, (delta,))
        self._loaded = platform.issued_cents
