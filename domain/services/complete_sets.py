"""Minting and redeeming complete sets: one share of every outcome for 100 cents.

Minting is how shares come into existence in order-book markets. The cost
basis of a minted set (100 cents) is split across its outcomes' shares.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

from domain import ledger, validation
from domain import markets as market_rules
from domain import positions as shares
from domain.ledger import Reason
from domain.model import SHARE_PAYOUT_CENTS, Market, Position
from domain.services.batching import in_market
from domain.services.context import ServiceContext
from domain.services.work import Work


@dataclass(frozen=True, slots=True)
class CompleteSetResult:
    """``cents`` paid for a mint or received for a redeem."""

    market: Market
    quantity: int
    cents: int
    positions: list[Position]


async def _open_market(
    work: Work, actor_id: str, market_id: str, quantity: int
) -> tuple[Market, list[Position], int]:
    validation.positive_amount(quantity, "quantity")
    cents = quantity * SHARE_PAYOUT_CENTS
    validation.positive_amount(cents, "cost of the sets")
    market = await work.market(market_id)
    user = await work.actor(actor_id)
    market_rules.ensure_tradable(market, work.now)
    held = await work.positions(user.id, market)
    return market, held, cents


async def mint_complete_set(
    ctx: ServiceContext, actor_id: str, market_id: str, quantity: int
) -> CompleteSetResult:
    """Runs in the market's batch."""

    async def step(work: Work) -> CompleteSetResult:
        market, held, cents = await _open_market(work, actor_id, market_id, quantity)
        work.journal.move(
            ledger.cash(actor_id), ledger.pool(market.id), cents, Reason.MINT, market_id=market.id
        )
        costs = shares.split_cost(cents, len(held))
        for position, outcome, cost in zip(held, market.outcomes, costs, strict=True):
            shares.add_shares(position, quantity, cost)
            outcome.shares_outstanding += quantity
        return _result(market, quantity, cents, held)

    return await in_market(ctx, market_id, step, actor_id=actor_id)


async def redeem_complete_set(
    ctx: ServiceContext, actor_id: str, market_id: str, quantity: int
) -> CompleteSetResult:
    """Runs in the market's batch."""

    async def step(work: Work) -> CompleteSetResult:
        market, held, cents = await _open_market(work, actor_id, market_id, quantity)
        proceeds = shares.split_cost(cents, len(held))
        for position, outcome, received in zip(held, market.outcomes, proceeds, strict=True):
            shares.remove_shares(position, quantity, received)
            outcome.shares_outstanding -= quantity
        work.journal.move(
            ledger.pool(market.id), ledger.cash(actor_id), cents, Reason.REDEEM, market_id=market.id
        )
        return _result(market, quantity, cents, held)

    return await in_market(ctx, market_id, step, actor_id=actor_id)


def _result(market: Market, quantity: int, cents: int, held: list[Position]) -> CompleteSetResult:
    """The result as things stand now (a later command of the batch changes them)."""
    return CompleteSetResult(copy.deepcopy(market), quantity, cents, [replace(p) for p in held])
