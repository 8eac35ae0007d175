"""The root schema, assembled from the resolvers and the limits.

``build_schema`` is the one place that decides what a request may cost:
depth, aliases and tokens (QUERY_TOO_COMPLEX), cached parsing and
validation, the error edge, and whether introspection is on.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as aliases_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.permission import BasePermission
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.execution import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from domain.errors import BadUserInput
from resolvers import accounts, api_keys, batches, live, markets, trading
from schema.cost import MAX_COST
from schema.errors import classify_all
from schema.execution import RememberedNames, built_inputs, lazy_resolvers, time_limit
from schema.extensions import LeanRunners, one_extension
from schema.limits import bounded_rules, parse_and_validate
from schema.permissions import IsAdmin, IsAuthenticated
from schema.scalars import SCALAR_OVERRIDES
from schema.strings import NoForbiddenCharacters
from schema.types.accounts import AuthPayload, User
from schema.types.api_keys import ApiKey, ApiKeyCreated
from schema.types.batches import CancelOrderResult, Heartbeat, PlaceOrderResult
from schema.types.fills import AccountUpdate, Fill
from schema.types.markets import Market, MarketStatusUpdate, PriceUpdate, Resolution
from schema.types.pages import MarketConnection, OrderConnection, TradeConnection
from schema.types.settlements import SettlementConnection
from schema.types.trading import (
    CompleteSetResult,
    LmsrQuote,
    LmsrTradeResult,
    Order,
    OrderBook,
    Position,
    Trade,
)

HTTP_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})
SIGNED_IN: list[type[BasePermission]] = [IsAuthenticated]
ADMIN: list[type[BasePermission]] = [IsAuthenticated, IsAdmin]


def signed_in_mutation(resolver: Callable[..., Any], description: str | None = None) -> Any:
    """A mutation only a signed-in caller may run (UNAUTHENTICATED otherwise)."""
    return strawberry.mutation(
        resolver=resolver, permission_classes=SIGNED_IN, description=description
    )


@strawberry.type
class Query:
    me: User | None = strawberry.field(
        resolver=accounts.me, description="The signed-in user, or null when anonymous."
    )
    market: Market | None = strawberry.field(resolver=markets.market)
    markets: MarketConnection = strawberry.field(
        resolver=markets.market_list,
        description=(
            "Newest first unless `sort` says otherwise; `search` keeps titles containing "
            "the text (any case); `first` at most 100."
        ),
    )
    order_book: OrderBook = strawberry.field(resolver=trading.order_book)
    my_positions: list[Position] = strawberry.field(
        resolver=trading.my_positions, permission_classes=SIGNED_IN
    )
    my_orders: OrderConnection = strawberry.field(
        resolver=trading.my_orders, permission_classes=SIGNED_IN
    )
    my_trades: TradeConnection = strawberry.field(
        resolver=trading.my_trades, permission_classes=SIGNED_IN
    )
    my_settlements: SettlementConnection = strawberry.field(
        resolver=trading.my_settlements,
        permission_classes=SIGNED_IN,
        description="Positions settled by a resolution or a void, newest first.",
    )
    quote_lmsr: LmsrQuote = strawberry.field(resolver=trading.quote_lmsr)
    my_api_keys: list[ApiKey] = strawberry.field(
        resolver=api_keys.my_api_keys,
        permission_classes=SIGNED_IN,
        description="The caller's API keys, newest first, revoked ones too (never a secret).",
    )


@strawberry.type
class Mutation:
    register: User = strawberry.mutation(resolver=accounts.register)
    login: AuthPayload = strawberry.mutation(resolver=accounts.login)
    create_market: Market = signed_in_mutation(markets.create_market)
    place_order: Order = signed_in_mutation(trading.place_order)
    cancel_order: Order = signed_in_mutation(trading.cancel_order)
    lmsr_trade: LmsrTradeResult = signed_in_mutation(trading.lmsr_trade)
    mint_complete_set: CompleteSetResult = signed_in_mutation(trading.mint_complete_set)
    redeem_complete_set: CompleteSetResult = signed_in_mutation(trading.redeem_complete_set)
    pause_market: Market = signed_in_mutation(markets.pause_market)
    resume_market: Market = signed_in_mutation(markets.resume_market)
    close_market: Market = signed_in_mutation(markets.close_market)
    resolve_market: Resolution = signed_in_mutation(markets.resolve_market)
    void_market: Resolution = signed_in_mutation(markets.void_market)
    resolve_market_split: Resolution = signed_in_mutation(
        markets.resolve_market_split,
        "Cents per share for each outcome (0..100, summing to 100; an outcome "
        "left out pays 0), e.g. 50/50 for a tie.",
    )
    resolve_scalar_market: Resolution = signed_in_mutation(
        markets.resolve_scalar_market,
        "Scalar markets: Long pays round(100 * clamp((value - lower) / (upper - "
        "lower), 0, 1)) cents a share, halves up; Short the rest.",
    )
    dispute_resolution: Market = signed_in_mutation(
        markets.dispute_resolution,
        "Anyone holding shares of the market may dispute its proposed resolution "
        "(FORBIDDEN otherwise): only an admin may then resolve (final at once) or unresolve.",
    )
    unresolve_market: Market = signed_in_mutation(
        markets.unresolve_market,
        "Withdraw a proposed resolution (creator or admin; admin only once "
        "disputed): back to CLOSED. A final resolution is never undone (MARKET_RESOLVED).",
    )
    grant_bonus: User = strawberry.mutation(resolver=accounts.grant_bonus, permission_classes=ADMIN)
    deactivate_user: User = strawberry.mutation(
        resolver=accounts.deactivate_user, permission_classes=ADMIN
    )
    place_orders: list[PlaceOrderResult] = signed_in_mutation(
        batches.place_orders,
        "Up to 100 orders, one result per input in order. atomic: all placed or "
        'none, failing with the first failing item\'s code ("item 2: ..." is 0-based).',
    )
    cancel_orders: list[CancelOrderResult] = signed_in_mutation(
        batches.cancel_orders,
        "Up to 1,000 orders, one result per id in order.",
    )
    cancel_all_orders: list[Order] = signed_in_mutation(
        batches.cancel_all_orders,
        "Cancel every open order of the caller, in one market or everywhere.",
    )
    amend_order: Order = signed_in_mutation(
        batches.amend_order,
        "A resting LIMIT order's price and/or total quantity (filled + remaining). "
        "A lower quantity keeps its place in the queue; a new price or a larger quantity "
        "sends it to the back and it may trade at once (postOnly still applies).",
    )
    heartbeat: Heartbeat = signed_in_mutation(
        batches.heartbeat,
        "Dead-man switch: unless another heartbeat arrives within timeoutSeconds "
        "(5..300; 0 switches it off), every open order of the caller is cancelled.",
    )
    create_api_key: ApiKeyCreated = signed_in_mutation(
        api_keys.create_api_key,
        "Session token only (FORBIDDEN with an API key). The secret is shown once.",
    )
    revoke_api_key: ApiKey = signed_in_mutation(
        api_keys.revoke_api_key,
        "Session token only. The key stops working at once, on every worker.",
    )


@strawberry.type
class Subscription:
    market_prices: AsyncGenerator[PriceUpdate, None] = strawberry.subscription(
        resolver=live.market_prices,
        description="The market's prices now, then every change (sequence shows gaps).",
    )
    order_book_updates: AsyncGenerator[OrderBook, None] = strawberry.subscription(
        resolver=live.order_book_updates,
        description="The outcome's book now, then after every change.",
    )
    market_trades: AsyncGenerator[Trade, None] = strawberry.subscription(
        resolver=live.market_trades, description="Every trade of the market from now on."
    )
    market_status: AsyncGenerator[MarketStatusUpdate, None] = strawberry.subscription(
        resolver=live.market_status,
        description="The market's status now, then every change (paused, closed, resolved...).",
    )
    my_order_updates: AsyncGenerator[Order, None] = strawberry.subscription(
        resolver=live.my_order_updates,
        permission_classes=SIGNED_IN,
        description="Every change of the caller's orders from now on. Authenticate with "
        'the connection_init payload {"authorization": "Bearer <token>"} (or "Key <secret>").',
    )

    my_fills: AsyncGenerator[Fill, None] = strawberry.subscription(
        resolver=live.my_fills,
        permission_classes=SIGNED_IN,
        description="Every fill of the caller from now on (maker or taker), with a stored "
        "per-user sequence: +1 per fill, the same on every worker.",
    )
    my_account: AsyncGenerator[AccountUpdate, None] = strawberry.subscription(
        resolver=live.my_account,
        permission_classes=SIGNED_IN,
        description="The caller's balances and positions now, then after every change.",
    )


class BellwetherSchema(strawberry.Schema):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lean_runners = LeanRunners(self.extensions)

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        """Strawberry's runner, lean for our one extension (:mod:`schema.extensions`)."""
        lean = self.lean_runners.runner(execution_context, extensions)
        return lean or super().create_extensions_runner(execution_context, extensions)

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """Queries and mutations over HTTP (WebSocket operations go through ``subscribe``
        and ``stream``): a subscription here gets BAD_USER_INPUT saying where to send it."""
        allowed = set(allowed_operation_types or HTTP_OPERATIONS)
        try:
            return await super().execute(
                query,
                variable_values,
                context_value,
                root_value,
                operation_name,
                allowed - {OperationType.SUBSCRIPTION},
                operation_extensions,
            )
        except InvalidOperationTypeError as error:
            if error.operation_type is not OperationType.SUBSCRIPTION:
                raise
            message = (
                "subscriptions are served over a WebSocket only: connect to /graphql with "
                "the graphql-transport-ws protocol and send this document there"
            )
            refused = GraphQLError(message, extensions={"code": BadUserInput.code})
            return ExecutionResult(data=None, errors=[refused])

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """The error edge (:mod:`schema.errors`): codes, masking, one log line per bug."""
        context = execution_context.context if execution_context is not None else None
        classify_all(errors, str(getattr(context, "request_id", "-")))


