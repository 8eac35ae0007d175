from __future__ import annotations

import httpx

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
