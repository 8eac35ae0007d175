"""One function that checks every money invariant of PRODUCT.md section 2.

It takes a full snapshot (from the in-memory store or read from a live
database by ``bellwether audit``) and returns a list of problems, empty when
everything holds:

- stored balances equal what the ledger says, account by account;
- the total over all accounts except the issuer equals what the issuer issued;
- nothing is negative;
- reserved cents equal what resting BUY orders hold (price * remaining), and
  reserved shares equal what resting SELL orders need;
- every share held is accounted for by the outcome's ``shares_outstanding``,
  and shares in existence beyond the AMM's are whole complete sets;
- each market's pool covers the most it can owe (100 cents per share of the
  outcome with the most shares held);
- a market's payout vector is there exactly while a resolution is proposed,
  disputed or final, each 0..100 cents and summing to 100; nothing is paid out
  (reason PAYOUT) before a market is RESOLVED; a final market's pool is empty;
  and a resolved market's settlements add up to what the ledger paid out (checked
  for markets with settlements: those resolved before they existed have none);
- the market and outcome of every trade, the market of every price point, and the
  user, market and outcome of every settlement exist, each outcome in its market:
  those tables name them by plain ids, without foreign keys (docs/PERSISTENCE.md,
  "Foreign keys"). A trade's users are not checked here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from domain import ledger
from domain.ledger import AccountId, AccountKind, LedgerEntry, Reason
from domain.model import (
    SHARE_PAYOUT_CENTS,
    Market,
    MarketStatus,
    MarketType,
    Order,
    Platform,
    Position,
    SettledPosition,
    Side,
    User,
)

WITH_PAYOUTS = frozenset(
    {MarketStatus.RESOLUTION_PROPOSED, MarketStatus.DISPUTED, MarketStatus.RESOLVED}
)
FINAL = frozenset({MarketStatus.RESOLVED, MarketStatus.VOIDED})


@dataclass(frozen=True, slots=True)
class References:
    """What the append-only tables without foreign keys name, each once: the
    (market, outcome) pairs of the trades, and the markets of the price points."""

    traded: frozenset[tuple[str, str]] = frozenset()
    charted: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Snapshot:
    users: list[User]
    markets: list[Market]
    orders: list[Order]
    positions: list[Position]
    entries: Iterable[LedgerEntry]
    platform: Platform
    settlements: Sequence[SettledPosition] = ()
    references: References = References()


def ledger_balances(entries: Iterable[LedgerEntry]) -> dict[AccountId, int]:
    """Each account's balance by replaying the ledger; the issuer's is what it issued."""
    balances: dict[AccountId, int] = defaultdict(int)
    for entry in entries:
        balances[entry.source] -= entry.amount_cents
        balances[entry.destination] += entry.amount_cents
    balances[ledger.ISSUER] = -balances.get(ledger.ISSUER, 0)
    return balances


def stored_balances(snapshot: Snapshot) -> dict[AccountId, int]:
    stored: dict[AccountId, int] = {ledger.ISSUER: snapshot.platform.issued_cents}
    for user in snapshot.users:
        stored[ledger.cash(user.id)] = user.cash_cents
        stored[ledger.bonus(user.id)] = user.bonus_cents
        stored[ledger.reserved(user.id)] = user.reserved_cents
    for market in snapshot.markets:
        stored[ledger.pool(market.id)] = market.pool_cents
        stored[ledger.fees(market.id)] = market.fees_cents
    return stored


def check(snapshot: Snapshot) -> list[str]:
    """Every broken invariant, as a human-readable line; empty when all hold."""
    entries = list(snapshot.entries)
    return [
        *_check_ledger(snapshot, entries),
        *_check_reservations(snapshot),
        *_check_shares(snapshot),
        *_check_resolutions(snapshot, entries),
        *_check_references(snapshot),
    ]


def _check_ledger(snapshot: Snapshot, entries: list[LedgerEntry]) -> list[str]:
    problems = [
        f"ledger entry {e.id} moves {e.amount_cents} cents" for e in entries if e.amount_cents <= 0
    ]
    from_ledger = ledger_balances(entries)
    stored = stored_balances(snapshot)
    for account in sorted(set(from_ledger) | set(stored), key=str):
        want, have = from_ledger.get(account, 0), stored.get(account)
        if have is None:
            problems.append(f"ledger names {account} ({want} cents) but no such balance is stored")
        elif have != want:
            problems.append(f"{account} stores {have} cents but the ledger says {want}")
        elif have < 0:
            problems.append(f"{account} is negative: {have} cents")
    held = sum(v for k, v in stored.items() if k.kind is not AccountKind.ISSUER)
    if held != snapshot.platform.issued_cents:
        problems.append(
            f"accounts hold {held} cents but the issuer issued {snapshot.platform.issued_cents}"
        )
    return problems


def _check_reservations(snapshot: Snapshot) -> list[str]:
    problems = []
    cents: dict[str, int] = defaultdict(int)
    wanted_shares: dict[tuple[str, str], int] = defaultdict(int)
    for order in snapshot.orders:
        if not order.is_resting:
            if order.reserved_cents:
                problems.append(
                    f"order {order.id} is {order.status} but holds {order.reserved_cents} cents"
                )
            continue
        if order.remaining_quantity <= 0:
            problems.append(f"resting order {order.id} has nothing remaining")
        if order.side is Side.BUY:
            need = (order.price_cents or 0) * order.remaining_quantity
            if order.reserved_cents != need:
                problems.append(
                    f"order {order.id} reserves {order.reserved_cents} cents, needs {need}"
                )
            cents[order.user_id] += order.reserved_cents
        else:
            wanted_shares[(order.user_id, order.outcome_id)] += order.remaining_quantity
    for user in snapshot.users:
        if user.reserved_cents != cents[user.id]:
            held = cents[user.id]
            problems.append(
                f"user {user.id} reserves {user.reserved_cents} cents; orders hold {held}"
            )
    for position in snapshot.positions:
        key = (position.user_id, position.outcome_id)
        if position.reserved_shares != wanted_shares.pop(key, 0):
            problems.append(f"position {key} reserves {position.reserved_shares} shares wrongly")
        if min(position.shares, position.reserved_shares, position.cost_cents) < 0:
            problems.append(f"position {key} is negative")
        if position.reserved_shares > position.shares:
            problems.append(f"position {key} reserves more shares than it holds")
    problems.extend(
        f"orders reserve shares of {key} that no position holds" for key in wanted_shares
    )
    return problems


def _check_shares(snapshot: Snapshot) -> list[str]:
    problems = []
    held: dict[str, int] = defaultdict(int)
    for position in snapshot.positions:
        held[position.outcome_id] += position.shares
    for market in snapshot.markets:
        for outcome in market.outcomes:
            if held[outcome.id] != outcome.shares_outstanding:
                problems.append(
                    f"outcome {outcome.id} has {outcome.shares_outstanding} shares outstanding "
                    f"but positions hold {held[outcome.id]}"
                )
        sets = {o.shares_outstanding - o.amm_shares for o in market.outcomes}
        if market.market_type is MarketType.ORDER_BOOK:
            sets |= {o.shares_outstanding for o in market.outcomes}
        if len(sets) > 1 and any(o.shares_outstanding for o in market.outcomes):
            problems.append(f"market {market.id}: shares beyond the AMM's are not whole sets")
        owed = max((o.shares_outstanding for o in market.outcomes), default=0)
        if market.pool_cents < owed * SHARE_PAYOUT_CENTS:
            problems.append(
                f"market {market.id} pool {market.pool_cents} cannot pay "
                f"{owed * SHARE_PAYOUT_CENTS} to a winning outcome"
            )
    return problems


def _check_resolutions(snapshot: Snapshot, entries: list[LedgerEntry]) -> list[str]:
    problems = []
    paid: dict[str, int] = defaultdict(int)
    for entry in entries:
        if entry.reason is Reason.PAYOUT and entry.market_id is not None:
            paid[entry.market_id] += entry.amount_cents
    settled: dict[str, int] = defaultdict(int)
    for s in snapshot.settlements:
        if min(s.shares, s.payout_cents, s.cost_basis_cents) < 0:
            problems.append(f"settlement {s.id} is negative")
        settled[s.market_id] += s.payout_cents
    for market in snapshot.markets:
        problems.extend(_check_payouts(market))
        if market.status is not MarketStatus.RESOLVED and paid[market.id]:
            problems.append(f"market {market.id} is {market.status} but paid {paid[market.id]}")
        if market.status in FINAL and market.pool_cents:
            problems.append(f"market {market.id} is final but its pool holds {market.pool_cents}")
        resolved = market.status is MarketStatus.RESOLVED and market.id in settled
        if resolved and settled[market.id] != paid[market.id]:
            problems.append(
                f"market {market.id}: settlements pay {settled[market.id]} cents, "
                f"the ledger {paid[market.id]}"
            )
    return problems


def _check_payouts(market: Market) -> list[str]:
    payouts = market.payouts
    if market.status not in WITH_PAYOUTS:
        if any(o.payout_cents is not None for o in market.outcomes):
            return [f"market {market.id} is {market.status} but has payouts"]
        return []
    if payouts is None:
        return [f"market {market.id} is {market.status} without payouts"]
    if sum(payouts) != SHARE_PAYOUT_CENTS or not all(0 <= c <= 100 for c in payouts):
        return [f"market {market.id} payouts {payouts} are not 0..100 summing to 100"]
    return []


def _check_references(snapshot: Snapshot) -> list[str]:
    outcomes = {o.id: m.id for m in snapshot.markets for o in m.outcomes}
    users = {u.id for u in snapshot.users}
    named = snapshot.references
    problems = [
        f"trades name outcome {outcome_id} of market {market_id}, which does not exist"
        for market_id, outcome_id in sorted(named.traded)
        if outcomes.get(outcome_id) != market_id
    ]
    problems.extend(
        f"price points name market {market_id}, which does not exist"
        for market_id in sorted(named.charted - {m.id for m in snapshot.markets})
    )
    problems.extend(
        f"settlement {s.id} names a user, market or outcome that does not exist"
        for s in snapshot.settlements
        if s.user_id not in users or outcomes.get(s.outcome_id) != s.market_id
    )
    return problems
