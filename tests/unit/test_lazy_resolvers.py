"""A field that fails must not leave a sibling's resolver coroutine unawaited.

graphql-core calls every resolver of a selection set before awaiting any; when one
fails, it cancels the sibling tasks, and a task cancelled before its first step
drops the resolver coroutine it held ("coroutine ... was never awaited"). Whether
that happens depends on how many event-loop turns each resolver takes, so the test
tries each combination of a few; with ``lazy_resolvers`` no coroutine exists before
it is awaited.
"""

from __future__ import annotations

import asyncio
import gc
import warnings

import strawberry

from schema.execution import lazy_resolvers

TURNS = {"fail": 0, "inner": 0}


async def turns(n: int) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


@strawberry.type
class Inner:
    @strawberry.field
    async def a(self) -> str:
        return "a"

    @strawberry.field
    async def b(self) -> str:
        return "b"


@strawberry.type
class Query:
    @strawberry.field
    async def fail(self) -> str:
        await turns(TURNS["fail"])
        raise ValueError("boom")

    @strawberry.field
    async def inner(self) -> Inner:
        await turns(TURNS["inner"])
        return Inner()


def dropped_coroutines(schema: strawberry.Schema) -> list[str]:
    async def run_all() -> None:
        for fail in range(4):
            for inner in range(4):
                TURNS.update(fail=fail, inner=inner)
                result = await schema.execute("{ fail inner { a b } }")
                assert result.errors
                await asyncio.sleep(0.01)  # let cancelled siblings finish

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(run_all())
        gc.collect()
    return [str(w.message) for w in caught if "never awaited" in str(w.message)]


def test_the_sibling_of_a_failing_field_leaves_no_coroutine_unawaited() -> None:
    schema = strawberry.Schema(query=Query)
    lazy_resolvers(schema._schema)
    assert dropped_coroutines(schema) == []
