"""Property tests: over random sequences of every operation from several users,
money is conserved to the cent, nothing goes negative, reservations match the
resting orders, and a command that fails changes nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import audit, errors
from domain.model import (
    AmountType,
    Market,
    MarketType,
    OrderType,
    Side,
    TimeInForce,
    User,
)
from domain.services import accounts, amm, complete_sets, markets, orders, resolution
from tests.harness import Harness
from tests.services.conftest import (
    let_time_pass,
    lmsr_trades,
    memory_harness,
    mint_or_redeem,
    run_checked,
)

USERS = 4

user = st.integers(0, USERS - 1)
limit_order = st.tuples(
    st.just("limit"),
    user,
    st.integers(0, 4),
    st.sampled_from(Side),
    st.integers(1, 99),
    st.integers(1, 40),
    st.sampled_from([TimeInForce.GTC, TimeInForce.GTD, TimeInForce.IOC, TimeInForce.FOK]),
    st.booleans(),
)
market_order = st.tuples(
    st.just("market_order"), user, st.integers(0, 4), st.sampled_from(Side), st.integers(1, 60)
)
lmsr_trade = lmsr_trades(user, st.integers(0, 2))
sets = st.tuples(st.sampled_from(["mint", "redeem"]), user, st.integers(0, 1), st.integers(1, 30))
operation = st.one_of(
    limit_order,
    limit_order,
    limit_order,
    market_order,
    lmsr_trade,
    lmsr_trade,
    st.tuples(st.just("cancel"), user, st.integers(0, 50)),
    sets,
    st.tuples(st.just("tick"), st.integers(1, 120)),
    # pausing is rare so that most of a sequence trades
    st.tuples(st.just("pause_toggle"), st.integers(0, 1), st.integers(0, 4)),
)
finale = st.sampled_from(["none", "resolve", "void", "close"])


async def _scenario(ops: list[tuple[Any, ...]], end: str, book_outcomes: int = 2) -> None:
    harness = memory_harness()
    admin = await harness.user("root", admin=True)
    users = [await harness.user(f"user{i}") for i in range(USERS)]
    await accounts.grant_bonus(harness.ctx, admin.id, users[0].id, 5000)
    names = ("Yes", "No") if book_outcomes == 2 else tuple("PQRST"[:book_outcomes])
    book = await harness.market(admin, MarketType.ORDER_BOOK, outcomes=names, fee_bps=30)
    amm_market = await harness.market(admin, outcomes=("A", "B", "C"), liquidity=50, fee_bps=100)
    for trader in users:
        for market in (book, amm_market):
            await complete_sets.mint_complete_set(harness.ctx, trader.id, market.id, 20)
    placed: list[str] = []
    for op in ops:
        await run_checked(harness, op, _run(harness, op, users, admin, book, amm_market, placed))
    for market in (book, amm_market):
        try:
            if end == "resolve":
                await resolution.resolve_market(
                    harness.ctx, admin.id, market.id, market.outcomes[1].id
                )
            elif end == "void":
                await resolution.void_market(harness.ctx, admin.id, market.id)
            elif end == "close":
                await markets.close_market(harness.ctx, admin.id, market.id)
        except errors.MarketClosed:
            pass
    await harness.assert_invariants()  # the accounts hold exactly what was issued, and more


async def _run(
    harness: Harness,
    op: tuple[Any, ...],
    users: list[User],
    admin: User,
    book: Market,
    amm_market: Market,
    placed: list[str],
) -> None:
    ctx, kind = harness.ctx, op[0]
    if kind == "limit":
        _, who, outcome, side, price, qty, tif, post_only = op
        expires = ctx.clock.now() + timedelta(minutes=5) if tif is TimeInForce.GTD else None
        command = orders.PlaceOrder(
            book.id,
            book.outcomes[outcome % len(book.outcomes)].id,
            side,
            OrderType.LIMIT,
            qty,
            price,
            time_in_force=tif,
            expires_at=expires,
            post_only=post_only and tif in (TimeInForce.GTC, TimeInForce.GTD),
        )
        placed.append((await orders.place_order(ctx, users[who].id, command)).id)
    elif kind == "market_order":
        _, who, outcome, side, qty = op
        outcome_id = book.outcomes[outcome % len(book.outcomes)].id
        command = orders.PlaceOrder(book.id, outcome_id, side, OrderType.MARKET, qty)
        await orders.place_order(ctx, users[who].id, command)
    elif kind == "cancel":
        _, who, index = op
        if placed:
            await orders.cancel_order(ctx, users[who].id, placed[index % len(placed)])
    elif kind == "lmsr":
        _, who, outcome, side, amount_type, amount, bonus = op
        trade = amm.LmsrOrder(
            amm_market.id,
            side,
            amount_type,
            amount if amount_type is AmountType.SPEND else amount // 100 + 1,
            outcome_id=amm_market.outcomes[outcome].id,
            use_bonus=bonus,
        )
        await amm.trade(ctx, users[who].id, trade)
    elif kind in ("mint", "redeem"):
        _, who, which, qty = op
        market = (book, amm_market)[which]
        await mint_or_redeem(harness, kind, users[who].id, market.id, qty)
    elif kind == "tick":
        await let_time_pass(harness, op[1])
    elif kind == "pause_toggle" and op[2] == 0:
        market = (book, amm_market)[op[1]]
        current = await harness.fetch_market(market.id)
        toggle = markets.resume_market if current.status == "PAUSED" else markets.pause_market
        await toggle(ctx, admin.id, market.id)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, min_size=5, max_size=80), finale, st.sampled_from([2, 2, 3, 5]))
def test_money_is_conserved_and_failed_commands_change_nothing(
    ops: list[tuple[Any, ...]], end: str, book_outcomes: int
) -> None:
    """The order book has 2, 3 or 5 outcomes: mint and merge matches included."""
    asyncio.run(_scenario(ops, end, book_outcomes))


def test_audit_finds_a_one_cent_corruption() -> None:
    async def scenario() -> list[str]:
        harness = memory_harness()
        alice = await harness.user("alice")
        harness.store.state.users[alice.id].cash_cents += 1  # type: ignore[attr-defined]
        return audit.check(await harness.snapshot())

    problems = asyncio.run(scenario())
    assert any("ledger says" in p for p in problems)
