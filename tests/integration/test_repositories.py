"""Tortoise repositories: what is saved comes back the same, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from domain.errors import InsufficientBalance
from domain.ledger import LedgerEntry, Reason, cash, pool
from domain.model import (
    MarketType,
    Order,
    OrderStatus,
    OrderType,
    Position,
    PricePoint,
    Side,
    TimeInForce,
)
from persistence.tortoise.snapshot import read_snapshot
from tests.harness import START, Harness


def _order(harness: Harness, user_id: str, market_id: str, outcome_id: str, seq: int) -> Order:
    return Order(
        id=f"{seq:032x}"[::-1],
        user_id=user_id,
        market_id=market_id,
        outcome_id=outcome_id,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTD,
        price_cents=40,
        quantity=10,
        created_at=START,
        sequence=seq,
        expires_at=START + timedelta(hours=1),
        client_order_id=f"key-{seq}",
    )


async def test_user_and_market_round_trip(harness: Harness) -> None:
    alice = await harness.user("alice")
    market = await harness.market(alice, MarketType.LMSR, outcomes=("A", "B", "C"))
    assert await harness.fetch_user(alice.id) == replace(alice, cash_cents=alice.cash_cents - 10987)
    stored = await harness.fetch_market(market.id)
    assert stored == market
    stored_alice = await harness.fetch_user(alice.id)
    async with harness.ctx.uow() as uow:
        assert await uow.users.get_by_username("alice") == stored_alice
        assert await uow.users.is_taken("ALICE", "other@example.com")
        assert not await uow.users.is_taken("carol", "carol@example.com")
        assert await uow.markets.get("nope") is None


async def test_orders_positions_and_append_only_rows_round_trip(harness: Harness) -> None:
    alice = await harness.user("alice")
    market = await harness.market(alice, MarketType.ORDER_BOOK)
    yes = market.outcomes[0].id
    first, second = (_order(harness, alice.id, market.id, yes, s) for s in (2, 1))
    position = Position(alice.id, market.id, yes, shares=5, reserved_shares=2, cost_cents=250)
    async with harness.ctx.uow() as uow:
        await uow.orders.add(first)
        await uow.orders.add(second)
        await uow.positions.save_many([position])
        await uow.positions.save_many([Position(alice.id, market.id, market.outcomes[1].id)])
        await uow.price_history.add(PricePoint(market.id, START, (0.25, 0.75)))
        entry = LedgerEntry("e" * 32, cash(alice.id), pool(market.id), 1, Reason.MINT, START)
        await uow.ledger.add([entry])
        await uow.commit()
    async with harness.ctx.uow() as uow:
        assert await uow.orders.get(first.id) == first
        assert await uow.orders.get_by_client_id(alice.id, "key-1") == second
        assert [o.id for o in await uow.orders.resting(market.id, yes)] == [second.id, first.id]
        assert [o.id for o in await uow.orders.resting_for_user(alice.id)] == [second.id, first.id]
        later = START + timedelta(hours=2)
        assert await uow.orders.markets_with_expired(later) == [market.id]
        assert await uow.orders.markets_with_expired(START) == []
        assert await uow.positions.for_user(alice.id) == [position]  # the all-zero one was skipped
        assert await uow.positions.get(alice.id, yes) == position
        assert await uow.markets.due_to_close(START + timedelta(days=31)) == [market.id]
    snapshot = await read_snapshot(harness.database)  # type: ignore[attr-defined]
    assert entry in list(snapshot.entries)


async def test_saving_writes_only_what_changed(harness: Harness) -> None:
    alice = await harness.user("alice")
    market = await harness.market(alice, MarketType.ORDER_BOOK)
    order = _order(harness, alice.id, market.id, market.outcomes[0].id, 1)
    async with harness.ctx.uow() as uow:
        await uow.orders.add(order)
        await uow.commit()
    async with harness.ctx.uow() as uow:
        loaded = await uow.orders.get(order.id)
        assert loaded is not None
        loaded.status, loaded.filled_quantity = OrderStatus.PARTIALLY_FILLED, 4
        await uow.orders.save_many([loaded])
        await uow.commit()
    async with harness.ctx.uow() as uow:
        assert await uow.orders.get(order.id) == replace(
            order, status=OrderStatus.PARTIALLY_FILLED, filled_quantity=4
        )


async def test_a_balance_is_saved_as_a_delta_that_keeps_a_concurrent_change(
    harness: Harness,
) -> None:
    alice = await harness.user("alice")
    async with harness.ctx.uow() as uow:
        user = await uow.users.get(alice.id)
        assert user is not None
        await _meanwhile(
            uow, f"UPDATE users SET cash_cents = cash_cents + 7 WHERE id = '{user.id}'"
        )
        user.cash_cents -= 1_000
        await uow.users.save(user)
        await uow.commit()
    assert (await harness.fetch_user(alice.id)).cash_cents == 100_000 + 7 - 1_000


async def test_a_debit_the_stored_balance_no_longer_covers_is_insufficient_balance(
    harness: Harness,
) -> None:
    alice = await harness.user("alice")
    with pytest.raises(InsufficientBalance):
        async with harness.ctx.uow() as uow:
            user = await uow.users.get(alice.id)
            assert user is not None
            spent = f"UPDATE users SET cash_cents = cash_cents - 60000 WHERE id = '{user.id}'"
            await _meanwhile(uow, spent)  # another market's command spent it first
            user.cash_cents -= 60_000
            await uow.users.save(user)
            await uow.commit()


async def _meanwhile(uow: object, sql: str) -> None:
    """What a concurrent command would have committed (run on this transaction's connection)."""
    await uow.db.execute_script(sql)  # type: ignore[attr-defined]


async def test_users_come_with_their_positions_in_one_market_in_one_query(
    harness: Harness,
) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    market = await harness.market(alice, MarketType.ORDER_BOOK)
    other = await harness.market(alice, MarketType.ORDER_BOOK)
    held = [
        Position(alice.id, m.id, o.id, shares=3, cost_cents=120)
        for m in (market, other)
        for o in m.outcomes
    ]
    async with harness.ctx.uow() as uow:
        await uow.positions.save_many(held)
        await uow.commit()
    async with harness.ctx.uow() as uow:
        ids = [bob.id, "f" * 32, alice.id]
        users, positions = await uow.users.get_many_holding(market.id, ids)
    assert sorted(u.id for u in users) == sorted([alice.id, bob.id])
    assert {u.id: u for u in users} == {u.id: await harness.fetch_user(u.id) for u in users}
    assert sorted(positions, key=lambda p: p.outcome_id) == sorted(
        held[:2], key=lambda p: p.outcome_id
    )


async def test_saving_all_users_adds_deltas_counts_fills_and_refuses_an_uncovered_debit(
    harness: Harness,
) -> None:
    alice, bob = await harness.user("alice"), await harness.user("bob")
    async with harness.ctx.uow() as uow:
        users = await uow.users.get_many([alice.id, bob.id])
        by_id = {u.id: u for u in users}
        by_id[alice.id].cash_cents -= 700
        by_id[bob.id].cash_cents += 700
        by_id[bob.id].reserved_cents += 50
        last = await uow.users.save_all(sorted(users, key=lambda u: u.id), [alice.id], {bob.id: 3})
        assert await uow.users.save_all(users, [], {bob.id: 2}) == {bob.id: 5}
        await uow.commit()
    assert last == {bob.id: 3}
    assert (await harness.fetch_user(alice.id)).cash_cents == 100_000 - 700
    stored_bob = await harness.fetch_user(bob.id)
    assert (stored_bob.cash_cents, stored_bob.reserved_cents) == (100_700, 50)
    with pytest.raises(InsufficientBalance):
        async with harness.ctx.uow() as uow:
            (user,) = await uow.users.get_many([alice.id])
            spent = f"UPDATE users SET cash_cents = cash_cents - 99000 WHERE id = '{user.id}'"
            await _meanwhile(uow, spent)  # another market's command spent it first
            user.cash_cents -= 1_000
            await uow.users.save_all([user], [alice.id], {})
