"""Grouped subscriptions: one execution per event per group, the same bytes to every
socket of the group, private feeds per user, slow sockets left behind alone."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import tracemalloc
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from functools import partial
from typing import Any

from resolvers.live import PRICES as PRICES_FEED
from resolvers.live import TRADES as TRADES_FEED
from tests.api import ops
from tests.api.conftest import Api, LiveServer
from tests.api.wsclient import KEEP_ALIVE, LEGACY_WS, LiveClient, live_client
from tests.harness import wait_until
from web.livegroups import CHUNK, Group, LiveGroups, Member, Protocol
from web.wswriter import text_frame

PRICES = "subscription($m: ID!) { marketPrices(marketId: $m) { marketId prices sequence } }"
MY_ORDERS = "subscription { myOrderUpdates { id userId: id status } }"
CREATORS = """subscription($m: ID!) { marketTrades(marketId: $m) {
  quantity market { creator { id balanceCents } } } }"""


async def raw(client: LiveClient, wait: float = 5) -> str:
    """The next message as the server wrote it (keep-alives skipped)."""
    while True:
        text = await asyncio.wait_for(client.ws.recv(), wait)
        assert isinstance(text, str)
        if json.loads(text)["type"] not in KEEP_ALIVE:
            return text


async def sockets(
    stack: AsyncExitStack, server: LiveServer, count: int, **options: Any
) -> list[LiveClient]:
    return [
        await stack.enter_async_context(live_client(server.ws_url, **options)) for _ in range(count)
    ]


def groups_of(server: LiveServer) -> LiveGroups:
    groups: LiveGroups = server.app.state.bellwether.groups
    return groups


async def test_a_group_sends_identical_bytes_and_other_variables_get_their_own(
    server: LiveServer, live_api: Api
) -> None:
    _, alice = await live_api.user("alice")
    one = await ops.create_market(live_api, alice)
    other = await ops.create_market(live_api, alice)
    async with AsyncExitStack() as stack:
        same = await sockets(stack, server, 5)
        legacy = await stack.enter_async_context(live_client(server.ws_url, protocol=LEGACY_WS))
        apart = await sockets(stack, server, 2)
        for client in [*same, legacy]:
            await client.subscribe("p", PRICES, {"m": one["id"]})
        for client in apart:
            await client.subscribe("p", PRICES, {"m": other["id"]})
        first = [await raw(client) for client in [*same, legacy, *apart]]
        groups, hub = groups_of(server), server.app.state.bellwether.hub
        assert (groups.group_count, groups.member_count) == (2, 8)
        assert hub.subscriber_count == 2  # one execution per group, not per socket
        assert len(set(first[:5])) == 1  # the very same bytes
        await ops.buy_yes(live_api, alice, one["id"], 10)
        update = {await raw(client) for client in same}
        assert len(update) == 1
        (text,) = update
        message = json.loads(text)
        assert message["type"] == "next"
        assert message["payload"]["data"]["marketPrices"]["marketId"] == one["id"]
        framed = json.loads(await raw(legacy))  # the legacy protocol's own framing
        assert (framed["type"], framed["payload"]) == ("data", message["payload"])
        for client in apart:
            await client.nothing_for(0.2)
        await ops.buy_yes(live_api, alice, other["id"], 10)
        theirs = [json.loads(await raw(client))["payload"]["data"] for client in apart]
        assert {data["marketPrices"]["marketId"] for data in theirs} == {other["id"]}


async def test_a_private_feed_never_crosses_users(server: LiveServer, live_api: Api) -> None:
    _, alice = await live_api.user("alice")
    _, bob = await live_api.user("bob")
    market = await ops.create_market(live_api, alice, "ORDER_BOOK")
    async with AsyncExitStack() as stack:
        alices = await sockets(stack, server, 2, token=alice)
        (bobs,) = await sockets(stack, server, 1, token=bob)
        for client in [*alices, bobs]:
            await client.subscribe("o", MY_ORDERS, {})
        await wait_until(lambda: groups_of(server).member_count == 3)
        assert groups_of(server).group_count == 2  # one per user
        mine = await live_api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 2, 30), alice)
        for client in alices:
            assert (await client.data())["myOrderUpdates"]["id"] == mine["placeOrder"]["id"]
        await bobs.nothing_for(0.2)
        theirs = await live_api.data(ops.PLACE_ORDER, ops.limit(market, "BUY", 2, 31), bob)
        assert (await bobs.data())["myOrderUpdates"]["id"] == theirs["placeOrder"]["id"]
        for client in alices:
            await client.nothing_for(0.2)


async def test_a_public_feed_showing_private_fields_is_grouped_per_viewer(
    server: LiveServer, live_api: Api
) -> None:
    alice_id, alice = await live_api.user("alice")
    _, bob = await live_api.user("bob")
    market = await ops.create_market(live_api, alice)
    async with AsyncExitStack() as stack:
        creator = await stack.enter_async_context(live_client(server.ws_url, alice))
        other = await stack.enter_async_context(live_client(server.ws_url, bob))
        anonymous = await stack.enter_async_context(live_client(server.ws_url))
        for client in (creator, other, anonymous):
            await client.subscribe("t", CREATORS, {"m": market["id"]})
        await wait_until(lambda: groups_of(server).member_count == 3)
        assert groups_of(server).group_count == 3
        await ops.buy_yes(live_api, bob, market["id"], 5)
        seen = [(await client.data())["marketTrades"]["market"]["creator"] for client in
                (creator, other, anonymous)]  # fmt: skip
        me = await ops.me(live_api, alice)
        assert seen[0] == {"id": alice_id, "balanceCents": me["balanceCents"]}
        assert seen[1] == seen[2] == {"id": alice_id, "balanceCents": 0}


class FakeSocket:
    """A socket for a group member: it takes writes now, or is paused (a client that
    does not read) and then never drains."""

    def __init__(self, paused: bool = False) -> None:
        self.paused = paused
        self.written: list[bytes] = []
        self.never = asyncio.Event()

    def write_now(self, frame: bytes, wire: bytes) -> bool:
        if self.paused:
            return False
        assert wire == text_frame(frame)
        self.written.append(frame)
        return True

    async def write(self, frame: bytes) -> None:
        await self.never.wait()


def payload(sequence: int) -> bytes:
    return json.dumps({"data": {"marketPrices": {"sequence": sequence}}}).encode()


async def members_of(group: Group, sockets: list[FakeSocket]) -> AsyncIterator[Member]:
    for socket in sockets:
        member = Member(group, socket, Protocol.TRANSPORT_WS, "p")  # type: ignore[arg-type]
        group.join(member)
        yield member


async def test_a_slow_socket_never_delays_the_others() -> None:
    for feed, kept in ((PRICES_FEED, 1), (TRADES_FEED, 5)):
        dropped: list[int] = []
        group = Group("key", feed, queue_size=5, on_dropped=partial(dropped.append, 1))
        fast = [FakeSocket() for _ in range(300)]  # more than one chunk per loop turn
        slow = FakeSocket(paused=True)
        members = [member async for member in members_of(group, [slow, *fast])]
        runs = [asyncio.create_task(member.run()) for member in members]
        for sequence in range(1, 101):
            await asyncio.wait_for(group.publish(payload(sequence)), 1)  # never waits on slow
        assert all(len(socket.written) == 100 for socket in fast)
        assert all(socket.written[-1].endswith(payload(100) + b"}") for socket in fast)
        backlog = list(members[0].outbox)
        assert len(backlog) <= kept and backlog[-1].endswith(payload(100) + b"}")
        assert len(dropped) == (0 if feed is PRICES_FEED else 100 - 1 - kept)
        for run in runs:
            run.cancel()
        await asyncio.gather(*runs, return_exceptions=True)


async def test_a_price_offered_mid_pass_goes_straight_to_the_sockets_not_yet_written() -> None:
    """A conflating group keeps only its newest result: a socket whose turn comes after a
    newer price arrived gets that one, never the stale one first; the sockets passed
    before get the newer one on the next pass, and every socket ends on the newest."""
    group = Group("key", PRICES_FEED, queue_size=5, on_dropped=lambda: None)
    sockets = [FakeSocket() for _ in range(CHUNK * 2)]
    async for _ in members_of(group, sockets):
        pass
    writer = asyncio.create_task(group.write_newest())
    group.offer(payload(1))
    await asyncio.sleep(0)  # the writer's first turn: one chunk, then it yields
    assert sockets[CHUNK - 1].written and not sockets[CHUNK].written
    group.offer(payload(2))
    await wait_until(
        lambda: all(s.written[-1:] and s.written[-1].endswith(payload(2) + b"}") for s in sockets)
    )
    writer.cancel()
    reached_first = [socket.written for socket in sockets[:CHUNK]]
    reached_later = [socket.written for socket in sockets[CHUNK:]]
    assert all(len(written) == 2 for written in reached_first)  # 1, then 2
    assert all(len(written) == 1 for written in reached_later)  # 2 only
    await asyncio.gather(writer, return_exceptions=True)


HOLDER = """
import asyncio, json, sys
from websockets.asyncio.client import connect

