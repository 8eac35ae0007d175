"""A market's one book on screen: an outcome's own levels merged with its synthetic ones.

Pure functions over price levels (:class:`PriceLevel`, best first; prices in cents
1..99, quantities in shares). The synthetic levels of outcome k are what sweeping
the other outcomes' books together would give, level by level: their bids as k's
asks at 100 minus their sum (a mint, at least 1 cent), their asks as k's bids at
100 minus their sum (a merge; none below 1 cent), each for the smallest of the
quantities at those levels. :meth:`domain.exchange.MarketBook.depth` and
``depths`` read the books' levels and call :func:`merged_depth`.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import TypeAlias

from domain.book_types import PriceLevel, synthetic_price
from domain.model import SHARE_PAYOUT_CENTS

Depth: TypeAlias = tuple[list[PriceLevel], list[PriceLevel]]
"""An outcome's bids (highest first) and asks (lowest first)."""

_build = tuple.__new__
_END = SHARE_PAYOUT_CENTS
"""A breakpoint's change that ends the sweep (a real change is under 100 cents)."""


def merged_depth(own: Depth, others: Sequence[Depth], levels: int) -> Depth:
    """Up to ``levels`` levels per side of an outcome's book: ``own`` levels merged
    with the synthetic ones made of the ``others`` outcomes' levels (every level)."""
    synthetic_bids = _synthetic_levels([asks for _, asks in others], False, levels)
    synthetic_asks = _synthetic_levels([bids for bids, _ in others], True, levels)
    return _merge(own[0], synthetic_bids, True, levels), _merge(
        own[1], synthetic_asks, False, levels
    )


def _synthetic_levels(
    sides: list[list[PriceLevel]], taker_is_buy: bool, levels: int
) -> list[PriceLevel]:
    """Up to ``levels`` synthetic levels for a taker from the other outcomes' levels
    (their bids for a BUY, asks for a SELL), best first.

    Sweeping the sides together, the legs' price sum changes only where a side's
    cumulative quantity ends one of its levels: those breakpoints, sorted, give the
    levels (a side's last breakpoint ends the sweep)."""
    if not sides or not levels or not all(sides):
        return []
    breaks: list[tuple[int, int]] = []  # (cumulative quantity, change of the price sum)
    for side in sides:
        cumulative = 0
        for level, after in pairwise(side):
            cumulative += level.quantity
            breaks.append((cumulative, after.price_cents - level.price_cents))
        breaks.append((cumulative + side[-1].quantity, _END))
    breaks.sort()
    total = sum(side[0].price_cents for side in sides)
    swept = 0
    out: list[PriceLevel] = []
    for cumulative, change in breaks:
        if cumulative > swept:
            price = synthetic_price(taker_is_buy, total)
            if price is None:
                return out
            qty = cumulative - swept
            swept = cumulative
            if out and out[-1].price_cents == price:
                last = out[-1]
                out[-1] = _build(PriceLevel, (price, last.quantity + qty, 0, last.synthetic + qty))
            elif len(out) == levels:
                return out
            else:
                out.append(_build(PriceLevel, (price, qty, 0, qty)))
        if change == _END:
            return out
        total += change
    return out


def _merge(
    own: list[PriceLevel], synthetic: list[PriceLevel], bids: bool, levels: int
) -> list[PriceLevel]:
    """Own and synthetic levels as one side, best first, at most ``levels``; at an equal
    price they add up (``orders`` counts own orders only)."""
    if not synthetic:
        return own[:levels]
    if not own:
        return synthetic[:levels]
    by_price = {level.price_cents: level for level in own}
    for level in synthetic:
        mine = by_price.get(level.price_cents)
        if mine is not None:
            fields = (
                level.price_cents,
                mine.quantity + level.quantity,
                mine.orders,
                mine.synthetic + level.synthetic,
            )
            level = _build(PriceLevel, fields)
        by_price[level.price_cents] = level
    return [by_price[price] for price in sorted(by_price, reverse=bids)[:levels]]