def build_schema(
    *,
    max_depth: int = 10,
    max_aliases: int = 15,
    max_tokens: int = 2000,
    max_cost: int = MAX_COST,
    query_timeout_seconds: float = 10.0,
    introspection: bool = True,
    observers: tuple[type[SchemaExtension], ...] = (),
) -> strawberry.Schema:
    """``observers`` (metrics) are extensions that see each result with its final codes."""
    # The limit rules are built once: the validation cache's key holds the rule classes,
    # and the stock limiter extensions would build new classes per request (a miss
    # every time).
    rules: list[type[ASTValidationRule]] = [
        bounded_rules(
            [depth_validator(max_depth, should_ignore=None), aliases_validator(max_aliases)]
        ),
        NoForbiddenCharacters,
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    # One extension (schema.extensions): each is paid for per request.
    extension = one_extension(
        *observers,
        parse_and_validate(rules, max_tokens=max_tokens, max_cost=max_cost),
        time_limit(query_timeout_seconds),
    )
    schema = BellwetherSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[extension],
        scalar_overrides=SCALAR_OVERRIDES,
        config=StrawberryConfig(
            name_converter=RememberedNames(), disable_field_suggestions=not introspection
        ),
    )
    lazy_resolvers(schema._schema)
    built_inputs(schema)
    return schema
