"""Signing up, signing in, the caller, and admin actions on users."""

from __future__ import annotations

import strawberry

from domain.services import accounts
from schema.context import Info
from schema.inputs import RegisterInput
from schema.types.accounts import AuthPayload, User


async def me(info: Info) -> User | None:
    principal = await info.context.principal()
    if principal is None:
        return None
    return User.from_domain(await info.context.user(principal.user_id))


async def register(info: Info, input: RegisterInput) -> User:
    user = await accounts.register(info.context.services, input.to_domain())
    return User.from_domain(user, own=True)


async def login(info: Info, username: str, password: str) -> AuthPayload:
    """RATE_LIMITED after too many failures per username or attempts per address."""
    ctx = info.context
    await ctx.login_guard.attempt(username, ctx.client_address)
    user = await accounts.authenticate(ctx.services, username, password)
    await ctx.login_guard.succeeded(username)
    return AuthPayload.from_domain(ctx.tokens.issue(user.id), user)


async def grant_bonus(info: Info, user_id: strawberry.ID, amount_cents: int) -> User:
    actor = await info.context.require_principal()
    user = await accounts.grant_bonus(info.context.services, actor.user_id, user_id, amount_cents)
    return User.from_domain(user)


async def deactivate_user(info: Info, user_id: strawberry.ID) -> User:
    actor = await info.context.require_principal()
    user = await accounts.deactivate_user(info.context.services, actor.user_id, user_id)
    info.context.user_changed(user.id)
    return User.from_domain(user)
