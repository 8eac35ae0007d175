"""Hanson's logarithmic market scoring rule (LMSR): pure float64 math.

Units: ``q`` holds the whole shares the market maker has sold of each outcome
(it may go negative; holdings are the service's business); ``b`` is the
liquidity in shares, finite and > 0; costs are in dollars (a winning share pays
$1 = 100 cents); prices are probabilities. Every amount that moves money is an
integer number of cents rounded against the trader (:class:`LmsrFill`).
The derivations are in docs/LMSR.md.

Speed: a quote makes one pass over ``q`` and derives both its cost and
``prices_after`` from it (see :func:`_trade`). ``LmsrFill`` is a NamedTuple:
immutable and cheaper to build than a frozen dataclass.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from math import exp, expm1, fsum, log1p
from typing import NamedTuple

from domain.errors import BadUserInput, InvalidAmount
from domain.money import (
    BPS,
    MAX_AMOUNT,
    ceil_cents,
    check_fee_bps,
    fee_cents,
    floor_cents,
    is_amount,
)

_STABLE_SPAN = 30.0
"""Largest ``|d / b|`` for the ``log1p``/``expm1`` form; beyond it, a direct difference."""
_TOP = MAX_AMOUNT - 1
_build = tuple.__new__
"""Builds a NamedTuple from a tuple of its fields in order, in half the time of its ``__new__``."""


class LmsrFill(NamedTuple):
    """A priced trade; every cents figure is an integer rounded against the trader.

    ``amm_cents`` moves between trader and pool (in on a buy, out on a sell);
    ``fee_cents`` goes to the fee account; ``trader_cents`` is what the trader
    pays (buy: amm + fee) or receives (sell: amm - fee); ``prices_after`` are
    probabilities; ``average_price`` is ``trader_cents / shares / 100``.
    """

    shares: int
    amm_cents: int
    fee_cents: int
    trader_cents: int
    prices_after: tuple[float, ...]
    average_price: float


def cost(q: Sequence[int], b: float) -> float:
    """``C(q) = b * ln(sum_i exp(q_i / b))`` in dollars."""
    _check_liquidity(b)
    _check_outcome_count(len(q))
    return b * _lse([qi / b for qi in q])


def prices(q: Sequence[int], b: float) -> list[float]:
    """``p_i = softmax(q / b)_i``: probabilities that sum to 1."""
    _check_liquidity(b)
    _check_outcome_count(len(q))
    top = max(q)
    weights = [exp((qi - top) / b) for qi in q]
    total = fsum(weights)
    return [w / total for w in weights]


def trade_cost(q: Sequence[int], b: float, outcome: int, shares: int, yes: bool) -> float:
    """Dollars the trader pays the AMM to change their position by ``shares``.

    ``shares > 0`` buys, ``< 0`` sells; a negative result is a payout. YES moves
    ``q[outcome]``; NO is the bundle of every other outcome and moves all of them.
    """
    _check_liquidity(b)
    _check_outcome(q, outcome)
    return _trade(q, b, outcome, shares, yes, False)[0]


def apply_trade(q: Sequence[int], outcome: int, shares: int, yes: bool) -> list[int]:
    """The AMM's new ``q`` after a trader's position changes by ``shares`` (signed)."""
    _check_outcome(q, outcome)
    if yes:
        moved = list(q)
        moved[outcome] += shares
        return moved
    moved = [qi + shares for qi in q]
    moved[outcome] = q[outcome]
    return moved


def inverse_buy_shares(
    q: Sequence[int], b: float, outcome: int, dollars: float, yes: bool
) -> float:
    """Fractional shares whose buy costs exactly ``dollars``: the closed-form inverse."""
    moved, still = _split(q, b, outcome, yes)
    if dollars <= 0:
        return 0.0
    log_p = moved - _logaddexp(moved, still)
    return b * (_logaddexp(log_p, _log_expm1(dollars / b)) - log_p)


def inverse_sell_shares(
    q: Sequence[int], b: float, outcome: int, dollars: float, yes: bool
) -> float:
    """Fractional shares whose sale pays exactly ``dollars``; ``inf`` if none can
    (even infinitely many shares pay only ``-b * ln(1 - p)``)."""
    moved, still = _split(q, b, outcome, yes)
    if dollars <= 0:
        return 0.0
    total = _logaddexp(moved, still)
    gap = still - total + dollars / b
    if gap >= 0:
        return math.inf
    return b * (moved - total + dollars / b - math.log1p(-math.exp(gap)))


def quote_shares(
    q: Sequence[int], b: float, outcome: int, shares: int, yes: bool, buy: bool, fee_bps: int
) -> LmsrFill:
    """Price a buy or sell of exactly ``shares`` (1..MAX_AMOUNT-1) of YES or NO."""
    _check_amount(shares)
    check_fee_bps(fee_bps)
    _check_liquidity(b)
    _check_outcome(q, outcome)
    return _fill(q, b, outcome, shares, yes, buy, fee_bps)


def quote_spend(
    q: Sequence[int], b: float, outcome: int, cents: int, yes: bool, buy: bool, fee_bps: int
) -> LmsrFill:
    """Buy: the most shares costing at most ``cents`` with fee. Sell: the fewest
    shares paying at least ``cents`` after fee.

    Raises :class:`InvalidAmount` when ``cents`` buys no share, or when no sale
    below MAX_AMOUNT shares reaches ``cents``.
    """
    _check_amount(cents)
    check_fee_bps(fee_bps)
    _check_liquidity(b)
    _check_outcome(q, outcome)
    find = _spend_buy if buy else _spend_sell
    shares = find(q, b, outcome, cents, yes, fee_bps)
    return _fill(q, b, outcome, shares, yes, buy, fee_bps)


def subsidy_cents(b: float, n: int) -> int:
    """Cents that pre-fund the worst-case loss of ``n`` outcomes: ``ceil(100 b ln n)``."""
    return math.ceil(_max_loss_cents(b, n))


def max_loss_dollars(b: float, n: int) -> float:
    """The AMM's worst-case loss, ``b * ln(n)`` dollars."""
    _check_liquidity(b)
    _check_outcome_count(n)
    return b * math.log(n)


