"""One description per stored entity: its table, its columns, which of them may change.

A :class:`Table` names the entity's dataclass, the SQL table, the few columns whose
name differs from the field, and the fields a save may change (``mutable``); how
each value is read and written follows from the field's type (an enum is stored as
its value, a datetime through the driver's timestamps, an ``AccountId`` as text, a
tuple of floats as JSON). Everything else is derived from it: the SELECT list, the
row-to-entity function (fields by name), the INSERT and UPDATE statements and their
parameters, and the values a repository compares to see what a command changed.

The row functions are generated once, at import, as plain Python source (as
:mod:`dataclasses` does for ``__init__``): reading a book's orders runs them per row.

Adding a field: the dataclass, its table description here (only if its column is
named differently or it may change after the insert), a migration, the schema
type. ``tests/unit/test_tables.py`` fails until the table carries every field.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import Any, Generic, Protocol, TypeVar, Union, get_args, get_origin, get_type_hints

from domain.keys import ApiKey, scopes_from_text, scopes_text
from domain.ledger import AccountId, LedgerEntry
from domain.model import (
    Market,
    Order,
    Outcome,
    Position,
    PricePoint,
    SettledPosition,
    Trade,
    User,
)

E = TypeVar("E")
Row = Sequence[Any]
Params = Sequence[object]


class Timestamps(Protocol):
    def timestamp(self, value: object) -> datetime:
        """A timestamp column's value as a timezone-aware UTC datetime."""
        ...


class AsStored:
    """Timestamps of values the ORM already converted (``values_list``): as they are."""

    @staticmethod
    def timestamp(value: object) -> datetime:
        assert isinstance(value, datetime)
        return value


class FixedFieldChanged(RuntimeError):
    """A save would change a field that cannot change once stored: a bug, not a client error."""


@dataclasses.dataclass(frozen=True, slots=True)
class Column:
    field: str
    name: str
    mutable: bool
    read: str
    """Python expression of the field's value from the stored value ``{v}``."""
    write: str
    """Python expression of the stored value from the field's value ``{x}``."""
    kind: str = "text"
    """The PostgreSQL type of the stored value (an array parameter's elements)."""


