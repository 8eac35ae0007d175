"""Users and sign-in results."""

from __future__ import annotations

from datetime import datetime

import strawberry

from auth.tokens import IssuedToken
from domain import model
from schema.context import Info

PRIVATE = (
    "Visible to the user themself and to admins; anyone else gets a redacted value "
    '("" for text, 0 for amounts) rather than an error, so listings that show a '
    "creator never fail."
)


@strawberry.type(description="A trader. Money is integer cents.")
class User:
    id: strawberry.ID
    username: str
    is_admin: bool
    is_active: bool
    created_at: datetime
    private_email: strawberry.Private[str]
    private_balances: strawberry.Private[tuple[int, int, int]]
    shown_to_caller: strawberry.Private[bool]

    @classmethod
    def from_domain(cls, user: model.User, *, own: bool = False) -> User:
        """``own``: the caller is this user (register, login), whatever the token says."""
        return cls(
            id=strawberry.ID(user.id),
            username=user.username,
            is_admin=user.is_admin,
            is_active=user.is_active,
            created_at=user.created_at,
            private_email=user.email,
            private_balances=(user.cash_cents, user.bonus_cents, user.reserved_cents),
            shown_to_caller=own,
        )

    async def _visible(self, info: Info) -> bool:
        return self.shown_to_caller or await info.context.may_see_private(self.id)

    @strawberry.field(description=PRIVATE)
    async def email(self, info: Info) -> str:
        return self.private_email if await self._visible(info) else ""

    @strawberry.field(description="Cash in cents (excludes reserved cents). " + PRIVATE)
    async def balance_cents(self, info: Info) -> int:
        return await self._private(info, 0)

    @strawberry.field(
        description="Promotional credit in cents, usable only by trades with useBonus. " + PRIVATE
    )
    async def bonus_balance_cents(self, info: Info) -> int:
        return await self._private(info, 1)

    @strawberry.field(description="Cents held for resting buy orders. " + PRIVATE)
    async def reserved_cents(self, info: Info) -> int:
        return await self._private(info, 2)

    async def _private(self, info: Info, which: int) -> int:
        return self.private_balances[which] if await self._visible(info) else 0


@strawberry.type(description="A signed-in session: send `Authorization: Bearer <accessToken>`.")
class AuthPayload:
    access_token: str
    token_type: str
    expires_at: datetime
    user: User

    @classmethod
    def from_domain(cls, issued: IssuedToken, user: model.User) -> AuthPayload:
        return cls(
            access_token=issued.token,
            token_type="bearer",
            expires_at=issued.expires_at,
            user=User.from_domain(user, own=True),
        )
