"""What every use case needs: the unit of work factory and the other ports."""

from __future__ import annotations

from dataclasses import dataclass

from domain.ports import Clock, IdGenerator, PasswordHasher, UnitOfWorkFactory

DEFAULT_STARTING_BALANCE_CENTS = 100_000


@dataclass(frozen=True, slots=True)
class Settings:
    """Platform settings the domain needs (cents and basis points)."""

    starting_balance_cents: int = DEFAULT_STARTING_BALANCE_CENTS
    default_fee_bps: int = 0


@dataclass(frozen=True, slots=True)
class ServiceContext:
    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    hasher: PasswordHasher
    settings: Settings = Settings()
