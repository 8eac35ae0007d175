"""Settled positions: what a resolution or a void paid each position, and its P&L."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain import model
from domain.queries import Page
from schema.context import Info
from schema.types.markets import Market, Outcome, load_outcome
from schema.types.pages import Connection


@strawberry.type(
    description="A position settled by a resolution or a void: the shares it held, what they "
    "were paid, their cost basis (average cost, fees excluded) and payout minus basis."
)
class Settlement:
    shares: int
    payout_cents: int
    cost_basis_cents: int
    realized_pnl_cents: int
    settled_at: datetime
    market_id: strawberry.Private[str]
    outcome_id: strawberry.Private[str]

    @classmethod
    def from_domain(cls, settlement: model.SettledPosition) -> Settlement:
        return cls(
            shares=settlement.shares,
            payout_cents=settlement.payout_cents,
            cost_basis_cents=settlement.cost_basis_cents,
            realized_pnl_cents=settlement.realized_pnl_cents,
            settled_at=settlement.settled_at,
            market_id=settlement.market_id,
            outcome_id=settlement.outcome_id,
        )

    @strawberry.field
    async def market(self, info: Info) -> Market:
        return Market.from_domain(await info.context.market(self.market_id))

    @strawberry.field
    async def outcome(self, info: Info) -> Outcome:
        return await load_outcome(info, self.market_id, self.outcome_id)


@strawberry.type(description="Settlements, newest first.")
class SettlementConnection(Connection[Settlement]):
    @classmethod
    def from_domain(cls, page: Page[model.SettledPosition]) -> SettlementConnection:
        return cls.of(page, Settlement.from_domain, lambda s: s.settled_at)