def _max_loss_cents(b: float, n: int) -> float:
    return 100 * max_loss_dollars(b, n)


def _fill(
    q: Sequence[int], b: float, outcome: int, shares: int, yes: bool, buy: bool, fee_bps: int
) -> LmsrFill:
    """Price ``shares`` (> 0) on checked arguments: one pass gives cost and prices after."""
    dollars, after = _trade(q, b, outcome, shares if buy else -shares, yes, True)
    amm, fee, trader = _cents(dollars, buy, fee_bps)
    return _build(LmsrFill, (shares, amm, fee, trader, tuple(after), trader / shares / 100))


def _trade(
    q: Sequence[int], b: float, outcome: int, shares: int, yes: bool, with_prices: bool
) -> tuple[float, list[float]]:
    """Dollars a move of ``d = shares`` (signed) costs, and the prices after it if asked.

    One pass: ``w_j = exp((q_j - max q) / b)``, ``W = sum w``, ``W_M`` over the moved
    coordinates; ``z = W_M / W * expm1(d / b)``, the cost is ``b * log1p(z)`` and
    ``p_j' = w_j * (exp(d / b) if j moved else 1) / (W * (1 + z))``. Outside the
    stable span of :func:`_move`, its general path and a fresh softmax."""
    x = shares / b
    if -_STABLE_SPAN <= x <= _STABLE_SPAN:
        top = max(q)
        weights = [exp((qi - top) / b) for qi in q]
        own = weights[outcome]
        weights[outcome] = 0.0
        rest = fsum(weights)
        weights[outcome] = own
        moved, total = (own, own + rest) if yes else (rest, own + rest)
        growth = expm1(x)
        z = moved / total * growth
        if z > -0.5:
            if not with_prices:
                return b * log1p(z), []
            scale = 1.0 / (total + moved * growth)
            lifted = (growth + 1.0) * scale
            base, own_factor = (scale, lifted) if yes else (lifted, scale)
            after = [w * base for w in weights]
            after[outcome] = own * own_factor
            return b * log1p(z), after
    dollars = b * _move(*_split(q, b, outcome, yes), x)
    return dollars, prices(apply_trade(q, outcome, shares, yes), b) if with_prices else []


def _cents(dollars: float, buy: bool, fee_bps: int) -> tuple[int, int, int]:
    """(amm, fee, trader) cents for a trade costing ``dollars`` (a sale: negative)."""
    cents = ceil_cents(100 * dollars) if buy else floor_cents(-100 * dollars)
    amm = cents if cents > 0 else 0
    fee = fee_cents(amm, fee_bps)
    return amm, fee, amm + fee if buy else amm - fee


