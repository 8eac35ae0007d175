"""Demo data for a first start in development (``BELLWETHER_DEMO=0`` turns it off).

Five traders (``alice``, ``bob``, ``carol``, ``dave``, ``erin``, password
``demo-password``) and six markets of both kinds with three days of history:
the service clock is moved back while seeding, so charts, recent trades and
portfolios have a past. Open markets: three LMSR (one with four outcomes, one
closing in a few days) and two order books with resting orders on both sides;
one LMSR market is resolved. The same data is what ``tests/e2e/screenshots.py``
photographs for the docs. ``make demo-reset`` deletes the default database, so
the next ``make run`` seeds again.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from datetime import datetime, timedelta

from domain.markets import MarketSpec
from domain.model import AmountType, LmsrSide, Market, MarketType, OrderType, Side, User
from domain.queries import MarketQuery
from domain.services import accounts, amm, complete_sets, markets, orders, resolution
from domain.services.accounts import Registration
from domain.services.amm import LmsrOrder
from domain.services.context import ServiceContext
from domain.services.orders import PlaceOrder
from web.backends import Backend

log = logging.getLogger("bellwether.app")
DEMO_PASSWORD = "demo-password"
DEMO_USERS = ("alice", "bob", "carol", "dave", "erin")
HISTORY = timedelta(hours=72)
STEPS = 48


async def seed_if_empty(backend: Backend) -> bool:
    """Seed once: only when there is no market yet. Returns whether it seeded."""
    page = await backend.reads.markets_page(MarketQuery(), 1, None)
    if page.total_count:
        return False
    now = backend.services.clock.now()
    clock = DemoClock(now - HISTORY)
    demo = Demo(dataclasses.replace(backend.services, clock=clock), clock, now)
    await demo.run()
    log.info(
        "seeded demo data: users %s (password %r), %d markets",
        ", ".join(DEMO_USERS),
        DEMO_PASSWORD,
        len(demo.markets),
    )
    return True


class DemoClock:
    """The service clock while seeding: it stands where it is told."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at


