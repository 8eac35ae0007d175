"""Strawberry's WebSocket protocol handlers, with a contract code on their own cap.

Strawberry caps the operations in flight on one socket (``web.app`` sets that
cap above ``BELLWETHER_MAX_SUBSCRIPTIONS_PER_CONNECTION`` as a backstop) and
refuses the one over it with "Subscription limit reached" and no
``extensions.code``. A pipelined flood of subscribe messages meets that cap
before the resolvers' own RATE_LIMITED check runs, so these handlers add the
code to that one error, on both protocols.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import OperationMessage

from schema.context import Context

STRAWBERRY_LIMIT = "Subscription limit reached"
LIMIT_MESSAGE = "too many operations in flight on this connection: complete some first"


def coded(error: Mapping[str, Any]) -> dict[str, Any]:
    """``error``, with code RATE_LIMITED if it is Strawberry's per-socket cap."""
    if error.get("message") != STRAWBERRY_LIMIT:
        return dict(error)
    return {**error, "message": LIMIT_MESSAGE, "extensions": {"code": "RATE_LIMITED"}}


class TransportWsHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def send_message(self, message: Message) -> None:
        if message["type"] == "error":
            errors = [coded(error) for error in cast(list[Mapping[str, Any]], message["payload"])]
            message = cast(Message, {**message, "payload": errors})
        await super().send_message(message)


class LegacyWsHandler(BaseGraphQLWSHandler[Context, None]):
    async def send_message(self, message: OperationMessage) -> None:
        if message["type"] == "error":
            payload = coded(cast(Mapping[str, Any], message["payload"]))
            message = cast(OperationMessage, {**message, "payload": payload})
        await super().send_message(message)
