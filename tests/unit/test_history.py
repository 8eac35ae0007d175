"""Price history downsampling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain import errors
from domain.history import downsample
from domain.model import PricePoint

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def _points(*minutes: float) -> list[PricePoint]:
    return [PricePoint("m", T0 + timedelta(minutes=m), (m / 100, 1 - m / 100)) for m in minutes]


def test_each_bucket_keeps_its_last_point_at_the_bucket_start() -> None:
    result = downsample(_points(0, 0.5, 1.2, 7), "1m", 500)
    assert [p.at for p in result] == [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=7)]
    assert result[0].prices == (0.005, 0.995)


def test_first_keeps_only_the_newest_buckets() -> None:
    result = downsample(_points(0, 10, 20, 30), "5m", 2)
    assert [p.at for p in result] == [T0 + timedelta(minutes=20), T0 + timedelta(minutes=30)]


def test_an_unknown_resolution_is_bad_user_input() -> None:
    with pytest.raises(errors.BadUserInput):
        downsample(_points(0), "2m", 10)
