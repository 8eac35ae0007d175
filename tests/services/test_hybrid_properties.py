"""Property test of hybrid markets: random mixes of lmsrTrade and placeOrder (and
cancels, amends, sets, expiries) on an LMSR market of 2 to 4 outcomes. After every step:
the audit holds (money conserved to the cent, nothing negative, reservations match,
the pool covers the worst outcome), no resting order is left crossed by the maker's
price, a quote was exactly what the trade then did, and a failed command changed
nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import errors, lmsr
from domain.model import (
    SHARE_PAYOUT_CENTS,
    AmountType,
    Market,
    OrderType,
    Side,
    TimeInForce,
    User,
)
from domain.services import accounts, amend, amm, complete_sets, orders, resolution
from tests.harness import Harness
from tests.services.conftest import (
    let_time_pass,
    lmsr_trades,
    memory_harness,
    mint_or_redeem,
    run_checked,
)

USERS = 3

user = st.integers(0, USERS - 1)
outcome = st.integers(0, 3)
limit_order = st.tuples(
    st.just("limit"),
    user,
    outcome,
    st.sampled_from(Side),
    st.integers(-4, 4),  # cents from the maker's price: where routing has a choice
    st.integers(1, 20),
    st.sampled_from([TimeInForce.GTC] * 3 + [TimeInForce.GTD, TimeInForce.IOC, TimeInForce.FOK]),
    st.booleans(),
)
market_order = st.tuples(
    st.just("market"), user, outcome, st.sampled_from(Side), st.integers(1, 60)
)
lmsr_trade = lmsr_trades(user, outcome)
operation = st.one_of(
    limit_order,
    limit_order,
    limit_order,
    limit_order,
    market_order,
    lmsr_trade,
    lmsr_trade,
    lmsr_trade,
    st.tuples(st.just("cancel"), user, st.integers(0, 50)),
    st.tuples(st.just("amend"), user, st.integers(0, 50), st.integers(-4, 4), st.integers(1, 30)),
    st.tuples(st.sampled_from(["mint", "redeem"]), user, st.integers(1, 30)),
    st.tuples(st.just("tick"), st.integers(1, 200)),
)


async def _scenario(ops: list[tuple[Any, ...]], n: int, b: float, fee_bps: int, end: str) -> None:
    harness = memory_harness()
    admin = await harness.user("root", admin=True)
    users = [await harness.user(f"user{i}") for i in range(USERS)]
    await accounts.grant_bonus(harness.ctx, admin.id, users[0].id, 5000)
    names = tuple("ABCD"[:n])
    market = await harness.market(admin, outcomes=names, liquidity=b, fee_bps=fee_bps)
    for trader in users:
        await complete_sets.mint_complete_set(harness.ctx, trader.id, market.id, 60)
    placed: list[str] = []
    for op in ops:
        await run_checked(harness, op, _run(harness, op, users, market, placed))
        await _assert_nothing_crossed(harness, market.id)
    await _finish(harness, admin, market, end)


async def _finish(harness: Harness, admin: User, market: Market, end: str) -> None:
    if end == "resolve":
        await resolution.resolve_market(harness.ctx, admin.id, market.id, market.outcomes[0].id)
    elif end == "void":
        await resolution.void_market(harness.ctx, admin.id, market.id)
    await harness.assert_invariants()  # the accounts hold exactly what was issued, and more


async def _assert_nothing_crossed(harness: Harness, market_id: str) -> None:
    """Manifold's rule holds after every command: the maker would fill no resting order,
    and the pool covers 100 cents a share of the outcome with the most shares."""
    market = await harness.fetch_market(market_id)
    assert market.liquidity is not None
    q = [o.amm_shares for o in market.outcomes]
    for order in await harness.ctx.read_model.resting_orders(market_id):
        index = market.outcome(order.outcome_id).index
        assert order.price_cents is not None
        buy = order.side is Side.BUY
        reach = lmsr.marginal_shares(q, market.liquidity, index, True, buy, order.price_cents, True)
        assert reach == 0, f"{order} is crossed by the maker"
    worst = max(o.shares_outstanding for o in market.outcomes)
    assert market.pool_cents >= worst * SHARE_PAYOUT_CENTS


async def _run(
    harness: Harness, op: tuple[Any, ...], users: list[User], market: Market, placed: list[str]
) -> None:
    ctx, kind, n = harness.ctx, op[0], len(market.outcomes)
    if kind == "limit":
        _, who, at, side, offset, qty, tif, post_only = op
        price = await _near_maker(harness, market.id, at % n, offset)
        expires = ctx.clock.now() + timedelta(minutes=5) if tif is TimeInForce.GTD else None
        command = orders.PlaceOrder(
            market.id, market.outcomes[at % n].id, side, OrderType.LIMIT, qty, price,
            time_in_force=tif, expires_at=expires,
            post_only=post_only and tif in (TimeInForce.GTC, TimeInForce.GTD),
        )  # fmt: skip
        placed.append((await orders.place_order(ctx, users[who].id, command)).id)
    elif kind == "market":
        _, who, at, side, qty = op
        command = orders.PlaceOrder(
            market.id, market.outcomes[at % n].id, side, OrderType.MARKET, qty
        )
        await orders.place_order(ctx, users[who].id, command)
    elif kind == "lmsr":
        await _lmsr(harness, op, users, market)
    elif kind == "cancel":
        _, who, index = op
        if placed:
            await orders.cancel_order(ctx, users[who].id, placed[index % len(placed)])
    elif kind == "amend":  # by the order's owner
        _, _, index, offset, qty = op
        if placed:
            order_id = placed[index % len(placed)]
            [order] = [o for o in (await harness.snapshot()).orders if o.id == order_id]
            at = market.outcome(order.outcome_id).index
            price = await _near_maker(harness, market.id, at, offset)
            await amend.amend_order(ctx, order.user_id, order_id, price, qty)
    elif kind in ("mint", "redeem"):
        _, who, qty = op
        await mint_or_redeem(harness, kind, users[who].id, market.id, qty)
    elif kind == "tick":
        await let_time_pass(harness, op[1])


async def _near_maker(harness: Harness, market_id: str, index: int, offset: int) -> int:
    """A price ``offset`` cents from the maker's price of outcome ``index``, in 1..99."""
    stored = await harness.fetch_market(market_id)
    assert stored.liquidity is not None
    price = lmsr.prices([o.amm_shares for o in stored.outcomes], stored.liquidity)[index]
    return min(99, max(1, round(100 * price) + offset))


