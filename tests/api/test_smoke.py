from __future__ import annotations

import httpx
import pytest

from tests.api import ops
from tests.api.conftest import Api, LiveServer


async def test_register_login_and_me(api: Api) -> None:
    user_id, token = await api.user("alice")
    data = await api.data("{ me { id username email balanceCents } }", token=token)
    assert data["me"] == {
        "id": user_id,
        "username": "alice",
        "email": "alice@example.com",
        "balanceCents": 100_000,
    }
    assert (await api.data("{ me { id } }"))["me"] is None


async def test_metrics_count_operations_by_result_and_requests_by_path(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        api = Api(client)
        _, token = await api.user("metrics")
        await api.data("{ me { id } }", token=token)
        response = await client.post("/graphql", json={"query": "{ me { nope } }"})
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        healthz = await client.get("/healthz")
        text = (await client.get("/metrics")).text
    request_id = healthz.headers["x-request-id"]
    assert len(request_id) == 16 and int(request_id, 16) >= 0
    assert (
        'bellwether_graphql_operations_total{operation="mutation:register",result="ok"} 1.0' in text
    )
    assert 'bellwether_graphql_operations_total{operation="query:me",result="ok"} 1.0' in text
    assert (
        'bellwether_graphql_operations_total{operation="query:me",result="BAD_USER_INPUT"} 1.0'
        in text
    )
    assert 'bellwether_graphql_operation_seconds_count{operation="mutation:login"} 1.0' in text
    assert 'bellwether_http_request_seconds_count{path="/healthz",status="200"} 1.0' in text
    assert 'bellwether_http_request_seconds_count{path="/graphql",status="200"} 4.0' in text


async def test_metrics_count_trades_by_kind(api: Api) -> None:
    _, alice = await api.user("alice")
    market = await ops.create_market(api, alice)
    trade = {"marketId": market["id"], "side": "BUY_YES", "amountType": "SHARES", "amount": 2}
    for _ in range(2):
        await api.data(ops.LMSR_TRADE, {"i": trade}, alice)
    text = (await api.client.get("/metrics")).text
    assert 'bellwether_trades_total{kind="amm"} 2.0' in text


INTROSPECT = "{ __schema { queryType { name } } }"


async def test_graphiql_and_introspection_are_on_in_development(api: Api) -> None:
    page = await api.client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert (await api.data(INTROSPECT))["__schema"]["queryType"]["name"] == "Query"


@pytest.mark.parametrize("settings", [{"introspection": False, "graphiql": False}], indirect=True)
async def test_graphiql_and_introspection_can_be_switched_off(api: Api) -> None:
    page = await api.client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 404 and "graphiql" not in page.text.lower()
    for _ in range(2):  # the second answer comes from the validation cache: the same
        result = await api.run(INTROSPECT)
        assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "__schema" not in str(result.get("data"))
    fields = await api.run("{ markets(first: 1) { totalCount __typename } }")
    assert "errors" not in fields  # __typename is not introspection
