"""The extensions a request runs, at the least bookkeeping per request.

Strawberry makes each extension anew per request and, for each of its stages
(operation, parsing, validation, execution), asks every extension whether it
implements that stage's hook, wraps the hook in a fresh context-manager function
(``contextlib.contextmanager`` per request) and enters it through an exit stack.
That is a few hundred interpreter steps per extension and stage, on every request.

:func:`one_extension` joins extensions that implement different hooks into one
class, and :class:`LeanRunner` (``Schema.create_extensions_runner``) finds each
hook of an extension class once, when the schema is made, then runs it directly:
the same hooks run in the same order around the same steps. It runs each hook's
generator itself, as ``contextlib.contextmanager`` would (resumed after its stage,
or given the stage's error), without making a context manager per stage and request.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Callable, Generator, Sequence
from types import TracebackType
from typing import Any, TypeAlias

from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types.execution import ExecutionContext

STAGES = ("on_operation", "on_parse", "on_validate", "on_execute")
"""The hooks :class:`LeanRunner` enters itself (streaming results go the usual way)."""
HOOKS = (*STAGES, "on_stream_result", "get_results", "resolve")

Hook: TypeAlias = tuple[Callable[[SchemaExtension], Any], bool]
"""A stage's hook (a generator function taking the extension) and whether it is async."""


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
    """Each stage hook ``extension`` implements, and whether it is async; None if one is
    not a generator (Strawberry's own runner handles those)."""
    hooks: dict[str, Hook] = {}
    for stage in (s for s in STAGES if _implements(extension, s)):
        function = getattr(extension, stage)
        if inspect.isgeneratorfunction(function):
            hooks[stage] = (function, False)
        elif inspect.isasyncgenfunction(function):
            hooks[stage] = (function, True)
        else:
            return None
    return hooks


class Stage:
    """One stage of one request: runs its one hook, if any (a generator, sync or async),
    as ``contextlib.contextmanager`` would run it, without making a context manager
    (:func:`_finish`, :func:`_finish_async`)."""

    __slots__ = ("_hook", "_is_async")

    def __init__(self, hook: Any, is_async: bool) -> None:
        self._hook = hook  # the hook's generator, not started yet
        self._is_async = is_async

    async def __aenter__(self) -> None:
        if self._hook is None:
            return
        try:
            if self._is_async:
                await anext(self._hook)
            else:
                next(self._hook)
        except (StopIteration, StopAsyncIteration):
            raise RuntimeError("generator didn't yield") from None

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if self._hook is None:
            return False
        if self._is_async:
            return await _finish_async(self._hook, kind, error, traceback)
        return _finish(self._hook, kind, error, traceback)

    def __enter__(self) -> None:
        if self._is_async:
            raise RuntimeError("an async extension hook cannot run in a sync execution")
        if self._hook is not None:
            try:
                next(self._hook)
            except StopIteration:
                raise RuntimeError("generator didn't yield") from None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        return self._hook is not None and _finish(self._hook, kind, error, traceback)


def _finish(
    hook: Generator[None, None, None],
    kind: type[BaseException] | None,
    error: BaseException | None,
    traceback: TracebackType | None,
) -> bool:
    """``contextlib.contextmanager``'s ``__exit__``: resume the hook after its stage, or
    throw the stage's error into it; True when the hook suppressed the error."""
    if kind is None:
        try:
            next(hook)
        except StopIteration:
            return False
        hook.close()
        raise RuntimeError("generator didn't stop")
    error = kind() if error is None else error
    try:
        hook.throw(error)
    except StopIteration as stop:
        return stop is not error
    except BaseException as raised:
        if not _let_through(raised, error):
            raise
        error.__traceback__ = traceback
        return False
    hook.close()
    raise RuntimeError("generator didn't stop after throw()")


async def _finish_async(
    hook: AsyncGenerator[None, None],
    kind: type[BaseException] | None,
    error: BaseException | None,
    traceback: TracebackType | None,
) -> bool:
    """``contextlib.asynccontextmanager``'s ``__aexit__`` (see :func:`_finish`)."""
    if kind is None:
        try:
            await anext(hook)
        except StopAsyncIteration:
            return False
        await hook.aclose()
        raise RuntimeError("generator didn't stop")
    error = kind() if error is None else error
    try:
        await hook.athrow(error)
    except StopAsyncIteration as stop:
        return stop is not error
    except BaseException as raised:
        if not _let_through(raised, error):
            raise
        error.__traceback__ = traceback
        return False
    await hook.aclose()
    raise RuntimeError("generator didn't stop after throw()")


def _let_through(raised: BaseException, error: BaseException) -> bool:
    """Whether the hook let the stage's own error through (which then propagates, not
    suppressed, with its own traceback); any other error from the hook is the hook's."""
    if raised is error:
        return True
    stopped = isinstance(error, StopIteration | StopAsyncIteration)
    return stopped and isinstance(raised, RuntimeError) and raised.__cause__ is error


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
        function, is_async = hook
        return Stage(function(self._extension), is_async)

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
