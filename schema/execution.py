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

**Input objects.** For each input object of each request Strawberry also works
out anew, field by field, what the field's type is and how to convert its value
(``strawberry.types.arguments.convert_argument``). :func:`built_inputs` does that
once per input type, when the schema is built, and gives each type the result as
its ``from_input`` (Strawberry's hook for types that build their own value): the
same fields, defaults and conversions, the same object
(tests/unit/test_built_inputs.py compares the two for every input type).

**Time limit.** A query (over HTTP or WebSocket) that has not finished within
``seconds`` is cut off at its next ``await`` and answered with QUERY_TOO_COMPLEX.
Mutations are not cut off: cancelling one in its commit would leave a commit of
unknown fate; the cost limit (``schema.cost``) bounds what they may select.
Subscriptions are long-lived by design and not limited either.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping
from dataclasses import MISSING
from inspect import iscoroutinefunction
from typing import Any, TypeAlias

from graphql import (
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
)
from strawberry.extensions import SchemaExtension
from strawberry.relay import GlobalID
from strawberry.scalars import is_scalar
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

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


Convert: TypeAlias = Callable[[Any], Any]
"""Turns one input value (as graphql-core coerced it, not null) into its Python value."""


class InputBuilder:
    """Builds one input type's value from its GraphQL input value, as Strawberry's
    ``convert_argument`` would (the type's fields and conversions found once)."""

    __slots__ = ("_defaults", "_fields")

    def __init__(self, defaults: dict[str, None], fields: list[tuple[str, str, Convert]]) -> None:
        self._defaults = defaults
        self._fields = fields

    def __call__(self, type_: type, value: Mapping[str, Any], context: object) -> Any:
        kwargs: dict[str, Any] = dict(self._defaults)
        for graphql_name, python_name, convert in self._fields:
            if graphql_name in value:
                given = value[graphql_name]
                if given is not None and given is not UNSET:
                    given = convert(given)
                kwargs[python_name] = given
        return type_(**kwargs)


def _same(value: Any) -> Any:
    return value


def _copied(value: Any) -> Any:
    # Strawberry copies a list of leaves: graphql-core gives one default to every request.
    return list(value)


class _Unsupported(Exception):
    """A type this module does not convert itself (Strawberry's own conversion stays)."""


def _converter(type_: Any, registry: Mapping[object, Any], builders: Builders) -> Convert:
    """How ``convert_argument`` converts a value of ``type_`` (after its null checks)."""
    if isinstance(type_, StrawberryMaybe) or type_ is GlobalID:
        raise _Unsupported(type_)
    if isinstance(type_, StrawberryOptional):
        return _converter(type_.of_type, registry, builders)
    if isinstance(type_, StrawberryList):
        item = type_.of_type
        if _is_leaf(item, registry) or (
            isinstance(item, StrawberryOptional) and _is_leaf(item.of_type, registry)
        ):
            return _copied
        convert = _converter(item, registry, builders)
        return lambda value: [None if x is None or x is UNSET else convert(x) for x in value]
    if _is_leaf(type_, registry) or has_enum_definition(type_):
        return _same
    if has_object_definition(type_):
        build = builders.get(type_.__strawberry_definition__)
        if build is None:
            raise _Unsupported(type_)
        return lambda value: build(type_, value, None)
    raise _Unsupported(type_)


def _is_leaf(type_: Any, registry: Mapping[object, Any]) -> bool:
    if type_ is GlobalID or isinstance(type_, StrawberryMaybe):
        return False
    return is_scalar(type_, registry) or isinstance(type_, StrawberryEnumDefinition)


Builders: TypeAlias = dict[StrawberryObjectDefinition, InputBuilder]


def built_inputs(schema: Any) -> list[str]:
    """Give every input type of ``schema`` (a Strawberry schema) its :class:`InputBuilder`
    as ``from_input``; the names of those left to Strawberry. Once, when it is built."""
    definitions = [
        named.extensions[GraphQLCoreConverter.DEFINITION_BACKREF]
        for named in schema._schema.type_map.values()
        if isinstance(named, GraphQLInputObjectType)
    ]
    builders: Builders = {}
    names = schema.config.name_converter
    # A builder made for an earlier schema is made again (it is the same: every schema of
    # build_schema names fields and scalars alike); any other from_input is left alone.
    left = [
        d
        for d in definitions
        if d.is_graphql_generic or not isinstance(d.from_input, InputBuilder | None)
    ]
    pending = [d for d in definitions if d not in left]
    while pending:  # nested inputs first: a type is built once those it holds are
        progress = False
        for definition in list(pending):
            try:
                fields = [
                    (
                        names.from_field(field),
                        field.python_name,
                        _converter(
                            field.resolve_type(type_definition=definition),
                            schema.schema_converter.scalar_registry,
                            builders,
                        ),
                    )
                    for field in definition.fields
                ]
            except _Unsupported:
                continue
            builders[definition] = InputBuilder(
                {
                    field.python_name: None
                    for field in definition.fields
                    if field.default_value is MISSING and field.default_factory is MISSING
                },
                fields,
            )
            pending.remove(definition)
            progress = True
        if not progress:
            left.extend(pending)
            break
    for definition, build in builders.items():
        definition.from_input = build
    return [d.name for d in left]


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
