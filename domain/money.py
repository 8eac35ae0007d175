"""Money arithmetic, in one place: integer cents, basis-point fees, rounding against
the trader, and the ceilings every amount stays under.

Units: every amount is an integer number of cents (or of whole shares for
quantities); a fee of ``fee_bps`` basis points is ``fee_bps / BPS`` of the amount
it is charged on, rounded up to a whole cent. Float amounts (the LMSR's) become
cents rounded against the trader: up for what the trader pays, down for what the
trader receives, forgiving float noise below ``CENT_TOLERANCE``.
"""

from __future__ import annotations

import math

BPS = 10_000
"""Basis points in a whole: a fee of ``fee_bps`` is ``fee_bps / BPS`` of the amount."""

MAX_FEE_BPS = 1000
"""Highest fee of a market, in basis points (10%)."""

MAX_AMOUNT = 1_000_000_000
"""Ceiling for any amount of cents or quantity of shares a client sends (exclusive).

It keeps every figure well inside GraphQL's 32-bit ``Int``."""

CENT_TOLERANCE = 1e-6
"""Float noise, in cents, forgiven when rounding to cents (see :func:`ceil_cents`)."""


def fee_cents(amount_cents: int, fee_bps: int) -> int:
    """The fee on an amount, rounded up: ``ceil(amount_cents * fee_bps / BPS)``."""
    return -(-amount_cents * fee_bps // BPS)


def fill_fee(before_cents: int, notional_cents: int, fee_bps: int) -> int:
    """A fill's share of its order's fee, so that an order's fills together pay exactly
    ``fee_cents`` of the order's whole notional (rounded up once, not once per fill).

    ``before_cents`` is the notional the order filled before this fill."""
    after = before_cents + notional_cents
    return -(-after * fee_bps // BPS) + (-before_cents * fee_bps // BPS)


def affordable_quantity(
    budget_cents: int, price_cents: int, fee_bps: int, spent_cents: int = 0
) -> int:
    """The most shares at ``price_cents`` an order may still take when its fills so far
    cost ``spent_cents`` of notional and everything, fee included, must fit ``budget_cents``.

    ``N + ceil(N*f/BPS) <= B`` holds exactly when ``N*(BPS+f) <= BPS*B`` (N the total
    notional), so ``q = (BPS*B - spent*(BPS+f)) // (p*(BPS+f))``."""
    room = BPS * budget_cents - spent_cents * (BPS + fee_bps)
    return max(0, room // (price_cents * (BPS + fee_bps)))


def ceil_cents(cents: float) -> int:
    """Round a float amount of cents the trader pays up, forgiving float noise.

    ``ceil(x - 1e-6)``: a mathematically whole amount computed as 1000.0000000001
    must stay 1000. The house gives up less than 1e-6 cent per trade; since the
    pool and its liabilities are whole cents, that cannot short the pool before a
    million trades, and the subsidy (rounded up) adds further cover.
    """
    return math.ceil(cents - CENT_TOLERANCE)


def floor_cents(cents: float) -> int:
    """Round a float amount of cents the trader receives down, forgiving float noise."""
    return math.floor(cents + CENT_TOLERANCE)


def is_fee_bps(fee_bps: object) -> bool:
    """Whether ``fee_bps`` is a market fee: an int in 0..MAX_FEE_BPS."""
    return type(fee_bps) is int and 0 <= fee_bps <= MAX_FEE_BPS


def check_fee_bps(fee_bps: int) -> None:
    """Guard the engines (the services validate first): ValueError outside 0..MAX_FEE_BPS."""
    if not is_fee_bps(fee_bps):
        raise ValueError(f"fee_bps must be in 0..{MAX_FEE_BPS}, got {fee_bps}")


def is_amount(value: object) -> bool:
    """Whether ``value`` is an amount a client may send: an int in 1..MAX_AMOUNT-1."""
    return type(value) is int and 0 < value < MAX_AMOUNT
