"""How resolvers run: created only when awaited, and within a time limit.

**Lazy resolver coroutines.** graphql-core calls a field's resolver as soon as it
reaches the field, so an async resolver's coroutine exists before anything awaits
it; the executor then runs it inside a task of its own. When a sibling field fails
(a non-null field raising), the executor cancels the sibling tasks; a task
cancelled before its first step never starts, and the resolver coroutine it held
is dropped unawaited (Python warns "coroutine ... was never awaited", which the
test suite turns into failures). :func:`lazy_resolvers` gives every async field
of a schema a resolver that hands the executor an awaitable calling the resolver
only when awaited: a cancelled sibling then leaves nothing behind. It is done once,
when the schema is built; an extension's ``resolve`` hook would do the same, but
graphql-core would then run it (and the middleware around it) for every field of
every request, synchronous ones included.

**Argument names.** Strawberry converts each input object's fields to Python per
request and works out each field's GraphQL name anew (camel case) every time;
:class:`RememberedNames` works each name out once.

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

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema
from strawberry.extensions import SchemaExtension
from strawberry.schema.name_converter import NameConverter
from strawberry.types.graphql import OperationType

from domain.errors import QueryTooComplex


class Deferred:
    """An awaitable that calls ``resolve(root, info, **kw)`` (making the coroutine) when
    first awaited."""

    __slots__ = ("_info", "_kw", "_resolve", "_root")

    def __init__(
        self,
        resolve: Callable[..., Awaitable[Any]],
        root: Any,
        info: GraphQLResolveInfo[Any],
        kw: dict[str, Any],
    ) -> None:
        self._resolve, self._root, self._info, self._kw = resolve, root, info, kw

    def __await__(self) -> Generator[Any, None, Any]:
        return self._resolve(self._root, self._info, **self._kw).__await__()


def _lazy(resolve: Callable[..., Awaitable[Any]]) -> Callable[..., Deferred]:
    def lazy(root: Any, info: GraphQLResolveInfo[Any], **kw: Any) -> Deferred:
        return Deferred(resolve, root, info, kw)

    return lazy


def lazy_resolvers(schema: GraphQLSchema) -> None:
    """Make every async resolver of ``schema`` start when awaited, never before (see
    the module's docstring). Once, when the schema is built."""
    for named in schema.type_map.values():
        if isinstance(named, GraphQLObjectType) and not named.name.startswith("__"):
            for field in named.fields.values():
                if field.resolve is not None and iscoroutinefunction(field.resolve):
                    field.resolve = _lazy(field.resolve)


class RememberedNames(NameConverter):
    """Strawberry's naming (camel case), each name worked out once."""

    def __init__(self, auto_camel_case: bool = True) -> None:
        super().__init__(auto_camel_case)
        self._names: dict[str, str] = {}

    def apply_naming_config(self, name: str) -> str:
        found = self._names.get(name)
        if found is None:
            found = self._names[name] = super().apply_naming_config(name)
        return found


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
