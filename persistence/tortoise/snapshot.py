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

from domain import audit
from domain.ledger import LedgerEntry
from domain.model import Platform
from persistence.memory import RecordingPublisher
from persistence.tortoise import mapping
from persistence.tortoise.database import Database
from persistence.tortoise.errors import translate_errors
from persistence.tortoise.models import (
    LedgerEntryRecord,
    MarketRecord,
    OrderRecord,
    OutcomeRecord,
    PlatformRecord,
    PositionRecord,
    UserRecord,
)
from persistence.tortoise.unit_of_work import TortoiseUnitOfWork

LEDGER_PAGE = 5_000


@translate_errors
async def _ledger_page(uow: TortoiseUnitOfWork, after: str) -> list[LedgerEntry]:
    query = LedgerEntryRecord.filter(id__gt=after).order_by("id").limit(LEDGER_PAGE)
    return [mapping.entry_to_domain(row) for row in await query.using_db(uow.db)]


@translate_errors
async def _state(uow: TortoiseUnitOfWork) -> audit.Snapshot:
    db = uow.db
    if not uow.database.is_sqlite:
        await db.execute_script("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    outcomes: dict[str, list[OutcomeRecord]] = {}
    for outcome in await OutcomeRecord.all().using_db(db):
        outcomes.setdefault(outcome.market_id, []).append(outcome)
    markets = await MarketRecord.all().order_by("id").using_db(db)
    platform = await PlatformRecord.all().using_db(db).first()
    return audit.Snapshot(
        users=[mapping.user_to_domain(u) for u in await UserRecord.all().using_db(db)],
        markets=[mapping.market_to_domain(m, outcomes.get(m.id, [])) for m in markets],
        orders=[mapping.order_to_domain(o) for o in await OrderRecord.all().using_db(db)],
        positions=[mapping.position_to_domain(p) for p in await PositionRecord.all().using_db(db)],
        entries=[],
        platform=Platform(issued_cents=platform.issued_cents if platform else 0),
    )


async def read_snapshot(database: Database) -> audit.Snapshot:
    """The whole state with the whole ledger in memory (tests, small databases)."""
    async with TortoiseUnitOfWork(database, RecordingPublisher()) as uow:
        state = await _state(uow)
        entries: list[LedgerEntry] = []
        while page := await _ledger_page(uow, entries[-1].id if entries else ""):
            entries.extend(page)
    return audit.Snapshot(
        state.users, state.markets, state.orders, state.positions, entries, state.platform
    )


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

        snapshot = audit.Snapshot(
            state.users, state.markets, state.orders, state.positions, stream(), state.platform
        )
        return await asyncio.to_thread(audit.check, snapshot)
