"""Views of stored state shared by the requests of one worker, rebuilt when it changes.

A :class:`StateViews` keeps, per key (an outcome's book), the view built for the
newest state it was asked for, with that state's stamp (a stored sequence that
increases with every change). A request that reads the same stamp reuses the view
instead of reading and computing it again; another stamp builds it anew. The
stamp comes from storage on every request, so every worker agrees with storage,
and with each other, whatever each has kept. A view can also be put in ahead of
any request, from an event that carries the new state (``web.app`` keeps each
announced book this way).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

DEFAULT_KEYS = 4096
"""Keys kept at most (the oldest kept goes first)."""


class StateViews(Generic[V]):
    def __init__(self, max_keys: int = DEFAULT_KEYS) -> None:
        self._max_keys = max_keys
        self._views: dict[Hashable, tuple[Hashable, V]] = {}

    async def get(self, key: Hashable, stamp: Hashable, build: Callable[[], Awaitable[V]]) -> V:
        """The view of ``key`` at ``stamp``: kept, or built by ``build`` and kept."""
        kept = self._views.get(key)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        view = await build()
        self.put(key, stamp, view)
        return view

    def put(self, key: Hashable, stamp: Hashable, view: V) -> None:
        """Keep ``view`` as the view of ``key`` at ``stamp`` (e.g. one announced by an event)."""
        self._views.pop(key, None)
        if len(self._views) >= self._max_keys:
            del self._views[next(iter(self._views))]
        self._views[key] = (stamp, view)

    def __len__(self) -> int:
        return len(self._views)
