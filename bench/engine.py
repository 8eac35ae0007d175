"""Benchmark the matching engine and the LMSR market maker.

    python bench/engine.py [--orders N] [--trades N] [--seed S] [--uniform]

The order stream (fixed seed) is built before timing: mostly LIMIT orders within
10 ticks of a drifting mid, some MARKET orders, some cancels of random resting
orders, eight users. By default a LIMIT order's price is 3 ticks through to 10
ticks behind the mid on its own side (makers mostly rest, takers cross now and
then); ``--uniform`` draws it uniformly within +-10 ticks of the mid instead,
which crosses more often. The same stream spread over 2, 3 and 5 outcomes runs
through separate books (no cross-outcome matching) and through one
``MarketBook`` (mint and merge matches): the pair is the cost of one exchange.
Only the engine calls are timed, in this process's CPU time (``time.process_time``:
the same as wall time on an idle machine, and far less disturbed than it by other
processes on a shared one). LMSR: random buys and
sells of 1..20 YES/NO shares at b=100 on 2 and 10 outcomes; each trade is
``quote_shares`` plus ``apply_trade``. Hybrid markets (``domain/routing.py``): on 2
and 4 outcomes at b=100, a stream of 80% taker trades (buy or sell 1..20 YES shares)
and 20% limit orders within 5 cents of the maker's price (which rest, or route), each
routed between the resting orders and the maker, its book part submitted, the maker's
shares applied and crossed resting orders filled (``routing.crossings``); beside it,
alternated in the same run, the same takers priced by the maker alone
(``quote_shares`` plus ``apply_trade``). The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import sys
import time
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain import lmsr as lmsr_math
from domain import routing
from domain.book_types import CrossFill
from domain.errors import NotFound
from domain.exchange import MarketBook
from domain.model import OrderType, Side, TimeInForce
from domain.orderbook import IncomingOrder, OrderBook

NOW = datetime(2030, 1, 1, tzinfo=UTC)
USERS = [f"user{i}" for i in range(8)]


@dataclass(frozen=True, slots=True)
class CancelOp:
    """Cancel the resting order at ``pick`` modulo the number of orders placed so far."""

    pick: int


def order_stream(count: int, seed: int, uniform: bool = False) -> list[IncomingOrder | CancelOp]:
    """``count`` operations: ~80% LIMIT, ~8% MARKET, ~12% cancels (prices in cents)."""
    rng = random.Random(seed)
    mid = 50
    ops: list[IncomingOrder | CancelOp] = []
    for sequence in range(1, count + 1):
        if rng.random() < 0.05:
            mid = min(85, max(15, mid + rng.choice((-1, 1))))
        roll = rng.random()
        if roll < 0.12:
            ops.append(CancelOp(rng.randrange(1 << 30)))
            continue
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        quantity = rng.randint(1, 20)
        user = rng.choice(USERS)
        if roll < 0.20:
            ops.append(_order(sequence, user, side, None, quantity, TimeInForce.IOC))
            continue
        # Makers mostly rest behind the mid; takers cross it now and then.
        behind = rng.randint(-10, 10) if uniform else rng.randint(-3, 10)
        away = behind if side is Side.SELL else -behind
        price = min(99, max(1, mid + away))
        tif = TimeInForce.IOC if rng.random() < 0.1 else TimeInForce.GTC
        ops.append(_order(sequence, user, side, price, quantity, tif))
    return ops


def _order(
    sequence: int, user: str, side: Side, price: int | None, quantity: int, tif: TimeInForce
) -> IncomingOrder:
    order_type = OrderType.MARKET if price is None else OrderType.LIMIT
    return IncomingOrder(f"o{sequence}", user, side, order_type, price, quantity, tif, sequence)


def bench_orderbook(count: int, seed: int, uniform: bool = False) -> float:
    """Run the stream through a fresh book; return operations per second."""
    ops = order_stream(count, seed, uniform)
    book = OrderBook(fee_bps=100)
    placed: list[str] = []
    fills = 0
    start = time.process_time()
    for op in ops:
        if isinstance(op, CancelOp):
            if placed:
                at = op.pick % len(placed)
                placed[at], placed[-1] = placed[-1], placed[at]
                with suppress(NotFound):  # it may have filled meanwhile
                    book.cancel(placed.pop())
            continue
        result = book.submit(op, NOW)
        fills += len(result.fills)
        if result.rested is not None:
            placed.append(op.order_id)
    elapsed = time.process_time() - start
    rate = count / elapsed
    print(f"order book: {count:,} ops in {elapsed:.3f}s = {rate:,.0f} orders/s")
    print(
        f"  fills {fills:,}, resting at end {len(book):,}, best {book.best_bid()}/{book.best_ask()}"
    )
    return rate


def market_stream(
    count: int, seed: int, outcomes: int
) -> list[tuple[str, IncomingOrder | CancelOp]]:
    """The order stream spread over ``outcomes`` outcomes, each price scaled from the
    stream's mid of 50 to the outcome's fair 100/n (so opposite bets meet)."""
    rng = random.Random(seed + outcomes)
    ids = [f"x{i}" for i in range(outcomes)]
    ops: list[tuple[str, IncomingOrder | CancelOp]] = []
    for op in order_stream(count, seed):
        outcome = rng.choice(ids)
        if isinstance(op, IncomingOrder) and op.price_cents is not None:
            price = min(99, max(1, round(op.price_cents * 2 / outcomes)))
            op = replace(op, price_cents=price)
        ops.append((outcome, op))
    return ops


def bench_market(count: int, seed: int, outcomes: int, cross: bool) -> float:
    """The market stream through one MarketBook (``cross``: mint and merge matches) or
    through independent OrderBooks, one per outcome; returns orders per second."""
    ops = market_stream(count, seed, outcomes)
    ids = sorted({outcome for outcome, _ in ops})
    market = MarketBook(ids, fee_bps=100)
    books = {outcome: OrderBook(fee_bps=100) for outcome in ids}
    placed: list[tuple[str, str]] = []
    fills = crossed = 0
    start = time.process_time()
    for outcome, op in ops:
        if isinstance(op, CancelOp):
            if placed:
                at = op.pick % len(placed)
                placed[at], placed[-1] = placed[-1], placed[at]
                where, order_id = placed.pop()
                with suppress(NotFound):
                    (market.books if cross else books)[where].cancel(order_id)
            continue
        result = market.submit(outcome, op, NOW) if cross else books[outcome].submit(op, NOW)
        fills += len(result.fills)
        crossed += sum(1 for fill in result.fills if isinstance(fill, CrossFill))
        if result.rested is not None:
            placed.append((outcome, op.order_id))
    elapsed = time.process_time() - start
    rate = count / elapsed
    kind = "one exchange (mint/merge)" if cross else "separate books"
    print(
        f"{outcomes} outcomes, {kind}: {count:,} ops in {elapsed:.3f}s = {rate:,.0f} orders/s"
        f" (fills {fills:,}, of which mint/merge {crossed:,})"
    )
    return rate


def load_lmsr(wait_s: float) -> ModuleType | None:
    """Import domain.lmsr, polling up to ``wait_s`` seconds while another engineer writes it."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            module = importlib.import_module("domain.lmsr")
        except ImportError:
            module = None
        if module is not None and hasattr(module, "quote_shares"):
            return module
        if time.monotonic() >= deadline:
            return None
        time.sleep(5)


