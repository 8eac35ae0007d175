"""Fuzzing the served schema with hypothesis-graphql: no 5xx, no internal error, every
error has a contract code. Over real HTTP and WebSocket, on the in-memory backend with
demo data.

Besides hypothesis-graphql's documents with inline literals, the same documents with
every argument lifted into a variable, and variables pushed to extremes: huge and
tiny numbers, strings with NUL and unpaired surrogates, times far in the past and
future; every mutation on its own; and queries, mutations and subscriptions over
graphql-transport-ws.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import graphql
import httpx
import hypothesis_graphql
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from schema.errors import CONTRACT_CODES
from tests.api.conftest import SECRET, free_port
from tests.harness import FakeHasher
from web.app import create_app
from web.settings import AppSettings

SDL = (Path(__file__).resolve().parents[2] / "schema" / "schema.graphql").read_text()
SCHEMA = graphql.build_schema(SDL)
assert SCHEMA.subscription_type is not None
# hypothesis-graphql generates queries and mutations only: subscriptions are generated as
# queries of a schema whose query type is the Subscription type, then relabelled.
AS_QUERIES = graphql.GraphQLSchema(query=SCHEMA.subscription_type)
LOGIN = 'mutation { login(username: "alice", password: "demo-password") { accessToken } }'
FAR_TIMES = [
    "2031-01-01T00:00:00Z",
    "2001-01-01T00:00:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "1969-12-31T23:59:59Z",
    "2999-12-31T23:59:59Z",
    "3000-01-01T00:00:00Z",
    "not a date",
]
DATETIMES = {
    "DateTime": st.one_of(st.sampled_from(FAR_TIMES), st.text(max_size=30)).map(
        lambda text: graphql.StringValueNode(value=text)
    )
}
EXTREMES: dict[type, list[Any]] = {
    int: [0, -1, 2**31 - 1, -(2**31), 2**31, 2**53 + 1, -(2**63), 2**64 - 1],
    float: [1.7e308, -1.7e308, 5e-324, -0.0, 1e-300, 2.0**53, 0.5],
    str: ["a\x00b", "\x00", "\ud800", "x\udfffy", "", " " * 3, "é" * 300, *FAR_TIMES],
}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
SOME = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
OVER_WS = settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
assert SCHEMA.mutation_type is not None
MUTATIONS = sorted(SCHEMA.mutation_type.fields)


class Driver:
    """The app under a real uvicorn server on a thread of its own, driven over HTTP and
    WebSocket from sync tests."""

    def __init__(self) -> None:
        app = create_app(
            AppSettings(database_url="memory://", jwt_secret=SECRET, demo=True, gc_freeze=False),
            hasher=FakeHasher(),
        )
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="fuzz server")
        self.thread.start()
        for _ in range(1000):
            if self.server.started or not self.thread.is_alive():
                break
            time.sleep(0.01)
        assert self.server.started, "uvicorn did not start"
        self.ws_url = f"ws://127.0.0.1:{port}/graphql"
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        self.token = self.post(LOGIN, None).json()["data"]["login"]["accessToken"]
        self.sockets = contextlib.ExitStack()
        self.socket: ClientConnection | None = None
        self.operations = 0

    def post(
        self, query: str, token: str | None, variables: dict[str, Any] | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # json.dumps escapes unpaired surrogates (httpx's own encoder would refuse them).
        body = json.dumps({"query": query, "variables": variables or {}})
        headers["Content-Type"] = "application/json"
        return self.client.post("/graphql", content=body.encode(), headers=headers)

    def ws(self) -> ClientConnection:
        """One signed-in graphql-transport-ws connection, reopened if it was closed."""
        if self.socket is None:
            protocols: Any = ["graphql-transport-ws"]
            socket = self.sockets.enter_context(connect(self.ws_url, subprotocols=protocols))
            init = {"authorization": f"Bearer {self.token}"}
            socket.send(json.dumps({"type": "connection_init", "payload": init}))
            assert json.loads(socket.recv(10))["type"] == "connection_ack"
            self.socket = socket
        return self.socket

    def close(self) -> None:
        self.sockets.close()
        self.client.close()
        self.server.should_exit = True
        self.thread.join()


@pytest.fixture(scope="module")
def driver() -> Iterator[Driver]:
    running = Driver()
    yield running
    running.close()


def check_errors(errors: list[dict[str, Any]] | None) -> None:
    for error in errors or []:
        assert (error.get("extensions") or {}).get("code") in CONTRACT_CODES, error


def check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    check_errors(response.json().get("errors"))


def with_variables(schema: graphql.GraphQLSchema, document: graphql.DocumentNode) -> Any:
    """The document with every literal argument lifted into a variable of the argument's
    type; returns (document, variables)."""
    type_info = graphql.TypeInfo(schema)
    definitions: list[graphql.VariableDefinitionNode] = []
    variables: dict[str, Any] = {}

    class Lift(graphql.Visitor):
        def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> Any:
            argument = type_info.get_argument()
            if argument is None or isinstance(node.value, graphql.VariableNode):
                return None
            name = graphql.NameNode(value=f"v{len(variables)}")
            variables[name.value] = graphql.value_from_ast_untyped(node.value)
            variable = graphql.VariableNode(name=name)
            type_node = graphql.parse_type(str(argument.type))
            definitions.append(graphql.VariableDefinitionNode(variable=variable, type=type_node))
            return graphql.ArgumentNode(name=node.name, value=variable)

    lifted = graphql.visit(document, graphql.TypeInfoVisitor(type_info, Lift()))
    return _operations(lifted, variable_definitions=tuple(definitions)), variables


def _operations(document: graphql.DocumentNode, **change: Any) -> graphql.DocumentNode:
    """The document with ``change`` made to its operations (syntax nodes are frozen)."""
    return replace(
        document,
        definitions=tuple(
            replace(d, **change) if isinstance(d, graphql.OperationDefinitionNode) else d
            for d in document.definitions
        ),
    )


def pushed(value: Any, data: st.DataObject) -> Any:
    """``value`` (JSON) with some leaves replaced by extremes of their kind."""
    if isinstance(value, dict):
        return {key: pushed(item, data) for key, item in value.items()}
    if isinstance(value, list):
        return [pushed(item, data) for item in value]
    kind = type(value)
    if kind in EXTREMES and data.draw(st.booleans()):
        return data.draw(st.sampled_from(EXTREMES[kind]))
    return value


def identity(document: graphql.DocumentNode) -> graphql.DocumentNode:
    return document


def as_subscription(document: graphql.DocumentNode) -> graphql.DocumentNode:
    return _operations(document, operation=graphql.OperationType.SUBSCRIPTION)


def run_over_websocket(driver: Driver, query: str, variables: dict[str, Any]) -> None:
    """Send one operation; check every error of its answers. A subscription that sends
    nothing within a short while (no event yet) is completed by the client."""
    socket = driver.ws()
    driver.operations += 1
    number = str(driver.operations)
    payload = {"query": query, "variables": variables}
    socket.send(json.dumps({"id": number, "type": "subscribe", "payload": payload}))
    while True:
        try:
            message = json.loads(socket.recv(0.5))
        except TimeoutError:
            socket.send(json.dumps({"id": number, "type": "complete"}))
            _drain(socket)
            return
        if message["type"] in ("ping", "pong"):  # keep-alive
            continue
        assert message.get("id") == number, message
        if message["type"] == "next":
            check_errors(message["payload"].get("errors"))
            if query.lstrip().startswith("subscription"):
                socket.send(json.dumps({"id": number, "type": "complete"}))
                _drain(socket)
                return
        elif message["type"] == "error":
            check_errors(message["payload"])
            return
        elif message["type"] == "complete":
            return


def _drain(socket: ClientConnection) -> None:
    """Read what the server still sends for the completed operation."""
    try:
        while True:
            message = json.loads(socket.recv(0.1))
            if message["type"] in ("next", "error"):
                payload = message["payload"]
                check_errors(payload if isinstance(payload, list) else payload.get("errors"))
    except TimeoutError:
        return


@FUZZ
@given(query=hypothesis_graphql.queries(SDL, custom_scalars=DATETIMES), signed_in=st.booleans())
def test_random_queries_never_fail_internally(driver: Driver, query: str, signed_in: bool) -> None:
    check(driver.post(query, driver.token if signed_in else None))


@FUZZ
@given(query=hypothesis_graphql.mutations(SDL, custom_scalars=DATETIMES))
def test_random_mutations_never_fail_internally(driver: Driver, query: str) -> None:
    check(driver.post(query, driver.token))


@FUZZ
@given(
    document=hypothesis_graphql.from_schema(
        SDL, custom_scalars=DATETIMES, print_ast=identity, codec=None
    ),
    data=st.data(),
)
def test_variables_at_their_extremes_never_fail_internally(
    driver: Driver, document: graphql.DocumentNode, data: st.DataObject
) -> None:
    lifted, variables = with_variables(SCHEMA, document)
    check(driver.post(graphql.print_ast(lifted), driver.token, pushed(variables, data)))


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_every_mutation_with_extremes_never_fails_internally(driver: Driver, mutation: str) -> None:
    @SOME
    @given(
        document=hypothesis_graphql.mutations(
            SDL, fields=[mutation], custom_scalars=DATETIMES, print_ast=identity
        ),
        data=st.data(),
    )
    def run(document: graphql.DocumentNode, data: st.DataObject) -> None:
        lifted, variables = with_variables(SCHEMA, document)
        check(driver.post(graphql.print_ast(lifted), driver.token, pushed(variables, data)))

    run()


@OVER_WS
@given(
    document=st.one_of(
        hypothesis_graphql.from_schema(SDL, custom_scalars=DATETIMES, print_ast=identity),
        hypothesis_graphql.queries(AS_QUERIES, custom_scalars=DATETIMES, print_ast=identity).map(
            as_subscription
        ),
    ),
    lift=st.booleans(),
    data=st.data(),
)
def test_operations_over_a_websocket_never_fail_internally(
    driver: Driver, document: graphql.DocumentNode, lift: bool, data: st.DataObject
) -> None:
    variables: dict[str, Any] = {}
    if lift:
        document, variables = with_variables(SCHEMA, document)
        # Strings with unpaired surrogates cannot be sent in a WebSocket text frame.
        variables = json.loads(json.dumps(pushed(variables, data)).replace("\\ud", "\\u00d"))
    run_over_websocket(driver, graphql.print_ast(document), variables)
