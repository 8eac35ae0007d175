"""Domain events to compact JSON and back, for the PostgreSQL LISTEN/NOTIFY bus.

NOTIFY payloads must stay under 8000 bytes: events are encoded as short arrays
and packed into as few payloads as fit under :data:`MAX_PAYLOAD_BYTES`. The codec
is derived from the event and entity dataclasses (their fields in order, decoded
by their type hints): a new event type needs a tag in :data:`EVENT_TAGS`, a new
field needs nothing here.
"""

from __future__ import annotations

import dataclasses
import json
import operator
import types
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from enum import Enum
from typing import Any, Union, get_args, get_origin, get_type_hints

import orjson

from domain.events import (
    AccountChanged,
    ApiKeyRevoked,
    BookChanged,
    DomainEvent,
    FillExecuted,
    MarketStatusChanged,
    OrderChanged,
    PricesChanged,
    TradeExecuted,
    UserDeactivated,
)

MAX_PAYLOAD_BYTES = 7000

EVENT_TAGS: dict[type[Any], str] = {
    PricesChanged: "p",
    BookChanged: "b",
    TradeExecuted: "t",
    OrderChanged: "o",
    MarketStatusChanged: "s",
    UserDeactivated: "u",
    ApiKeyRevoked: "k",
    FillExecuted: "f",
    AccountChanged: "a",
}
"""One short tag per event type; an event is ``[tag, *its fields]`` in field order."""

Decoder = Callable[[Any], Any]
Encoder = Callable[[Any], Any]


def encode_event(event: DomainEvent) -> list[Any]:
    encode = _EVENT_ENCODERS.get(type(event))
    if encode is None:
        raise TypeError(f"cannot encode {event!r}")
    row: list[Any] = encode(event)
    return row


def decode_event(row: list[Any]) -> DomainEvent:
    decode = _EVENT_DECODERS.get(row[0])
    if decode is None:
        raise ValueError(f"unknown event kind {row[0]!r}")
    event: DomainEvent = decode(row[1:])
    return event


def _plain(value: Any) -> Any:
    """What orjson writes by itself, for the stdlib's encoder (:func:`_dump`'s fallback):
    a datetime as ISO text, an enum as its value."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot encode {value!r}")


def _encoder(hint: Any) -> Encoder | None:
    """A value of type ``hint`` as JSON-ready data, worked out once from the type: a
    dataclass or NamedTuple as the list of its fields in order, containers of them
    item by item. None when orjson writes the value as it is (str, int, float, bool,
    None, datetime as ISO text, an enum as its value, a tuple of those as an array):
    a command's events are encoded inside its transaction on PostgreSQL."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Union or origin is types.UnionType:
        inner = [arg for arg in args if arg is not type(None)]
        if len(inner) != 1:
            return None  # the union's members are plain (events hold no others)
        encode = _encoder(inner[0])
        if encode is None:
            return None
        return lambda value: None if value is None else encode(value)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _encoder(args[0])
            return None if item is None else lambda values: [item(v) for v in values]
        items = [_encoder(arg) for arg in args]
        if all(e is None for e in items):
            return None
        return lambda values: [v if e is None else e(v) for e, v in zip(items, values, strict=True)]
    if isinstance(hint, type) and (dataclasses.is_dataclass(hint) or hasattr(hint, "_fields")):
        return _record_encoder(hint)
    return None


def _record_encoder(cls: type[Any]) -> Encoder:
    """A dataclass or NamedTuple as the list of its fields in order: read at once
    (``attrgetter`` of every field), only the fields that need it converted."""
    hints = get_type_hints(cls)
    names = _field_names(cls)
    converted = [(i, e) for i, name in enumerate(names) if (e := _encoder(hints[name]))]
    if hasattr(cls, "_fields") and not converted:
        return list
    get = operator.attrgetter(*names)
    fields: Callable[[Any], tuple[Any, ...]] = (
        get if len(names) > 1 else lambda value: (get(value),)
    )

    def encode(value: Any) -> list[Any]:
        row = list(fields(value))
        for index, convert in converted:
            row[index] = convert(row[index])
        return row

    return encode


def _event_encoder(cls: type[Any], tag: str) -> Encoder:
    encode = _record_encoder(cls)
    return lambda event: [tag, *encode(event)]


def _field_names(cls: type[Any]) -> list[str]:
    if dataclasses.is_dataclass(cls):
        return [f.name for f in dataclasses.fields(cls)]
    return list(cls._fields)


def _decoder(hint: Any) -> Decoder:
    """The inverse of :func:`_encode` for a value of type ``hint``, from the type alone."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Union or origin is types.UnionType:
        (inner,) = [arg for arg in args if arg is not type(None)]
        decode = _decoder(inner)
        return lambda value: None if value is None else decode(value)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])
            return lambda values: tuple(item(v) for v in values)
        items = [_decoder(arg) for arg in args]
        return lambda values: tuple(d(v) for d, v in zip(items, values, strict=True))
    if hint is datetime:
        return datetime.fromisoformat
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    if isinstance(hint, type) and (dataclasses.is_dataclass(hint) or hasattr(hint, "_fields")):
        return _record_decoder(hint)
    return _same


def _record_decoder(cls: type[Any]) -> Decoder:
    hints = get_type_hints(cls)
    fields = [(name, _decoder(hints[name])) for name in _field_names(cls)]

    def decode(values: list[Any]) -> Any:
        return cls(**{name: d(v) for (name, d), v in zip(fields, values, strict=True)})

    return decode


def _same(value: Any) -> Any:
    return value


_EVENT_DECODERS = {tag: _decoder(cls) for cls, tag in EVENT_TAGS.items()}
_EVENT_ENCODERS = {cls: _event_encoder(cls, tag) for cls, tag in EVENT_TAGS.items()}


_json_dumps = json.JSONEncoder(separators=(",", ":"), default=_plain).encode


def _dump(row: list[Any]) -> bytes:
    """A row as compact JSON (UTF-8) by orjson; by the standard library where orjson
    refuses a value (an int past 64 bits, a string with a lone surrogate)."""
    try:
        return orjson.dumps(row)
    except orjson.JSONEncodeError:
        return _json_dumps(row).encode()


def pack(events: Sequence[DomainEvent]) -> Iterator[str]:
    """JSON payloads of at most :data:`MAX_PAYLOAD_BYTES` bytes, events in order."""
    batch: list[bytes] = []
    size = 2
    for event in events:
        item = _dump(encode_event(event))
        length = len(item)
        if length + 2 > MAX_PAYLOAD_BYTES:
            raise ValueError("one event exceeds the payload limit")
        if batch and size + length + 1 > MAX_PAYLOAD_BYTES:
            yield (b"[" + b",".join(batch) + b"]").decode()
            batch, size = [], 2
        batch.append(item)
        size += length + 1
    if batch:
        yield (b"[" + b",".join(batch) + b"]").decode()


def unpack(payload: str, wanted: Callable[[str], bool] | None = None) -> list[DomainEvent]:
    """The events of a payload; with ``wanted``, only those whose tag it accepts (the
    others are not decoded)."""
    try:
        rows = orjson.loads(payload)
    except orjson.JSONDecodeError:  # NaN, which the stdlib's encoder writes, orjson never
        rows = json.loads(payload)
    if wanted is None:
        return [decode_event(row) for row in rows]
    return [decode_event(row) for row in rows if wanted(row[0])]
