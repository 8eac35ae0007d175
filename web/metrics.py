"""Prometheus metrics: GraphQL operations by result, latency, trades, subscriptions.

Every app has its own registry (no global state), rendered at ``/metrics``.
Operation labels are ``<type>:<first root field>`` (bounded by the schema),
or ``invalid`` when the document did not validate.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from graphql import FieldNode, OperationDefinitionNode
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from strawberry.extensions import SchemaExtension

from domain.events import DomainEvent, TradeExecuted

BATCH_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.operations = Counter(
            "bellwether_graphql_operations",
            "GraphQL operations by operation and result (ok or the first error code).",
            ["operation", "result"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "bellwether_graphql_operation_seconds",
            "GraphQL operation latency (subscriptions: their lifetime).",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.http = Histogram(
            "bellwether_http_request_seconds",
            "HTTP request latency by path and status.",
            ["path", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.trades = Counter(
            "bellwether_trades", "Trades executed.", ["kind"], registry=self.registry
        )
        self.batch_sizes = Histogram(
            "bellwether_market_batch_commands",
            "Commands per market batch (one transaction each: domain/services/batching.py).",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.queued = Gauge(
            "bellwether_market_commands_queued",
            "Commands waiting for their market's next batch (the one in flight not counted).",
            registry=self.registry,
        )
        self.subscriptions = Gauge(
            "bellwether_open_subscriptions", "Open live subscriptions.", registry=self.registry
        )
        self.relayed_out = Counter(
            "bellwether_relayed_requests",
            "Mutations on another worker's market sent to it (web.affinity), by outcome: "
            "forwarded (it answered), unreachable (run here: not reached, or it did not run it), "
            "lost (it died mid-request), silent (it did not answer in time).",
            ["outcome"],
            registry=self.registry,
        )
        self.relayed_in = Counter(
            "bellwether_relayed_requests_received",
            "Mutations another worker relayed here (this worker owns their market).",
            registry=self.registry,
        )
        self.slot = Gauge(
            "bellwether_worker_slot",
            "This request worker's slot for market affinity (web.affinity); -1: none.",
            registry=self.registry,
        )
        self.slot.set(-1)
        self.dropped = Counter(
            "bellwether_live_events_dropped",
            "Events dropped for subscribers that fell behind.",
            registry=self.registry,
        )

        # Each label set's child, looked up once (the label values are bounded).
        self._http_child = functools.cache(self.http.labels)
        self._latency_child = functools.cache(self.latency.labels)
        self._operations_child = functools.cache(self.operations.labels)
        self._trades_child = functools.cache(self.trades.labels)
        self._relayed_child = functools.cache(self.relayed_out.labels)

    def observe_http(self, path: str, status: int, seconds: float) -> None:
        self._http_child(path, status).observe(seconds)

    def observe_operation(self, name: str, result: str, seconds: float) -> None:
        self._latency_child(name).observe(seconds)
        self._operations_child(name, result).inc()

    def observe_relay(self, outcome: str) -> None:
        self._relayed_child(outcome).inc()

    def watch_subscriptions(self, count: Callable[[], int]) -> None:
        self.subscriptions.set_function(count)

    def watch_queue(self, count: Callable[[], int]) -> None:
        self.queued.set_function(count)

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            if isinstance(event, TradeExecuted):
                self._trades_child("amm" if event.trade.is_amm else "book").inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def extension(self) -> type[SchemaExtension]:
        metrics = self

        class OperationMetrics(SchemaExtension):
            def on_operation(self) -> Iterator[None]:
                started = time.perf_counter()
                try:
                    yield
                finally:
                    metrics.observe_operation(
                        _operation_label(self.execution_context),
                        _result(self.execution_context),
                        time.perf_counter() - started,
                    )

        return OperationMetrics


def _operation_label(execution_context: Any) -> str:
    document = execution_context.graphql_document
    if document is None:
        return "invalid"
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            root = execution_context.schema._schema.get_root_type(definition.operation)
            first = next(
                (s for s in definition.selection_set.selections if isinstance(s, FieldNode)),
                None,
            )
            if root is None or first is None or first.name.value not in root.fields:
                return "invalid"
            return f"{definition.operation.value}:{first.name.value}"
    return "invalid"


def _result(execution_context: Any) -> str:
    """``ok`` or the first error's code.

    No result at all is either a document refused before execution (parse or
    validation errors) or a subscription that ended before its first event because
    the client closed it, which is ``ok``.
    """
    result = execution_context.result
    if result is not None:
        return _first_code(getattr(result, "errors", None), "INTERNAL_SERVER_ERROR")
    refused = execution_context.pre_execution_errors
    if refused or execution_context.graphql_document is None:
        return _first_code(refused, "BAD_USER_INPUT") if refused else "BAD_USER_INPUT"
    return "ok"


def _first_code(errors: Any, uncoded: str) -> str:
    """The first error's ``extensions.code`` (``uncoded`` when it has none); ``ok`` if none."""
    if not errors:
        return "ok"
    return str((errors[0].extensions or {}).get("code", uncoded))
