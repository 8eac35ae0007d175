"""The sequencer's batches: ``peek`` shows what is queued without taking it, and the
first ``take`` takes it with whatever arrived since, up to the bound."""

from __future__ import annotations

import asyncio

from domain.ports import PendingBatch
from persistence.sequencer import AsyncioSequencer


class Runner:
    """Runs each batch of key "m" as ``batching`` does: ``peek``, a wait for the lock
    (during which ``late`` arrive, the first time), then ``take``."""

    def __init__(self, sequencer: AsyncioSequencer, late: str = "") -> None:
        self.sequencer, self.late = sequencer, late
        self.peeked: list[list[object]] = []
        self.batches: list[list[object]] = []
        self.arrived: list[asyncio.Task[object]] = []

    async def send(self, items: str) -> list[object]:
        return list(await asyncio.gather(*(self.sequencer.run("m", x, self) for x in items)))

    async def __call__(self, batch: PendingBatch) -> list[object]:
        self.peeked.append(list(batch.peek()))
        if not self.batches and self.late:
            run = self.sequencer.run
            self.arrived = [asyncio.create_task(run("m", x, self)) for x in self.late]
            await asyncio.sleep(0)
        taken = list(batch.take())
        assert batch.peek() == taken  # once taken, the batch's items
        self.batches.append(taken)
        return taken


async def test_what_arrives_between_the_peek_and_the_take_joins_the_batch() -> None:
    runner = Runner(AsyncioSequencer(), late="cd")
    assert await runner.send("ab") == ["a", "b"]
    assert await asyncio.gather(*runner.arrived) == ["c", "d"]
    assert runner.peeked == [["a", "b"]]
    assert runner.batches == [["a", "b", "c", "d"]]


async def test_peek_and_take_stop_at_the_bound() -> None:
    runner = Runner(AsyncioSequencer(max_batch=2))
    assert await runner.send("abc") == ["a", "b", "c"]
    assert runner.peeked == [["a", "b"], ["c"]]
    assert runner.batches == [["a", "b"], ["c"]]
