"""Shares held: adding and removing them at average cost, and reserving them.

``cost_cents`` is the average-cost basis of the shares held: buying adds what
was paid (fees excluded: they go to the fee account, not the pool); selling or
redeeming removes the proportional part, rounded so the remaining basis is
never overstated. Each sale also adds its realized P&L to
``realized_pnl_cents``: the proceeds that reached the seller minus the average
cost of the shares sold, ``cost_cents x sold / shares`` rounded to the nearest
cent (halves up).
"""

from __future__ import annotations

from domain.errors import InsufficientShares, InvariantViolation
from domain.model import Position


def add_shares(position: Position, shares: int, cost_cents: int) -> None:
    if shares < 0 or cost_cents < 0:
        raise InvariantViolation("cannot add a negative number of shares or cost")
    position.shares += shares
    position.cost_cents += cost_cents


def remove_shares(position: Position, shares: int, proceeds_cents: int) -> int:
    """Sell or redeem free shares for ``proceeds_cents``; returns the basis removed."""
    if shares > position.free_shares:
        raise InsufficientShares(
            f"needs {shares} free shares but holds {position.free_shares} unreserved"
        )
    return _take(position, shares, proceeds_cents)


def remove_reserved_shares(position: Position, shares: int, proceeds_cents: int) -> int:
    """Remove shares that a resting sell order had reserved (it was filled)."""
    if shares > position.reserved_shares:
        raise InvariantViolation("a fill took more shares than its order reserved")
    position.reserved_shares -= shares
    return _take(position, shares, proceeds_cents)


def average_cost(position: Position, shares: int) -> int:
    """The average cost of ``shares`` of the position, rounded to the nearest cent."""
    if not position.shares:
        return 0
    return (2 * position.cost_cents * shares + position.shares) // (2 * position.shares)


def _take(position: Position, shares: int, proceeds_cents: int) -> int:
    position.realized_pnl_cents += proceeds_cents - average_cost(position, shares)
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
