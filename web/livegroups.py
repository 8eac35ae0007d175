"""Grouped subscriptions: one execution and one serialization per event per group.

Subscribers of a live feed with the same document, operation, variables and
visibility form a :class:`Group`. The group runs the subscription once (one
Strawberry stream with a context of its own), serializes each result once, and
writes the same bytes to every socket of the group, framed per protocol and
operation id (``{"id":..,"type":"next","payload":..}`` or the legacy ``data``).

Visibility: a public feed whose selection reaches no viewer-dependent type
(``schema.live.VIEWER_DEPENDENT``) is the same for everyone; a private feed, or
a selection that reaches one, groups per signed-in user.

The trade path comes first: a result is written to at most :data:`CHUNK`
sockets per turn of the event loop, and a write never waits. A conflating feed
(prices, books) never makes a member wait for a stale result: the group keeps
only its newest one, and each member not yet written when its turn comes gets
that newest (:meth:`Group.offer`), so a result reaches every socket within one
pass over the group, however often results arrive meanwhile. A socket whose
transport is paused (its client reads slowly) gets no more direct writes: its
frames wait in the member's outbox (conflated to the newest for a conflating
feed, at most ``queue_size`` for a queueing one, the oldest dropped: the
``sequence`` shows the gap), sent by the member's own task as the socket drains.

Anything a group cannot serve the usual way falls back to Strawberry's
per-operation execution: documents that are not a single feed field, a first
result with errors (NOT_FOUND, UNAUTHENTICATED, validation...), a connection
at its subscription limit. The error a client sees is then the ordinary one.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
import strawberry
from graphql import (
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    parse,
    visit,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from domain.errors import DomainError, RateLimited, Unauthenticated
from schema.context import Context
from schema.live import VIEWER_DEPENDENT, Delivery, Feed
from web.live import LiveHub
from web.wswriter import SocketWriter, text_frame

log = logging.getLogger("bellwether.live")

CHUNK = 256
"""Sockets written per turn of the event loop before requests get their turn."""
PUBLIC = "public"


class Protocol(enum.Enum):
    TRANSPORT_WS = "graphql-transport-ws"
    LEGACY_WS = "graphql-ws"

    def frame(self, operation_id: bytes, payload: bytes) -> bytes:
        """The message carrying ``payload`` (one serialized result) to one operation."""
        if self is Protocol.TRANSPORT_WS:
            return b'{"id":' + operation_id + b',"type":"next","payload":' + payload + b"}"
        return b'{"type":"data","id":' + operation_id + b',"payload":' + payload + b"}"


@dataclass(frozen=True, slots=True)
class Plan:
    """What a subscription document asks for, when it is one feed field."""

    feed: Feed[Any, Any]
    viewer_dependent: bool


def serialize(result: ExecutionResult) -> bytes:
    """The ``payload`` of a result, as Strawberry's protocol handlers build it."""
    payload: dict[str, object] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return orjson.dumps(payload)


