"""API keys as the contract shows them: never the secret, except once on creation."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain import keys
from schema.enums import ApiKeyScope


@strawberry.type(description="A key for programs; send `Authorization: Key <secret>`.")
class ApiKey:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(
        description="The secret's first characters, to recognise it (bwk_ and 8 more)."
    )
    scopes: list[ApiKeyScope]
    created_at: datetime
    last_used_at: datetime | None = strawberry.field(
        description="When the key was last used, to the minute (written at most once a minute)."
    )
    revoked_at: datetime | None

    @classmethod
    def from_domain(cls, key: keys.ApiKey) -> ApiKey:
        return cls(
            id=strawberry.ID(key.id),
            name=key.name,
            prefix=key.prefix,
            scopes=[ApiKeyScope(s.value) for s in keys.ApiKeyScope if s in key.scopes],
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
        )


@strawberry.type(description="A new key and its secret: the only time the secret is shown.")
class ApiKeyCreated:
    api_key: ApiKey
    secret: str = strawberry.field(
        description='Shown once; send it as "Authorization: Key <secret>".'
    )
