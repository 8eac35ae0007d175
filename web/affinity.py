"""Market affinity: each market's commands go to one request worker, its owner.

With ``--workers N`` on PostgreSQL, a market's commands arriving at two workers form
batches in both, and the market's row lock (``SELECT ... FOR UPDATE``) bounces between
them: each batch waits for the other worker's commit, and reloads the book that the
other worker's writes made stale (docs/PERSISTENCE.md, "Batched execution"). So a
worker that receives a mutation naming a market it does not own relays the request
to the owner (``web.relay``), where that market's batches all form.

Affinity is an optimisation, never a condition of correctness: the row lock still
serialises every batch, so a request run by a worker that does not own its market
(the owner unreachable, affinity switched off, a second host) is as safe as before.

The owner of a market is slot ``crc32(market_id) mod N`` (:func:`owner`): a function
of the id alone, the same in every process (Python's ``hash`` of a str is salted per
process), cheap, and even over random ids. The supervisor tells each worker its slot,
N, and the private directory of the workers' Unix sockets (:class:`WorkerSlot`).
"""

from __future__ import annotations

import enum
import functools
import os
import socket
import zlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    ValueNode,
    VariableNode,
    parse,
)

from domain.errors import DomainError

SLOT_ENV = "BELLWETHER_WORKER_SLOT"
WORKERS_ENV = "BELLWETHER_WORKER_COUNT"
DIRECTORY_ENV = "BELLWETHER_RELAY_DIR"
"""Set by the supervisor (``web.serve``) for each request worker; not for operators."""


def owner(market_id: str, workers: int) -> int:
    """The slot (0..workers-1) of the worker that owns ``market_id``'s commands."""
    return zlib.crc32(market_id.encode("utf-8", "surrogatepass")) % workers


@dataclass(frozen=True, slots=True)
class WorkerSlot:
    """This request worker's ``slot`` of ``workers``, and where their sockets are."""

    slot: int
    workers: int
    directory: Path

    def socket_path(self, slot: int) -> Path:
        """The Unix socket on which worker ``slot`` accepts relayed requests."""
        return self.directory / f"worker-{slot}.sock"

    def env(self) -> dict[str, str]:
        return {
            SLOT_ENV: str(self.slot),
            WORKERS_ENV: str(self.workers),
            DIRECTORY_ENV: str(self.directory),
        }

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WorkerSlot | None:
        """The slot the supervisor gave this process; None: no affinity (one worker,
        switched off, or not under the supervisor)."""
        if DIRECTORY_ENV not in env:
            return None
        return cls(int(env[SLOT_ENV]), int(env[WORKERS_ENV]), Path(env[DIRECTORY_ENV]))


def unix_listener(path: Path) -> socket.socket:
    """A listening Unix socket at ``path`` (a stale one left by a dead worker replaced)."""
    path.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    os.chmod(path, 0o600)
    sock.listen(2048)
    return sock


class Named(enum.Enum):
    """What a mutation's id names: its market, or an order (whose market is its own)."""

    MARKET = "market"
    ORDER = "order"


@dataclass(frozen=True, slots=True)
class Target:
    """Where a mutation names its market, or an order of it: the top-level field's
    argument ``argument``, then ``keys`` into its value (``input.marketId``,
    ``inputs[0].marketId``, ``ids[0]``); and the field's response key and position, for
    an error about the whole request."""

    argument: ValueNode
    keys: tuple[str | int, ...]
    response_key: str
    line: int
    column: int
    named: Named = Named.MARKET

    def named_id(self, variables: Mapping[str, Any] | None) -> str | None:
        """The id the request names, if a non-empty string (else the schema refuses
        the request wherever it runs)."""
        value: Any = self.argument
        for position, key in enumerate(self.keys):
            if isinstance(value, VariableNode):
                value = _walk(_variable(value, variables), self.keys[position:])
                break
            value = _step(value, key)
        else:
            if isinstance(value, VariableNode):
                value = _variable(value, variables)
            elif isinstance(value, StringValueNode):
                value = value.value
        return str(value) if isinstance(value, str) and value else None