class Demo:
    """The demo's markets and three days of trading, on a clock that walks to ``now``."""

    def __init__(self, ctx: ServiceContext, clock: DemoClock, now: datetime) -> None:
        self.ctx = ctx
        self.clock = clock
        self.now = now
        self.rng = random.Random(7)
        self.users: dict[str, User] = {}
        self.markets: dict[str, Market] = {}

    async def run(self) -> None:
        for name in DEMO_USERS:
            registration = Registration(name, f"{name}@example.com", DEMO_PASSWORD)
            self.users[name] = await accounts.register(self.ctx, registration)
        await self.create_markets()
        for step in range(STEPS):
            self.move_to(self.now - HISTORY * (1 - step / STEPS))
            await self.trade_step(step)
        self.move_to(self.now - timedelta(minutes=30))
        await self.rest_orders()
        self.move_to(self.now)
        ecb = self.markets["ecb"]
        await resolution.resolve_market(self.ctx, self.users["erin"].id, ecb.id, ecb.outcomes[0].id)

    def move_to(self, moment: datetime) -> None:
        self.clock.at = moment

    async def market(self, key: str, creator: str, days: float, **spec: object) -> None:
        closes = self.now + timedelta(days=days)
        full = MarketSpec(closes_at=closes, **spec)  # type: ignore[arg-type]
        self.markets[key] = await markets.create_market(self.ctx, self.users[creator].id, full)

    async def create_markets(self) -> None:
        binary = ("Yes", "No")
        lmsr, book = MarketType.LMSR, MarketType.ORDER_BOOK
        await self.market(
            "python", "alice", 1100, title="Will Python 4.0 be released before 2030?",
            market_type=lmsr, outcomes=binary, liquidity=150.0,
            description="Resolves YES if the PSF publishes a final Python 4.0 release.",
            resolution_source="https://www.python.org/downloads/",
        )  # fmt: skip
        await self.market(
            "survey", "carol", 200, title="Which language tops the 2027 developer survey?",
            market_type=lmsr, outcomes=("Python", "JavaScript", "TypeScript", "Rust"),
            liquidity=120.0, fee_bps=100,
        )  # fmt: skip
        await self.market(
            "snow", "bob", 26, title="Will it snow in Paris on New Year's Day?",
            market_type=book, outcomes=binary,
            resolution_source="Météo-France, Paris-Montsouris station",
        )  # fmt: skip
        await self.market(
            "mars", "dave", 2900, title="Will a crewed mission land on Mars before 2035?",
            market_type=book, outcomes=binary,
        )  # fmt: skip
        await self.market(
            "rain", "erin", 3, title="Will it rain in London this Saturday?",
            market_type=lmsr, outcomes=binary, liquidity=60.0,
        )  # fmt: skip
        await self.market(
            "ecb", "erin", 60, title="Will the ECB cut rates at its March meeting?",
            market_type=lmsr, outcomes=binary, liquidity=80.0,
        )  # fmt: skip
        for name in ("alice", "carol", "erin"):
            await complete_sets.mint_complete_set(
                self.ctx, self.users[name].id, self.markets["snow"].id, 300
            )
            await complete_sets.mint_complete_set(
                self.ctx, self.users[name].id, self.markets["mars"].id, 100
            )

    async def lmsr(self, key: str, side: LmsrSide, cents: int, outcome: int = 0) -> None:
        trader = self.users[self.rng.choice(("bob", "carol", "dave", "erin"))]
        market = self.markets[key]
        order = LmsrOrder(
            market.id, side, AmountType.SPEND, cents, outcome_id=market.outcomes[outcome].id
        )
        await amm.trade(self.ctx, trader.id, order)

    async def order(
        self, user: str, key: str, side: Side, price: int, qty: int, outcome: int = 0
    ) -> None:
        market = self.markets[key]
        place = PlaceOrder(
            market.id, market.outcomes[outcome].id, side, OrderType.LIMIT, qty, price
        )
        await orders.place_order(self.ctx, self.users[user].id, place)

    async def trade_step(self, step: int) -> None:
        rng = self.rng
        side = LmsrSide.BUY_YES if rng.random() < 0.58 else LmsrSide.BUY_NO
        await self.lmsr("python", side, rng.randint(300, 1500))
        pick = rng.choices([0, 1, 2, 3], weights=[5, 3, 2, 1])[0]
        await self.lmsr("survey", LmsrSide.BUY_YES, rng.randint(200, 1200), pick)
        if step % 3 == 0:
            side = LmsrSide.BUY_YES if rng.random() < 0.7 else LmsrSide.BUY_NO
            await self.lmsr("ecb", side, rng.randint(400, 1500))
        if step >= STEPS // 2:
            side = LmsrSide.BUY_YES if rng.random() < 0.45 else LmsrSide.BUY_NO
            await self.lmsr("rain", side, rng.randint(200, 900))
        if step % 4 == 0:
            # A seller meets a buyer on the snow market: a trade at a drifting price.
            price = 36 + step // 4 + rng.randint(-2, 2)
            await self.order(rng.choice(("alice", "carol", "erin")), "snow", Side.SELL, price, 10)
            await self.order(rng.choice(("bob", "dave")), "snow", Side.BUY, price, 10)
        if step % 8 == 0:
            price = 15 + rng.randint(-3, 3)
            await self.order("alice", "mars", Side.SELL, price, 5)
            await self.order("bob", "mars", Side.BUY, price, 5)

    async def rest_orders(self) -> None:
        """Both sides of each book, a few levels deep; bids beside one market maker."""
        for price, qty, user in ((50, 25, "alice"), (52, 40, "carol"), (55, 60, "erin")):
            await self.order(user, "snow", Side.SELL, price, qty)
        for price, qty, user in ((46, 30, "bob"), (44, 45, "dave"), (40, 80, "bob")):
            await self.order(user, "snow", Side.BUY, price, qty)
        for price, qty, user in ((56, 20, "erin"), (60, 35, "carol")):
            await self.order(user, "snow", Side.SELL, price, qty, 1)
        for price, qty, user in ((50, 25, "bob"), (47, 40, "dave")):
            await self.order(user, "snow", Side.BUY, price, qty, 1)
        await self.order("alice", "mars", Side.SELL, 19, 30)
        await self.order("carol", "mars", Side.SELL, 22, 40)
        await self.order("bob", "mars", Side.BUY, 13, 50)
        await self.order("dave", "mars", Side.BUY, 11, 60)
        # Limit orders resting beside the Python market's market maker (a hybrid market).
        for price, qty, user, outcome in (
            (40, 30, "bob", 0),
            (35, 50, "dave", 0),
            (22, 40, "carol", 1),
        ):
            await self.order(user, "python", Side.BUY, price, qty, outcome)
