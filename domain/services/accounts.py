"""Users: registering, signing in, bonus grants and deactivation."""

from __future__ import annotations

from dataclasses import dataclass

from domain import ledger, validation
from domain.errors import Forbidden, Unauthenticated, UsernameTaken
from domain.events import UserDeactivated
from domain.ledger import Reason
from domain.model import User
from domain.services.context import ServiceContext
from domain.services.order_batches import cancel_all_of
from domain.services.work import Work


@dataclass(frozen=True, slots=True)
class Registration:
    username: str
    email: str
    password: str


async def register(ctx: ServiceContext, registration: Registration) -> User:
    """Create a user credited with the starting balance from the issuer."""
    username = validation.username(registration.username)
    email = validation.email(registration.email)
    password = validation.password(registration.password)
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        if await uow.users.is_taken(username, email):
            raise UsernameTaken("that username or email is already registered")
        user = User(
            id=work.new_id(),
            username=username,
            email=email,
            password_hash=ctx.hasher.hash(password),
            created_at=work.now,
        )
        work.attach_user(user, new=True)
        await work.platform()
        work.journal.move(
            ledger.ISSUER, ledger.cash(user.id), ctx.settings.starting_balance_cents, Reason.SIGNUP
        )
        await work.commit()
        return user


async def authenticate(ctx: ServiceContext, username: str, password: str) -> User:
    """The active user with these credentials, or UNAUTHENTICATED (a read of committed
    data, no unit of work)."""
    user = await ctx.read_model.user_by_username(username)
    if user is None or not ctx.hasher.verify(password, user.password_hash):
        raise Unauthenticated("wrong username or password")
    if not user.is_active:
        raise Unauthenticated("this account is deactivated")
    return user


async def _admin(work: Work, actor_id: str) -> User:
    actor = await work.actor(actor_id)
    if not actor.is_admin:
        raise Forbidden("only an admin may do that")
    return actor


async def grant_bonus(ctx: ServiceContext, actor_id: str, user_id: str, cents: int) -> User:
    """Credit promotional bonus cents, usable only where a trade says useBonus."""
    validation.positive_amount(cents, "amountCents")
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        await _admin(work, actor_id)
        user = await work.user(user_id)
        await work.platform()
        work.journal.move(ledger.ISSUER, ledger.bonus(user.id), cents, Reason.GRANT)
        await work.commit()
        return user


async def deactivate_user(ctx: ServiceContext, actor_id: str, user_id: str) -> User:
    """The user can no longer sign in or trade; their resting orders are cancelled.

    Their positions still settle at resolution and payouts still reach them. Two
    transactions: the first marks the user inactive, waiting for any command of
    theirs in flight (commands lock their actor's row before committing); the
    second, which therefore sees every order they placed, cancels the resting ones.
    """
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        await _admin(work, actor_id)
        user = await work.user(user_id)
        user.is_active = False
        work.emit(UserDeactivated(user.id, work.now))
        await work.commit()
    async with ctx.uow() as uow:
        work = Work(ctx, uow)
        await cancel_all_of(work, user_id)
        user = await work.user(user_id)
        await work.commit()
        return user
