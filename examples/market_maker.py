"""A market-making bot for one outcome of an ORDER_BOOK market, with the ``gql`` client.

It authenticates with an API key (``Authorization: Key <secret>``; make one on the web
app's "API keys" page or with ``createApiKey``, scope TRADE), then:

- quotes both sides around a fair price: a bid ``spread`` cents below, an ask above,
  ``size`` shares each (minting complete sets to have shares to sell);
- follows ``orderBookUpdates`` (a new last trade moves the fair price there) and
  ``myFills`` (each fill leans the fair price away from the side that was taken, and
  tops the quote up), and moves its quotes with ``amendOrder``;
- sends ``heartbeat`` every third of ``--heartbeat`` seconds, so that if it dies its
  orders are cancelled by the server;
- on exit (Ctrl-C, SIGTERM or ``--seconds``) cancels all its orders in the market
  (``cancelAllOrders``) and switches the heartbeat off.

    python examples/market_maker.py --url http://127.0.0.1:8000/graphql \\
        --key bwk_... --market <market id> [--outcome <outcome id>] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from dataclasses import dataclass
from typing import Any

from gql import Client, gql
from gql.client import AsyncClientSession
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

ORDER = "id side priceCents quantity filledQuantity remainingQuantity status"
MARKET = gql("query($m: ID!) { market(id: $m) { id title outcomes { id name } } }")
BOOK = gql(
    "query($m: ID!, $o: ID!) { orderBook(marketId: $m, outcomeId: $o) "
    "{ bestBidCents bestAskCents lastTradeCents } }"
)
MINT = gql(
    "mutation($m: ID!, $q: Int!) { mintCompleteSet(marketId: $m, quantity: $q) { quantity } }"
)
PLACE = gql(
    f"mutation($i: [PlaceOrderInput!]!) {{ placeOrders(inputs: $i) "
    f"{{ order {{ {ORDER} }} error {{ code message }} }} }}"
)
AMEND = gql(
    f"mutation($id: ID!, $p: Int, $q: Int) {{ amendOrder(id: $id, priceCents: $p, quantity: $q) "
    f"{{ {ORDER} }} }}"
)
CANCEL_ALL = gql("mutation($m: ID) { cancelAllOrders(marketId: $m) { id } }")
HEARTBEAT = gql("mutation($t: Int!) { heartbeat(timeoutSeconds: $t) { expiresAt } }")
BOOK_UPDATES = gql(
    "subscription($m: ID!, $o: ID!) { orderBookUpdates(marketId: $m, outcomeId: $o, depth: 1) "
    "{ lastTradeCents sequence } }"
)
MY_FILLS = gql(
    "subscription { myFills { sequence side priceCents quantity order { id } "
    "trade { market { id } outcome { id } } } }"
)
RESTING = ("OPEN", "PARTIALLY_FILLED")


@dataclass
class Quote:
    side: str
    order: dict[str, Any] | None = None

    @property
    def resting(self) -> bool:
        return self.order is not None and self.order["status"] in RESTING


def filled(order: dict[str, Any], quantity: int) -> dict[str, Any] | None:
    """The order after a fill of ``quantity``; None once nothing remains."""
    remaining = order["remainingQuantity"] - quantity
    if remaining <= 0:
        return None
    return {
        **order,
        "filledQuantity": order["filledQuantity"] + quantity,
        "remainingQuantity": remaining,
    }


class MarketMaker:
    def __init__(self, session: AsyncClientSession, args: argparse.Namespace) -> None:
        self.session = session
        self.market_id: str = args.market
        self.outcome_id: str = args.outcome
        self.size: int = args.size
        self.spread: int = args.spread
        self.fair = 50
        self.quotes = {"BUY": Quote("BUY"), "SELL": Quote("SELL")}
        self.lock = asyncio.Lock()

    async def call(self, document: Any, **variables: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.session.execute(document, variable_values=variables)
        return result

    async def resolve_outcome(self) -> None:
        if not self.outcome_id:
            market = (await self.call(MARKET, m=self.market_id))["market"]
            self.outcome_id = market["outcomes"][0]["id"]

    async def start(self) -> None:
        book = (await self.call(BOOK, m=self.market_id, o=self.outcome_id))["orderBook"]
        bid, ask = book["bestBidCents"], book["bestAskCents"]
        if bid is not None and ask is not None:
            self.fair = (bid + ask) // 2
        elif book["lastTradeCents"] is not None:
            self.fair = book["lastTradeCents"]
        await self.call(MINT, m=self.market_id, q=10 * self.size)  # shares to sell
        print(f"quoting {self.size} x {self.spread}c around {self.fair}c", flush=True)
        await self.requote()

    def target(self, side: str) -> int:
        half = max(1, self.spread // 2)
        price = self.fair - half if side == "BUY" else self.fair + half
        return min(99, max(1, price))

    async def requote(self) -> None:
        """Amend each resting quote to its target (re-queued, topped up); place the missing."""
        async with self.lock:
            missing = []
            for side, quote in self.quotes.items():
                price = self.target(side)
                if not quote.resting:
                    missing.append(side)
                elif quote.order and (
                    quote.order["priceCents"] != price
                    or quote.order["remainingQuantity"] < self.size
                ):
                    total = quote.order["filledQuantity"] + self.size
                    await self.amend(quote, price, total)
            if missing:
                await self.place(missing)

    async def amend(self, quote: Quote, price: int, total: int) -> None:
        assert quote.order is not None
        try:
            amended = await self.call(AMEND, id=quote.order["id"], p=price, q=total)
            quote.order = amended["amendOrder"]
            print(f"amended {quote.side} to {total - quote.order['filledQuantity']} @ {price}c")
        except TransportQueryError as error:
            print(f"amend {quote.side} refused: {error}", flush=True)
            quote.order = None  # filled or gone meanwhile: placed anew next time

    async def place(self, sides: list[str]) -> None:
        inputs = [
            {
                "marketId": self.market_id,
                "outcomeId": self.outcome_id,
                "side": side,
                "orderType": "LIMIT",
                "priceCents": self.target(side),
                "quantity": self.size,
                "postOnly": True,
            }
            for side in sides
        ]
        results = (await self.call(PLACE, i=inputs))["placeOrders"]
        for side, result in zip(sides, results, strict=True):
            if result["error"] is None:
                self.quotes[side].order = result["order"]
                print(f"placed {side} {self.size} @ {result['order']['priceCents']}c", flush=True)
            else:
                print(f"{side} not placed: {result['error']['code']}", flush=True)

    async def on_fill(self, fill: dict[str, Any]) -> None:
        if fill["trade"]["market"]["id"] != self.market_id:
            return
        print(
            f"fill #{fill['sequence']}: {fill['side']} {fill['quantity']} @ {fill['priceCents']}c",
            flush=True,
        )
        order_id = fill["order"]["id"] if fill["order"] else None
        for quote in self.quotes.values():
            if quote.order is not None and quote.order["id"] == order_id:
                quote.order = filled(quote.order, fill["quantity"])
        self.fair += 1 if fill["side"] == "SELL" else -1  # lean away from what was taken
        self.fair = min(98, max(2, self.fair))
        await self.requote()

    async def on_book(self, book: dict[str, Any]) -> None:
        last = book["lastTradeCents"]
        if last is not None and last != self.fair:
            self.fair = min(98, max(2, last))
            await self.requote()

    async def heartbeats(self, seconds: int) -> None:
        while True:
            await self.call(HEARTBEAT, t=seconds)
            await asyncio.sleep(seconds / 3)

    async def stop(self) -> None:
        cancelled = (await self.call(CANCEL_ALL, m=self.market_id))["cancelAllOrders"]
        await self.call(HEARTBEAT, t=0)
        print(f"stopped: cancelled {len(cancelled)} open orders", flush=True)


async def follow(ws_url: str, key: str, bot: MarketMaker, ready: asyncio.Event) -> None:
    """Both live feeds on one WebSocket, each event handled in turn. ``ready`` is set when
    the book's first state arrives: both subscriptions are live, no fill can be missed."""
    transport = WebsocketsTransport(url=ws_url, init_payload={"authorization": f"Key {key}"})
    async with Client(transport=transport) as live:

        async def book() -> None:
            await asyncio.sleep(0.1)  # after myFills has subscribed on this socket
            variables = {"m": bot.market_id, "o": bot.outcome_id}
            async for update in live.subscribe(BOOK_UPDATES, variable_values=variables):
                if ready.is_set():
                    await bot.on_book(update["orderBookUpdates"])
                ready.set()

        async def fills() -> None:
            async for update in live.subscribe(MY_FILLS):
                await bot.on_fill(update["myFills"])

        try:
            await asyncio.gather(fills(), book())
        except TransportQueryError as error:
            print(f"live feed failed: {error}", flush=True)
            raise


async def run(args: argparse.Namespace) -> None:
    http = HTTPXAsyncTransport(url=args.url, headers={"Authorization": f"Key {args.key}"})
    ws_url = args.url.replace("http", "ws", 1)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with Client(transport=http) as session:
        bot = MarketMaker(session, args)
        await bot.resolve_outcome()
        ready = asyncio.Event()
        tasks = [
            asyncio.create_task(bot.heartbeats(args.heartbeat)),  # armed before any quote
            asyncio.create_task(follow(ws_url, args.key, bot, ready)),
        ]
        try:
            await asyncio.wait_for(ready.wait(), 10)
            await bot.start()
            await asyncio.wait_for(stop.wait(), args.seconds)
        except TimeoutError:
            pass
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            async with bot.lock:
                await bot.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    parser.add_argument("--key", required=True, help="an API key with the TRADE scope")
    parser.add_argument("--market", required=True, help="an ORDER_BOOK market's id")
    parser.add_argument("--outcome", default="", help="the outcome to quote (default: the first)")
    parser.add_argument("--size", type=int, default=10, help="shares per quote")
    parser.add_argument("--spread", type=int, default=4, help="cents between bid and ask")
    parser.add_argument("--heartbeat", type=int, default=15, help="dead-man switch, seconds")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
