"""The extensions a request runs, at the least bookkeeping per request.

Strawberry makes each extension anew per request and, for each of its stages
(operation, parsing, validation, execution), asks every extension whether it
implements that stage's hook, wraps the hook in a fresh context-manager function
(``contextlib.contextmanager`` per request) and enters it through an exit stack.
That is a few hundred interpreter steps per extension and stage, on every request.

:func:`one_extension` joins extensions that implement different hooks into one
class, and :class:`LeanRunner` (``Schema.create_extensions_runner``) finds each
hook of an extension class once, when the schema is made, then enters it directly:
the same hooks run in the same order around the same steps.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, TypeAlias

from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types.execution import ExecutionContext

STAGES = ("on_operation", "on_parse", "on_validate", "on_execute")
"""The hooks :class:`LeanRunner` enters itself (streaming results go the usual way)."""
HOOKS = (*STAGES, "on_stream_result", "get_results", "resolve")

Manager: TypeAlias = Any
"""A context manager (sync or async) made from a hook and the extension instance."""
Hook: TypeAlias = tuple[Callable[[SchemaExtension], Manager], bool]
"""How to make a stage's context manager from an extension, and whether it is async."""


def one_extension(*extensions: type[SchemaExtension]) -> type[SchemaExtension]:
    """One extension class doing what ``extensions`` do, each of which implements hooks
    the others do not (a hook implemented twice would hide one: refused)."""
    for hook in HOOKS:
        owners = [e for e in extensions if _implements(e, hook)]
        if len(owners) > 1:
            raise ValueError(f"{hook} is implemented by {', '.join(e.__name__ for e in owners)}")
    return type("RequestExtensions", extensions, {})


def _implements(extension: type[SchemaExtension], hook: str) -> bool:
    return bool(getattr(extension, hook) is not getattr(SchemaExtension, hook))


def stage_hooks(extension: type[SchemaExtension]) -> dict[str, Hook] | None:
    """Each stage hook ``extension`` implements, as a context-manager factory; None
    if one is not a generator (Strawberry's own runner handles those)."""
    hooks: dict[str, Hook] = {}
    for stage in (s for s in STAGES if _implements(extension, s)):
        function = getattr(extension, stage)
        if inspect.isgeneratorfunction(function):
            hooks[stage] = (contextlib.contextmanager(function), False)
        elif inspect.isasyncgenfunction(function):
            hooks[stage] = (contextlib.asynccontextmanager(function), True)
        else:
            return None
    return hooks


class Stage:
    """One stage of one request: enters its one hook, if any (sync or async)."""

    __slots__ = ("_is_async", "_manager")

    def __init__(self, manager: Manager | None, is_async: bool) -> None:
        self._manager = manager
        self._is_async = is_async

    async def __aenter__(self) -> None:
        if self._manager is None:
            return
        if self._is_async:
            await self._manager.__aenter__()
        else:
            self._manager.__enter__()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if self._manager is None:
            return False
        if self._is_async:
            return bool(await self._manager.__aexit__(kind, error, traceback))
        return bool(self._manager.__exit__(kind, error, traceback))

    def __enter__(self) -> None:
        if self._is_async:
            raise RuntimeError("an async extension hook cannot run in a sync execution")
        if self._manager is not None:
            self._manager.__enter__()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        return self._manager is not None and bool(self._manager.__exit__(kind, error, traceback))


class LeanRunner(SchemaExtensionsRunner):
    """Strawberry's runner for one extension whose stage hooks were found in advance."""

    def __init__(
        self,
        execution_context: ExecutionContext,
        extension: SchemaExtension,
        hooks: dict[str, Hook],
    ) -> None:
        super().__init__(execution_context, [extension])
        self._extension = extension
        self._hooks = hooks

    def _stage(self, name: str) -> Any:
        hook = self._hooks.get(name)
        if hook is None:
            return NO_HOOK
        make, is_async = hook
        return Stage(make(self._extension), is_async)

    def operation(self) -> Any:
        return self._stage("on_operation")

    def parsing(self) -> Any:
        return self._stage("on_parse")

    def validation(self) -> Any:
        return self._stage("on_validate")

    def executing(self) -> Any:
        return self._stage("on_execute")

    async def get_extensions_results(self, ctx: ExecutionContext) -> dict[str, Any]:
        if _implements(type(self._extension), "get_results"):
            return await super().get_extensions_results(ctx)
        return dict(ctx.extensions_results)


NO_HOOK = Stage(None, False)


class LeanRunners:
    """Made once per schema: the stage hooks of each extension class it runs."""

    def __init__(self, extensions: Sequence[object]) -> None:
        self._hooks = {
            e: hooks
            for e in extensions
            if isinstance(e, type) and (hooks := stage_hooks(e)) is not None
        }

    def runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner | None:
        """A lean runner when the request runs one extension of a known class, else None."""
        if len(extensions) != 1:
            return None
        hooks = self._hooks.get(type(extensions[0]))
        return None if hooks is None else LeanRunner(execution_context, extensions[0], hooks)
