"""Who may call a field: permission classes checked before its resolver runs.

Authorization that depends on the data (the market's creator, the order's
owner) is the domain's; these only say "signed in" and "admin".
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from schema.context import Info


class IsAuthenticated(BasePermission):
    message = "sign in first: send 'Authorization: Bearer <token>'"
    error_extensions = {"code": "UNAUTHENTICATED"}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return await info.context.principal() is not None


class IsAdmin(BasePermission):
    """Use after :class:`IsAuthenticated`: anonymous callers get UNAUTHENTICATED first."""

    message = "only an admin may do that"
    error_extensions = {"code": "FORBIDDEN"}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = await info.context.principal()
        return principal is not None and principal.is_admin
