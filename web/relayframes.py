"""The relay's wire format (``web.relay``, ``web.relayserver``): numbered frames on a
Unix-socket connection, each a fixed header of unsigned 32-bit big-endian integers,
then the bytes whose sizes it gives."""

from __future__ import annotations

import struct
from collections.abc import Callable

import orjson

REQUEST = struct.Struct("!III")
"""A request frame's number, then the sizes of its head and its body."""
NUMBER = struct.Struct("!I")
"""The number a connection puts before each request of :func:`request_frame`."""
SIZES = struct.Struct("!II")
ANSWER = struct.Struct("!III")
"""An answer frame's request number, status and body size."""
NOT_RUN = 0
"""An answer's status when the owner did not run the request (it is stopping)."""
FAILED = 1
"""An answer's status when running it failed in the owner (a bug): its fate unknown."""

Answer = tuple[int, bytes]
"""An HTTP status and a JSON body."""


def request_frame(body: bytes, client: str, request_id: str, authorization: str | None) -> bytes:
    """A request's frame, less its number (the connection numbers what it sends)."""
    head = orjson.dumps([client, request_id, authorization])
    return SIZES.pack(len(head), len(body)) + head + body


def take_frames(
    received: bytearray, header: struct.Struct, length: Callable[[tuple[int, ...]], int]
) -> list[tuple[tuple[int, ...], bytes]]:
    """The whole frames at the start of ``received``, taken out of it: each one's header
    values and the ``length(values)`` bytes that follow them."""
    frames, start, size = [], 0, header.size
    while len(received) - start >= size:
        values = header.unpack_from(received, start)
        end = start + size + length(values)
        if len(received) < end:
            break
        frames.append((values, bytes(received[start + size : end])))
        start = end
    del received[:start]
    return frames