class Member:
    """One subscription (socket and operation id) in a group."""

    def __init__(
        self, group: Group, writer: SocketWriter, protocol: Protocol, operation_id: str
    ) -> None:
        self.group = group
        self.writer = writer
        self.protocol = protocol
        self.operation_id = json.dumps(operation_id).encode()  # orjson keeps a 4 KB buffer
        self.outbox: list[bytes] = []
        self.sending = False
        self.wake = asyncio.Event()
        self.owner: str | None = None
        """The signed-in user of a public group's member (deactivation ends it)."""
        self.credential: str | None = None
        """The API key it subscribed with, if any (revoking the key ends it)."""
        self.outcome: bool | None = None
        """Set when the group ends: True (completed), False (fall back to Strawberry)."""
        self.dropped = 0
        self.version = 0
        """The newest of the group's results (``Group.version``) this member was given."""

    def deliver(self, frame: bytes, wire: bytes) -> None:
        """Write now if the socket takes it, else keep it for this member's task."""
        if not self.outbox and not self.sending and self.writer.write_now(frame, wire):
            return
        if self.group.feed.delivery is Delivery.CONFLATE:
            self.outbox.clear()
        elif len(self.outbox) >= self.group.queue_size:
            del self.outbox[0]
            self.dropped += 1
            self.group.on_dropped()
        self.outbox.append(frame)
        self.wake.set()

    def finish(self, completed: bool) -> None:
        self.outcome = completed
        self.wake.set()

    def end(self, error: DomainError) -> None:
        """Its user was deactivated: leave the group; the usual way reports ``error``."""
        self.finish(False)

    async def run(self) -> bool:
        """Until the group ends: True if it completed, False to fall back to Strawberry."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            await self._flush()
            if self.outcome is not None:
                return self.outcome

    async def _flush(self) -> None:
        self.sending = True
        try:
            while self.outbox:
                await self.writer.write(self.outbox.pop(0))
        finally:
            self.sending = False


@dataclass(eq=False)
class Group:
    """Subscribers with one document, variables and visibility: one execution for all."""

    key: Hashable
    feed: Feed[Any, Any]
    queue_size: int
    on_dropped: Callable[[], None]
    members: dict[Member, None] = field(default_factory=dict)
    last: bytes | None = None
    """The newest serialized result, sent first to a member that joins later (feeds
    with a current state only)."""
    started: bool = False
    task: asyncio.Task[None] | None = None
    version: int = 0
    """Results offered so far (:meth:`offer`)."""
    newest: bytes = b""
    fresh: asyncio.Event = field(default_factory=asyncio.Event)

    def join(self, member: Member) -> None:
        self.members[member] = None
        member.version = self.version
        if self.last is not None:
            frame = member.protocol.frame(member.operation_id, self.last)
            member.deliver(frame, text_frame(frame))

    def offer(self, payload: bytes) -> None:
        """A conflating feed's result: it replaces any result not yet written to a member
        (:meth:`catch_up` writes it)."""
        self.started = True
        if self.feed.snapshot is not None:
            self.last = payload
        self.newest = payload
        self.version += 1
        self.fresh.set()

    async def write_newest(self) -> None:
        """Until cancelled: bring every member to the newest result offered."""
        while True:
            await self.fresh.wait()
            self.fresh.clear()
            await self.catch_up()

    async def catch_up(self) -> None:
        """One pass over the members, :data:`CHUNK` sockets per loop turn: each member
        behind gets the newest result at its turn (a newer one offered meanwhile
        included; those passed before it get it on the next pass)."""
        members = list(self.members)
        frames: dict[tuple[Protocol, bytes], tuple[bytes, bytes]] = {}
        written = self.newest
        for start in range(0, len(members), CHUNK):
            if start:
                await asyncio.sleep(0)
            if self.newest is not written:
                frames, written = {}, self.newest
            for member in members[start : start + CHUNK]:
                if member.version < self.version:
                    member.version = self.version
                    member.deliver(*framed(frames, member, written))

    async def publish(self, payload: bytes) -> None:
        """Write one serialized result to every member, :data:`CHUNK` sockets per loop turn."""
        self.started = True
        if self.feed.snapshot is not None:
            self.last = payload
        frames: dict[tuple[Protocol, bytes], tuple[bytes, bytes]] = {}
        members = list(self.members)
        for start in range(0, len(members), CHUNK):
            if start:
                await asyncio.sleep(0)
            for member in members[start : start + CHUNK]:
                member.deliver(*framed(frames, member, payload))


def framed(
    frames: dict[tuple[Protocol, bytes], tuple[bytes, bytes]], member: Member, payload: bytes
) -> tuple[bytes, bytes]:
    """``payload`` framed for ``member`` (message, wire frame), once per protocol and
    operation id in ``frames``."""
    key = (member.protocol, member.operation_id)
    found = frames.get(key)
    if found is None:
        frame = member.protocol.frame(member.operation_id, payload)
        found = frames[key] = (frame, text_frame(frame))
    return found


class LiveGroups:
    """The groups of this worker, keyed by document, variables and visibility."""

    def __init__(
        self,
        schema: strawberry.Schema,
        feeds: Sequence[Feed[Any, Any]],
        hub: LiveHub,
        queue_size: int,
        on_dropped: Callable[[], None] | None = None,
    ) -> None:
        self._schema = schema
        self._hub = hub
        self._feeds = {feed.name: feed for feed in feeds}
        self._queue_size = queue_size
        self._on_dropped = on_dropped or (lambda: None)
        self._plans: dict[tuple[str, str | None], Plan | None] = {}
        self._groups: dict[Hashable, Group] = {}

    @property
    def group_count(self) -> int:
        return len(self._groups)

    @property
    def member_count(self) -> int:
        return sum(len(group.members) for group in self._groups.values())

    async def member(
        self,
        context: Context,
        writer: SocketWriter,
        protocol: Protocol,
        operation_id: str,
        query: str,
        variables: Mapping[str, object] | None,
        operation_name: str | None,
    ) -> Member | None:
        """A member of the group for this subscription, or None to run it the usual way."""
        plan = self.plan(query, operation_name)
        limit = context.max_subscriptions
        if plan is None or (limit is not None and context.open_subscriptions >= limit):
            return None
        try:
            principal = await context.principal(fresh=True)  # each subscription checked anew
            shown = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
        except (Unauthenticated, TypeError):
            return None
        public = not (plan.feed.private or plan.viewer_dependent)
        # A private group is one credential's: revoking an API key ends its groups only.
        viewer = PUBLIC if public else principal and principal.viewer
        key = (query, operation_name, shown, viewer)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = Group(key, plan.feed, self._queue_size, self._on_dropped)
            own = anonymous(context) if public else replace(context, max_subscriptions=None)
            group.task = asyncio.create_task(
                self._run(group, own, query, variables, operation_name), name="live-group"
            )
        member = Member(group, writer, protocol, operation_id)
        if public and principal is not None:
            member.owner, member.credential = principal.user_id, principal.credential
            self._hub.own(principal.user_id, member)
            if member.credential is not None:
                self._hub.own(member.credential, member)
        group.join(member)
        return member

    def leave(self, member: Member) -> None:
        if member.owner is not None:
            self._hub.disown(member.owner, member)
        if member.credential is not None:
            self._hub.disown(member.credential, member)
        group = member.group
        group.members.pop(member, None)
        if not group.members:
            self._close(group)

    async def close(self) -> None:
        for group in list(self._groups.values()):
            self._close(group)

    def plan(self, query: str, operation_name: str | None) -> Plan | None:
        """The feed a document subscribes to, if it is exactly one feed field (cached)."""
        cache_key = (query, operation_name)
        if cache_key not in self._plans:
            if len(self._plans) > 10_000:
                self._plans.clear()
            self._plans[cache_key] = self._plan(query, operation_name)
        return self._plans[cache_key]

    def _plan(self, query: str, operation_name: str | None) -> Plan | None:
        try:
            document = parse(query)
        except GraphQLError:
            return None
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name is not None:
            operations = [o for o in operations if o.name and o.name.value == operation_name]
        if len(operations) != 1 or operations[0].operation is not OperationType.SUBSCRIPTION:
            return None
        fields = operations[0].selection_set.selections
        if len(fields) != 1 or not isinstance(fields[0], FieldNode) or fields[0].directives:
            return None
        feed = self._feeds.get(fields[0].name.value)
        if feed is None:
            return None
        return Plan(feed, self._reaches_viewer_dependent(document))

    def _reaches_viewer_dependent(self, document: Any) -> bool:
        graphql_schema = self._schema._schema  # Strawberry's graphql-core schema
        info = TypeInfo(graphql_schema)
        reached: set[str] = set()

        class Reach(Visitor):
            def enter_field(self, node: FieldNode, *_: object) -> None:
                found = info.get_type()
                if found is not None:
                    reached.add(get_named_type(found).name)

        visit(document, TypeInfoVisitor(info, Reach()))
        return bool(reached & VIEWER_DEPENDENT)

    async def _run(
        self,
        group: Group,
        context: Context,
        query: str,
        variables: Mapping[str, object] | None,
        operation_name: str | None,
    ) -> None:
        completed = False
        conflating = group.feed.delivery is Delivery.CONFLATE
        writer = asyncio.create_task(group.write_newest()) if conflating else None
        try:
            results = await self._schema.subscribe(
                query, dict(variables or {}), context, None, operation_name
            )
            async with aclosing(results):
                async for result in results:
                    if isinstance(result, PreExecutionError) or (
                        result.errors and not group.started
                    ):
                        break  # its members run it the usual way, and see the usual error
                    if conflating:
                        group.offer(serialize(result))
                    else:
                        await group.publish(serialize(result))
                else:
                    completed = True
            if writer is not None:
                writer.cancel()
                await group.catch_up()  # the last result, to those the writer had not reached
        except Exception:
            log.exception("live group failed")
        finally:
            if writer is not None:
                writer.cancel()
            if self._groups.get(group.key) is group:
                del self._groups[group.key]
            for member in list(group.members):
                member.finish(completed and group.started)

    def _close(self, group: Group) -> None:
        if self._groups.get(group.key) is group:
            del self._groups[group.key]
        if group.task is not None:
            group.task.cancel()


def anonymous(context: Context) -> Context:
    """A public group's own context: nobody's credentials, so nobody's deactivation ends
    it (each member's own user is watched by the hub instead, :meth:`Member.end`)."""
    return replace(context, authorization=None, connection_params={}, max_subscriptions=None)


async def run_member(groups: LiveGroups, member: Member, context: Context) -> bool:
    """Serve one member, holding one of its connection's subscription slots, until its
    group ends: True if the group completed, False to run the operation the usual way."""
    try:
        with context.subscription_slot():
            return await member.run()
    except RateLimited:
        return False  # the usual way reports it
    finally:
        groups.leave(member)