async def main(url, count, query, variables):
    sockets = []
    for _ in range(count):
        ws = await connect(url, subprotocols=["graphql-transport-ws"])
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        await ws.recv()
        payload = {"query": query, "variables": variables}
        await ws.send(json.dumps({"id": "p", "type": "subscribe", "payload": payload}))
        await ws.recv()
        sockets.append(ws)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])))
"""


async def test_memory_per_idle_subscriber_is_bounded(server: LiveServer, live_api: Api) -> None:
    """Measured with tracemalloc in this process, the server's; the sockets' other ends
    are held by another process, so none of the client's memory is counted."""
    _, alice = await live_api.user("alice")
    market = await ops.create_market(live_api, alice)
    count = 200
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        holder = await asyncio.create_subprocess_exec(
            sys.executable, "-c", HOLDER, server.ws_url, str(count), PRICES,
            json.dumps({"m": market["id"]}), stdin=PIPE, stdout=PIPE,
        )  # fmt: skip
        assert holder.stdout is not None and holder.stdin is not None
        try:
            assert await asyncio.wait_for(holder.stdout.readline(), 60) == b"ready\n"
            await wait_until(lambda: groups_of(server).member_count == count)
            gc.collect()
            per_subscriber = (tracemalloc.get_traced_memory()[0] - before) / count
            assert groups_of(server).group_count == 1
            if os.environ.get("DEBUG_MEM"):
                for stat in tracemalloc.take_snapshot().statistics("lineno")[:15]:
                    print(stat)
        finally:
            holder.stdin.close()
            await holder.wait()
    finally:
        tracemalloc.stop()
    print(f"server memory per idle subscriber (socket + subscription): {per_subscriber:.0f} B")
    assert per_subscriber < 48 * 1024
