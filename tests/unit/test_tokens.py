"""Access tokens: verification, expiry, and the cache of verified tokens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import jwt
import pytest

from auth.tokens import TokenService
from domain.errors import Unauthenticated

SECRET = "unit-test-secret-" + "x" * 40


@pytest.fixture
def service() -> TokenService:
    return TokenService(SECRET, timedelta(minutes=5))


def test_a_token_names_its_user_every_time(service: TokenService) -> None:
    token = service.issue("user-1").token
    assert service.user_id(token) == "user-1"
    assert service.user_id(token) == "user-1"


Forge = Callable[[str], str]


@pytest.mark.parametrize(
    "forge",
    list[Forge](
        [
            lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
            lambda t: jwt.encode({"sub": "user-2", "iat": 1, "exp": 2**40}, "y" * 40),  # key
            lambda t: "not-a-token",
        ]
    ),
)
def test_a_forged_token_is_refused_each_time_it_is_sent(
    service: TokenService, forge: Forge
) -> None:
    forged = forge(service.issue("user-1").token)
    for _ in range(2):  # a failure is not remembered as a success
        with pytest.raises(Unauthenticated):
            service.user_id(forged)


def test_a_verified_token_is_refused_once_it_expires() -> None:
    now = [0.0]
    service = TokenService(SECRET, timedelta(minutes=5), clock=lambda: now[0])
    issued = service.issue("user-1")
    expiry = issued.expires_at.timestamp()
    now[0] = expiry - 1
    assert service.user_id(issued.token) == "user-1"  # verified and cached
    now[0] = expiry
    with pytest.raises(Unauthenticated, match="expired"):
        service.user_id(issued.token)
    now[0] = expiry - 1
    assert service.user_id(issued.token) == "user-1"


def test_an_already_expired_token_is_refused(service: TokenService) -> None:
    token = jwt.encode({"sub": "user-1", "iat": 1, "exp": 2}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated, match="expired"):
        service.user_id(token)
