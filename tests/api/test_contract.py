"""The served schema contains all of the public contract, and the exported SDL is current."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    build_schema,
)
from graphql.utilities import value_from_ast

from schema.schema import build_schema as build_served_schema

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_CANDIDATES = [
    ROOT / "docs" / "contract.graphql",
    Path("/work/shared/spec/contract.graphql"),
]
EXPORTED = ROOT / "schema" / "schema.graphql"


def _contract() -> GraphQLSchema:
    """Both parts as one document (part two extends part one) where part two is there."""
    for path in CONTRACT_CANDIDATES:
        if path.exists():
            part2 = path.with_name("contract-part2.graphql")
            extra = part2.read_text() if part2.exists() else ""
            return build_schema(path.read_text() + "\n" + extra)
    pytest.skip("contract.graphql is not available")


def _kind(wanted: object) -> type:
    for kind in (GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType, GraphQLScalarType):
        if isinstance(wanted, kind):
            return kind
    return type(wanted)


def _differences(contract: GraphQLSchema, served: GraphQLSchema) -> list[str]:
    problems: list[str] = []
    for name, wanted in contract.type_map.items():
        if name.startswith("__"):
            continue
        got = served.type_map.get(name)
        if got is None or not isinstance(got, _kind(wanted)):
            problems.append(f"type {name}: missing or a different kind")
            continue
        if isinstance(wanted, GraphQLEnumType):
            assert isinstance(got, GraphQLEnumType)
            problems += [f"enum {name}.{v} missing" for v in wanted.values if v not in got.values]
        elif isinstance(wanted, GraphQLObjectType | GraphQLInputObjectType):
            problems += _field_differences(name, wanted, got)
        elif isinstance(wanted, GraphQLScalarType):
            continue
    return problems


def _field_differences(name: str, wanted: object, got: object) -> list[str]:
    problems = []
    for field_name, field in wanted.fields.items():  # type: ignore[attr-defined]
        served = got.fields.get(field_name)  # type: ignore[attr-defined]
        if served is None:
            problems.append(f"{name}.{field_name} missing")
            continue
        if str(served.type) != str(field.type):
            problems.append(f"{name}.{field_name}: {served.type} instead of {field.type}")
        for arg_name, arg in getattr(field, "args", {}).items():
            served_arg = served.args.get(arg_name)
            if served_arg is None:
                problems.append(f"{name}.{field_name}({arg_name}) missing")
            elif str(served_arg.type) != str(arg.type):
                problems.append(
                    f"{name}.{field_name}({arg_name}): {served_arg.type} instead of {arg.type}"
                )
        if hasattr(field, "args"):
            extra = [
                a
                for a, v in served.args.items()
                if a not in field.args
                and v.type
                and str(v.type).endswith("!")
                and v.default_value is None
            ]
            problems += [f"{name}.{field_name}({a}) is a new required argument" for a in extra]
    return problems


def test_served_schema_contains_the_whole_contract() -> None:
    served = build_served_schema()._schema
    assert _differences(_contract(), served) == []


def test_contract_defaults_are_kept() -> None:
    served = build_served_schema()._schema
    contract = _contract()
    for type_name in ("CreateMarketInput", "PlaceOrderInput", "LmsrTradeInput", "ScalarRangeInput"):
        wanted = contract.type_map[type_name]
        got = served.type_map[type_name]
        assert isinstance(wanted, GraphQLInputObjectType)
        assert isinstance(got, GraphQLInputObjectType)
        for field_name, field in wanted.fields.items():
            node = field.ast_node
            if node is None or node.default_value is None:
                continue
            served_field = got.fields[field_name]
            wanted_default = value_from_ast(node.default_value, field.type)
            assert served_field.default_value == wanted_default, field_name


def test_exported_sdl_matches_the_code() -> None:
    """Regenerate with ``bellwether export-schema`` when this fails."""
    assert EXPORTED.read_text() == str(build_served_schema()) + "\n"
