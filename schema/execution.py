"""How resolvers run: created only when awaited.

**Lazy resolver coroutines.** graphql-core calls a field's resolver as soon as it
reaches the field, so an async resolver's coroutine exists before anything awaits
it; the executor then runs it inside a task of its own. When a sibling field fails
(a non-null field raising), the executor cancels the sibling tasks; a task
cancelled before its first step never starts, and the resolver coroutine it held
is dropped unawaited (Python warns "coroutine ... was never awaited", which the
test suite turns into failures). :class:`LazyResolvers` hands the executor an
awaitable that calls the resolver only when awaited: a cancelled sibling then
leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from inspect import iscoroutinefunction
from typing import Any

from graphql import GraphQLResolveInfo
from strawberry.extensions import SchemaExtension


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
