"""Price history served downsampled by resolution."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from domain.errors import BadUserInput
from domain.model import PricePoint

RESOLUTIONS: dict[str, timedelta] = {
    "1m": timedelta(minutes=1),
    "5m": timedelta(minutes=5),
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def bucket_width(resolution: str) -> timedelta:
    try:
        return RESOLUTIONS[resolution]
    except KeyError:
        choices = ", ".join(RESOLUTIONS)
        raise BadUserInput(f"resolution must be one of {choices}") from None


def downsample(points: Sequence[PricePoint], resolution: str, first: int) -> list[PricePoint]:
    """The last point of each time bucket, oldest first; at most the newest ``first``.

    Each point keeps the bucket's start as its time, so a chart has a regular axis.
    """
    width = bucket_width(resolution)
    buckets: dict[datetime, PricePoint] = {}
    for point in points:
        start = _EPOCH + ((point.at - _EPOCH) // width) * width
        buckets[start] = PricePoint(point.market_id, start, point.prices)
    ordered = [buckets[key] for key in sorted(buckets)]
    return ordered[-first:] if first > 0 else []