def _spend_buy(
    q: Sequence[int], b: float, outcome: int, cents: int, yes: bool, fee_bps: int
) -> int:
    """The most shares whose total cost (amm + fee) is at most ``cents``."""
    shares = affordable_shares(q, b, outcome, cents, yes, fee_bps)
    if shares == 0:
        raise InvalidAmount(f"{cents} cents is too little for one share")
    return shares


def _spend_sell(
    q: Sequence[int], b: float, outcome: int, cents: int, yes: bool, fee_bps: int
) -> int:
    """The fewest shares whose payout after fee is at least ``cents``."""
    shares = shares_paying(q, b, outcome, cents, yes, fee_bps)
    if shares is None:
        raise InvalidAmount(f"no sale of fewer than {MAX_AMOUNT} shares pays {cents} cents")
    return shares


def affordable_shares(
    q: Sequence[int], b: float, outcome: int, cents: int, yes: bool, fee_bps: int
) -> int:
    """The most shares (0 if none) whose buy costs at most ``cents`` (>= 0), fee included."""
    if cents <= 0:
        return 0
    budget = cents / (1 + fee_bps / BPS) / 100
    guess = inverse_buy_shares(q, b, outcome, budget, yes)

    def affordable(k: int) -> bool:
        return _cents(_trade(q, b, outcome, k, yes, False)[0], True, fee_bps)[2] <= cents

    return _last_true(affordable, guess)


def shares_paying(
    q: Sequence[int], b: float, outcome: int, cents: int, yes: bool, fee_bps: int
) -> int | None:
    """The fewest shares (0 for ``cents <= 0``) whose sale pays at least ``cents`` after
    the fee; None when no sale below MAX_AMOUNT shares does."""
    if cents <= 0:
        return 0
    target = cents / (1 - fee_bps / BPS) / 100
    guess = inverse_sell_shares(q, b, outcome, target, yes)

    def short(k: int) -> bool:
        return _cents(_trade(q, b, outcome, -k, yes, False)[0], False, fee_bps)[2] < cents

    shares = _last_true(short, guess) + 1
    return None if shares > _TOP else shares


def marginal_shares(
    q: Sequence[int],
    b: float,
    outcome: int,
    yes: bool,
    buy: bool,
    price_cents: int,
    inclusive: bool,
    at_most: int = _TOP,
) -> int:
    """How many whole shares, up to ``at_most``, the market maker trades one at a time
    from ``q`` while each next share is better for the trader than ``price_cents``: a
    buy's next share costs less (or, ``inclusive``, no more), a sale's pays more (or no
    less). The cost of share ``j`` (1-based) is ``100 (C(q + j) - C(q + j - 1))`` cents,
    increasing in ``j``; a sale's payout decreases. One evaluation when all ``at_most``
    shares qualify (a small trade against a book behind the maker: the common case)."""
    sign = 1 if buy else -1

    def better(k: int) -> bool:
        state = apply_trade(q, outcome, sign * (k - 1), yes)
        cents = 100 * sign * _trade(state, b, outcome, sign, yes, False)[0]
        if buy:
            return cents < price_cents or (inclusive and cents <= price_cents)
        return cents > price_cents or (inclusive and cents >= price_cents)

    if at_most <= 0:
        return 0
    if at_most < _TOP and better(at_most):
        return at_most
    found = _last_true(better, _marginal_guess(q, b, outcome, yes, buy, price_cents))
    return min(found, at_most)


def next_share_cents(price: float, b: float, buy: bool) -> float:
    """What the maker's next whole share of an outcome whose price is ``price`` costs
    (buy) or pays (sale), in cents: ``100 b ln(1 + p expm1(+-1/b))``, up to sign.

    A sale of an outcome the float calls certain (``p`` 1.0) at a tiny ``b`` (below
    about 0.027, ``expm1(-1/b)`` is -1.0) would be ``ln 0``: it answers ``inf``, no
    estimate, and a caller that filters by it checks exactly (:func:`marginal_shares`)."""
    step = 1.0 / b if buy else -1.0 / b
    moved = price * math.expm1(step)
    if moved <= -1.0:
        return math.inf
    return abs(100 * b * math.log1p(moved))


