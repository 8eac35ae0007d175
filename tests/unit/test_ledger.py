"""The journal, positions and the audit function, as pure units."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

import domain
from domain import audit, errors, ledger, positions
from domain.ledger import Journal, Reason
from domain.model import (
    Market,
    MarketStatus,
    MarketType,
    Outcome,
    Platform,
    Position,
    SettledPosition,
    User,
)

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def _journal() -> Journal:
    counter = itertools.count(1)
    return Journal(NOW, lambda: f"e{next(counter)}")


def _user(user_id: str = "u1", cash: int = 0) -> User:
    return User(user_id, user_id, f"{user_id}@example.com", "hash", NOW, cash_cents=cash)


def _market() -> Market:
    outcomes = [Outcome("o1", "m1", "Yes", 0), Outcome("o2", "m1", "No", 1)]
    return Market(
        "m1",
        "A market title",
        "",
        MarketType.ORDER_BOOK,
        MarketStatus.OPEN,
        "u1",
        outcomes,
        None,
        0,
        "",
        NOW,
        NOW,
    )


def test_every_move_is_one_entry_and_balances_follow() -> None:
    journal, user, platform = _journal(), _user(), Platform()
    journal.attach_user(user)
    journal.attach_platform(platform)
    journal.move(ledger.ISSUER, ledger.cash("u1"), 500, Reason.SIGNUP)
    journal.move(ledger.cash("u1"), ledger.reserved("u1"), 200, Reason.RESERVE)
    assert (user.cash_cents, user.reserved_cents, platform.issued_cents) == (300, 200, 500)
    assert [(e.source, e.destination, e.amount_cents) for e in journal.entries] == [
        (ledger.ISSUER, ledger.cash("u1"), 500),
        (ledger.cash("u1"), ledger.reserved("u1"), 200),
    ]


def test_a_zero_move_records_nothing_and_a_negative_one_is_a_bug() -> None:
    journal = _journal()
    journal.attach_user(_user())
    journal.move(ledger.cash("u1"), ledger.bonus("u1"), 0, Reason.GRANT)
    assert journal.entries == []
    with pytest.raises(errors.InvariantViolation):
        journal.move(ledger.cash("u1"), ledger.bonus("u1"), -1, Reason.GRANT)


def test_spending_more_cash_than_held_is_insufficient_balance_and_moves_nothing() -> None:
    journal, user = _journal(), _user(cash=99)
    journal.attach_user(user)
    with pytest.raises(errors.InsufficientBalance):
        journal.move(ledger.cash("u1"), ledger.reserved("u1"), 100, Reason.RESERVE)
    assert (user.cash_cents, user.reserved_cents, journal.entries) == (99, 0, [])


def test_a_pool_that_would_go_negative_fails_loudly() -> None:
    journal, market, user = _journal(), _market(), _user()
    journal.attach_market(market)
    journal.attach_user(user)
    with pytest.raises(errors.InvariantViolation):
        journal.move(ledger.pool("m1"), ledger.cash("u1"), 1, Reason.PAYOUT)


def test_money_never_flows_back_to_the_issuer_and_unattached_accounts_are_bugs() -> None:
    journal, user = _journal(), _user(cash=10)
    journal.attach_user(user)
    journal.attach_platform(Platform())
    with pytest.raises(errors.InvariantViolation):
        journal.move(ledger.cash("u1"), ledger.ISSUER, 1, Reason.REFUND)
    with pytest.raises(errors.InvariantViolation):
        journal.move(ledger.cash("u1"), ledger.cash("stranger"), 1, Reason.TRADE)


def test_account_ids_round_trip_through_text() -> None:
    account = ledger.fees("m1")
    assert ledger.AccountId.parse(str(account)) == account


def test_removing_shares_takes_the_average_cost_and_never_overstates_the_rest() -> None:
    position = Position("u1", "m1", "o1", shares=3, cost_cents=100)
    removed = positions.remove_shares(position, 1, 50)
    assert (removed, position.shares, position.cost_cents) == (34, 2, 66)
    assert positions.remove_shares(position, 2, 60) == 66
    assert (position.shares, position.cost_cents) == (0, 0)


def test_a_sale_realizes_proceeds_less_the_average_cost_rounded_to_the_nearest_cent() -> None:
    position = Position("u1", "m1", "o1", shares=3, cost_cents=100)
    positions.remove_shares(position, 1, 50)  # average cost 33.33 -> 33
    assert position.realized_pnl_cents == 17
    positions.remove_shares(position, 1, 20)  # 66 / 2 = 33
    assert position.realized_pnl_cents == 17 - 13
    half = Position("u1", "m1", "o1", shares=2, cost_cents=3)
    positions.remove_shares(half, 1, 0)  # 1.5 rounds up to 2
    assert half.realized_pnl_cents == -2


def test_reserved_shares_cannot_be_sold_or_reserved_twice() -> None:
    position = Position("u1", "m1", "o1", shares=5)
    positions.reserve_shares(position, 4)
    with pytest.raises(errors.InsufficientShares):
        positions.remove_shares(position, 2, 0)
    with pytest.raises(errors.InsufficientShares):
        positions.reserve_shares(position, 2)
    positions.release_shares(position, 4)
    assert position.free_shares == 5


def test_split_cost_adds_up_exactly() -> None:
    assert positions.split_cost(100, 3) == [34, 33, 33]
    assert sum(positions.split_cost(1001, 7)) == 1001


def test_audit_reports_a_balance_that_disagrees_with_the_ledger() -> None:
    journal, user, platform = _journal(), _user(), Platform()
    journal.attach_user(user)
    journal.attach_platform(platform)
    journal.move(ledger.ISSUER, ledger.cash("u1"), 500, Reason.SIGNUP)
    snapshot = audit.Snapshot([user], [], [], [], journal.entries, platform)
    assert audit.check(snapshot) == []
    user.cash_cents += 1
    problems = audit.check(snapshot)
    assert any("cash:u1 stores 501" in p for p in problems)
    assert any("issuer issued 500" in p for p in problems)


def test_audit_reports_trades_price_points_and_settlements_that_name_nothing() -> None:
    market, user = _market(), _user()
    named = audit.References(traded=frozenset({("m1", "o1")}), charted=frozenset({"m1"}))
    snapshot = audit.Snapshot([user], [market], [], [], [], Platform(), references=named)
    assert audit.check(snapshot) == []
    wrong = audit.References(
        traded=frozenset({("m1", "o1"), ("m1", "o9"), ("m2", "o2")}),
        charted=frozenset({"m1", "m2"}),
    )
    settled = SettledPosition("s1", "u9", "m1", "o1", 1, 100, 40, NOW)
    snapshot = audit.Snapshot(
        [user], [market], [], [], [], Platform(), settlements=[settled], references=wrong
    )
    assert audit.check(snapshot) == [
        "trades name outcome o9 of market m1, which does not exist",
        "trades name outcome o2 of market m2, which does not exist",
        "price points name market m2, which does not exist",
        "settlement s1 names a user, market or outcome that does not exist",
    ]


def test_every_contract_error_code_has_one_domain_error() -> None:
    expected = {
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "NOT_FOUND",
        "BAD_USER_INPUT",
        "INVALID_AMOUNT",
        "INSUFFICIENT_BALANCE",
        "INSUFFICIENT_SHARES",
        "MARKET_PAUSED",
        "MARKET_CLOSED",
        "MARKET_RESOLVED",
        "WRONG_MARKET_TYPE",
        "PRICE_LIMIT_EXCEEDED",
        "ORDER_NOT_CANCELLABLE",
        "USERNAME_TAKEN",
        "RATE_LIMITED",
        "QUERY_TOO_COMPLEX",
        "SERVICE_UNAVAILABLE",
        "IDEMPOTENCY_CONFLICT",
    }
    assert expected == errors.ERROR_CODES


def test_our_packages_import_from_this_repository_not_pypi() -> None:
    """PyPI has unrelated distributions named domain, schema, auth, persistence."""
    import pathlib

    import auth
    import persistence
    import resolvers
    import schema
    import web

    root = pathlib.Path(__file__).resolve().parents[2]
    for package in (domain, persistence, auth, schema, resolvers, web):
        assert pathlib.Path(package.__file__ or "").resolve().parent.parent == root
