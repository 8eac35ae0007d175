"""Registering, signing in, bonus grants and deactivation (PRODUCT.md sections 2 and 8)."""

from __future__ import annotations

import pytest

from domain import errors
from domain.model import MarketType, OrderType, Side
from domain.services import accounts, complete_sets, orders, resolution
from domain.services.accounts import Registration
from tests.harness import Harness


async def test_new_users_get_the_starting_balance_from_the_issuer(harness: Harness) -> None:
    alice = await harness.user("alice")
    assert alice.cash_cents == 100_000
    assert (await harness.snapshot()).platform.issued_cents == 100_000
    await harness.assert_invariants()


async def test_a_taken_username_or_email_is_username_taken(harness: Harness) -> None:
    await harness.user("alice")
    with pytest.raises(errors.UsernameTaken):
        await accounts.register(harness.ctx, Registration("ALICE", "x@example.com", "password1"))
    with pytest.raises(errors.UsernameTaken):
        await accounts.register(
            harness.ctx, Registration("alice2", "Alice@example.com", "pass1234")
        )


@pytest.mark.parametrize(
    ("username", "email", "password"),
    [
        ("al", "a@example.com", "password1"),
        ("has space", "a@example.com", "password1"),
        ("alice", "not-an-email", "password1"),
        ("alice", "a@example.com", "short"),
        ("alice", "a@example.com", "x" * 129),
    ],
)
async def test_malformed_registration_is_bad_user_input(
    harness: Harness, username: str, email: str, password: str
) -> None:
    with pytest.raises(errors.BadUserInput):
        await accounts.register(harness.ctx, Registration(username, email, password))


async def test_authenticate_checks_the_password(harness: Harness) -> None:
    alice = await harness.user("alice")
    assert (await accounts.authenticate(harness.ctx, "alice", "correct horse")).id == alice.id
    with pytest.raises(errors.Unauthenticated):
        await accounts.authenticate(harness.ctx, "alice", "wrong horse")
    with pytest.raises(errors.Unauthenticated):
        await accounts.authenticate(harness.ctx, "nobody", "correct horse")


async def test_only_admins_grant_bonus(harness: Harness) -> None:
    admin, bob = await harness.user("root", admin=True), await harness.user("bob")
    with pytest.raises(errors.Forbidden):
        await accounts.grant_bonus(harness.ctx, bob.id, bob.id, 100)
    granted = await accounts.grant_bonus(harness.ctx, admin.id, bob.id, 250)
    assert granted.bonus_cents == 250
    with pytest.raises(errors.InvalidAmount):
        await accounts.grant_bonus(harness.ctx, admin.id, bob.id, 0)
    with pytest.raises(errors.NotFound):
        await accounts.grant_bonus(harness.ctx, admin.id, "ghost", 10)
    await harness.assert_invariants()


async def test_deactivated_users_cannot_trade_or_sign_in_but_still_get_paid(
    harness: Harness,
) -> None:
    admin, bob = await harness.user("root", admin=True), await harness.user("bob")
    market = await harness.market(admin, MarketType.ORDER_BOOK)
    await complete_sets.mint_complete_set(harness.ctx, bob.id, market.id, 10)
    sell = orders.PlaceOrder(market.id, market.outcomes[0].id, Side.SELL, OrderType.LIMIT, 5, 70)
    resting = await orders.place_order(harness.ctx, bob.id, sell)
    await accounts.deactivate_user(harness.ctx, admin.id, bob.id)
    async with harness.ctx.uow() as uow:
        after = await uow.orders.get(resting.id)
    assert after is not None and not after.is_resting
    with pytest.raises(errors.Unauthenticated):
        await accounts.authenticate(harness.ctx, "bob", "correct horse")
    with pytest.raises(errors.Unauthenticated):
        await orders.place_order(harness.ctx, bob.id, sell)
    await resolution.resolve_market(harness.ctx, admin.id, market.id, market.outcomes[0].id)
    assert (await harness.fetch_user(bob.id)).cash_cents == 100_000
    await harness.assert_invariants()
