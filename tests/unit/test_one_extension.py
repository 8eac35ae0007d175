"""Extensions joined into one class run every hook, each exactly once, whether
Strawberry's runner or the lean one (``schema.extensions.LeanRunner``) runs them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types.execution import ExecutionContext

from schema.extensions import LeanRunner, LeanRunners, Stage, one_extension

SEEN: list[str] = []


class Operations(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        SEEN.append("operation")
        yield
        SEEN.append(f"result {self.execution_context.result}")


class Parsing(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        SEEN.append("parse")
        yield


class Executing(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        SEEN.append("execute")
        try:
            async with asyncio.timeout(0):  # cuts off at the first wait, if any
                yield
        except TimeoutError:
            raise ValueError("cut off") from None


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"

    @strawberry.field
    async def waits(self) -> str:
        await asyncio.Event().wait()
        return "never"


class LeanSchema(strawberry.Schema):
    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        runner = LeanRunners(self.extensions).runner(execution_context, extensions)
        assert isinstance(runner, LeanRunner)
        return runner


@pytest.mark.parametrize("schema_class", [strawberry.Schema, LeanSchema])
def test_a_joined_extension_runs_each_hook_of_each_part_once(
    schema_class: type[strawberry.Schema],
) -> None:
    SEEN.clear()
    joined = one_extension(Operations, Parsing, Executing)
    result = asyncio.run(schema_class(query=Query, extensions=[joined]).execute("{ hello }"))
    assert result.data == {"hello": "world"}
    assert SEEN[:3] == ["operation", "parse", "execute"] and len(SEEN) == 4
    assert "world" in SEEN[3]


def test_the_lean_runner_lets_a_hook_see_and_replace_the_error_of_its_stage() -> None:
    schema = LeanSchema(query=Query, extensions=[one_extension(Operations, Executing)])
    assert asyncio.run(schema.execute("{ hello }")).data == {"hello": "world"}
    cut_off = asyncio.run(schema.execute("{ waits }"))
    assert cut_off.errors and cut_off.errors[0].message == "cut off"


def test_two_extensions_implementing_one_hook_are_not_joined() -> None:
    class MoreParsing(SchemaExtension):
        def on_parse(self) -> Iterator[None]:
            yield

    with pytest.raises(ValueError, match="on_parse"):
        one_extension(Parsing, MoreParsing)


def lets_through() -> Iterator[None]:
    yield


def suppresses() -> Iterator[None]:
    with contextlib.suppress(LookupError):
        yield


def replaces() -> Iterator[None]:
    try:
        yield
    except LookupError as error:
        raise ValueError("replaced") from error


def yields_twice() -> Iterator[None]:
    yield
    yield


async def lets_through_async() -> AsyncIterator[None]:
    yield


async def suppresses_async() -> AsyncIterator[None]:
    with contextlib.suppress(LookupError):
        yield


async def replaces_async() -> AsyncIterator[None]:
    try:
        yield
    except LookupError as error:
        raise ValueError("replaced") from error


async def yields_twice_async() -> AsyncIterator[None]:
    yield
    yield


HOOKS_TO_RUN = [
    (lets_through, lets_through_async),
    (suppresses, suppresses_async),
    (replaces, replaces_async),
    (yields_twice, yields_twice_async),
]
STAGE_ERRORS = [None, KeyError("k"), StopIteration(), StopAsyncIteration(), ValueError("v")]


def outcome(run: Callable[[], object]) -> tuple[object, ...]:
    try:
        return ("returned", run())
    except BaseException as error:  # the outcome under test, whatever it is
        return ("raised", type(error), str(error))


async def stage(manager: Any, error: BaseException | None) -> str:
    async with manager:
        if error is not None:
            raise error
    return "finished"


def sync_stage(manager: Any, error: BaseException | None) -> str:
    with manager:
        if error is not None:
            raise error
    return "finished"


async def sync_stage_in_a_coroutine(manager: Any, error: BaseException | None) -> str:
    return sync_stage(manager, error)


@pytest.mark.parametrize("error", STAGE_ERRORS, ids=repr)
@pytest.mark.parametrize("hooks", HOOKS_TO_RUN, ids=lambda pair: pair[0].__name__)
def test_a_stage_runs_its_hook_as_contextlib_would(
    hooks: tuple[Callable[[], Iterator[None]], Callable[[], AsyncIterator[None]]],
    error: BaseException | None,
) -> None:
    hook, async_hook = hooks
    expected = outcome(lambda: sync_stage(contextlib.contextmanager(hook)(), error))
    assert outcome(lambda: sync_stage(Stage(hook(), is_async=False), error)) == expected
    expected = outcome(
        lambda: asyncio.run(sync_stage_in_a_coroutine(contextlib.contextmanager(hook)(), error))
    )
    assert outcome(lambda: asyncio.run(stage(Stage(hook(), is_async=False), error))) == expected
    expected = outcome(
        lambda: asyncio.run(stage(contextlib.asynccontextmanager(async_hook)(), error))
    )
    assert outcome(lambda: asyncio.run(stage(Stage(async_hook(), is_async=True), error))) == (
        expected
    )
