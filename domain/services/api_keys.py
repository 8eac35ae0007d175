"""Creating, revoking and marking the use of API keys.

The secret and its digest are made by the caller (``auth.apikeys``): the
domain stores the digest and the visible prefix, never the secret.
"""

from __future__ import annotations

from domain.errors import BadUserInput, Forbidden, NotFound
from domain.events import ApiKeyRevoked
from domain.keys import (
    LAST_USED_GRANULARITY,
    MAX_ACTIVE_KEYS,
    ApiKey,
    ApiKeyScope,
    key_name,
    key_scopes,
)
from domain.services.context import ServiceContext
from domain.services.work import Work


async def create_api_key(
    ctx: ServiceContext,
    actor_id: str,
    name: str,
    scopes: list[ApiKeyScope],
    *,
    prefix: str,
    digest: str,
) -> ApiKey:
    """A new key of the actor's; at most ``MAX_ACTIVE_KEYS`` unrevoked at once."""
    name, wanted = key_name(name), key_scopes(scopes)
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        actor = await work.actor(actor_id)
        if await uow.api_keys.count_active(actor.id) >= MAX_ACTIVE_KEYS:
            raise BadUserInput(f"at most {MAX_ACTIVE_KEYS} keys at once: revoke one first")
        key = ApiKey(work.new_id(), actor.id, name, prefix, digest, wanted, work.now)
        await uow.api_keys.add(key)
        await work.commit()
        return key


async def revoke_api_key(ctx: ServiceContext, actor_id: str, key_id: str) -> ApiKey:
    """Revoke one of the actor's keys (again: nothing changes, it stays revoked)."""
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        actor = await work.actor(actor_id)
        key = await uow.api_keys.get(key_id)
        if key is None:
            raise NotFound(f"no API key {key_id}")
        if key.user_id != actor.id:
            raise Forbidden("only the key's owner may revoke it")
        if key.revoked_at is None:
            key.revoked_at = work.now
            await uow.api_keys.save(key)
            work.emit(ApiKeyRevoked(key.id, key.user_id, work.now))
        await work.commit()
        return key


async def mark_key_used(ctx: ServiceContext, key: ApiKey) -> None:
    """Record a use of ``key`` now, if its ``last_used_at`` is older than the granularity.

    Callers call this only when :meth:`ApiKey.is_due_for_use_mark` says so; the
    conditional write keeps several workers from moving it more than once a minute.
    """
    async with ctx.uow() as uow:
        now = ctx.clock.now()
        await uow.api_keys.mark_used(key.id, now, now - LAST_USED_GRANULARITY)
        await uow.commit()
