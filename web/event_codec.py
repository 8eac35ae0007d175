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


def _encode(value: Any) -> Any:
    """A value as JSON-ready data: a dataclass or NamedTuple as the list of its fields
    in order, a tuple as a list, a datetime as ISO text, an enum as its value."""
    if dataclasses.is_dataclass(value):
        return [_encode(getattr(value, f.name)) for f in dataclasses.fields(value)]
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _encoder(hint: Any) -> Encoder:
    """:func:`_encode` for a value of type ``hint``, worked out once from the type (a
    command's events are encoded inside its transaction on PostgreSQL)."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Union or origin is types.UnionType:
        inner = [arg for arg in args if arg is not type(None)]
        if len(inner) != 1:
            return _encode
        encode = _encoder(inner[0])
        return _same if encode is _same else lambda value: None if value is None else encode(value)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _encoder(args[0])
            return list if item is _same else lambda values: [item(v) for v in values]
        items = [_encoder(arg) for arg in args]
        return lambda values: [e(v) for e, v in zip(items, values, strict=True)]
    if hint is datetime:
        return datetime.isoformat
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _value
    if isinstance(hint, type) and (dataclasses.is_dataclass(hint) or hasattr(hint, "_fields")):
        return _record_encoder(hint)
    if hint in (str, int, float, bool):
        return _same
    return _encode  # anything else: by the value's own type


def _record_encoder(cls: type[Any]) -> Encoder:
    hints = get_type_hints(cls)
    fields = [(operator.attrgetter(name), _encoder(hints[name])) for name in _field_names(cls)]

    def encode(value: Any) -> list[Any]:
        return [e(get(value)) for get, e in fields]

    return encode


def _event_encoder(cls: type[Any], tag: str) -> Encoder:
    encode = _record_encoder(cls)
    return lambda event: [tag, *encode(event)]


def _field_names(cls: type[Any]) -> list[str]:
    if dataclasses.is_dataclass(cls):
        return [f.name for f in dataclasses.fields(cls)]
    return list(cls._fields)


def _value(member: Enum) -> Any:
    return member.value


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


_dumps = json.JSONEncoder(separators=(",", ":")).encode


def pack(events: Sequence[DomainEvent]) -> Iterator[str]:
    """JSON payloads of at most :data:`MAX_PAYLOAD_BYTES` bytes, events in order."""
    batch: list[str] = []
    size = 2
    for event in events:
        item = _dumps(encode_event(event))
        length = len(item.encode())
        if length + 2 > MAX_PAYLOAD_BYTES:
            raise ValueError("one event exceeds the payload limit")
        if batch and size + length + 1 > MAX_PAYLOAD_BYTES:
            yield "[" + ",".join(batch) + "]"
            batch, size = [], 2
        batch.append(item)
        size += length + 1
    if batch:
        yield "[" + ",".join(batch) + "]"


def unpack(payload: str) -> list[DomainEvent]:
    return [decode_event(row) for row in json.loads(payload)]
