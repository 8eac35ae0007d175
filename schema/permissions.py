"""Who may call a field: permission classes checked before its resolver runs.

Authorization that depends on the data (the market's creator, the order's
owner) is the domain's; these only say "signed in" and "admin".
"""

from __future__ import annotations

from typing import Any

from graphql import OperationType
from strawberry.permission import BasePermission

from auth.tokens import CREDENTIALS_HINT
from domain.errors import Forbidden
from schema.context import Info


class IsAuthenticated(BasePermission):
    """Signed in; and for a mutation, not with a READ-only API key (FORBIDDEN)."""

    message = f"sign in first: {CREDENTIALS_HINT}"
    error_extensions = {"code": "UNAUTHENTICATED"}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = await info.context.principal()
        if principal is None:
            return False
        if info.operation.operation is OperationType.MUTATION and not principal.may_trade:
            raise Forbidden("this API key has the READ scope only: it may not change anything")
        return True


class IsAdmin(BasePermission):
    """Use after :class:`IsAuthenticated`: anonymous callers get UNAUTHENTICATED first."""

    message = "only an admin may do that"
    error_extensions = {"code": "FORBIDDEN"}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = await info.context.principal()
        if principal is None:
            return False
        return (await info.context.admin_now()) is not None
