from __future__ import annotations

from tests.api.conftest import Api


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
