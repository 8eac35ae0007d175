"""Extensions joined into one class still run every hook, each exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import strawberry
from strawberry.extensions import SchemaExtension

from schema.execution import one_extension

SEEN: list[str] = []


class Operations(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        SEEN.append("operation")
        yield


class Parsing(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        SEEN.append("parse")
        yield


class Executing(SchemaExtension):
    async def on_execute(self) -> None:  # type: ignore[override]
        SEEN.append("execute")


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"


def test_a_joined_extension_runs_each_hook_of_each_part_once() -> None:
    SEEN.clear()
    joined = one_extension(Operations, Parsing, Executing)
    result = asyncio.run(strawberry.Schema(query=Query, extensions=[joined]).execute("{ hello }"))
    assert result.data == {"hello": "world"}
    assert sorted(SEEN) == ["execute", "operation", "parse"]


def test_two_extensions_implementing_one_hook_are_not_joined() -> None:
    class MoreParsing(SchemaExtension):
        def on_parse(self) -> Iterator[None]:
            yield

    with pytest.raises(ValueError, match="on_parse"):
        one_extension(Parsing, MoreParsing)
