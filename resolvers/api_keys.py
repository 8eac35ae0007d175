"""API keys: made, listed and revoked with a session token only (not with a key)."""

from __future__ import annotations

import strawberry

from domain.errors import Forbidden
from domain.keys import ApiKeyScope as DomainScope
from domain.services import api_keys
from schema.context import Info
from schema.enums import ApiKeyScope
from schema.types.api_keys import ApiKey, ApiKeyCreated


async def my_api_keys(info: Info) -> list[ApiKey]:
    actor = await info.context.require_principal()
    return [ApiKey.from_domain(key) for key in await info.context.reads.api_keys(actor.user_id)]


async def create_api_key(info: Info, name: str, scopes: list[ApiKeyScope]) -> ApiKeyCreated:
    ctx = info.context
    actor = await ctx.require_session()
    if ctx.keys is None:
        raise Forbidden("API keys are not enabled on this server")
    minted = ctx.keys.secrets.mint()
    wanted = [DomainScope(scope.value) for scope in scopes]
    key = await api_keys.create_api_key(
        ctx.services, actor.user_id, name, wanted, prefix=minted.prefix, digest=minted.digest
    )
    return ApiKeyCreated(api_key=ApiKey.from_domain(key), secret=minted.secret)


async def revoke_api_key(info: Info, id: strawberry.ID) -> ApiKey:
    actor = await info.context.require_session()
    return ApiKey.from_domain(
        await api_keys.revoke_api_key(info.context.services, actor.user_id, id)
    )
