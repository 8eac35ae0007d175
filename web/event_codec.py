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
import types
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from enum import Enum
from typing import Any, Union, cast, get_args, get_origin, get_type_hints

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


def decode_event(row: list[Any]) -> DomainEvent:
    decode = _EVENT_DECODERS.get(row[0])
    if decode is None:
        raise ValueError(f"unknown event kind {row[0]!r}")
    event: DomainEvent = decode(row[1:])
    return event


def _plain(value: Any) -> Any:
    """What orjson writes by itself, for the stdlib's encoder (:func:`pack`'s fallback):
    a datetime as ISO text, an enum as its value."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot encode {value!r}")


def _converter(hint: Any, helpers: dict[str, Any]) -> str | None:
    """The name of a function (generated into ``helpers``) turning a value of type
    ``hint`` into JSON-ready data, worked out once from the type: a dataclass or
    NamedTuple as the list of its fields in order, containers of them item by item.
    None when orjson writes the value as it is (str, int, float, bool, None, datetime
    as ISO text, an enum as its value, a tuple of those as an array): a command's
    events are encoded inside its transaction on PostgreSQL, so each encoder is one
    generated expression, as :mod:`dataclasses` generates ``__init__``."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Union or origin is types.UnionType:
        inner = [arg for arg in args if arg is not type(None)]
        if len(inner) != 1:
            return None  # the union's members are plain (events hold no others)
        convert = _converter(inner[0], helpers)
        return convert and _helper(f"None if v is None else {convert}(v)", helpers)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _converter(args[0], helpers)
            return item and _helper(f"[{item}(i) for i in v]", helpers)
        items = [_converter(arg, helpers) for arg in args]
        if all(c is None for c in items):
            return None
        return _helper(_items([f"v[{i}]" for i in range(len(items))], items), helpers)
    if isinstance(hint, type) and (dataclasses.is_dataclass(hint) or hasattr(hint, "_fields")):
        names = _field_names(hint)
        converters = _field_converters(hint, helpers)
        if hasattr(hint, "_fields") and all(c is None for c in converters):
            return "list"
        return _helper(_items([f"v.{name}" for name in names], converters), helpers)
    return None


def _field_converters(cls: type[Any], helpers: dict[str, Any]) -> list[str | None]:
    hints = get_type_hints(cls)
    return [_converter(hints[name], helpers) for name in _field_names(cls)]


def _items(values: list[str], converters: list[str | None]) -> str:
    """Source of the list of ``values``, each through its converter if it has one."""
    items = (v if c is None else f"{c}({v})" for v, c in zip(values, converters, strict=True))
    return f"[{', '.join(items)}]"


def _helper(body: str, helpers: dict[str, Any]) -> str:
    """A function ``v -> body`` generated into ``helpers``; its name."""
    name = f"_convert{len(helpers)}"
    exec(f"def {name}(v):\n    return {body}\n", helpers)
    return name


def _event_encoder(cls: type[Any], tag: str, helpers: dict[str, Any]) -> Encoder:
    """``[tag, *fields]`` of an event, nested records as lists (:func:`_converter`)."""
    converters = _field_converters(cls, helpers)
    body = _items([repr(tag), *(f"v.{name}" for name in _field_names(cls))], [None, *converters])
    return cast(Encoder, helpers[_helper(body, helpers)])


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
_HELPERS: dict[str, Any] = {}
_EVENT_ENCODERS = {cls: _event_encoder(cls, tag, _HELPERS) for cls, tag in EVENT_TAGS.items()}


_json_dumps = json.JSONEncoder(separators=(",", ":"), default=_plain).encode


def pack(events: Sequence[DomainEvent]) -> Iterator[str]:
    """JSON payloads of at most :data:`MAX_PAYLOAD_BYTES` bytes, events in order."""
    batch: list[bytes] = []
    size = 2
    encoders, dumps = _EVENT_ENCODERS, orjson.dumps
    for event in events:
        encode = encoders.get(type(event))
        if encode is None:
            raise TypeError(f"cannot encode {event!r}")
        row = encode(event)
        try:  # the standard library where orjson refuses a value (an int past 64
            # bits, a string with a lone surrogate)
            item = dumps(row)
        except orjson.JSONEncodeError:
            item = _json_dumps(row).encode()
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
