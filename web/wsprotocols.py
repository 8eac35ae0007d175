"""Strawberry's WebSocket protocol handlers: grouped live feeds, and a contract code
on Strawberry's own cap.

A subscription to a live feed joins its group (``web.livegroups``): one
execution per event for every socket with the same document, variables and
visibility. Anything else, and any subscription a group cannot serve, runs the
usual way (one Strawberry stream per operation).

Strawberry caps the operations in flight on one socket (``web.app`` sets that
cap above ``BELLWETHER_MAX_SUBSCRIPTIONS_PER_CONNECTION`` as a backstop) and
refuses the one over it with "Subscription limit reached" and no
``extensions.code``. A pipelined flood of subscribe messages meets that cap
before the resolvers' own RATE_LIMITED check runs, so these handlers add the
code to that one error, on both protocols.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, cast

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import OperationMessage

from schema.context import Context
from web.livegroups import LiveGroups, Member, Protocol, run_member
from web.wswriter import SocketWriter

STRAWBERRY_LIMIT = "Subscription limit reached"
LIMIT_MESSAGE = "too many operations in flight on this connection: complete some first"


def coded(error: Mapping[str, Any]) -> dict[str, Any]:
    """``error``, with code RATE_LIMITED if it is Strawberry's per-socket cap."""
    if error.get("message") != STRAWBERRY_LIMIT:
        return dict(error)
    return {**error, "message": LIMIT_MESSAGE, "extensions": {"code": "RATE_LIMITED"}}


async def join(
    handler: TransportWsHandler | LegacyWsHandler,
    protocol: Protocol,
    operation_id: str,
    query: str,
    variables: dict[str, object] | None,
    operation_name: str | None,
) -> tuple[LiveGroups, Member] | None:
    """The subscription's group membership, or None to run it the usual way."""
    groups: LiveGroups | None = getattr(handler.view, "live_groups", None)
    socket = getattr(handler.websocket, "ws", None)
    if groups is None or socket is None:
        return None
    if handler.writer is None:
        handler.writer = SocketWriter(socket)
    member = await groups.member(
        handler.context, handler.writer, protocol, operation_id, query, variables, operation_name
    )
    return None if member is None else (groups, member)


class TransportWsHandler(BaseGraphQLTransportWSHandler[Context, None]):
    writer: SocketWriter | None = None

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        joined = await join(
            self, Protocol.TRANSPORT_WS, operation.id, operation.query,
            operation.variables, operation.operation_name,
        )  # fmt: skip
        if joined is not None and await run_member(*joined, self.context):
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
            return
        await super().run_operation(operation)

    async def send_message(self, message: Message) -> None:
        if message["type"] == "error":
            errors = [coded(error) for error in cast(list[Mapping[str, Any]], message["payload"])]
            message = cast(Message, {**message, "payload": errors})
        await super().send_message(message)


class LegacyWsHandler(BaseGraphQLWSHandler[Context, None]):
    writer: SocketWriter | None = None

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        joined = await join(
            self, Protocol.LEGACY_WS, operation_id, query, variables, operation_name
        )
        if joined is not None:
            try:
                completed = await run_member(*joined, self.context)
            except asyncio.CancelledError:  # stopped by the client, as Strawberry's own
                completed = True
            if completed:
                self.tasks.pop(operation_id, None)
                await self.send_message({"type": "complete", "id": operation_id})
                return
        await super().handle_async_results(operation_id, query, operation_name, variables)

    async def send_message(self, message: OperationMessage) -> None:
        if message["type"] == "error":
            payload = coded(cast(Mapping[str, Any], message["payload"]))
            message = cast(OperationMessage, {**message, "payload": payload})
        await super().send_message(message)
