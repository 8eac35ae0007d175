"""Users, saved as guarded deltas (the platform row: ``platform.py``).

Commands in different markets may touch one user (or the platform row) at the
same time, so a balance is never written as an absolute value: ``save`` adds
the difference between the balance as loaded and as saved, and a negative
difference only applies while the stored balance covers it. If it does not,
the command raises :class:`InsufficientBalance` and rolls back whole.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tortoise.expressions import Q

from domain.errors import (
    DEACTIVATED_MEANWHILE,
    InsufficientBalance,
    Unauthenticated,
    UsernameTaken,
)
from domain.model import Position, User
from persistence.tables import POSITIONS, USERS
from persistence.tortoise.errors import PersistenceError, translate_errors
from persistence.tortoise.models import UserRecord
from persistence.tortoise.sql import ListStatement, Row, Statement, is_integrity_error

if TYPE_CHECKING:
    from persistence.tortoise.unit_of_work import TortoiseUnitOfWork

USER_BALANCES = ("cash_cents", "bonus_cents", "reserved_cents")
"""Ledger accounts on the user row: saved as guarded deltas, never as absolute values."""
USER_ATTRIBUTES = tuple(c.name for c in USERS.mutable if c.name not in USER_BALANCES)
"""The other columns a save may change (``USERS.mutable``), written as values."""
USER_COLUMNS = USERS.select()
_INSERT = Statement(USERS.insert)
_GET = Statement(f"SELECT {USER_COLUMNS} FROM users WHERE id = $1")
USER_BY_NAME = Statement(f"SELECT {USER_COLUMNS} FROM users WHERE username = $1 LIMIT 1")
# A no-op write: it takes the row lock (a deactivation waits for us) and checks activity.
_LOCK_ACTIVE = Statement("UPDATE users SET is_active = is_active WHERE id = $1 AND is_active")
_TAKE_FILL_SEQUENCES = Statement(
    "UPDATE users SET fill_sequence = fill_sequence + $2 WHERE id = $1 RETURNING fill_sequence"
)


USERS_BY_IDS = ListStatement(f"SELECT {USER_COLUMNS} FROM users WHERE id {{values}}")
"""Users by id (the repository's and the read model's)."""
_POSITIONS_AT = len(USERS.columns)
HOLDING = ListStatement(
    f"SELECT {USERS.select('u')}, {POSITIONS.select('p')} FROM users u LEFT JOIN positions p"
    " ON p.user_id = u.id AND p.market_id = $1 WHERE u.id {values} ORDER BY u.id, p.id",
    fixed=1,
)
"""Users with their positions in a market: a user's row once per position (or once,
its position columns NULL, if it holds none there). ``$1`` the market, ``$2`` the users."""
_BALANCES_OF = ListStatement(
    f"SELECT id, {', '.join(USER_BALANCES)} FROM users WHERE id {{values}}"
)


def _save_rows() -> Statement:
    """PostgreSQL: many users' guarded deltas, fill counts and activity checks in one
    ``UPDATE``: ``$1`` the ids, then one array per balance's delta, the fills to count,
    whether each is an actor. The rows are locked in id order first (``locked``: its
    ``ORDER BY`` runs before its locking, and the update reaches a row only through it),
    so two writers never wait on each other's users in opposite orders. A refused row
    is left out of the ``RETURNING``."""
    n = len(USER_BALANCES)
    deltas = ", ".join(f"${i}::bigint[]" for i in range(2, n + 2))
    sets = ", ".join(f"{c} = u.{c} + d.{c}" for c in USER_BALANCES)
    guards = "".join(f" AND (d.{c} >= 0 OR u.{c} + d.{c} >= 0)" for c in USER_BALANCES)
    return Statement(
        "WITH locked AS (SELECT id FROM users WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE)"
        f" UPDATE users u SET {sets}, fill_sequence = u.fill_sequence + d.fills"
        f" FROM unnest($1::text[], {deltas}, ${n + 2}::bigint[], ${n + 3}::boolean[])"
        f" AS d(id, {', '.join(USER_BALANCES)}, fills, actor) JOIN locked ON locked.id = d.id"
        f" WHERE u.id = d.id{guards} AND (u.is_active OR NOT d.actor)"
        " RETURNING u.id, u.fill_sequence"
    )


_SAVE_ROWS = _save_rows()


@functools.cache
def _update(
    deltas: tuple[tuple[str, bool], ...], attributes: tuple[str, ...], active: bool
) -> Statement:
    """``UPDATE users``: ``$1`` the id, then one parameter per delta, then per attribute.

    A delta marked guarded (a negative one) only applies while the stored
    balance plus the delta stays at or above zero; with ``active``, nothing
    applies unless the user is active.
    """
    sets, guards, n = [], [], 2
    for name, guarded in deltas:
        sets.append(f"{name} = {name} + ${n}")
        if guarded:
            guards.append(f" AND {name} + ${n} >= 0")
        n += 1
    for name in attributes:
        sets.append(f"{name} = ${n}")
        n += 1
    if active:
        guards.append(" AND is_active")
    return Statement(f"UPDATE users SET {', '.join(sets)} WHERE id = $1{''.join(guards)}")


class TortoiseUserRepository:
    def __init__(self, uow: TortoiseUnitOfWork) -> None:
        self._uow = uow
        self._loaded: dict[str, User] = {}
        self._handed_out: dict[str, User] = {}

    def _remember(self, rows: list[Row]) -> User | None:
        users = self._remember_all(rows[:1])
        return users[0] if users else None

    def _remember_all(self, rows: list[Row], at: int = 0) -> list[User]:
        users = [USERS.from_row(self._uow.sql, row, at) for row in rows]
        for user in users:
            self._loaded[user.id] = copy.copy(user)
            self._handed_out[user.id] = user
        return users

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
        ids = sorted(stale)
        for row in await self._uow.sql.fetch_in(_BALANCES_OF, (), ids):
            user, loaded = stale[row[0]], self._loaded[row[0]]
            for name, value in zip(USER_BALANCES, row[1:], strict=True):
                setattr(user, name, value)
                setattr(loaded, name, value)

    @translate_errors
    async def get(self, user_id: str) -> User | None:
        return self._remember(await self._uow.sql.fetch(_GET, (user_id,)))

    @translate_errors
    async def get_many(self, user_ids: Sequence[str]) -> list[User]:
        if not user_ids:
            return []
        ids = list(user_ids)
        return self._remember_all(await self._uow.sql.fetch_in(USERS_BY_IDS, (), ids))

    @translate_errors
    async def get_many_holding(
        self, market_id: str, user_ids: Sequence[str]
    ) -> tuple[list[User], list[Position]]:
        if not user_ids:
            return [], []
        rows = await self._uow.sql.fetch_in(HOLDING, (market_id,), list(user_ids))
        return self.remember_holding(rows)

    def remember_holding(self, rows: list[Row], at: int = 0) -> tuple[list[User], list[Position]]:
        """The users and positions of :data:`HOLDING`'s rows (its columns from ``at`` on),
        remembered as loaded."""
        users = {row[at]: row for row in rows}  # in id order, each once
        held = [row for row in rows if row[at + _POSITIONS_AT] is not None]
        positions = self._uow.positions.remember_rows(held, at + _POSITIONS_AT)
        return self._remember_all(list(users.values()), at), positions

    @translate_errors
    async def get_by_username(self, username: str) -> User | None:
        return self._remember(await self._uow.sql.fetch(USER_BY_NAME, (username,)))

    @translate_errors
    async def is_taken(self, username: str, email: str) -> bool:
        taken = Q(username_key=username.casefold()) | Q(email=email)
        return await UserRecord.filter(taken).using_db(self._uow.db).exists()

    @translate_errors
    async def add(self, user: User) -> None:
        try:
            await self._uow.sql.execute(_INSERT, USERS.values(user))
        except Exception as exc:
            if not is_integrity_error(exc):
                raise
            # Two registrations raced past is_taken: the loser's insert hits the unique index.
            raise UsernameTaken("that username or email is already registered") from None
        self._loaded[user.id] = copy.copy(user)

    @translate_errors
    async def save_all(
        self, users: Sequence[User], actors: Collection[str], fills: Mapping[str, int]
    ) -> dict[str, int]:
        """At once, not deferred: the caller needs the fill counts (and the row locks).
        On PostgreSQL one statement (:data:`_SAVE_ROWS`) unless a user's other columns
        changed; on SQLite (one writer, statements without a round trip) one per user."""
        if self._uow.database.is_sqlite or any(self._attributes_changed(u) for u in users):
            return await self._save_each(users, actors, fills)
        rows, moved = [], []
        for user in users:
            deltas = _changes(self._before(user), user, USER_BALANCES, delta=True)
            count, actor = fills.get(user.id, 0), user.id in actors
            if deltas or count or actor:
                rows.append((user.id, *(deltas.get(c, 0) for c in USER_BALANCES), count, actor))
            if deltas:
                moved.append(user)
        if not rows:
            return {}
        columns = [list(column) for column in zip(*rows, strict=True)]
        found = {row[0]: int(row[1]) for row in await self._uow.sql.fetch(_SAVE_ROWS, columns)}
        if len(found) < len(rows):
            await self._refused([row[0] for row in rows if row[0] not in found], actors)
        for user in moved:  # only balances changed: the rest of the loaded copy still holds
            before = self._loaded[user.id]
            for name in USER_BALANCES:
                setattr(before, name, getattr(user, name))
        return {user_id: found[user_id] for user_id in fills}

    async def _save_each(
        self, users: Sequence[User], actors: Collection[str], fills: Mapping[str, int]
    ) -> dict[str, int]:
        last = {}
        for user in users:
            if user.id in actors:
                saved = await self._save(user, active=True)
                if saved is None:
                    saved = bool(await self._uow.sql.execute(_LOCK_ACTIVE, (user.id,)))
                if not saved:
                    raise Unauthenticated(DEACTIVATED_MEANWHILE)
            else:
                await self._save(user, active=False)
            if user.id in fills:
                last[user.id] = await self._take_fill_sequences(user.id, fills[user.id])
        return last

    async def _take_fill_sequences(self, user_id: str, count: int) -> int:
        rows = await self._uow.sql.fetch(_TAKE_FILL_SEQUENCES, (user_id, count))
        if not rows:
            raise PersistenceError(f"no user {user_id} to count fills of")
        return int(rows[0][0])

    async def _refused(self, user_ids: list[str], actors: Collection[str]) -> None:
        """Raise for the first refused user (in id order), as :meth:`_save_each` would:
        a deactivated actor is UNAUTHENTICATED, anything else a balance that no longer
        covers its debit."""
        first = user_ids[0]
        if first in actors and not await self._uow.sql.execute(_LOCK_ACTIVE, (first,)):
            raise Unauthenticated(DEACTIVATED_MEANWHILE)
        raise InsufficientBalance("the balance changed meanwhile and no longer covers this")

    def _before(self, user: User) -> User:
        before = self._loaded.get(user.id)
        if before is None:
            raise PersistenceError(f"user {user.id} was saved without being loaded first")
        USERS.check_fixed(USERS.fixed(before), user)
        return before

    def _attributes_changed(self, user: User) -> bool:
        return bool(_changes(self._before(user), user, USER_ATTRIBUTES, delta=False))

    @translate_errors
    async def save(self, user: User) -> None:
        await self._save(user, active=False)

    async def _save(self, user: User, *, active: bool) -> bool | None:
        """Write what changed: None if nothing did, False if ``active`` and the user
        is not (nothing written), else True."""
        before = self._before(user)
        deltas = _changes(before, user, USER_BALANCES, delta=True)
        attributes = _changes(before, user, USER_ATTRIBUTES, delta=False)
        if not deltas and not attributes:
            return None
        if "username" in attributes:
            attributes["username_key"] = user.username.casefold()
        guarded = tuple((k, d < 0) for k, d in deltas.items())
        statement = _update(guarded, tuple(attributes), active)
        params = (user.id, *deltas.values(), *attributes.values())
        if not await self._uow.sql.execute(statement, params):
            # Refused: tell a deactivated user from a balance that no longer covers it.
            if active and not await self._uow.sql.execute(_LOCK_ACTIVE, (user.id,)):
                return False
            raise InsufficientBalance("the balance changed meanwhile and no longer covers this")
        self._loaded[user.id] = copy.copy(user)
        return True


def _balances(user: User) -> tuple[int, ...]:
    return tuple(getattr(user, name) for name in USER_BALANCES)


def _changes(before: User, after: User, names: tuple[str, ...], *, delta: bool) -> dict[str, Any]:
    changed = {}
    for name in names:
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            changed[name] = new - old if delta else new
    return changed
