"""The double-entry ledger: every movement of money is one entry.

Accounts are each user's cash, bonus and reserved balances, each market's
pool, the fee account (kept per market, see ``Market.fees_cents``) and the
issuer that money enters from. A :class:`Journal` moves cents between the
balances of entities loaded in one unit of work and records one
:class:`LedgerEntry` per move, so stored balances always equal the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.errors import InsufficientBalance, InvariantViolation
from domain.model import Market, Platform, User

ISSUER_OWNER = "platform"


class AccountKind(StrEnum):
    CASH = "cash"
    BONUS = "bonus"
    RESERVED = "reserved"
    POOL = "pool"
    FEES = "fees"
    ISSUER = "issuer"


class Reason(StrEnum):
    TRADE = "trade"
    FEE = "fee"
    RESERVE = "reserve"
    RELEASE = "release"
    MINT = "mint"
    REDEEM = "redeem"
    MINT_MATCH = "mint_match"
    MERGE_MATCH = "merge_match"
    PAYOUT = "payout"
    REFUND = "refund"
    SUBSIDY = "subsidy"
    GRANT = "grant"
    SIGNUP = "signup"


@dataclass(frozen=True, slots=True)
class AccountId:
    kind: AccountKind
    owner: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.owner}"

    @classmethod
    def parse(cls, text: str) -> AccountId:
        kind, _, owner = text.partition(":")
        return cls(AccountKind(kind), owner)


def cash(user_id: str) -> AccountId:
    return AccountId(AccountKind.CASH, user_id)


def bonus(user_id: str) -> AccountId:
    return AccountId(AccountKind.BONUS, user_id)


def reserved(user_id: str) -> AccountId:
    return AccountId(AccountKind.RESERVED, user_id)


def pool(market_id: str) -> AccountId:
    return AccountId(AccountKind.POOL, market_id)


def fees(market_id: str) -> AccountId:
    return AccountId(AccountKind.FEES, market_id)


ISSUER = AccountId(AccountKind.ISSUER, ISSUER_OWNER)

_USER_FIELDS = {
    AccountKind.CASH: "cash_cents",
    AccountKind.BONUS: "bonus_cents",
    AccountKind.RESERVED: "reserved_cents",
}
_MARKET_FIELDS = {AccountKind.POOL: "pool_cents", AccountKind.FEES: "fees_cents"}


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """``amount_cents`` (> 0) moved from ``source`` to ``destination``."""

    id: str
    source: AccountId
    destination: AccountId
    amount_cents: int
    reason: Reason
    at: datetime
    market_id: str | None = None
    order_id: str | None = None
    trade_id: str | None = None


class Journal:
    """Moves cents between loaded balances and records each move.

    Attach every entity whose balances a command touches; a move from an
    account whose entity is not attached is a bug. A user balance that cannot
    cover a move raises :class:`InsufficientBalance`; any other account that
    would go negative raises :class:`InvariantViolation`.
    """

    def __init__(self, at: datetime, new_id: Callable[[], str]) -> None:
        self.at = at
        self._new_id = new_id
        self._balances: dict[AccountId, tuple[object, str]] = {}
        self.entries: list[LedgerEntry] = []

    def attach_user(self, user: User) -> None:
        for kind, attr in _USER_FIELDS.items():
            self._balances[AccountId(kind, user.id)] = (user, attr)

    def attach_market(self, market: Market) -> None:
        for kind, attr in _MARKET_FIELDS.items():
            self._balances[AccountId(kind, market.id)] = (market, attr)

    def attach_platform(self, platform: Platform) -> None:
        self._balances[ISSUER] = (platform, "issued_cents")

    def move(
        self,
        source: AccountId,
        destination: AccountId,
        cents: int,
        reason: Reason,
        *,
        market_id: str | None = None,
        order_id: str | None = None,
        trade_id: str | None = None,
    ) -> None:
        """Move ``cents`` (>= 0; a zero move records nothing)."""
        if cents < 0:
            raise InvariantViolation(f"negative move of {cents} cents")
        if cents == 0:
            return
        self._debit(source, cents)
        self._credit(destination, cents)
        self.entries.append(
            LedgerEntry(
                id=self._new_id(),
                source=source,
                destination=destination,
                amount_cents=cents,
                reason=reason,
                at=self.at,
                market_id=market_id,
                order_id=order_id,
                trade_id=trade_id,
            )
        )

    def balance(self, account: AccountId) -> int:
        entity, attr = self._slot(account)
        value = getattr(entity, attr)
        assert isinstance(value, int)
        return value

    def _slot(self, account: AccountId) -> tuple[object, str]:
        try:
            return self._balances[account]
        except KeyError:
            raise InvariantViolation(f"account {account} is not attached") from None

    def _debit(self, account: AccountId, cents: int) -> None:
        entity, attr = self._slot(account)
        if account.kind is AccountKind.ISSUER:
            setattr(entity, attr, getattr(entity, attr) + cents)
            return
        have = getattr(entity, attr)
        if have < cents:
            if account.kind in (AccountKind.CASH, AccountKind.BONUS):
                raise InsufficientBalance(
                    f"needs {cents} cents of {account.kind} but only {have} are available"
                )
            raise InvariantViolation(f"{account} would go negative ({have} - {cents})")
        setattr(entity, attr, have - cents)

    def _credit(self, account: AccountId, cents: int) -> None:
        if account.kind is AccountKind.ISSUER:
            raise InvariantViolation("money never flows back to the issuer")
        entity, attr = self._slot(account)
        setattr(entity, attr, getattr(entity, attr) + cents)