def bench_lmsr(lmsr: ModuleType, outcomes: int, count: int, seed: int) -> float:
    """Random YES/NO buys and sells of 1..20 shares at b=100; return trades per second."""
    rng = random.Random(seed)
    trades = [
        (rng.randrange(outcomes), rng.randint(1, 20), rng.random() < 0.5, rng.random() < 0.6)
        for _ in range(count)
    ]
    q, b = [0] * outcomes, 100.0
    held = {(i, yes): 0 for i in range(outcomes) for yes in (True, False)}
    start = time.process_time()
    for outcome, shares, yes, buy in trades:
        if not buy and held[outcome, yes] < shares:
            buy = True  # nobody sells shares they do not hold
        lmsr.quote_shares(q, b, outcome, shares, yes, buy, 100)
        signed = shares if buy else -shares
        q = lmsr.apply_trade(q, outcome, signed, yes)
        held[outcome, yes] += signed
    elapsed = time.process_time() - start
    rate = count / elapsed
    print(f"lmsr {outcomes} outcomes: {count:,} trades in {elapsed:.3f}s = {rate:,.0f} trades/s")
    return rate


HybridOp = tuple[bool, int, int, bool, int, str]
"""(a limit order?, outcome, shares, buy?, cents behind the maker's price, user)."""


def hybrid_stream(count: int, seed: int, outcomes: int) -> list[HybridOp]:
    rng = random.Random(seed)
    return [
        (
            rng.random() < 0.2,
            rng.randrange(outcomes),
            rng.randint(1, 20),
            rng.random() < 0.5,
            rng.randint(-5, 5),
            rng.choice(USERS),
        )
        for _ in range(count)
    ]


