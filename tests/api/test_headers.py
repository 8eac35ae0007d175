"""Security headers on the web responses, over real HTTP: the app's strict
Content-Security-Policy, and GraphiQL's own policy that still lets its page run."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from tests.api.conftest import Api


def directives(policy: str) -> dict[str, list[str]]:
    parsed = (part.split() for part in policy.split(";") if part.strip())
    return {name: sources for name, *sources in parsed}


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/"), ("GET", "/static/js/app.js"), ("GET", "/healthz"), ("POST", "/graphql")],
)
async def test_web_responses_carry_the_security_headers(api: Api, method: str, path: str) -> None:
    body = {"query": "{ __typename }"} if method == "POST" else None
    response = await api.client.request(method, path, json=body)
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    policy = directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"], "no inline script, no other origin"
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]


async def test_graphiql_gets_a_policy_that_lets_its_own_page_run(api: Api) -> None:
    response = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200 and "graphiql" in response.text.lower()
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = directives(response.headers["content-security-policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    for attributes, inline in re.findall(r"<script\b([^>]*)>(.*?)</script>", response.text, re.S):
        src = re.search(r'src="(https?://[^/"]+)?', attributes)
        if src:
            assert src.group(1) is None or src.group(1) in policy["script-src"], src.group(1)
        elif inline.strip():
            digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in policy["script-src"]
