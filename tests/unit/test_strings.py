"""Variables with NUL or a lone surrogate anywhere (keys, values, nested) are found,
whether their JSON shows it at once or they must be walked."""

from __future__ import annotations

from typing import Any

import pytest

from schema.strings import has_forbidden


@pytest.mark.parametrize(
    "variables",
    [
        {"i": {"title": "a\x00b"}},
        {"i": {"outcomes": ["Yes", "N\x00"]}},
        {"k\x00": 1},
        {"i": "\ud800"},
        {"i": ["x\udfffy"], "big": 2**70},
        {"i": {"title": "\\u0000 and a real \x00"}},
        {"deep": [[[[["\x00"]]]]]},
    ],
)
def test_forbidden_characters_are_found(variables: dict[str, Any]) -> None:
    assert has_forbidden(variables)


@pytest.mark.parametrize(
    "variables",
    [
        {"i": {"title": "an ordinary title", "amount": 5, "price": 0.5, "flag": None}},
        {"i": "a backslash and u0000 spelled out: \\u0000"},
        {"big": 2**70, "text": "é\U0001f600"},
        {"deep": [[[[["plain"]]]]]},
    ],
)
def test_other_values_pass(variables: dict[str, Any]) -> None:
    assert not has_forbidden(variables)


def test_nesting_deeper_than_orjson_writes_is_walked() -> None:
    deep: Any = "\x00"
    for _ in range(300):
        deep = [deep]
    assert has_forbidden({"deep": deep})
    assert not has_forbidden({"deep": [[[[["x"]]]]] * 2})
