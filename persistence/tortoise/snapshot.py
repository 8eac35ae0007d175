"""Reading a live database into an audit :class:`Snapshot`.

Everything is read in one transaction (REPEATABLE READ on PostgreSQL, one
read transaction on SQLite) so the figures agree with each other while
commands keep running. The ledger may be large: :func:`audit_database` streams
it in pages of ``LEDGER_PAGE`` rows into ``domain.audit.check``, which runs in
a worker thread and pulls each page from the event loop as it needs it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace

from domain import audit
from domain.ledger import LedgerEntry
from domain.model import Platform
from persistence.memory import RecordingPublisher
from persistence.tables import LEDGER_ENTRIES, ORDERS, POSITIONS, SETTLEMENTS, USERS
from persistence.tortoise.database import Database
from persistence.tortoise.errors import translate_errors
from persistence.tortoise.markets import MARKET_COLUMNS, markets_from_rows
from persistence.tortoise.models import PlatformRecord
from persistence.tortoise.sql import Statement
from persistence.tortoise.unit_of_work import TortoiseUnitOfWork

LEDGER_PAGE = 5_000
_LEDGER_PAGE = Statement(
    f"SELECT {LEDGER_ENTRIES.select()} FROM ledger_entries WHERE id > $1"
    f" ORDER BY id LIMIT {LEDGER_PAGE}"
)
_USERS = Statement(f"SELECT {USERS.select()} FROM users ORDER BY id")
_MARKETS = Statement(
    f"SELECT {MARKET_COLUMNS} FROM markets m JOIN outcomes o ON o.market_id = m.id"
    " ORDER BY m.id, o.ordinal"
)
_ORDERS = Statement(f"SELECT {ORDERS.select()} FROM orders ORDER BY id")
_POSITIONS = Statement(f"SELECT {POSITIONS.select()} FROM positions ORDER BY id")
_SETTLEMENTS = Statement(f"SELECT {SETTLEMENTS.select()} FROM settlements ORDER BY id")
_TRADED = Statement("SELECT DISTINCT market_id, outcome_id FROM trades")
_CHARTED = Statement("SELECT DISTINCT market_id FROM price_points")


@translate_errors
async def _ledger_page(uow: TortoiseUnitOfWork, after: str) -> list[LedgerEntry]:
    sql = uow.sql
    return [LEDGER_ENTRIES.from_row(sql, row) for row in await sql.fetch(_LEDGER_PAGE, (after,))]


@translate_errors
async def _state(uow: TortoiseUnitOfWork) -> audit.Snapshot:
    db, sql = uow.db, uow.sql
    if not uow.database.is_sqlite:
        await db.execute_script("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    platform = await PlatformRecord.all().using_db(db).first()
    return audit.Snapshot(
        users=[USERS.from_row(sql, row) for row in await sql.fetch(_USERS)],
        markets=markets_from_rows(sql, await sql.fetch(_MARKETS)),
        orders=[ORDERS.from_row(sql, row) for row in await sql.fetch(_ORDERS)],
        positions=[POSITIONS.from_row(sql, row) for row in await sql.fetch(_POSITIONS)],
        entries=[],
        platform=Platform(issued_cents=platform.issued_cents if platform else 0),
        settlements=[SETTLEMENTS.from_row(sql, row) for row in await sql.fetch(_SETTLEMENTS)],
        references=audit.References(
            traded=frozenset((row[0], row[1]) for row in await sql.fetch(_TRADED)),
            charted=frozenset(row[0] for row in await sql.fetch(_CHARTED)),
        ),
    )


async def read_snapshot(database: Database) -> audit.Snapshot:
    """The whole state with the whole ledger in memory (tests, small databases)."""
    async with TortoiseUnitOfWork(database, RecordingPublisher()) as uow:
        state = await _state(uow)
        entries: list[LedgerEntry] = []
        while page := await _ledger_page(uow, entries[-1].id if entries else ""):
            entries.extend(page)
    return replace(state, entries=entries)


async def audit_database(database: Database) -> list[str]:
    """``domain.audit.check`` over a live database, streaming the ledger."""
    loop = asyncio.get_running_loop()
    async with TortoiseUnitOfWork(database, RecordingPublisher()) as uow:
        state = await _state(uow)

        def stream() -> Iterator[LedgerEntry]:
            after = ""
            while True:
                fetch = _ledger_page(uow, after)
                page: list[LedgerEntry] = asyncio.run_coroutine_threadsafe(fetch, loop).result()
                if not page:
                    return
                yield from page
                after = page[-1].id

        snapshot = replace(state, entries=stream())
        return await asyncio.to_thread(audit.check, snapshot)
