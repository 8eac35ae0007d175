"""Every input type of the schema is built by its ``schema.execution.InputBuilder``, into
the same value Strawberry's own conversion makes, for values with every field, with the
required ones only, and with null in every nullable one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    coerce_input_value,
)
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_argument
from strawberry.types.base import StrawberryObjectDefinition

from schema.execution import InputBuilder, built_inputs
from schema.schema import build_schema

SCHEMA = build_schema()
SCALARS = {
    "String": "text",
    "Int": 7,
    "Float": 2.5,
    "Boolean": True,
    "ID": "id-1",
    "DateTime": "2030-01-01T12:00:00+00:00",
}
VARIANTS = ("every field", "required only", "nulls")


def inputs() -> list[GraphQLInputObjectType]:
    return [t for t in SCHEMA._schema.type_map.values() if isinstance(t, GraphQLInputObjectType)]


def definition(input_type: GraphQLInputObjectType) -> StrawberryObjectDefinition:
    found: StrawberryObjectDefinition = input_type.extensions[
        GraphQLCoreConverter.DEFINITION_BACKREF
    ]
    return found


def sample(graphql_type: GraphQLInputType, variant: str) -> Any:
    """A JSON value of ``graphql_type``, as a client sends it."""
    if isinstance(graphql_type, GraphQLNonNull):
        return sample(graphql_type.of_type, variant)
    if isinstance(graphql_type, GraphQLList):
        return [sample(graphql_type.of_type, variant)] * 2
    if isinstance(graphql_type, GraphQLEnumType):
        return next(iter(graphql_type.values))
    if isinstance(graphql_type, GraphQLScalarType):
        return SCALARS[graphql_type.name]
    assert isinstance(graphql_type, GraphQLInputObjectType)
    value = {}
    for name, field in graphql_type.fields.items():
        required = isinstance(field.type, GraphQLNonNull)
        if required or variant == "every field":
            value[name] = sample(field.type, variant)
        elif variant == "nulls":
            value[name] = None
    return value


@contextmanager
def strawberrys_own(input_definition: StrawberryObjectDefinition) -> Iterator[None]:
    """Strawberry's conversion of this type (and of nested ones) for a while."""
    nested = [definition(t) for t in inputs()]
    saved = [d.from_input for d in nested]
    for each in nested:
        each.from_input = None
    try:
        yield
    finally:
        for each, builder in zip(nested, saved, strict=True):
            each.from_input = builder


def test_every_input_type_is_built() -> None:
    assert built_inputs(SCHEMA) == []
    assert all(isinstance(definition(t).from_input, InputBuilder) for t in inputs())


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("input_type", inputs(), ids=lambda t: t.name)
def test_built_like_strawberry_builds_it(input_type: GraphQLInputObjectType, variant: str) -> None:
    coerced = coerce_input_value(sample(input_type, variant), input_type)
    origin = definition(input_type).origin
    config, scalars = SCHEMA.config, SCHEMA.schema_converter.scalar_registry
    built = convert_argument(coerced, origin, scalars, config)
    with strawberrys_own(definition(input_type)):
        theirs = convert_argument(coerced, origin, scalars, config)
    assert built == theirs and type(built) is type(theirs)
    assert vars(built) == vars(theirs)