def _marginal_guess(
    q: Sequence[int], b: float, outcome: int, yes: bool, buy: bool, price_cents: int
) -> float:
    """Closed form for :func:`marginal_shares`: the moved set's price ``p`` at which one
    more share costs (pays) ``price_cents``, and the shares that bring ``p`` there."""
    dollars = price_cents / 100
    step = 1.0 / b if buy else -1.0 / b
    target = math.expm1(dollars / b if buy else -dollars / b) / math.expm1(step)
    moved, still = _split(q, b, outcome, yes)
    if target >= 1:
        return 0.0 if not buy else math.inf
    if target <= 0:
        return math.inf if not buy else 0.0
    logit = math.log(target) - math.log1p(-target)
    shares = b * (logit - (moved - still)) if buy else b * ((moved - still) - logit)
    return max(shares, 0.0) + 1


def _last_true(pred: Callable[[int], bool], guess: float) -> int:
    """Largest ``k`` in ``0.._TOP`` with ``pred(k)``, for ``pred`` true then false.

    ``pred(0)`` is taken as true. Gallops from ``guess``, then bisects.
    """
    start = min(max(int(guess), 1), _TOP) if math.isfinite(guess) else _TOP
    lo, hi = _gallop_up(pred, start) if pred(start) else _gallop_down(pred, start)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if pred(mid) else (lo, mid)
    return lo


def _gallop_up(pred: Callable[[int], bool], lo: int) -> tuple[int, int]:
    """From a true ``lo``: a bracket (true, false-or-_TOP+1)."""
    step = 1
    while lo + step <= _TOP and pred(lo + step):
        lo += step
        step *= 2
    return lo, min(lo + step, _TOP + 1)


def _gallop_down(pred: Callable[[int], bool], hi: int) -> tuple[int, int]:
    """From a false ``hi``: a bracket (true-or-0, false)."""
    step = 1
    while hi - step >= 1 and not pred(hi - step):
        hi -= step
        step *= 2
    return max(hi - step, 0), hi


def _split(q: Sequence[int], b: float, outcome: int, yes: bool) -> tuple[float, float]:
    """Log-sum-exp of ``q / b`` over the coordinates the trade moves, and over the rest."""
    _check_liquidity(b)
    _check_outcome(q, outcome)
    xs = [qi / b for qi in q]
    own = xs[outcome]
    others = _lse(xs[:outcome] + xs[outcome + 1 :])
    return (own, others) if yes else (others, own)


def _move(moved: float, still: float, x: float) -> float:
    """``ΔC / b`` when the coordinates summarised by ``moved`` all rise by ``x = d / b``.

    Stable form ``log1p(p * expm1(x))``; when ``expm1`` could overflow or ``1 + z``
    loses its small part (``z`` near -1), the direct log-sum-exp difference.
    """
    if x == 0:
        return 0.0
    total = _logaddexp(moved, still)
    if abs(x) <= _STABLE_SPAN:
        z = math.exp(moved - total) * math.expm1(x)
        if z > -0.5:
            return math.log1p(z)
    return _logaddexp(moved + x, still) - total


def _lse(xs: Sequence[float]) -> float:
    """``ln(sum exp(x))`` with the max offset, so nothing overflows."""
    top = max(xs)
    return top + math.log(math.fsum(math.exp(x - top) for x in xs))


def _logaddexp(a: float, c: float) -> float:
    hi, lo = (a, c) if a >= c else (c, a)
    return hi + math.log1p(math.exp(lo - hi))


def _log_expm1(s: float) -> float:
    """``ln(exp(s) - 1)`` for ``s > 0``, without overflow."""
    return s + math.log(-math.expm1(-s))


def _check_amount(amount: int) -> None:
    if not is_amount(amount):
        raise InvalidAmount(f"amount must be an integer in 1..{MAX_AMOUNT - 1}")


def _check_liquidity(b: float) -> None:
    if not (math.isfinite(b) and b > 0):
        raise ValueError(f"liquidity b must be finite and > 0, got {b}")


def _check_outcome_count(n: int) -> None:
    if n < 2:
        raise ValueError(f"an LMSR market needs at least 2 outcomes, got {n}")


def _check_outcome(q: Sequence[int], outcome: int) -> None:
    _check_outcome_count(len(q))
    if not 0 <= outcome < len(q):
        raise BadUserInput(f"outcome must be in 0..{len(q) - 1}, got {outcome}")