class Table(Generic[E]):
    """The stored form of one entity type; see the module docstring."""

    def __init__(
        self,
        entity: type[E],
        name: str,
        *,
        key: tuple[str, ...] = ("id",),
        mutable: frozenset[str] = frozenset(),
        renamed: Mapping[str, str] | None = None,
        excluded: frozenset[str] = frozenset(),
        derived: Mapping[str, Callable[[E], object]] | None = None,
        stored_as: Mapping[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] | None = None,
    ) -> None:
        """``renamed`` maps a field to its column; ``excluded`` fields are stored
        elsewhere (a market's outcomes); ``derived`` columns are computed from the
        entity on insert (a casefolded username); ``stored_as`` gives a field whose
        type has no stored form of its own its (read, write) functions."""
        self.entity, self.name, self.key = entity, name, key
        renamed, stored_as = renamed or {}, stored_as or {}
        hints = get_type_hints(entity)
        self.columns = tuple(
            _stored_as(f.name, renamed.get(f.name, f.name), f.name in mutable)
            if f.name in stored_as
            else _column(f.name, renamed.get(f.name, f.name), f.name in mutable, hints[f.name])
            for f in dataclasses.fields(entity)  # type: ignore[arg-type]
            if f.name not in excluded
        )
        named = mutable | frozenset(renamed) | excluded | frozenset(stored_as)
        unknown = named - {f.name for f in self.fields_of()}
        if unknown:
            raise TypeError(f"{entity.__name__} has no fields {sorted(unknown)}")
        self.derived = dict(derived or {})
        self.mutable = tuple(c for c in self.columns if c.mutable)
        self.fixed_columns = tuple(c for c in self.columns if not c.mutable)
        names = {"E": entity, "_floats": _floats, "_json": _json}
        names.update(_types_of(hints))
        for field, (read, write) in stored_as.items():
            names[f"_read_{field}"], names[f"_write_{field}"] = read, write
        self.from_row: Callable[..., E] = _compile(
            "from_row",
            "sql, row, at=0, **extra",
            f"E({', '.join(_read(c, i) for i, c in enumerate(self.columns))}, **extra)",
            names,
        )
        """``from_row(sql, row, at=0, **extra)``: the entity from ``row[at:]`` as read by
        :meth:`select`, timestamps through ``sql``; ``extra`` gives excluded fields."""
        self._values: Callable[[E], tuple[object, ...]] = _compile(
            "values", "e", _tuple(c.write.format(x=f"e.{c.field}") for c in self.columns), names
        )
        self.state: Callable[[E], tuple[object, ...]] = _compile(
            "state", "e", _tuple(c.write.format(x=f"e.{c.field}") for c in self.mutable), names
        )
        """The stored values of the mutable columns: what a save compares and writes."""
        self.fixed: Callable[[E], tuple[object, ...]] = _compile(
            "fixed", "e", _tuple(f"e.{c.field}" for c in self.fixed_columns), names
        )
        """The fields that never change once stored."""

    def fields_of(self) -> tuple[dataclasses.Field[Any], ...]:
        return dataclasses.fields(self.entity)  # type: ignore[arg-type]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def select(self, alias: str = "") -> str:
        """The SELECT list :attr:`from_row` reads, each column prefixed with ``alias.``."""
        prefix = f"{alias}." if alias else ""
        return ", ".join(prefix + c.name for c in self.columns)

    @functools.cached_property
    def insert(self) -> str:
        """``INSERT INTO table (columns) VALUES ($1, ...)``; parameters: :meth:`values`."""
        names = (*self.column_names, *self.derived)
        numbers = ", ".join(f"${i}" for i in range(1, len(names) + 1))
        return f"INSERT INTO {self.name} ({', '.join(names)}) VALUES ({numbers})"

    def values(self, entity: E) -> tuple[object, ...]:
        """Parameters of :attr:`insert`."""
        if not self.derived:
            return self._values(entity)
        return (*self._values(entity), *(f(entity) for f in self.derived.values()))

    @functools.cached_property
    def update(self) -> str:
        """``UPDATE`` of every mutable column by key; parameters: the key, then :attr:`state`."""
        return self.update_of(tuple(c.name for c in self.mutable))

    @functools.cached_property
    def insert_rows(self) -> str:
        """PostgreSQL's :attr:`insert` of many rows: ``$n`` is the array of every row's
        n-th parameter (``SELECT * FROM unnest(...)``)."""
        if self.derived:
            raise TypeError(f"{self.name}: no multi-row insert with derived columns")
        return (
            f"INSERT INTO {self.name} ({', '.join(self.column_names)}) "
            f"SELECT * FROM unnest({_arrays(self.columns)})"
        )

    @functools.cached_property
    def update_rows(self) -> str:
        """PostgreSQL's :attr:`update` of many rows, parameters as :attr:`insert_rows`'s;
        each key may appear once."""
        by_name = {c.name: c for c in self.columns}
        keys = [by_name[name] for name in self.key]
        names = ", ".join(c.name for c in (*keys, *self.mutable))
        sets = ", ".join(f"{c.name} = d.{c.name}" for c in self.mutable)
        where = " AND ".join(f"t.{c.name} = d.{c.name}" for c in keys)
        return (
            f"UPDATE {self.name} t SET {sets} FROM unnest({_arrays((*keys, *self.mutable))})"
            f" AS d({names}) WHERE {where}"
        )

    def update_of(self, names: Sequence[str]) -> str:
        """``UPDATE`` of the columns ``names``: the key's parameters first, then theirs."""
        keys = len(self.key)
        sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=keys + 1))
        where = " AND ".join(f"{name} = ${i}" for i, name in enumerate(self.key, start=1))
        return f"UPDATE {self.name} SET {sets} WHERE {where}"

    def check_fixed(self, stored: tuple[object, ...], entity: E) -> None:
        """Raise :class:`FixedFieldChanged` unless ``entity`` keeps the fixed fields of
        ``stored`` (as :attr:`fixed` gave them when it was loaded or added)."""
        now = self.fixed(entity)
        if now != stored:
            changed = [
                c.field for c, a, b in zip(self.fixed_columns, stored, now, strict=True) if a != b
            ]
            raise FixedFieldChanged(
                f"{self.entity.__name__} {getattr(entity, self.key[0])}: {', '.join(changed)}"
                " cannot change once stored"
            )


def _arrays(columns: Sequence[Column]) -> str:
    return ", ".join(f"${i}::{c.kind}[]" for i, c in enumerate(columns, start=1))


def _stored_as(field: str, name: str, mutable: bool) -> Column:
    """A column read and written by the functions the table's ``stored_as`` names."""
    return Column(field, name, mutable, f"_read_{field}({{v}})", f"_write_{field}({{x}})")


def _column(field: str, name: str, mutable: bool, hint: Any) -> Column:
    optional = get_origin(hint) in (Union, types.UnionType) and type(None) in get_args(hint)
    if optional:
        (hint,) = [arg for arg in get_args(hint) if arg is not type(None)]
    read, write = _conversions(hint)
    kind = _KINDS.get(hint, "text")
    if optional and read != "{v}":
        read = "(None if {v} is None else " + read + ")"
    if optional and write != "{x}":
        write = "(None if {x} is None else " + write + ")"
    return Column(field, name, mutable, read, write, kind)


# Enums, account ids and ids are text; a tuple of floats is JSON.
_KINDS: dict[Any, str] = {
    int: "bigint",
    bool: "boolean",
    float: "double precision",
    datetime: "timestamptz",
    tuple[float, ...]: "jsonb",
}


