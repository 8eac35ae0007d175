"""Shares held: adding and removing them at average cost, and reserving them.

``cost_cents`` is the average-cost basis of the shares held: buying adds what
was paid (fees excluded: they go to the fee account, not the pool); selling or
redeeming removes the proportional part, rounded so the remaining basis is
never overstated.
"""

from __future__ import annotations

from domain.errors import InsufficientShares, InvariantViolation
from domain.model import Position


def add_shares(position: Position, shares: int, cost_cents: int) -> None:
    if shares < 0 or cost_cents < 0:
        raise InvariantViolation("cannot add a negative number of shares or cost")
    position.shares += shares
    position.cost_cents += cost_cents


def remove_shares(position: Position, shares: int) -> int:
    """Remove free shares; returns the cost basis removed with them."""
    if shares > position.free_shares:
        raise InsufficientShares(
            f"needs {shares} free shares but holds {position.free_shares} unreserved"
        )
    return _take(position, shares)


def remove_reserved_shares(position: Position, shares: int) -> int:
    """Remove shares that a resting sell order had reserved (it was filled)."""
    if shares > position.reserved_shares:
        raise InvariantViolation("a fill took more shares than its order reserved")
    position.reserved_shares -= shares
    return _take(position, shares)


def _take(position: Position, shares: int) -> int:
    remaining = position.shares - shares
    kept_cost = position.cost_cents * remaining // position.shares if position.shares else 0
    removed = position.cost_cents - kept_cost
    position.shares = remaining
    position.cost_cents = kept_cost
    return removed


def reserve_shares(position: Position, shares: int) -> None:
    if shares > position.free_shares:
        raise InsufficientShares(
            f"needs {shares} free shares but holds {position.free_shares} unreserved"
        )
    position.reserved_shares += shares


def release_shares(position: Position, shares: int) -> None:
    if shares > position.reserved_shares:
        raise InvariantViolation("released more shares than were reserved")
    position.reserved_shares -= shares


def split_cost(total_cents: int, parts: int) -> list[int]:
    """``total_cents`` split into ``parts`` whole-cent pieces that add up exactly."""
    base, extra = divmod(total_cents, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]
