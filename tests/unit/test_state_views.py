"""A view is reused while its key's stamp stays the same, and rebuilt when it changes."""

from __future__ import annotations

import asyncio

from schema.views import StateViews


def built_by(views: StateViews[str], key: str, stamp: int, builds: list[str]) -> str:
    async def build() -> str:
        builds.append(f"{key}@{stamp}")
        return f"view of {key}@{stamp}"

    return asyncio.run(views.get(key, stamp, build))


def test_the_same_stamp_reuses_the_view_and_a_new_stamp_builds_it_anew() -> None:
    views: StateViews[str] = StateViews()
    builds: list[str] = []
    assert built_by(views, "book", 1, builds) == "view of book@1"
    assert built_by(views, "book", 1, builds) == "view of book@1"
    assert built_by(views, "book", 2, builds) == "view of book@2"
    assert built_by(views, "book", 1, builds) == "view of book@1"  # an older stamp: built
    assert builds == ["book@1", "book@2", "book@1"]


def test_at_most_max_keys_are_kept_the_oldest_going_first() -> None:
    views: StateViews[str] = StateViews(max_keys=2)
    builds: list[str] = []
    for key in ("a", "b", "c", "b", "a"):
        built_by(views, key, 1, builds)
    assert len(views) == 2
    assert builds == ["a@1", "b@1", "c@1", "a@1"]


def test_a_view_put_in_ahead_serves_its_stamp_without_building() -> None:
    views: StateViews[str] = StateViews()
    builds: list[str] = []
    views.put("book", 2, "announced book@2")
    assert built_by(views, "book", 2, builds) == "announced book@2"
    assert built_by(views, "book", 3, builds) == "view of book@3"
    assert builds == ["book@3"]