def bench_hybrid(outcomes: int, count: int, seed: int, routed: bool) -> float:
    """The hybrid stream routed between books and maker (``routed``; the limit orders
    are placed, untimed), or its takers priced by the maker alone; returns taker
    trades per second."""
    ops = hybrid_stream(count, seed, outcomes)
    ids = [f"x{i}" for i in range(outcomes)]
    market = MarketBook(ids, fee_bps=100)
    q, b = [0] * outcomes, 100.0
    book_shares = maker_shares = crossed = takers = 0
    elapsed = 0.0
    for n, (is_limit, outcome, shares, buy, offset, user) in enumerate(ops, 1):
        if not routed:
            if not is_limit:
                start = time.process_time()
                fill = lmsr_math.quote_shares(q, b, outcome, shares, True, buy, 100)
                q = lmsr_math.apply_trade(q, outcome, fill.shares if buy else -fill.shares, True)
                elapsed += time.process_time() - start
                takers += 1
            continue
        price = None
        if is_limit:
            fair = lmsr_math.prices(q, b)[outcome]
            price = min(99, max(1, round(100 * fair) + (-offset if buy else offset)))
        start = time.process_time()
        maker = routing.Maker(tuple(q), b, outcome, True, 100)
        taker = routing.Taker(user, buy, shares, None, None, price)
        route = routing.route(market, ids[outcome], maker, taker)
        rest = shares - route.maker_shares if is_limit and route.shares < shares else 0
        if route.book_shares or rest:
            limit = price if price is not None else route.book_limit
            tif = TimeInForce.GTC if rest else TimeInForce.IOC
            side = Side.BUY if buy else Side.SELL
            qty = rest or route.book_shares
            market.submit(ids[outcome], _order(n, user, side, limit, qty, tif), NOW)
        if route.maker is not None:
            q = lmsr_math.apply_trade(q, outcome, route.maker_shares * (1 if buy else -1), True)
        for crossing in routing.crossings(market, q, b):
            sign = 1 if crossing.order.side is Side.BUY else -1
            q[crossing.outcome_index] += sign * crossing.fill.shares
            crossed += 1
        if not is_limit:
            elapsed += time.process_time() - start
            takers += 1
            book_shares += route.book_shares
            maker_shares += route.maker_shares
    rate = takers / elapsed
    kind = "routed (books + maker)" if routed else "maker alone"
    print(
        f"hybrid {outcomes} outcomes, {kind}: {takers:,} trades in {elapsed:.3f}s = {rate:,.0f}/s"
    )
    if routed:
        print(f"  takers' shares from books {book_shares:,}, from the maker {maker_shares:,}; "
              f"crossed orders filled {crossed:,}, resting at end "
              f"{sum(len(book) for book in market.books.values()):,}")  # fmt: skip
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--trades", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=20_300_101)
    parser.add_argument("--wait-lmsr", type=float, default=600.0, help="seconds to wait")
    parser.add_argument("--uniform", action="store_true", help="LIMIT prices uniform +-10")
    parser.add_argument("--repeat", type=int, default=3, help="market runs, best of")
    parser.add_argument("--hybrid", type=int, default=20_000, help="hybrid-market operations")
    parser.add_argument("--only-hybrid", action="store_true", help="only the hybrid figures")
    args = parser.parse_args()
    figures: dict[str, float | None] = {}
    bench_hybrids(args, figures)
    if args.only_hybrid:
        print(json.dumps(figures))
        return
    rate = bench_orderbook(args.orders, args.seed, args.uniform)
    figures["orderbook_orders_per_s"] = round(rate)
    for outcomes in (2, 3, 5):
        for cross in (False, True):
            key = f"market{outcomes}_{'cross' if cross else 'plain'}_orders_per_s"
            figures[key] = 0
        for _ in range(args.repeat):  # alternated, best of: the machine may be shared
            for cross in (False, True):
                key = f"market{outcomes}_{'cross' if cross else 'plain'}_orders_per_s"
                rate = bench_market(args.orders, args.seed, outcomes, cross)
                figures[key] = max(figures[key] or 0, round(rate))
        plain, cross_rate = (
            figures[f"market{outcomes}_plain_orders_per_s"],
            figures[f"market{outcomes}_cross_orders_per_s"],
        )
        print(f"  {outcomes} outcomes: one exchange at {plain / cross_rate:.2f}x the time of plain")
    lmsr = load_lmsr(args.wait_lmsr)
    for outcomes in (2, 10):
        key = f"lmsr{outcomes}_trades_per_s"
        if lmsr is None:
            print(f"lmsr {outcomes} outcomes: skipped (domain/lmsr.py not available)")
            figures[key] = None
        else:
            figures[key] = round(bench_lmsr(lmsr, outcomes, args.trades, args.seed + outcomes))
    print(json.dumps(figures))


def bench_hybrids(args: argparse.Namespace, figures: dict[str, float | None]) -> None:
    """Routed against maker-alone, alternated, best of ``--repeat``; prints the ratio."""
    for outcomes in (2, 4):
        for routed in (False, True):
            figures[f"hybrid{outcomes}_{'routed' if routed else 'maker'}_per_s"] = 0
        for _ in range(args.repeat):
            for routed in (False, True):
                key = f"hybrid{outcomes}_{'routed' if routed else 'maker'}_per_s"
                rate = bench_hybrid(outcomes, args.hybrid, args.seed, routed)
                figures[key] = max(figures[key] or 0, round(rate))
        maker, routed_rate = (
            figures[f"hybrid{outcomes}_maker_per_s"],
            figures[f"hybrid{outcomes}_routed_per_s"],
        )
        assert maker and routed_rate
        print(
            f"  {outcomes} outcomes: routed at {maker / routed_rate:.2f}x the time of maker alone"
        )


if __name__ == "__main__":
    main()
