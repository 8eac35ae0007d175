"""kill -9 of the server while a market's batch waits between its execution and its
commit (PostgreSQL, one worker): nothing of that batch is acknowledged, and the batch
is stored whole or not at all.

The batch is held there by a trigger on ``orders`` that waits for an advisory lock the
test holds: in the batch's flush (the commands ran, their writes are being sent, no
COMMIT yet) or in its COMMIT (a deferred trigger). The test first holds the market's
row lock, so that one command's batch is in flight while five more queue behind it
(``/metrics`` shows them queued); it then lets that batch commit, so the five run as
the next batch, one transaction, and stop at the trigger. The server is killed there.
Afterwards the five callers have had no response at all, and the five orders are all
absent (held in the flush: the transaction never committed) or all stored (held in
the COMMIT, which PostgreSQL had received); the command before them, acknowledged, is
stored; ``bellwether audit`` passes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from bench import load
from bench.load_ops import PLACE_ORDER, Account, Unreachable, post

pytestmark = pytest.mark.postgres

HOLD = 4242
"""The advisory lock the trigger waits for (the test holds it)."""
QUEUED = 5
HELD = "held-"
"""The ``clientOrderId`` prefix of the orders of the held batch (the trigger's filter)."""

HOLD_FUNCTION = f"""CREATE FUNCTION hold_batch() RETURNS trigger AS $$
BEGIN PERFORM pg_advisory_xact_lock_shared({HOLD}); RETURN NULL; END $$ LANGUAGE plpgsql"""
TRIGGERS = {
    "flush": "CREATE TRIGGER hold_batch AFTER INSERT ON orders FOR EACH ROW "
    f"WHEN (NEW.client_order_id LIKE '{HELD}%') EXECUTE FUNCTION hold_batch()",
    "commit": "CREATE CONSTRAINT TRIGGER hold_batch AFTER INSERT ON orders "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
    f"WHEN (NEW.client_order_id LIKE '{HELD}%') EXECUTE FUNCTION hold_batch()",
}


async def until(check: Any, within: float = 60) -> None:
    """Wait for ``await check()`` to be true (state polled, not a guessed delay)."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - polling another process's state
            await asyncio.sleep(0.02)


async def metric(http: httpx.AsyncClient, name: str) -> float:
    for line in (await http.get("/metrics")).text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


async def place(url: str, account: Account, spec: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        response = await post(http, PLACE_ORDER, {"i": spec}, account.token)
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(("held_in", "stored"), [("flush", False), ("commit", True)])
async def test_kill_9_of_a_batch_before_its_commit_returns_acknowledges_none_of_it(
    tmp_path: Path, postgres_available: None, held_in: str, stored: bool
) -> None:
    config = load.Config(clients=QUEUED + 2, ops=0, backend="postgres", markets_per_type=1)
    async with load.fresh_database("postgres", tmp_path) as url:
        env = load.server_env(url)
        load.prepare(env)
        server = load.Server(env, 1, tmp_path / "server.log")
        db = await asyncpg.connect(url)
        market_lock = await asyncpg.connect(url)
        try:
            with load.running(server):
                await server.wait_ready()
                world = await load.set_up_world(server.url, config, load.Tally())
                book = next(m for m in world.markets if m.kind == "ORDER_BOOK")
                await db.execute(HOLD_FUNCTION)
                await db.execute(TRIGGERS[held_in])
                await db.execute("SELECT pg_advisory_lock($1)", HOLD)

                def spec(key: str | None) -> dict[str, Any]:
                    order = {
                        "marketId": book.id,
                        "outcomeId": book.outcomes[0],
                        "side": "BUY",
                        "orderType": "LIMIT",
                        "quantity": 1,
                        "priceCents": 40,
                    }
                    return order if key is None else {**order, "clientOrderId": key}

                # An order acknowledged before: it must survive the crash.
                first = await place(server.url, world.accounts[1], spec(None))
                acknowledged = first["data"]["placeOrder"]["id"]
                async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
                    batches = "bellwether_market_batch_commands_count"
                    commands = "bellwether_market_batch_commands_sum"
                    before = await metric(http, batches)
                    # The market locked elsewhere: the next batch waits for the lock
                    # before it takes its commands, so all five queue and form it.
                    locked = market_lock.transaction()
                    await locked.start()
                    await market_lock.execute(
                        "SELECT 1 FROM markets WHERE id = $1 FOR UPDATE", book.id
                    )
                    held = [
                        asyncio.create_task(
                            place(server.url, world.accounts[2 + i], spec(f"{HELD}{i}"))
                        )
                        for i in range(QUEUED)
                    ]
                    queued = "bellwether_market_commands_queued"
                    await until(lambda: _equal(http, queued, QUEUED))
                    sent = await metric(http, commands)
                    await locked.commit()  # the batch takes its five and runs
                    await market_lock.close()
                    await until(lambda: _waiting_for_hold(db))
                    assert await metric(http, batches) == before + 1
                    assert await metric(http, commands) == sent + QUEUED, "one batch of five"
                server.kill()
                answers = await asyncio.gather(*held, return_exceptions=True)
                assert all(isinstance(a, Unreachable) for a in answers), answers
                await db.execute("SELECT pg_advisory_unlock($1)", HOLD)
                await until(lambda: _alone(db))
            keys = await db.fetch(
                "SELECT client_order_id FROM orders WHERE client_order_id LIKE $1", HELD + "%"
            )
            assert len(keys) == (QUEUED if stored else 0), "the batch is whole or absent"
            assert await db.fetchval("SELECT count(*) FROM orders WHERE id = $1", acknowledged)
        finally:
            await market_lock.close()  # (closing twice is a no-op)
            await db.close()
        audited = load.cli(env, "audit")
        assert audited.returncode == 0, audited.stdout + audited.stderr


async def _equal(http: httpx.AsyncClient, name: str, value: float) -> bool:
    return await metric(http, name) == value


async def _waiting_for_hold(db: asyncpg.Connection) -> bool:
    """A server connection waits for the trigger's advisory lock."""
    waiting = await db.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND NOT granted",
        HOLD,
    )
    return bool(waiting)


async def _alone(db: asyncpg.Connection) -> bool:
    """Every server connection to the database has ended (the killed server's
    transaction finished: rolled back, or committed if its COMMIT had been sent)."""
    others = await db.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
    )
    return others == 0