async def _lmsr(harness: Harness, op: tuple[Any, ...], users: list[User], market: Market) -> None:
    """An lmsrTrade, quoted first: the trade does exactly what the quote said."""
    _, who, at, side, amount_type, amount, bonus = op
    trade = amm.LmsrOrder(
        market.id, side, amount_type,
        amount if amount_type is AmountType.SPEND else amount // 200 + 1,
        outcome_id=market.outcomes[at % len(market.outcomes)].id, use_bonus=bonus,
    )  # fmt: skip
    try:
        quote = await amm.quote(harness.ctx, trade, users[who].id)
    except errors.DomainError:
        quote = None
    done = await amm.trade(harness.ctx, users[who].id, trade)
    assert quote is not None
    fields = ("shares", "trader_cents", "fee_cents", "maker_shares", "maker_cents")
    fields += ("book_shares", "book_cents")
    assert [getattr(quote, f) for f in fields] == [getattr(done.quote, f) for f in fields]
    assert quote.prices_after == done.prices


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(operation, min_size=5, max_size=60),
    st.integers(2, 4),
    st.sampled_from([20.0, 100.0]),
    st.sampled_from([0, 100]),
    st.sampled_from(["none", "resolve", "void"]),
)
def test_hybrid_markets_conserve_money_and_leave_nothing_crossed(
    ops: list[tuple[Any, ...]], n: int, b: float, fee_bps: int, end: str
) -> None:
    asyncio.run(_scenario(ops, n, b, fee_bps, end))
