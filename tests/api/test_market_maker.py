"""examples/market_maker.py against a live server: it quotes, trades, and leaves nothing open."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.api import ops
from tests.api.conftest import Api, LiveServer
from tests.api.test_api_keys import create_key
from tests.api.test_heartbeat_and_rates import open_orders

ROOT = Path(__file__).resolve().parents[2]


async def until(condition: object, within: float = 20) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await condition():  # type: ignore[operator]
        assert loop.time() < deadline, "the bot did not get there in time"
        await asyncio.sleep(0.1)


async def test_the_market_maker_quotes_trades_and_cancels_everything_on_exit(
    server: LiveServer, api: Api
) -> None:
    _, alice = await api.user("alice")
    _, bob = await api.user("bob")
    market = await ops.create_market(api, alice, "ORDER_BOOK")
    secret = (await create_key(api, alice, "TRADE", name="market maker"))["secret"]
    bot = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "examples" / "market_maker.py"),
        "--url", f"{server.url}/graphql", "--key", secret, "--market", market["id"],
        "--size", "5", "--spread", "4", "--seconds", "6",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await until(lambda: _two_open(api, alice))
        taken = await api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 2, 99), bob)
        assert taken["placeOrder"]["filledQuantity"] == 2
        out, _ = await asyncio.wait_for(bot.communicate(), 30)
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
    text = out.decode()
    assert bot.returncode == 0, text
    assert "fill #1: SELL 2 @ 52c" in text
    assert "stopped: cancelled 2 open orders" in text
    assert await open_orders(api, alice) == 0
    assert (await ops.me(api, alice))["reservedCents"] == 0


async def _two_open(api: Api, token: str) -> bool:
    return await open_orders(api, token) == 2
