"""What every use case needs: the unit of work factory and the other ports."""

from __future__ import annotations

from dataclasses import dataclass

from domain.ports import Clock, CommandSequencer, IdGenerator, PasswordHasher, UnitOfWorkFactory
from domain.queries import ReadModel
from domain.services.books import BookCache

DEFAULT_STARTING_BALANCE_CENTS = 100_000


@dataclass(frozen=True, slots=True)
class Settings:
    """Platform settings the domain needs (cents and basis points)."""

    starting_balance_cents: int = DEFAULT_STARTING_BALANCE_CENTS
    default_fee_bps: int = 0


@dataclass(frozen=True, slots=True)
class ServiceContext:
    """``uow`` opens a unit of work for a command (on SQLite it takes the writer lock);
    ``reads`` answers the use cases that only read (a quote, a sign-in) from committed
    data, without one. ``sequencer`` queues each market's commands into batches
    (:mod:`domain.services.batching`; one per app, built by the composition root);
    without one, each command is a batch of its own. ``books`` keeps each market's
    books between its batches (none: every batch loads them)."""

    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    hasher: PasswordHasher
    settings: Settings = Settings()
    reads: ReadModel | None = None
    sequencer: CommandSequencer | None = None
    books: BookCache | None = None

    @property
    def read_model(self) -> ReadModel:
        if self.reads is None:
            raise RuntimeError("this ServiceContext was built without a read model")
        return self.reads
