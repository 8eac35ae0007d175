"""A worker trusts a token's user it found active for ``BELLWETHER_PRINCIPAL_CACHE_SECONDS``
(``auth.principals``), over real HTTP: a deactivation through the API counts on the very
next request to the same worker and, through the event bus, on the others; what the bus
never carries (a row edited by hand) counts within that time; and whatever a worker still
trusts, a deactivated user trades nothing; admin powers hold as the row says on the next
request."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.api import ops
from tests.api.conftest import Api, LiveServer, Workers, serving
from tests.harness import wait_until
from web.settings import AppSettings

ONE_SECOND = pytest.mark.parametrize("settings", [{"principal_cache_seconds": 1}], indirect=True)


async def edit_by_hand(app: Starlette, user_id: str, **changes: bool) -> None:
    """Change the user's row as an operator's UPDATE would: no event on the bus."""
    async with app.state.bellwether.backend.services.uow() as uow:
        user = await uow.users.get(user_id)
        assert user is not None
        for name, value in changes.items():
            setattr(user, name, value)
        await uow.users.save(user)
        await uow.commit()


def trusted(app: Starlette, user_id: str) -> bool:
    return app.state.bellwether.recent_principals.get(user_id) is not None


async def holdings(app: Starlette, user_id: str) -> tuple[Any, ...]:
    backend = app.state.bellwether.backend
    async with backend.services.uow() as uow:
        user = await uow.users.get(user_id)
    assert user is not None
    orders = await backend.reads.orders_page(user_id, None, None, 100, None)
    positions = await backend.reads.positions(user_id, None)
    shares = sorted((p.outcome_id, p.shares, p.reserved_shares) for p in positions)
    return user.cash_cents, user.reserved_cents, len(orders.items), shares


async def within(seconds: float, done: Callable[[], Awaitable[bool]]) -> None:
    """Ask ``done`` (a request) until it says yes; TimeoutError after ``seconds``."""
    async with asyncio.timeout(seconds):
        while not await done():  # noqa: ASYNC110 - polling the server
            await asyncio.sleep(0.05)


async def trades_nothing_once_deactivated_by_hand(api: Api, app: Starlette, wait: float) -> None:
    _, alice = await api.user("alice")
    bob_id, bob = await api.user("bob")
    book = await ops.create_market(api, alice, "ORDER_BOOK")
    lmsr = await ops.create_market(api, alice, "LMSR", liquidityParameter=100.0)
    await api.data(ops.MINT, {"m": book["id"], "q": 5}, bob)
    before = await holdings(app, bob_id)
    await edit_by_hand(app, bob_id, is_active=False)
    assert trusted(app, bob_id), "the worker still trusts bob: only the commands refuse him"
    attempts = [
        (ops.PLACE_ORDER, ops.limit(book, "BUY", 1, 40)),
        (ops.PLACE_ORDER, ops.limit(book, "SELL", 1, 60)),
        (ops.MINT, {"m": book["id"], "q": 1}),
        (ops.REDEEM, {"m": book["id"], "q": 1}),
        (
            ops.LMSR_TRADE,
            {"i": {"marketId": lmsr["id"], "side": "BUY_YES", "amountType": "SHARES", "amount": 1}},
        ),
    ]
    for document, variables in attempts:
        assert await api.error_code(document, variables, bob) == "UNAUTHENTICATED"
    assert await holdings(app, bob_id) == before

    async def refused() -> bool:
        errors = (await api.run(ops.POSITIONS, token=bob)).get("errors") or [{}]
        return bool(errors[0].get("extensions", {}).get("code") == "UNAUTHENTICATED")

    await within(wait, refused)  # and every request once the worker's trust runs out


@ONE_SECOND
async def test_a_user_deactivated_by_hand_trades_nothing_while_still_trusted(
    api: Api, server: LiveServer
) -> None:
    await trades_nothing_once_deactivated_by_hand(api, server.app, wait=2)


@ONE_SECOND
@pytest.mark.postgres
async def test_on_postgres_a_user_deactivated_by_hand_trades_nothing_while_still_trusted(
    settings: AppSettings, own_postgres_database: str
) -> None:
    async with (
        serving(replace(settings, database_url=own_postgres_database)) as server,
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
    ):
        await trades_nothing_once_deactivated_by_hand(Api(client), server.app, wait=2)


@ONE_SECOND
async def test_an_admin_demoted_or_promoted_by_hand_holds_on_the_next_request_while_trusted(
    api: Api, server: LiveServer
) -> None:
    app = server.app
    root_id, root = await api.user("root", admin_of=app)
    carol_id, carol = await api.user("carol")
    await api.data(ops.GRANT, {"u": carol_id, "a": 10}, root)
    await ops.me(api, carol)
    await edit_by_hand(app, root_id, is_admin=False)
    await edit_by_hand(app, carol_id, is_admin=True)
    assert trusted(app, root_id) and trusted(app, carol_id)
    assert await api.error_code(ops.GRANT, {"u": carol_id, "a": 10}, root) == "FORBIDDEN"
    assert await api.error_code(ops.DEACTIVATE, {"u": carol_id}, root) == "FORBIDDEN"

    granted = await api.run(ops.GRANT, {"u": root_id, "a": 10}, carol)
    assert "errors" not in granted, granted  # a promotion by hand holds at once too
    assert trusted(app, carol_id)  # the trust itself stays: admin powers are read apart


@pytest.mark.postgres
@pytest.mark.parametrize("settings", [{"principal_cache_seconds": 60}], indirect=True)
async def test_a_deactivation_counts_at_once_on_its_worker_and_on_the_others_by_the_bus(
    workers: Workers,
) -> None:
    """A minute of trust: only the deactivation's own worker and the bus can end it."""
    (first, second), (api, other) = workers.servers, workers.apis
    bob_id, bob = await api.user("bob")
    _, root = await api.user("root", admin_of=first.app)
    await ops.me(api, bob)
    await ops.me(other, bob)
    assert trusted(first.app, bob_id) and trusted(second.app, bob_id)
    await api.data(ops.DEACTIVATE, {"u": bob_id}, root)
    assert await api.error_code(ops.ME, token=bob) == "UNAUTHENTICATED"
    await wait_until(lambda: not trusted(second.app, bob_id))
    assert await other.error_code(ops.ME, token=bob) == "UNAUTHENTICATED"
