"""Demo data for a first start in development (``BELLWETHER_DEMO=0`` turns it off).

Two traders (``alice`` and ``bob``, password ``demo-password``), an LMSR market
with a few trades and an order-book market with minted sets, resting orders
and a trade, so GraphiQL has something to show at once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from domain.markets import MarketSpec
from domain.model import AmountType, LmsrSide, MarketType, OrderType, Side
from domain.queries import MarketQuery
from domain.services import accounts, amm, complete_sets, markets, orders
from domain.services.accounts import Registration
from domain.services.amm import LmsrOrder
from domain.services.orders import PlaceOrder
from web.backends import Backend

log = logging.getLogger("bellwether.app")
DEMO_PASSWORD = "demo-password"


async def seed_if_empty(backend: Backend) -> bool:
    """Seed once: only when there is no market yet. Returns whether it seeded."""
    page = await backend.reads.markets_page(MarketQuery(), 1, None)
    if page.total_count:
        return False
    ctx = backend.services
    alice = await accounts.register(ctx, Registration("alice", "alice@example.com", DEMO_PASSWORD))
    bob = await accounts.register(ctx, Registration("bob", "bob@example.com", DEMO_PASSWORD))
    closes = ctx.clock.now() + timedelta(days=365)
    lmsr = await markets.create_market(
        ctx,
        alice.id,
        MarketSpec(
            title="Will Python 4.0 be released before 2030?",
            market_type=MarketType.LMSR,
            outcomes=("Yes", "No"),
            closes_at=closes,
            description="Resolves YES if Python 4.0 is officially released.",
            resolution_source="https://python.org/downloads/",
        ),
    )
    for side, amount in ((LmsrSide.BUY_YES, 20), (LmsrSide.BUY_NO, 5)):
        await amm.trade(ctx, bob.id, LmsrOrder(lmsr.id, side, AmountType.SHARES, amount))
    book = await markets.create_market(
        ctx,
        bob.id,
        MarketSpec(
            title="Will it snow in Paris on New Year's Day?",
            market_type=MarketType.ORDER_BOOK,
            outcomes=("Yes", "No"),
            closes_at=closes,
        ),
    )
    yes = book.outcomes[0].id
    await complete_sets.mint_complete_set(ctx, alice.id, book.id, 50)
    await orders.place_order(
        ctx, alice.id, PlaceOrder(book.id, yes, Side.SELL, OrderType.LIMIT, 20, 40)
    )
    await orders.place_order(
        ctx, bob.id, PlaceOrder(book.id, yes, Side.BUY, OrderType.LIMIT, 10, 40)
    )
    await orders.place_order(
        ctx, bob.id, PlaceOrder(book.id, yes, Side.BUY, OrderType.LIMIT, 10, 30)
    )
    log.info("seeded demo data: users alice and bob (password %r), two markets", DEMO_PASSWORD)
    return True
