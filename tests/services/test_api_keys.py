"""API keys: creation, revocation, lookup by digest and coarse last use (PRODUCT.md s. 11)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import errors
from domain.keys import MAX_ACTIVE_KEYS, ApiKey, ApiKeyScope
from domain.queries import ReadModel
from domain.services import accounts, api_keys
from persistence.memory_queries import InMemoryReadModel
from persistence.tortoise.queries import TortoiseReadModel
from tests.clock import ManualClock
from tests.harness import Harness

READ, TRADE = ApiKeyScope.READ, ApiKeyScope.TRADE


def reads_of(harness: Harness) -> ReadModel:
    store = getattr(harness, "store", None)
    if store is not None:
        return InMemoryReadModel(store)
    return TortoiseReadModel(harness.database)  # type: ignore[attr-defined]


async def _key(
    harness: Harness, user_id: str, n: int = 1, scopes: tuple[ApiKeyScope, ...] = (TRADE,)
) -> ApiKey:
    return await api_keys.create_api_key(
        harness.ctx, user_id, f"bot {n}", list(scopes), prefix=f"bwk_{n:08d}", digest=f"{n:064x}"
    )


async def test_a_key_is_found_by_its_digest_with_its_scopes(harness: Harness) -> None:
    alice = await harness.user("alice")
    key = await _key(harness, alice.id, scopes=(READ, TRADE, READ))
    found = await reads_of(harness).api_key_holder(f"{1:064x}")
    assert found is not None and found.user_is_active and not found.user_is_admin
    assert found.key == key
    assert found.key.scopes == {READ, TRADE} and found.key.may_trade
    assert await reads_of(harness).api_key_holder(f"{2:064x}") is None


async def test_keys_are_listed_newest_first_per_user(harness: Harness) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    clock: ManualClock = harness.clock  # type: ignore[assignment]
    first = await _key(harness, alice.id, 1)
    clock.advance(seconds=1)
    second = await _key(harness, alice.id, 2, (READ,))
    await _key(harness, bob.id, 3)
    listed = await reads_of(harness).api_keys(alice.id)
    assert [k.id for k in listed] == [second.id, first.id]
    assert not listed[0].may_trade


async def test_revoking_marks_the_key_and_only_the_owner_may(harness: Harness) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    key = await _key(harness, alice.id)
    with pytest.raises(errors.Forbidden):
        await api_keys.revoke_api_key(harness.ctx, bob.id, key.id)
    with pytest.raises(errors.NotFound):
        await api_keys.revoke_api_key(harness.ctx, alice.id, "no-such-key")
    revoked = await api_keys.revoke_api_key(harness.ctx, alice.id, key.id)
    assert revoked.revoked_at == harness.ctx.clock.now()
    found = await reads_of(harness).api_key_holder(key.digest)
    assert found is not None and not found.key.is_active
    harness.clock.advance(seconds=5)  # type: ignore[attr-defined]
    again = await api_keys.revoke_api_key(harness.ctx, alice.id, key.id)
    assert again.revoked_at == revoked.revoked_at


@pytest.mark.parametrize(("name", "scopes"), [("", [TRADE]), ("x" * 65, [TRADE]), ("ok", [])])
async def test_a_bad_name_or_no_scope_is_bad_user_input(
    harness: Harness, name: str, scopes: list[ApiKeyScope]
) -> None:
    alice = await harness.user("alice")
    with pytest.raises(errors.BadUserInput):
        await api_keys.create_api_key(harness.ctx, alice.id, name, scopes, prefix="p", digest="d")


async def test_at_most_the_limit_of_unrevoked_keys(harness: Harness) -> None:
    alice = await harness.user("alice")
    keys = [await _key(harness, alice.id, n) for n in range(MAX_ACTIVE_KEYS)]
    with pytest.raises(errors.BadUserInput):
        await _key(harness, alice.id, MAX_ACTIVE_KEYS)
    await api_keys.revoke_api_key(harness.ctx, alice.id, keys[0].id)
    await _key(harness, alice.id, MAX_ACTIVE_KEYS)


async def test_a_deactivated_users_key_shows_the_user_inactive(harness: Harness) -> None:
    admin, alice = await harness.user("root", admin=True), await harness.user("alice")
    key = await _key(harness, alice.id)
    await accounts.deactivate_user(harness.ctx, admin.id, alice.id)
    found = await reads_of(harness).api_key_holder(key.digest)
    assert found is not None and not found.user_is_active
    with pytest.raises(errors.Unauthenticated):
        await _key(harness, alice.id, 2)


async def test_last_use_is_written_at_most_once_a_minute(harness: Harness) -> None:
    alice = await harness.user("alice")
    clock: ManualClock = harness.clock  # type: ignore[assignment]
    key = await _key(harness, alice.id)
    start = clock.now()
    await api_keys.mark_key_used(harness.ctx, key)
    clock.advance(seconds=59)
    await api_keys.mark_key_used(harness.ctx, key)  # a second worker that had not seen it
    stored = await reads_of(harness).api_key_holder(key.digest)
    assert stored is not None and stored.key.last_used_at == start
    assert not stored.key.is_due_for_use_mark(clock.now())
    clock.advance(seconds=1)
    assert stored.key.is_due_for_use_mark(clock.now())
    await api_keys.mark_key_used(harness.ctx, stored.key)
    stored = await reads_of(harness).api_key_holder(key.digest)
    assert stored is not None and stored.key.last_used_at == start + timedelta(seconds=60)
