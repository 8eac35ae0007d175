"""Users and the platform row, saved as guarded deltas.

Commands in different markets may touch one user (or the platform row) at the
same time, so a balance is never written as an absolute value: ``save`` adds
the difference between the balance as loaded and as saved, and a negative
difference only applies while the stored balance covers it. If it does not,
the command raises :class:`InsufficientBalance` and rolls back whole.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q

from domain.errors import InsufficientBalance, UsernameTaken
from domain.model import Platform, User
from persistence.tortoise import mapping
from persistence.tortoise.errors import PersistenceError, translate_errors
from persistence.tortoise.models import PlatformRecord, UserRecord

if TYPE_CHECKING:
    from persistence.tortoise.unit_of_work import TortoiseUnitOfWork

PLATFORM_ROW = 1


class TortoiseUserRepository:
    def __init__(self, uow: TortoiseUnitOfWork) -> None:
        self._uow = uow
        self._loaded: dict[str, User] = {}
        self._handed_out: dict[str, User] = {}

    def _remember(self, row: UserRecord | None) -> User | None:
        if row is None:
            return None
        user = mapping.user_to_domain(row)
        self._loaded[user.id] = copy.copy(user)
        self._handed_out[user.id] = user
        return user

    @translate_errors
    async def refresh_balances(self) -> None:
        """Re-read the balances of users loaded earlier in this transaction.

        Called once a market lock is taken: a command loads its actor before
        locking the market, and on PostgreSQL another market's command may have
        moved that user's money meanwhile. Balances the command already changed
        are left alone (their delta is what gets saved).
        """
        stale = {
            uid: user
            for uid, user in self._handed_out.items()
            if _balances(user) == _balances(self._loaded[uid])
        }
        if not stale:
            return
        query = UserRecord.filter(id__in=list(stale)).using_db(self._uow.db)
        for row in await query.only("id", *mapping.USER_BALANCES):
            user, loaded = stale[row.id], self._loaded[row.id]
            for name in mapping.USER_BALANCES:
                setattr(user, name, getattr(row, name))
                setattr(loaded, name, getattr(row, name))

    @translate_errors
    async def get(self, user_id: str) -> User | None:
        return self._remember(await UserRecord.filter(id=user_id).using_db(self._uow.db).first())

    @translate_errors
    async def get_by_username(self, username: str) -> User | None:
        query = UserRecord.filter(username=username).using_db(self._uow.db)
        return self._remember(await query.first())

    @translate_errors
    async def is_taken(self, username: str, email: str) -> bool:
        taken = Q(username_key=username.casefold()) | Q(email=email)
        return await UserRecord.filter(taken).using_db(self._uow.db).exists()

    @translate_errors
    async def add(self, user: User) -> None:
        try:
            await UserRecord(**mapping.user_fields(user)).save(
                using_db=self._uow.db, force_create=True
            )
        except IntegrityError:
            # Two registrations raced past is_taken: the loser's insert hits the unique index.
            raise UsernameTaken("that username or email is already registered") from None
        self._loaded[user.id] = copy.copy(user)

    @translate_errors
    async def save(self, user: User) -> None:
        before = self._loaded.get(user.id)
        if before is None:
            raise PersistenceError(f"user {user.id} was saved without being loaded first")
        deltas = _changes(before, user, mapping.USER_BALANCES, delta=True)
        attributes = _changes(before, user, mapping.USER_ATTRIBUTES, delta=False)
        if not deltas and not attributes:
            return
        query = UserRecord.filter(id=user.id)
        for name, delta in deltas.items():
            if delta < 0:
                query = query.filter(**{f"{name}__gte": -delta})
        updates: dict[str, Any] = {name: F(name) + delta for name, delta in deltas.items()}
        if "username" in attributes:
            updates["username_key"] = user.username.casefold()
        updated = await query.using_db(self._uow.db).update(**updates, **attributes)
        if not updated:
            raise InsufficientBalance("the balance changed meanwhile and no longer covers this")
        self._loaded[user.id] = copy.copy(user)


def _balances(user: User) -> tuple[int, ...]:
    return tuple(getattr(user, name) for name in mapping.USER_BALANCES)


def _changes(before: User, after: User, names: tuple[str, ...], *, delta: bool) -> dict[str, Any]:
    changed = {}
    for name in names:
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            changed[name] = new - old if delta else new
    return changed


class TortoisePlatformRepository:
    """The single platform row; ``issued_cents`` only grows, added as a delta."""

    def __init__(self, uow: TortoiseUnitOfWork) -> None:
        self._uow = uow
        self._loaded: int | None = None

    @translate_errors
    async def get(self) -> Platform:
        row = await PlatformRecord.filter(id=PLATFORM_ROW).using_db(self._uow.db).first()
        self._loaded = row.issued_cents if row is not None else 0
        return Platform(issued_cents=self._loaded)

    @translate_errors
    async def save(self, platform: Platform) -> None:
        if self._loaded is None:
            raise PersistenceError("the platform row was saved without being loaded first")
        delta = platform.issued_cents - self._loaded
        if delta == 0:
            return
        db = self._uow.db
        row = PlatformRecord.filter(id=PLATFORM_ROW).using_db(db)
        if not await row.update(issued_cents=F("issued_cents") + delta):
            # First movement ever: create the row (a racing creator wins harmlessly).
            await PlatformRecord.bulk_create(
                [PlatformRecord(id=PLATFORM_ROW, issued_cents=0)],
                ignore_conflicts=True,
                using_db=db,
            )
            await row.update(issued_cents=F("issued_cents") + delta)
        self._loaded = platform.issued_cents
