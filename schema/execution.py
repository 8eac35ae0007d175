"""How resolvers run: created only when awaited, and within a time limit.

**Lazy resolver coroutines.** graphql-core calls a field's resolver as soon as it
reaches the field, so an async resolver's coroutine exists before anything awaits
it; the executor then runs it inside a task of its own. When a sibling field fails
(a non-null field raising), the executor cancels the sibling tasks; a task
cancelled before its first step never starts, and the resolver coroutine it held
is dropped unawaited (Python warns "coroutine ... was never awaited", which the
test suite turns into failures). :class:`LazyResolvers` hands the executor an
awaitable that calls the resolver only when awaited: a cancelled sibling then
leaves nothing behind.

**Time limit.** A query (over HTTP or WebSocket) that has not finished within
``seconds`` is cut off at its next ``await`` and answered with QUERY_TOO_COMPLEX.
Mutations are not cut off: cancelling one in its commit would leave a commit of
unknown fate; the cost limit (``schema.cost``) bounds what they may select.
Subscriptions are long-lived by design and not limited either.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from inspect import iscoroutinefunction
from typing import Any

from graphql import GraphQLResolveInfo
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from domain.errors import QueryTooComplex


class Deferred:
    """An awaitable that calls ``call`` (making the coroutine) when first awaited."""

    __slots__ = ("_call",)

    def __init__(self, call: Callable[[], Awaitable[Any]]) -> None:
        self._call = call

    def __await__(self) -> Generator[Any, None, Any]:
        return self._call().__await__()


class LazyResolvers(SchemaExtension):
    """Async resolvers start when awaited, never before (see the module's docstring)."""

    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo[Any],
        *args: Any,
        **kw: Any,
    ) -> Any:
        if iscoroutinefunction(_next):
            return Deferred(lambda: _next(root, info, *args, **kw))
        return _next(root, info, *args, **kw)


def time_limit(seconds: float) -> type[SchemaExtension]:
    """An extension: a query still running after ``seconds`` fails with QUERY_TOO_COMPLEX."""

    class ExecutionTimeLimit(SchemaExtension):
        async def on_execute(self) -> AsyncIterator[None]:
            if self.execution_context.operation_type is not OperationType.QUERY:
                yield
                return
            try:
                async with asyncio.timeout(seconds):
                    yield
            except TimeoutError:
                raise QueryTooComplex(
                    f"the query ran longer than the limit of {seconds:g} s: ask for less"
                ) from None

    return ExecutionTimeLimit
