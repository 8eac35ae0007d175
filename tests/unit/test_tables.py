"""Each table description carries every field of its entity, and the Tortoise models
(and so the migrations) carry every column of each description."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tortoise.fields import Field
from tortoise.fields.relational import ForeignKeyFieldInstance
from tortoise.models import Model

from persistence.tables import TABLES, Table, _json
from persistence.tortoise import models

EXTRA_COLUMNS = {"users": {"username_key"}, "positions": {"id"}, "price_points": {"id"}}
"""Stored columns that no entity field reads: derived or surrogate keys."""


def _model_columns(table: str) -> set[str]:
    """The columns of the model stored in ``table`` (a foreign key as its ``_id`` column)."""
    for model in vars(models).values():
        is_model = isinstance(model, type) and issubclass(model, Model) and model is not Model
        if is_model and model._meta.db_table == table:
            return {_column(name, field) for name, field in model._meta.fields_map.items()}
    raise AssertionError(f"no model stores {table}")


def _column(name: str, field: Field[Any]) -> str:
    if isinstance(field, ForeignKeyFieldInstance):
        return f"{name}_id"
    return field.source_field or name


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_a_table_reads_every_field_of_its_entity(table: Table[object]) -> None:
    fields = {f.name for f in dataclasses.fields(table.entity)}  # type: ignore[arg-type]
    assert {c.field for c in table.columns} == fields - {"outcomes"}


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_the_models_store_every_column_of_a_table(table: Table[object]) -> None:
    stored = set(table.column_names) | set(table.derived)
    assert _model_columns(table.name) == stored | EXTRA_COLUMNS.get(table.name, set())


@given(st.lists(st.floats() | st.integers(-(2**70), 2**70) | st.booleans(), max_size=5))
def test_prices_are_stored_as_json_writes_them(values: list[float]) -> None:
    assert _json(tuple(values)) == json.dumps(values, separators=(",", ":"))
