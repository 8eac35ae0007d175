"""Storage backends for the app: the in-memory adapters or Tortoise (SQLite, PostgreSQL)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

from domain.ports import (
    CommandSequencer,
    EventPublisher,
    Notify,
    PasswordHasher,
    SharedCounters,
    UnitOfWorkFactory,
)
from domain.queries import ReadModel
from domain.services.books import BookCache
from domain.services.context import ServiceContext, Settings
from persistence.sequencer import AsyncioSequencer
from persistence.system import RandomIds, SystemClock
from web.settings import AppSettings

log = logging.getLogger("bellwether.app")


@dataclass
class Backend:
    services: ServiceContext
    reads: ReadModel
    counters: SharedCounters
    """Shared by every worker on this database (login attempts; see domain.ports)."""
    close: Callable[[], Awaitable[None]]


def domain_settings(settings: AppSettings) -> Settings:
    return Settings(
        starting_balance_cents=settings.starting_balance_cents,
        default_fee_bps=settings.default_fee_bps,
    )


def _services(
    settings: AppSettings,
    uow: object,
    reads: ReadModel,
    hasher: PasswordHasher,
    sequencer: CommandSequencer | None,
) -> ServiceContext:
    """The use cases' context: system clock and random ids, on ``uow`` and ``reads``;
    ``sequencer`` batches each market's commands (a new one if None)."""
    return ServiceContext(
        uow=cast(UnitOfWorkFactory, uow),
        clock=SystemClock(),
        ids=RandomIds(),
        hasher=hasher,
        settings=domain_settings(settings),
        reads=reads,
        sequencer=sequencer or AsyncioSequencer(),
        books=BookCache(),
    )


async def _nothing() -> None:
    return None


def open_memory(
    settings: AppSettings,
    publisher: EventPublisher,
    hasher: PasswordHasher,
    sequencer: CommandSequencer | None = None,
) -> Backend:
    from persistence.counters import InMemorySharedCounters
    from persistence.memory import MemoryStore
    from persistence.memory_queries import InMemoryReadModel

    store = MemoryStore(publisher)
    reads = InMemoryReadModel(store)
    services = _services(settings, store.unit_of_work, reads, hasher, sequencer)
    counters = InMemorySharedCounters(services.clock)
    return Backend(services, reads, counters, _nothing)


async def open_tortoise(
    settings: AppSettings,
    publisher: EventPublisher,
    hasher: PasswordHasher,
    notify: Notify | None = None,
    sequencer: CommandSequencer | None = None,
) -> Backend:
    """Commands on one Database; reads on a second one when SQLite (its own connection,
    so a read never sees a command's uncommitted writes on the shared connection).
    ``notify``: on PostgreSQL, the bus's NOTIFY that each command's transaction sends
    (``persistence.tortoise.unit_of_work``)."""
    from persistence.tortoise.counters import TortoiseSharedCounters
    from persistence.tortoise.database import Database
    from persistence.tortoise.queries import TortoiseReadModel
    from persistence.tortoise.unit_of_work import TortoiseUnitOfWorkFactory

    database = await Database.open(settings.database_url)
    try:
        if not settings.is_production:
            applied = await database.migrate()
            if applied:
                log.info("applied migrations: %s", ", ".join(applied))
        reader = (
            await Database.open(settings.database_url, checkpoints=False)
            if database.is_sqlite
            else database
        )
    except BaseException:
        await database.close()  # and its checkpoint thread
        raise
    units = TortoiseUnitOfWorkFactory(database, publisher, notify)
    reads = TortoiseReadModel(reader)
    services = _services(settings, units, reads, hasher, sequencer)

    async def close() -> None:
        if reader is not database:
            await reader.close()
        await database.close()

    counters = TortoiseSharedCounters(units, services.clock)
    return Backend(services, reads, counters, close)


async def open_backend(
    settings: AppSettings,
    publisher: EventPublisher,
    hasher: PasswordHasher,
    notify: Notify | None = None,
    sequencer: CommandSequencer | None = None,
) -> Backend:
    if settings.is_memory:
        return open_memory(settings, publisher, hasher, sequencer)
    return await open_tortoise(settings, publisher, hasher, notify, sequencer)


def default_hasher() -> PasswordHasher:
    from auth.passwords import PasslibHasher

    hasher: PasswordHasher = PasslibHasher()
    return hasher
