"""Events survive the trip through a NOTIFY payload, and payloads stay small."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, datetime
from typing import get_args

import orjson

from domain.book_types import PriceLevel
from domain.events import (
    BookChanged,
    DomainEvent,
    MarketStatusChanged,
    OrderChanged,
    PricesChanged,
    TradeExecuted,
)
from domain.model import (
    LmsrSide,
    MarketStatus,
    Order,
    OrderType,
    Side,
    TimeInForce,
    Trade,
)
from web.event_codec import EVENT_TAGS, MAX_PAYLOAD_BYTES, decode_event, pack, unpack

AT = datetime(2030, 1, 1, 12, 30, tzinfo=UTC)
ORDER = Order(
    "o" * 32, "u" * 32, "m" * 32, "x" * 32, Side.BUY, OrderType.LIMIT, TimeInForce.GTD, 42, 10,
    AT, 7, filled_quantity=3, post_only=True, expires_at=AT, client_order_id="k",
    reserved_cents=294,
)  # fmt: skip
TRADE = Trade(
    "t" * 32, "m" * 32, "x" * 32, 42, 3, True, Side.SELL, "u" * 32, AT, 126, fee_cents=2,
    lmsr_side=LmsrSide.SELL_NO,
)  # fmt: skip
EVENTS: list[DomainEvent] = [
    PricesChanged("m" * 32, (0.25, 0.75), 42, 1000, 9, AT),
    BookChanged("m" * 32, "x" * 32, 4, AT, (PriceLevel(41, 5, 2),), (PriceLevel(43, 1, 1),), 42),
    TradeExecuted(TRADE),
    OrderChanged(ORDER),
    MarketStatusChanged("m" * 32, MarketStatus.PAUSED, AT),
]


def test_every_event_kind_round_trips() -> None:
    payloads = list(pack(EVENTS))
    assert [event for payload in payloads for event in unpack(payload)] == EVENTS


def test_many_events_are_split_into_payloads_under_the_notify_limit() -> None:
    events = [OrderChanged(replace(ORDER, sequence=i)) for i in range(200)]
    payloads = list(pack(events))
    assert len(payloads) > 1
    assert all(len(p.encode()) <= MAX_PAYLOAD_BYTES for p in payloads)
    assert [e for p in payloads for e in unpack(p)] == events


def test_a_full_book_fits_one_payload() -> None:
    levels = tuple(PriceLevel(price, 2**31 - 1, 100_000) for price in range(1, 100))
    full = BookChanged("m" * 32, "x" * 32, 2**31 - 1, AT, levels, levels[::-1], 99)
    (payload,) = pack([full])
    assert unpack(payload) == [full]


def test_every_event_type_has_a_tag() -> None:
    assert set(get_args(DomainEvent)) == set(EVENT_TAGS)


def test_payloads_are_plain_json_that_the_standard_library_reads_the_same() -> None:
    (payload,) = pack(EVENTS)
    assert json.loads(payload) == orjson.loads(payload)
    assert [decode_event(row) for row in json.loads(payload)] == EVENTS


def test_values_orjson_refuses_go_through_the_standard_library() -> None:
    huge = PricesChanged("m" * 32, (0.5, 0.5), None, 2**70, 1, AT)  # past 64 bits
    odd = MarketStatusChanged("m\ud800" * 2, MarketStatus.OPEN, AT)  # a lone surrogate
    assert [e for p in pack([huge, odd, *EVENTS]) for e in unpack(p)] == [huge, odd, *EVENTS]


def test_a_payload_with_nan_from_the_standard_library_is_still_read() -> None:
    written = json.dumps([["p", "m" * 32, [float("nan"), 0.5], None, 1, 1, AT.isoformat()]])
    (event,) = unpack(written)  # orjson refuses NaN; the standard library reads it
    assert isinstance(event, PricesChanged)
    assert math.isnan(event.prices[0]) and event.prices[1] == 0.5


def test_only_the_wanted_events_of_a_payload_are_decoded() -> None:
    tags = {EVENT_TAGS[type(event)] for event in EVENTS}
    for tag in tags:
        (payload,) = pack(EVENTS)
        kept = [event for event in EVENTS if EVENT_TAGS[type(event)] == tag]
        assert unpack(payload, tag.__eq__) == kept
    assert (
        unpack(json.dumps([["p", "m", [math.nan, 0.5], None, 1, 1, AT.isoformat()]]), "b".__eq__)
        == []
    )
