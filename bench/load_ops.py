"""The bank test's traffic: clients sending random valid and invalid GraphQL operations.

Used by ``bench/load.py`` and ``tests/reliability/``. A :class:`Client` is one
signed-in user with its own HTTP connection; each :meth:`Client.step` picks one
operation (orders of every kind, cancels, LMSR trades by spend and shares, mints,
redeems, reads, pauses, resolutions, voids, bonus grants and deliberately invalid
requests) and records what came back in a :class:`Tally`. Every response must be
data or errors that each carry a contract code (PRODUCT.md section 6); anything
else (a 5xx, a body that is not GraphQL JSON, an error without a code, a stack
trace) is counted as a problem. Orders and trades whose response reached the
client are remembered, so a crash test can look for them in the database.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from schema.errors import CONTRACT_CODES

INTERNAL = "INTERNAL_SERVER_ERROR"
UNAVAILABLE = "SERVICE_UNAVAILABLE"
LEAKS = ("Traceback (most recent call last)", 'File "/', "asyncpg.", "tortoise.", "sqlite3.")
PASSWORD = "load-test-password-1"

REGISTER = "mutation($i: RegisterInput!) { register(input: $i) { id } }"
LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }"
CREATE_MARKET = """mutation($i: CreateMarketInput!) { createMarket(input: $i) {
  id marketType outcomes { id } creator { id } } }"""
PLACE_ORDER = """mutation($i: PlaceOrderInput!) { placeOrder(input: $i) {
  id status filledQuantity remainingQuantity trades { id } } }"""
CANCEL_ORDER = "mutation($id: ID!) { cancelOrder(id: $id) { id status } }"
LMSR_TRADE = """mutation($i: LmsrTradeInput!) { lmsrTrade(input: $i) {
  costOrPayoutCents sharesDelta feeCents trade { id } } }"""
MINT = "mutation($m: ID!, $q: Int!) { mintCompleteSet(marketId: $m, quantity: $q) { cents } }"
REDEEM = "mutation($m: ID!, $q: Int!) { redeemCompleteSet(marketId: $m, quantity: $q) { cents } }"
PAUSE = "mutation($id: ID!) { pauseMarket(id: $id) { id status } }"
RESUME = "mutation($id: ID!) { resumeMarket(id: $id) { id status } }"
RESOLVE = """mutation($id: ID!, $w: ID!) { resolveMarket(id: $id, winningOutcomeId: $w) {
  totalPayoutCents winnersCount refundedCents market { status } } }"""
VOID = "mutation($id: ID!) { voidMarket(id: $id) { refundedCents market { status } } }"
GRANT = "mutation($u: ID!, $a: Int!) { grantBonus(userId: $u, amountCents: $a) { id } }"
POSITIONS = "{ myPositions { shares reservedShares outcome { id } } }"
MARKET = "query($id: ID!) { market(id: $id) { status prices volumeCents } }"
BOOK = """query($m: ID!, $o: ID!) { orderBook(marketId: $m, outcomeId: $o) {
  bestBidCents bestAskCents bids { priceCents quantity } } }"""
MY_ORDERS = "{ myOrders(first: 20) { edges { node { id status } } } }"
ME = "{ me { balanceCents bonusBalanceCents reservedCents } }"


class Unreachable(Exception):
    """No HTTP response at all (server down or the connection was cut)."""


@dataclass
class Account:
    id: str
    name: str
    token: str
    is_admin: bool = False


@dataclass
class MarketRef:
    id: str
    kind: str
    outcomes: list[str]
    creator: str
    status: str = "OPEN"


@dataclass
class World:
    """What every client shares: the accounts and the markets (one event loop, no locks)."""

    accounts: list[Account]
    markets: list[MarketRef]
    recent_orders: deque[str] = field(default_factory=lambda: deque(maxlen=200))

    def live(self, kind: str | None = None) -> list[MarketRef]:
        return [
            m
            for m in self.markets
            if m.status in ("OPEN", "PAUSED") and (kind is None or m.kind == kind)
        ]


def classify(status: int, text: str) -> tuple[str, dict[str, Any] | None]:
    """``("ok", data)``, ``(contract code, None)``, or a problem label (``http-5xx``,
    ``not-graphql``, ``uncoded``, ``stack-trace``, ``INTERNAL_SERVER_ERROR``)."""
    if status >= 500:
        return "http-5xx", None
    if any(leak in text for leak in LEAKS):
        return "stack-trace", None
    try:
        body = json.loads(text)
    except ValueError:
        return "not-graphql", None
    if not isinstance(body, dict) or not ({"data", "errors"} & body.keys()):
        return "not-graphql", None
    errors = body.get("errors")
    if errors:
        codes = [(error.get("extensions") or {}).get("code") for error in errors]
        if any(code not in CONTRACT_CODES and code != INTERNAL for code in codes):
            return "uncoded", None
        return (INTERNAL if INTERNAL in codes else codes[0]), None
    if body.get("data") is None:
        return "not-graphql", None
    data: dict[str, Any] = body["data"]
    return "ok", data


PROBLEMS = frozenset({"http-5xx", "not-graphql", "uncoded", "stack-trace", INTERNAL})


@dataclass
class Tally:
    """What came back, operation by operation."""

    results: Counter[tuple[str, str]] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    transport_errors: int = 0
    acked_orders: set[str] = field(default_factory=set)
    acked_trades: set[str] = field(default_factory=set)
    acked_cancels: set[str] = field(default_factory=set)
    """Orders whose cancel was acknowledged (CANCELLED, a state no later command changes)."""
    idempotency_violations: int = 0
    done: int = 0

    def record(
        self, kind: str, response: httpx.Response, seconds: float
    ) -> tuple[str, dict[str, Any] | None]:
        """(what came back: ``ok`` or a code or problem, the data if ok)."""
        self.statuses[response.status_code] += 1
        self.latencies.append(seconds)
        result, data = classify(response.status_code, response.text)
        self.results[(kind, result)] += 1
        if result in PROBLEMS and len(self.samples) < 20:
            self.samples.append(f"{kind}: {response.status_code} {response.text[:300]}")
        return result, data

    def count(self, result: str) -> int:
        return sum(n for (_, r), n in self.results.items() if r == result)

    @property
    def responses(self) -> int:
        return sum(self.results.values())

    def by_result(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for (_, result), n in self.results.items():
            totals[result] += n
        return dict(totals.most_common())

    def by_kind(self) -> dict[str, dict[str, int]]:
        table: dict[str, dict[str, int]] = {}
        for (kind, result), n in sorted(self.results.items()):
            table.setdefault(kind, {})[result] = n
        return table


def iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


async def post(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        return await http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
    except httpx.HTTPError as error:
        raise Unreachable(str(error)) from error


async def create_market(
    http: httpx.AsyncClient, account: Account, kind: str, rng: random.Random, tally: Tally
) -> MarketRef | None:
    """A new market of ``kind`` (2 or 3 outcomes, a random fee; LMSR b 20..150)."""
    names = ["Yes", "No", "Maybe"][: rng.choice((2, 2, 3))]
    spec: dict[str, Any] = {
        "title": f"Will load event {rng.getrandbits(40):x} happen before 2031?",
        "marketType": kind,
        "outcomes": names,
        "closesAt": iso(timedelta(days=30)),
        "feeBps": rng.choice((0, 25, 100, 250)),
    }
    if kind == "LMSR":
        spec["liquidityParameter"] = float(rng.randint(20, 150))
    started = time.perf_counter()
    response = await post(http, CREATE_MARKET, {"i": spec}, account.token)
    _, data = tally.record("createMarket", response, time.perf_counter() - started)
    if data is None:
        return None
    made = data["createMarket"]
    return MarketRef(made["id"], kind, [o["id"] for o in made["outcomes"]], account.id)


Op = Callable[[], Awaitable[None]]


class Client:
    """One user sending random operations; ``step`` sends one (or two for a retry)."""

    def __init__(
        self,
        world: World,
        account: Account,
        http: httpx.AsyncClient,
        tally: Tally,
        rng: random.Random,
    ) -> None:
        self.world, self.account, self.http, self.tally, self.rng = (
            world,
            account,
            http,
            tally,
            rng,
        )
        self.resting: list[str] = []
        self.holdings: dict[str, int] = {}
        self.keyed: list[tuple[dict[str, Any], str]] = []
        self.unsure: list[dict[str, Any]] = []
        """Keyed orders answered SERVICE_UNAVAILABLE: placed or not, retried with their key."""
        self.last = ""
        self.serial = 0
        weighted: list[tuple[Op, int]] = [
            (self.limit_order, 22),
            (self.market_order, 6),
            (self.cancel_own, 8),
            (self.cancel_other, 1),
            (self.lmsr_trade, 22),
            (self.mint, 6),
            (self.redeem, 3),
            (self.retry_keyed, 3),
            (self.read_positions, 5),
            (self.read_market, 4),
            (self.pause_or_resume, 2),
            (self.settle, 1),
            (self.invalid, 12),
            (self.grant, 1 if account.is_admin else 0),
        ]
        self.ops = [op for op, _ in weighted]
        self.weights = [w for _, w in weighted]

    async def step(self) -> None:
        paused = [m for m in self._mine() if m.status == "PAUSED"]
        if paused and self.rng.random() < 0.5:
            await self.pause_or_resume(self.rng.choice(paused))
            return
        op = self.rng.choices(self.ops, self.weights)[0]
        await op()

    async def call(
        self, kind: str, query: str, variables: dict[str, Any], token: str | None = ""
    ) -> dict[str, Any] | None:
        started = time.perf_counter()
        try:
            response = await post(
                self.http, query, variables, self.account.token if token == "" else token
            )
        except Unreachable:
            self.tally.transport_errors += 1
            raise
        self.last, data = self.tally.record(kind, response, time.perf_counter() - started)
        return data

    def market(self, kind: str | None = None) -> MarketRef | None:
        live = self.world.live(kind)
        if live and self.rng.random() < 0.97:
            return self.rng.choice(live)
        pool = [m for m in self.world.markets if kind is None or m.kind == kind]
        return self.rng.choice(pool) if pool else None

    def _ack_order(self, order: dict[str, Any]) -> None:
        self.tally.acked_orders.add(order["id"])
        self.tally.acked_trades.update(t["id"] for t in order["trades"])
        self.world.recent_orders.append(order["id"])
        if order["status"] in ("OPEN", "PARTIALLY_FILLED"):
            self.resting.append(order["id"])

    async def limit_order(self) -> None:
        market = self.market("ORDER_BOOK")
        if market is None:
            return
        outcome = self.rng.choice(market.outcomes)
        side = "SELL" if self.holdings.get(outcome, 0) > 0 and self.rng.random() < 0.5 else "BUY"
        tif = self.rng.choices(("GTC", "GTD", "IOC", "FOK"), (5, 1, 2, 1))[0]
        spec: dict[str, Any] = {
            "marketId": market.id,
            "outcomeId": outcome,
            "side": side,
            "orderType": "LIMIT",
            "quantity": self.rng.randint(1, 15),
            "priceCents": min(99, max(1, 50 + self.rng.randint(-12, 12))),
            "timeInForce": tif,
            "postOnly": tif == "GTC" and self.rng.random() < 0.1,
        }
        if tif == "GTD":
            spec["expiresAt"] = iso(timedelta(seconds=self.rng.uniform(0.5, 20)))
        if self.rng.random() < 0.25:
            self.serial += 1
            spec["clientOrderId"] = f"{self.account.name}-{self.serial}"
        await self._place_keyed("placeOrder", spec)

    async def _place_keyed(self, kind: str, spec: dict[str, Any]) -> None:
        data = await self.call(kind, PLACE_ORDER, {"i": spec})
        if data is not None:
            self._ack_order(data["placeOrder"])
            if "clientOrderId" in spec:
                self.keyed.append((spec, data["placeOrder"]["id"]))
        elif self.last == UNAVAILABLE and "clientOrderId" in spec:
            self.unsure.append(spec)

    async def market_order(self) -> None:
        market = self.market("ORDER_BOOK")
        if market is None:
            return
        outcome = self.rng.choice(market.outcomes)
        side = "SELL" if self.holdings.get(outcome, 0) > 0 and self.rng.random() < 0.6 else "BUY"
        spec = {
            "marketId": market.id,
            "outcomeId": outcome,
            "side": side,
            "orderType": "MARKET",
            "quantity": self.rng.randint(1, 10),
            "timeInForce": self.rng.choice(("IOC", "FOK")),
        }
        data = await self.call("placeOrder", PLACE_ORDER, {"i": spec})
        if data is not None:
            self._ack_order(data["placeOrder"])

    async def retry_keyed(self) -> None:
        """Resend a keyed order: the answer must be the first order, nothing new. A keyed
        order whose answer was SERVICE_UNAVAILABLE is resent first (placed at most once)."""
        if self.unsure:
            await self._place_keyed("placeOrder(unsure)", self.unsure.pop(0))
            return
        if not self.keyed:
            return
        spec, first = self.rng.choice(self.keyed)
        data = await self.call("placeOrder(retry)", PLACE_ORDER, {"i": spec})
        if data is not None and data["placeOrder"]["id"] != first:
            self.tally.idempotency_violations += 1

    async def cancel_own(self) -> None:
        if not self.resting:
            return
        order = self.resting.pop(self.rng.randrange(len(self.resting)))
        data = await self.call("cancelOrder", CANCEL_ORDER, {"id": order})
        if data is not None and data["cancelOrder"]["status"] == "CANCELLED":
            self.tally.acked_cancels.add(order)

    async def cancel_other(self) -> None:
        if self.world.recent_orders:
            order = self.rng.choice(self.world.recent_orders)
            data = await self.call("cancelOrder(other's)", CANCEL_ORDER, {"id": order})
            if data is not None and data["cancelOrder"]["status"] == "CANCELLED":
                self.tally.acked_cancels.add(order)

    async def lmsr_trade(self) -> None:
        market = self.market("LMSR")
        if market is None:
            return
        side = self.rng.choice(("BUY_YES", "BUY_NO", "SELL_YES", "SELL_NO"))
        by_spend = self.rng.random() < 0.4
        spec: dict[str, Any] = {
            "marketId": market.id,
            "side": side,
            "amountType": "SPEND" if by_spend else "SHARES",
            "amount": self.rng.randint(20, 2500) if by_spend else self.rng.randint(1, 25),
            "outcomeId": self.rng.choice(market.outcomes),
            "useBonus": side.startswith("BUY") and self.rng.random() < 0.15,
        }
        if self.rng.random() < 0.1:
            spec["limitCents"] = self.rng.randint(1, 3000)
        data = await self.call("lmsrTrade", LMSR_TRADE, {"i": spec})
        if data is not None:
            self.tally.acked_trades.add(data["lmsrTrade"]["trade"]["id"])

    async def mint(self) -> None:
        market = self.market()
        if market is None:
            return
        quantity = self.rng.randint(1, 10)
        data = await self.call("mintCompleteSet", MINT, {"m": market.id, "q": quantity})
        if data is not None:
            for outcome in market.outcomes:
                self.holdings[outcome] = self.holdings.get(outcome, 0) + quantity

    async def redeem(self) -> None:
        market = self.market()
        if market is not None:
            variables = {"m": market.id, "q": self.rng.randint(1, 5)}
            await self.call("redeemCompleteSet", REDEEM, variables)

    async def read_positions(self) -> None:
        data = await self.call("myPositions", POSITIONS, {})
        if data is not None:
            self.holdings = {
                p["outcome"]["id"]: p["shares"] - p["reservedShares"] for p in data["myPositions"]
            }

    async def read_market(self) -> None:
        market = self.market()
        if market is None:
            return
        if market.kind == "ORDER_BOOK" and self.rng.random() < 0.5:
            variables = {"m": market.id, "o": market.outcomes[0]}
            await self.call("orderBook", BOOK, variables)
        elif self.rng.random() < 0.5:
            await self.call("market", MARKET, {"id": market.id})
        else:
            await self.call("me", ME if self.rng.random() < 0.5 else MY_ORDERS, {})

    def _mine(self) -> list[MarketRef]:
        live = self.world.live()
        if self.account.is_admin:
            return [m for m in live if m.status == "PAUSED" or self.rng.random() < 0.2]
        return [m for m in live if m.creator == self.account.id]

    async def pause_or_resume(self, market: MarketRef | None = None) -> None:
        mine = self._mine()
        if not mine:
            return
        market = market or self.rng.choice(mine)
        query, kind = (
            (RESUME, "resumeMarket") if market.status == "PAUSED" else (PAUSE, "pauseMarket")
        )
        data = await self.call(kind, query, {"id": market.id})
        if data is not None:
            market.status = data[next(iter(data))]["status"]

    async def settle(self) -> None:
        """Resolve or void one of my markets (admin: any), then open a replacement."""
        mine = self._mine()
        if not mine:
            return
        market = self.rng.choice(mine)
        if self.rng.random() < 0.6:
            variables = {"id": market.id, "w": self.rng.choice(market.outcomes)}
            data = await self.call("resolveMarket", RESOLVE, variables)
        else:
            data = await self.call("voidMarket", VOID, {"id": market.id})
        if data is None:
            return
        market.status = data[next(iter(data))]["market"]["status"]
        replacement = await create_market(
            self.http, self.account, market.kind, self.rng, self.tally
        )
        if replacement is not None:
            self.world.markets.append(replacement)

    async def grant(self) -> None:
        someone = self.rng.choice(self.world.accounts)
        await self.call("grantBonus", GRANT, {"u": someone.id, "a": self.rng.randint(1, 500)})

    async def invalid(self) -> None:
        """A request that must be refused with a code and change nothing."""
        market = self.market()
        if market is None:
            return
        outcome = market.outcomes[0]
        order = {
            "marketId": market.id,
            "outcomeId": outcome,
            "side": "BUY",
            "orderType": "LIMIT",
            "quantity": 5,
            "priceCents": 50,
        }
        trade = {"marketId": market.id, "side": "BUY_YES", "amountType": "SHARES", "amount": 5}
        wrong_type = (
            (PLACE_ORDER, {"i": order}) if market.kind == "LMSR" else (LMSR_TRADE, {"i": trade})
        )
        others = [m for m in self.world.live() if m.creator != self.account.id]
        cases: list[tuple[str, str, dict[str, Any], str | None]] = [
            ("bad:quantity0", PLACE_ORDER, {"i": {**order, "quantity": 0}}, ""),
            ("bad:price100", PLACE_ORDER, {"i": {**order, "priceCents": 100}}, ""),
            ("bad:int-overflow", PLACE_ORDER, {"i": {**order, "quantity": 2**40}}, ""),
            ("bad:huge", PLACE_ORDER, {"i": {**order, "quantity": 10**9}}, ""),
            ("bad:unknown-market", PLACE_ORDER, {"i": {**order, "marketId": "nope"}}, ""),
            ("bad:wrong-type", *wrong_type, ""),
            ("bad:spend0", LMSR_TRADE, {"i": {**trade, "amountType": "SPEND", "amount": 0}}, ""),
            ("bad:anonymous", MINT, {"m": market.id, "q": 1}, None),
            ("bad:forged-token", MINT, {"m": market.id, "q": 1}, "not.a.token"),
            ("bad:redeem-too-many", REDEEM, {"m": market.id, "q": 10**6}, ""),
            ("bad:mint-too-many", MINT, {"m": market.id, "q": 10**7}, ""),
            ("bad:syntax", "mutation { placeOrder(", {}, ""),
            ("bad:unknown-field", "{ market(id: 1) { nope } }", {}, ""),
            ("bad:cancel-unknown", CANCEL_ORDER, {"id": "0" * 32}, ""),
            ("bad:grant", GRANT, {"u": self.account.id, "a": 100}, ""),
        ]
        if others and not self.account.is_admin:
            cases.append(("bad:pause-others", PAUSE, {"id": self.rng.choice(others).id}, ""))
        kind, query, variables, token = self.rng.choice(cases)
        if kind == "bad:grant" and self.account.is_admin:
            kind, variables = "bad:grant-negative", {"u": self.account.id, "a": -5}
        await self.call(kind, query, variables, token)
