"""Use cases that only read (an LMSR quote, a sign-in) open no unit of work: on SQLite
a unit of work takes the process-wide writer lock, and a read must never wait for it."""

from __future__ import annotations

from dataclasses import replace

from domain.model import AmountType, LmsrSide
from domain.ports import UnitOfWork
from domain.services import accounts, amm
from tests.harness import Harness


def _no_unit_of_work() -> UnitOfWork:
    raise AssertionError("a read opened a unit of work")


async def test_a_quote_and_a_sign_in_read_without_a_unit_of_work(harness: Harness) -> None:
    alice = await harness.user("alice")
    market = await harness.market(alice)
    reads_only = replace(harness.ctx, uow=_no_unit_of_work)
    order = amm.LmsrOrder(market.id, LmsrSide.BUY_YES, AmountType.SHARES, 10)
    assert (await amm.quote(reads_only, order)).fill.trader_cents == 513
    assert (await accounts.authenticate(reads_only, "alice", "correct horse")).id == alice.id
