"""Fragment fan-out: a few hundred tokens that expand to 2^30 field selections.

Strawberry's depth and alias validators expanded every fragment spread anew, so
this document held a worker's event loop for hours (found by
``test_security.py``'s query bombs); ``schema/limits.py`` bounds it first.
"""

from __future__ import annotations

from graphql import parse

from schema.limits import expanded_selections
from schema.schema import build_schema


def fan_out(levels: int) -> str:
    fragments = " ".join(
        f"fragment F{i} on Market {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    )
    return (
        "query { markets { edges { node { ...F0 } } } } "
        f"{fragments} fragment F{levels} on Market {{ id title }}"
    )


async def test_fragment_fan_out_is_refused_without_expanding_it() -> None:
    # Expanding 2^30 selections takes hours, so a regression fails on the suite's
    # timeout; no wall-clock assertion (tests never fail on a loaded machine's timing).
    result = await build_schema().execute(fan_out(30))
    assert result.errors is not None
    assert result.errors[0].extensions == {"code": "QUERY_TOO_COMPLEX"}


def test_expanded_selections_counts_each_fragment_once_per_use() -> None:
    assert expanded_selections(parse(fan_out(3))) == 3 + 2**3 * 2
    assert expanded_selections(parse(fan_out(40)), limit=1000) > 1000
    cycle = "{ me { ...A } } fragment A on User { id ...B } fragment B on User { ...A }"
    assert expanded_selections(parse(cycle)) == 2
