"""Adversarial property test of hybrid markets: liquidity from tiny (b = 0.01 or
0.05: a price jumps from 1 to 99 in one share) to large, 2 to 10 outcomes, fees up
to 10 %, resting orders at 1, 2, 98 and 99 cents as well as around the maker's
price, from every user including the trader, so that one trade crosses many of
them; orders amended across the maker's price; pauses.

After every step the audit holds, a failed command changed nothing, no resting order
is left crossed (by the maker or by another resting order), and every lmsrTrade is
checked against what routing promises: the quote is what the trade did; the route's
shares are the cheapest ones (book units in price order, every maker share it took
no dearer than the book unit it left, ties to the book); a SPEND buys the most
shares its amount covers (a sale: the fewest that reach it). Resolution or void at
the end returns every reservation."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import errors, lmsr
from domain.exchange import MarketBook
from domain.model import AmountType, LmsrSide, Market, OrderType, Side, TimeInForce, User
from domain.services import amend, amm, complete_sets, markets, orders, resolution
from domain.services.books import book_of
from tests.harness import Harness
from tests.services.conftest import memory_harness, run_checked
from tests.services.test_hybrid_properties import _assert_nothing_crossed, _near_maker

USERS = 3
EPS = 1e-7
"""Cents: marginal costs this close to a book price count as a tie either way."""

user = st.integers(0, USERS - 1)
outcome = st.one_of(st.just(0), st.just(0), st.integers(0, 9))  # mostly one book
near = st.integers(-3, 3).map(lambda offset: ("near", offset))
price = st.one_of(st.sampled_from([1, 2, 98, 99]), near, near, near)
limit_order = st.tuples(
    st.just("limit"), user, outcome, st.sampled_from(Side), price, st.integers(1, 25),
    st.sampled_from([TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK]),
)  # fmt: skip
lmsr_trade = st.tuples(
    st.just("lmsr"), user, outcome, st.sampled_from(LmsrSide), st.sampled_from(AmountType),
    st.one_of(st.integers(1, 60), st.integers(200, 4000)),  # shares, or cents to spend
)  # fmt: skip
operation = st.one_of(
    limit_order,
    limit_order,
    limit_order,
    limit_order,
    lmsr_trade,
    lmsr_trade,
    lmsr_trade,
    st.tuples(st.just("sets"), user, st.integers(1, 20)),
    st.tuples(st.just("sets"), user, st.integers(1, 20)),
    st.tuples(st.just("pause"), user),
    st.tuples(st.just("amend"), user, st.integers(0, 9), near, st.integers(0, 20)),
    st.tuples(st.just("amend"), user, st.integers(0, 9), near, st.integers(0, 20)),
)


async def _scenario(
    ladder: list[int], ops: list[tuple[Any, ...]], n: int, b: float, fee_bps: int, end: str
) -> None:
    harness = memory_harness()
    admin = await harness.user("root", admin=True)
    users = [await harness.user(f"user{i}") for i in range(USERS)]
    names = tuple(f"O{i}" for i in range(n))
    market = await harness.market(admin, outcomes=names, liquidity=b, fee_bps=fee_bps)
    for trader in users:
        await complete_sets.mint_complete_set(harness.ctx, trader.id, market.id, 40)
    await _ladder(harness, users, market, ladder)
    for op in ops:
        await run_checked(harness, op, _run(harness, op, users, admin, market))
        await _assert_nothing_crossed(harness, market.id)
        await _assert_books_uncrossed(harness, market)
    if end == "resolve":
        await resolution.resolve_market(harness.ctx, admin.id, market.id, market.outcomes[0].id)
    else:
        await resolution.void_market(harness.ctx, admin.id, market.id)
    await harness.assert_invariants()
    snap = await harness.snapshot()
    assert all(u.reserved_cents == 0 for u in snap.users)
    assert all(p.reserved_shares == 0 for p in snap.positions)


async def _assert_books_uncrossed(harness: Harness, market: Market) -> None:
    """No resting bid meets a resting ask, direct or synthetic: a routed order took every
    level its limit reached before resting."""
    stored = await harness.fetch_market(market.id)
    book_of(stored, await harness.ctx.read_model.resting_orders(market.id)).check_invariants()


async def _ladder(harness: Harness, users: list[User], market: Market, sizes: list[int]) -> None:
    """Resting orders of every user around the maker's price of the first two outcomes:
    level ``i`` (sizes[i] shares) an ask ``i // 2 + 1`` cents above it and a bid as far
    below, the users taking turns."""
    for level, size in enumerate(sizes):
        for at in (0, 1):
            for side, sign in ((Side.SELL, 1), (Side.BUY, -1)):
                who = users[(level + at) % len(users)]
                cents = await _near_maker(harness, market.id, at, sign * (level // 2 + 1))
                command = orders.PlaceOrder(
                    market.id, market.outcomes[at].id, side, OrderType.LIMIT, size, cents
                )
                with contextlib.suppress(errors.DomainError):  # a FOK, or crossed and filled
                    await orders.place_order(harness.ctx, who.id, command)


async def _run(
    harness: Harness, op: tuple[Any, ...], users: list[User], admin: User, market: Market
) -> None:
    ctx, kind, n = harness.ctx, op[0], len(market.outcomes)
    if kind == "limit":
        _, who, at, side, where, qty, tif = op
        cents = where if isinstance(where, int) else None
        if cents is None:
            cents = await _near_maker(harness, market.id, at % n, where[1])
        command = orders.PlaceOrder(
            market.id, market.outcomes[at % n].id, side, OrderType.LIMIT, qty, cents,
            time_in_force=tif,
        )  # fmt: skip
        await orders.place_order(ctx, users[who].id, command)
    elif kind == "lmsr":
        await _checked_trade(harness, op, users, market)
    elif kind == "sets":
        await complete_sets.mint_complete_set(ctx, users[op[1]].id, market.id, op[2])
    elif kind == "amend":
        await _amend(harness, op, users[op[1]], market)
    else:
        await _paused_trading(harness, users[op[1]], admin, market)


async def _amend(harness: Harness, op: tuple[Any, ...], trader: User, market: Market) -> None:
    """Amend one of the trader's resting orders to a price near the maker's (and, given
    ``more``, that many more shares): an incoming order again, routed."""
    _, _, pick, where, more = op
    mine = [
        o for o in await harness.ctx.read_model.resting_orders(market.id) if o.user_id == trader.id
    ]
    if not mine:
        return
    order = mine[pick % len(mine)]
    index = market.outcome(order.outcome_id).index
    cents = await _near_maker(harness, market.id, index, where[1])
    total = order.quantity + more if more else None
    await amend.amend_order(harness.ctx, trader.id, order.id, price_cents=cents, quantity=total)


async def _paused_trading(harness: Harness, trader: User, admin: User, market: Market) -> None:
    """A paused market keeps its resting orders and refuses every trade, changing
    nothing; once resumed, nothing is crossed."""
    await markets.pause_market(harness.ctx, admin.id, market.id)
    before = await harness.stored()
    trade = amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, 5)
    command = orders.PlaceOrder(market.id, market.outcomes[0].id, Side.BUY, OrderType.LIMIT, 5, 99)
    with pytest.raises(errors.MarketPaused):
        await amm.trade(harness.ctx, trader.id, trade)
    with pytest.raises(errors.MarketPaused):
        await orders.place_order(harness.ctx, trader.id, command)
    assert await harness.stored() == before
    await markets.resume_market(harness.ctx, admin.id, market.id)


async def _checked_trade(
    harness: Harness, op: tuple[Any, ...], users: list[User], market: Market
) -> None:
    _, who, at, side, amount_type, amount = op
    if amount_type is AmountType.SHARES and amount > 60:
        amount //= 60
    trader = users[who]
    order = amm.LmsrOrder(
        market.id,
        side,
        amount_type,
        amount,
        outcome_id=market.outcomes[at % len(market.outcomes)].id,
    )
    try:
        quote = await amm.quote(harness.ctx, order, trader.id)
    except errors.DomainError:
        quote = None
    if quote is not None:
        await _assert_cheapest_route(harness, market, trader, order, quote)
        await _assert_spend_is_tight(harness, trader, order, quote)
    done = await amm.trade(harness.ctx, trader.id, order)
    assert quote is not None
    fields = ("shares", "trader_cents", "fee_cents", "maker_shares", "maker_cents")
    fields += ("book_shares", "book_cents")
    assert [getattr(quote, f) for f in fields] == [getattr(done.quote, f) for f in fields]
    assert quote.prices_after == done.prices


async def _assert_spend_is_tight(
    harness: Harness, trader: User, order: amm.LmsrOrder, quote: amm.LmsrQuote
) -> None:
    """A SPEND is the SHARES trade of its shares, and one share more (a sale: less)
    would break its amount."""
    if order.amount_type is not AmountType.SPEND:
        return
    buy = order.side in (LmsrSide.BUY_YES, LmsrSide.BUY_NO)
    as_shares = amm.LmsrOrder(
        order.market_id, order.side, AmountType.SHARES, quote.shares, outcome_id=order.outcome_id
    )
    same = await amm.quote(harness.ctx, as_shares, trader.id)
    assert (same.trader_cents, same.maker_shares, same.book_shares) == (
        quote.trader_cents, quote.maker_shares, quote.book_shares,
    )  # fmt: skip
    other = quote.shares + 1 if buy else quote.shares - 1
    if other == 0:
        return
    beyond = amm.LmsrOrder(
        order.market_id, order.side, AmountType.SHARES, other, outcome_id=order.outcome_id
    )
    cents = (await amm.quote(harness.ctx, beyond, trader.id)).trader_cents
    assert cents > order.amount if buy else cents < order.amount


async def _assert_cheapest_route(
    harness: Harness, market: Market, trader: User, order: amm.LmsrOrder, quote: amm.LmsrQuote
) -> None:
    """Routing against the maker's marginal costs, share by share: of the book's units
    the trade may take (the other users' direct and synthetic levels, in the exchange's
    priority order) it takes the first ``book_shares``; its last maker share was no
    dearer than the first unit it left, its last unit no dearer than the next maker
    share (within ``EPS``: at a tie either way is right to the float's precision)."""
    stored = await harness.fetch_market(market.id)
    buy = order.side in (LmsrSide.BUY_YES, LmsrSide.BUY_NO)
    yes = order.side in (LmsrSide.BUY_YES, LmsrSide.SELL_YES)
    index = quote.outcome.index
    booked = amm.book_outcome(stored, quote.outcome, yes, False)
    resting = await harness.ctx.read_model.resting_orders(market.id)
    units = _book_units(book_of(stored, resting), booked, buy, trader.id)
    taken = units[: quote.book_shares]
    assert sum(taken) == quote.book_cents
    assert stored.liquidity is not None
    q = [o.amm_shares for o in stored.outcomes]
    j = quote.maker_shares

    def marginal(share: int) -> float:  # 1-based: the cost (a sale: payout) of share ``share``
        sign = 1 if buy else -1
        state = lmsr.apply_trade(q, index, sign * (share - 1), yes)
        return 100 * sign * lmsr.trade_cost(state, stored.liquidity, index, sign, yes)  # type: ignore[arg-type]

    def dearer(a: float, c: float) -> bool:  # ``a`` is worse for the trader than ``c``
        return a > c + EPS if buy else a < c - EPS

    if j and quote.book_shares < len(units):
        left = units[quote.book_shares]
        assert not dearer(marginal(j), left), "a maker share was dearer than a unit left"
    if taken:
        assert not dearer(taken[-1], marginal(j + 1)), "a unit was dearer than the maker"


def _book_units(exchange: MarketBook, booked: str | None, buy: bool, user_id: str) -> list[int]:
    """Every share's price a taker of ``booked`` may take from others' resting orders,
    best first (up to 500 of them)."""
    if booked is None:
        return []
    units: list[int] = []
    for price, qty in exchange.walk(booked, buy, user_id, 99 if buy else 1):
        units += [price] * min(qty, 500)
        if len(units) >= 500:
            break
    return units


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(1, 15), max_size=8),
    st.lists(operation, min_size=5, max_size=40).filter(
        lambda ops: sum(op[0] == "pause" for op in ops) <= 2
    ),
    st.sampled_from([2, 2, 2, 3, 5, 10]),
    st.sampled_from([0.01, 0.05, 1.0, 7.0, 30.0, 100.0, 400.0]),
    st.sampled_from([0, 100, 1000]),
    st.sampled_from(["resolve", "void"]),
)
def test_hybrid_markets_route_cheapest_first_and_conserve_money_at_the_extremes(
    ladder: list[int], ops: list[tuple[Any, ...]], n: int, b: float, fee_bps: int, end: str
) -> None:
    asyncio.run(_scenario(ladder, ops, n, b, fee_bps, end))
