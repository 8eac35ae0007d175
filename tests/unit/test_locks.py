"""The writer lock: one holder at a time, a free lock taken at once, no lost wake-ups."""

from __future__ import annotations

import asyncio

import pytest

from persistence.locks import WriterLock


def acquired_at_once(lock: WriterLock) -> bool:
    """Whether ``acquire`` finishes without waiting for the event loop even once."""
    attempt = lock.acquire()
    try:
        attempt.send(None)
    except StopIteration:
        return True
    attempt.close()
    return False


async def hold(lock: WriterLock, log: list[str], name: str, ticks: int) -> None:
    await lock.acquire()
    try:
        log.append(f"{name} in")
        for _ in range(ticks):
            await asyncio.sleep(0)
        log.append(f"{name} out")
    finally:
        lock.release()


async def test_one_holder_at_a_time_and_every_waiter_gets_it() -> None:
    lock, log = WriterLock(), []
    await asyncio.gather(*(hold(lock, log, str(i), ticks=i % 3) for i in range(12)))
    assert len(log) == 24
    for i in range(0, 24, 2):  # never two inside
        assert log[i].endswith(" in") and log[i + 1] == log[i].replace(" in", " out")
    assert not lock.locked()


async def test_a_released_lock_goes_to_whoever_asks_first() -> None:
    lock = WriterLock()
    await lock.acquire()
    waiter = asyncio.ensure_future(lock.acquire())
    await asyncio.sleep(0)  # it waits
    lock.release()  # woken, but it has not run yet
    assert acquired_at_once(lock)  # one arriving meanwhile does not queue behind it
    assert not waiter.done()
    lock.release()
    await waiter  # then the woken waiter gets it
    assert lock.locked()
    lock.release()


async def test_a_woken_waiter_that_is_cancelled_passes_the_wake_up_on() -> None:
    lock = WriterLock()
    await lock.acquire()
    first = asyncio.ensure_future(lock.acquire())
    second = asyncio.ensure_future(lock.acquire())
    await asyncio.sleep(0)
    lock.release()  # wakes the first
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 1)  # not left waiting for a release that came
    assert lock.locked()
    lock.release()


async def test_a_passed_over_waiter_is_first_in_line_again() -> None:
    lock, order = WriterLock(), []
    await lock.acquire()
    woken = asyncio.ensure_future(lock.acquire())
    await asyncio.sleep(0)
    lock.release()  # wakes it
    assert acquired_at_once(lock)  # but a newcomer takes the lock first, holds it a while
    await asyncio.sleep(0)  # the woken waiter finds it taken and waits again
    later = asyncio.ensure_future(lock.acquire())
    for task, name in ((woken, "woken"), (later, "later")):
        task.add_done_callback(lambda _, name=name: order.append(name))
    await asyncio.sleep(0)
    lock.release()
    await asyncio.wait_for(woken, 1)
    assert order == ["woken"]
    lock.release()
    await asyncio.wait_for(later, 1)
    lock.release()


async def test_a_cancelled_waiter_leaves_the_line() -> None:
    lock = WriterLock()
    await lock.acquire()
    waiter = asyncio.ensure_future(lock.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert not lock._waiters
    lock.release()
    assert not lock.locked()
    await asyncio.wait_for(lock.acquire(), 1)
    lock.release()
    with pytest.raises(RuntimeError):
        lock.release()