MARKET_ARGUMENTS: tuple[tuple[str, tuple[str | int, ...]], ...] = (
    ("marketId", ()),
    ("input", ("marketId",)),
    ("inputs", (0, "marketId")),
)
"""Where the schema's mutations name their market (``lmsrTrade(input:)``,
``placeOrder(input:)``, ``placeOrders(inputs:)``, ``mintCompleteSet(marketId:)``...)."""
ORDER_ARGUMENTS: dict[str, tuple[str, tuple[str | int, ...]]] = {
    "cancelOrder": ("id", ()),
    "amendOrder": ("id", ()),
    "cancelOrders": ("ids", (0,)),
}
"""The mutations that name an order, not its market, and where (the first one for a
list): their batches run in the order's market all the same."""


class MarketLocator:
    """The market a one-operation mutation request acts on, if it names one."""

    def __init__(self, max_tokens: int, cached_queries: int = 256) -> None:
        self._max_tokens = max_tokens
        self._target = functools.lru_cache(maxsize=cached_queries)(self._find_target)

    def target(self, query: str, operation_name: object) -> Target | None:
        if operation_name is not None and type(operation_name) is not str:
            return None
        return self._target(query, operation_name)

    def _find_target(self, query: str, operation_name: str | None) -> Target | None:
        try:
            document = parse(query, max_tokens=self._max_tokens)
        except GraphQLError:
            return None  # the schema's execution says what is wrong with it
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name is not None:
            operations = [o for o in operations if o.name and o.name.value == operation_name]
        if len(operations) != 1 or operations[0].operation is not OperationType.MUTATION:
            return None
        fields = [s for s in operations[0].selection_set.selections if isinstance(s, FieldNode)]
        # The first field naming a market, else the first naming an order.
        for field in fields:
            if found := _field_target(field, MARKET_ARGUMENTS, Named.MARKET):
                return found
        for field in fields:
            order = ORDER_ARGUMENTS.get(field.name.value)
            if order and (found := _field_target(field, (order,), Named.ORDER)):
                return found
        return None


def _field_target(
    field: FieldNode, candidates: tuple[tuple[str, tuple[str | int, ...]], ...], named: Named
) -> Target | None:
    """The target of ``field`` at the first of ``candidates`` (an argument's name, then
    keys into it) that it has."""
    arguments = {argument.name.value: argument.value for argument in field.arguments or ()}
    for name, keys in candidates:
        if name in arguments:
            location = field.loc.source.get_location(field.loc.start) if field.loc else None
            return Target(
                arguments[name],
                keys,
                (field.alias or field.name).value,
                location.line if location else 1,
                location.column if location else 1,
                named,
            )
    return None


class OrderMarkets:
    """The market of each order named lately: fixed once the order is placed, so never
    stale; looked up (``lookup``: None for no such order) when not known."""

    def __init__(self, lookup: Callable[[str], Awaitable[str | None]], size: int = 8192) -> None:
        self._lookup = lookup
        self._size = size
        self._known: dict[str, str] = {}

    async def market_of(self, order_id: str) -> str | None:
        """The order's market; None when unknown or not found now (the request then runs
        where it arrived, which answers it, or its failure, as ever)."""
        market_id = self._known.get(order_id)
        if market_id is None:
            try:
                market_id = await self._lookup(order_id)
            except DomainError:  # the database unreachable, say
                return None
            if market_id is not None:
                if len(self._known) >= self._size:  # the oldest first
                    del self._known[next(iter(self._known))]
                self._known[order_id] = market_id
        return market_id


def _step(node: Any, key: str | int) -> Any:
    """One key into a literal: an object's field, or a list's first item."""
    if isinstance(key, int) and isinstance(node, ListValueNode) and node.values:
        return node.values[key]
    if isinstance(key, str) and isinstance(node, ObjectValueNode):
        return next((f.value for f in node.fields if f.name.value == key), None)
    return None


def _variable(node: VariableNode, variables: Mapping[str, Any] | None) -> Any:
    return None if variables is None else variables.get(node.name.value)


def _walk(value: Any, keys: tuple[str | int, ...]) -> Any:
    """The same keys into a variable's JSON value."""
    for key in keys:
        if isinstance(key, int) and isinstance(value, list) and value:
            value = value[key]
        elif isinstance(key, str) and isinstance(value, dict):
            value = value.get(key)
        else:
            return None
    return value