def _conversions(hint: Any) -> tuple[str, str]:
    if hint is bool:
        return "bool({v})", "{x}"
    if hint is datetime:
        return "sql.timestamp({v})", "{x}"
    if isinstance(hint, type) and issubclass(hint, Enum):
        return f"{_type_name(hint)}({{v}})", "{x}.value"
    if hint is AccountId:
        return f"{_type_name(hint)}.parse({{v}})", "str({x})"
    if get_origin(hint) is tuple:
        return "_floats({v})", "_json({x})"
    if hint in (int, str, float):
        return "{v}", "{x}"
    raise TypeError(f"no stored form for {hint!r}")


def _type_name(cls: type) -> str:
    return f"_{cls.__name__}"


def _types_of(hints: Mapping[str, Any]) -> dict[str, type]:
    found: dict[str, type] = {}
    for hint in hints.values():
        for arg in (hint, *get_args(hint)):
            if isinstance(arg, type) and (issubclass(arg, Enum) or arg is AccountId):
                found[_type_name(arg)] = arg
    return found


def _read(column: Column, index: int) -> str:
    return f"{column.field}=" + column.read.format(v=f"row[at + {index}]")


def _tuple(items: Any) -> str:
    listed = list(items)
    return f"({', '.join(listed)},)" if listed else "()"


def _compile(name: str, arguments: str, body: str, names: dict[str, Any]) -> Any:
    namespace = dict(names)
    exec(f"def {name}({arguments}):\n    return {body}\n", namespace)
    return namespace[name]


def _floats(value: object) -> tuple[float, ...]:
    """A JSON list of floats, as text (a raw row) or already parsed (the ORM's)."""
    items = json.loads(value) if isinstance(value, str | bytes) else value
    assert isinstance(items, list)
    return tuple(float(p) for p in items)


def _json(values: Sequence[float]) -> str:
    """Compact JSON, as the model's JSONField writes it (``json.dumps``, which writes a
    float as ``float.__repr__``); written here without the encoder ``json.dumps``
    builds per call (a price point per market batch), except for NaN, the infinities
    (``json`` spells them otherwise; their reprs have an "n") or a non-float."""
    try:
        text = ",".join(map(float.__repr__, values))
    except TypeError:
        text = "n"
    if "n" in text:
        return json.dumps(list(values), separators=(",", ":"))
    return f"[{text}]"


USERS = Table(
    User,
    "users",
    mutable=frozenset(
        {
            "username",
            "email",
            "password_hash",
            "cash_cents",
            "bonus_cents",
            "reserved_cents",
            "is_admin",
            "is_active",
        }
    ),
    derived={
        "username_key": lambda user: user.username.casefold(),
        "fill_sequence": lambda user: 0,  # counted by UPDATE ... RETURNING, never saved
    },
)
MARKETS = Table(
    Market,
    "markets",
    excluded=frozenset({"outcomes"}),
    mutable=frozenset(
        {
            "title",
            "description",
            "status",
            "liquidity",
            "fee_bps",
            "resolution_source",
            "closes_at",
            "resolved_at",
            "winning_outcome_id",
            "volume_cents",
            "pool_cents",
            "fees_cents",
            "order_sequence",
            "price_sequence",
            "trade_sequence",
            "resolution_value",
            "dispute_window_ends_at",
            "dispute_reason",
        }
    ),
)
OUTCOMES = Table(
    Outcome,
    "outcomes",
    renamed={"index": "ordinal"},
    mutable=frozenset(
        {
            "amm_shares",
            "shares_outstanding",
            "last_trade_cents",
            "best_bid_cents",
            "best_ask_cents",
            "book_sequence",
            "payout_cents",
        }
    ),
)
ORDERS = Table(
    Order,
    "orders",
    # Price, quantity and queue place change when an order is amended.
    mutable=frozenset(
        {
            "filled_quantity",
            "status",
            "reserved_cents",
            "updated_at",
            "price_cents",
            "quantity",
            "sequence",
        }
    ),
)
POSITIONS = Table(
    Position,
    "positions",
    key=("user_id", "outcome_id"),
    mutable=frozenset({"shares", "reserved_shares", "cost_cents", "realized_pnl_cents"}),
)
TRADES = Table(Trade, "trades")
LEDGER_ENTRIES = Table(LedgerEntry, "ledger_entries")
PRICE_POINTS = Table(PricePoint, "price_points", key=("market_id", "at"))
SETTLEMENTS = Table(SettledPosition, "settlements")
API_KEYS = Table(
    ApiKey,
    "api_keys",
    mutable=frozenset({"last_used_at", "revoked_at"}),
    stored_as={"scopes": (scopes_from_text, scopes_text)},
)

TABLES: tuple[Table[Any], ...] = (
    USERS,
    MARKETS,
    OUTCOMES,
    ORDERS,
    POSITIONS,
    TRADES,
    LEDGER_ENTRIES,
    PRICE_POINTS,
    SETTLEMENTS,
    API_KEYS,
)
