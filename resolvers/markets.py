"""Reading markets and moving them through their lifecycle."""

from __future__ import annotations

import strawberry

from domain import model, queries
from domain.queries import MarketQuery
from domain.services import markets, resolution
from schema.context import Info
from schema.enums import MarketSort, MarketStatus
from schema.inputs import CreateMarketInput, OutcomePayoutInput
from schema.pagination import decode_cursor, page_size, search_text
from schema.types.markets import Market, Resolution
from schema.types.pages import MarketConnection


async def market(info: Info, id: strawberry.ID) -> Market | None:
    found = await info.context.loaders.market_now(id)
    return Market.from_domain(found) if found is not None else None


async def market_list(
    info: Info,
    status: MarketStatus | None = None,
    first: int | None = 20,
    after: str | None = None,
    search: str | None = None,
    sort: MarketSort = MarketSort.NEWEST,
) -> MarketConnection:
    wanted = MarketQuery(
        status=model.MarketStatus(status.value) if status is not None else None,
        search=search_text(search),
        sort=queries.MarketSort(sort.value),
    )
    page = await info.context.reads.markets_page(wanted, page_size(first, 20), decode_cursor(after))
    return MarketConnection.from_domain(page, wanted.sort)


async def create_market(info: Info, input: CreateMarketInput) -> Market:
    actor = await info.context.require_principal()
    created = await markets.create_market(info.context.services, actor.user_id, input.to_domain())
    return Market.from_domain(created)


async def pause_market(info: Info, id: strawberry.ID) -> Market:
    actor = await info.context.require_principal()
    return Market.from_domain(await markets.pause_market(info.context.services, actor.user_id, id))


async def resume_market(info: Info, id: strawberry.ID) -> Market:
    actor = await info.context.require_principal()
    resumed = await markets.resume_market(info.context.services, actor.user_id, id)
    return Market.from_domain(resumed)


async def close_market(info: Info, id: strawberry.ID) -> Market:
    actor = await info.context.require_principal()
    return Market.from_domain(await markets.close_market(info.context.services, actor.user_id, id))


async def resolve_market(
    info: Info, id: strawberry.ID, winning_outcome_id: strawberry.ID
) -> Resolution:
    actor = await info.context.require_principal()
    result = await resolution.resolve_market(
        info.context.services, actor.user_id, id, winning_outcome_id
    )
    return Resolution.from_domain(result)


async def void_market(info: Info, id: strawberry.ID) -> Resolution:
    actor = await info.context.require_principal()
    result = await resolution.void_market(info.context.services, actor.user_id, id)
    return Resolution.from_domain(result)


async def resolve_market_split(
    info: Info, id: strawberry.ID, payouts: list[OutcomePayoutInput]
) -> Resolution:
    actor = await info.context.require_principal()
    given = [(p.outcome_id, p.cents) for p in payouts]
    result = await resolution.resolve_market_split(info.context.services, actor.user_id, id, given)
    return Resolution.from_domain(result)


async def resolve_scalar_market(info: Info, id: strawberry.ID, value: float) -> Resolution:
    actor = await info.context.require_principal()
    result = await resolution.resolve_scalar_market(info.context.services, actor.user_id, id, value)
    return Resolution.from_domain(result)


async def dispute_resolution(info: Info, id: strawberry.ID, reason: str) -> Market:
    actor = await info.context.require_principal()
    market = await resolution.dispute_resolution(info.context.services, actor.user_id, id, reason)
    return Market.from_domain(market)


async def unresolve_market(info: Info, id: strawberry.ID) -> Market:
    actor = await info.context.require_principal()
    market = await resolution.unresolve_market(info.context.services, actor.user_id, id)
    return Market.from_domain(market)
