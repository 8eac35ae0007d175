"""Market affinity's pure parts: the owner of a market, and where a request names its
market."""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from domain.errors import ServiceUnavailable
from web.affinity import MarketLocator, Named, OrderMarkets, WorkerSlot, owner

ROOT = Path(__file__).resolve().parents[2]
LMSR = "mutation($i: LmsrTradeInput!) { lmsrTrade(input: $i) { prices } }"


def test_a_market_has_one_owner_in_range_for_any_number_of_workers() -> None:
    ids = [secrets.token_hex(16) for _ in range(200)]
    for workers in range(1, 6):
        slots = [owner(market_id, workers) for market_id in ids]
        assert all(0 <= slot < workers for slot in slots)
        assert set(slots) == set(range(workers))  # 200 random ids reach every slot


def test_the_owner_is_the_same_in_every_process() -> None:
    """Python's own str hash is salted per process; the owner must not be."""
    ids = [secrets.token_hex(16) for _ in range(50)]
    script = (
        "import sys; from web.affinity import owner; "
        "print(','.join(str(owner(i, 3)) for i in sys.argv[1:]))"
    )
    elsewhere = subprocess.run(
        [sys.executable, "-c", script, *ids],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "random", "PATH": ""},
    ).stdout.strip()
    assert elsewhere == ",".join(str(owner(i, 3)) for i in ids)


@pytest.mark.parametrize(
    ("query", "variables", "expected"),
    [
        (LMSR, {"i": {"marketId": "m1", "side": "BUY_YES"}}, "m1"),
        ('mutation { lmsrTrade(input: {marketId: "m2", amount: 1}) { prices } }', None, "m2"),
        ("mutation($m: ID!) { placeOrder(input: {marketId: $m}) { id } }", {"m": "m3"}, "m3"),
        (
            "mutation($m: ID!) { mintCompleteSet(marketId: $m, quantity: 1) { cents } }",
            {"m": "m4"},
            "m4",
        ),
        (
            "mutation($o: [PlaceOrderInput!]!) { placeOrders(inputs: $o) { ok } }",
            {"o": [{"marketId": "m5"}]},
            "m5",
        ),
        ('mutation { placeOrders(inputs: [{marketId: "m6"}]) { ok } }', None, "m6"),
        (
            "mutation { a: cancelOrder(id: 1) { id } "
            'b: redeemCompleteSet(marketId: "m7", quantity: 1) { cents } }',
            None,
            "m7",
        ),
    ],
)
def test_a_mutation_names_its_market_literally_or_by_variable(
    query: str, variables: dict[str, Any] | None, expected: str
) -> None:
    target = MarketLocator(2000).target(query, None)
    assert target is not None
    assert target.named_id(variables) == expected


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("query($m: ID!) { orderBook(marketId: $m, outcomeId: 1) { sequence } }", {"m": "m"}),
        ("mutation($id: ID!) { revokeApiKey(id: $id) { id } }", {"id": "k"}),
        (LMSR, {"i": {"side": "BUY_YES"}}),  # invalid: the schema says so, wherever it runs
        (LMSR, {"i": {"marketId": 7}}),
        (LMSR, None),
        ("mutation { lmsrTrade(input: {marketId: ", None),  # unparsable
        ("mutation A { x } mutation B { y }", None),  # two operations, none chosen
    ],
)
def test_other_requests_name_no_market(query: str, variables: dict[str, Any] | None) -> None:
    target = MarketLocator(2000).target(query, None)
    assert target is None or target.named_id(variables) is None


@pytest.mark.parametrize(
    ("query", "variables", "expected"),
    [
        ("mutation($id: ID!) { cancelOrder(id: $id) { id } }", {"id": "o1"}, "o1"),
        ('mutation { amendOrder(id: "o2", quantity: 3) { id } }', None, "o2"),
        ("mutation($ids: [ID!]!) { cancelOrders(ids: $ids) { ok } }", {"ids": ["o3", "x"]}, "o3"),
        ('mutation { cancelOrders(ids: ["o4"]) { ok } }', None, "o4"),
    ],
)
def test_a_mutation_naming_an_order_is_located_by_it(
    query: str, variables: dict[str, Any] | None, expected: str
) -> None:
    target = MarketLocator(2000).target(query, None)
    assert target is not None and target.named is Named.ORDER
    assert target.named_id(variables) == expected


def test_a_field_naming_a_market_comes_before_one_naming_an_order() -> None:
    query = 'mutation { a: cancelOrder(id: "o") { id } b: mintCompleteSet(marketId: "m") { c } }'
    target = MarketLocator(2000).target(query, None)
    assert target is not None and target.named is Named.MARKET
    assert (target.named_id(None), target.response_key) == ("m", "b")


async def test_an_orders_market_is_looked_up_once_and_remembered() -> None:
    looked_up: list[str] = []

    async def lookup(order_id: str) -> str | None:
        looked_up.append(order_id)
        return None if order_id == "missing" else f"market-of-{order_id}"

    orders = OrderMarkets(lookup, size=2)
    assert [await orders.market_of(o) for o in ("a", "a", "missing", "missing")] == [
        "market-of-a",
        "market-of-a",
        None,
        None,
    ]
    assert looked_up == ["a", "missing", "missing"]  # an order placed since may be found
    for order_id in ("b", "c", "a"):  # two remembered at most, the oldest forgotten first
        await orders.market_of(order_id)
    assert looked_up[3:] == ["b", "c", "a"]


async def test_an_order_lookup_failing_leaves_the_request_here() -> None:
    async def down(order_id: str) -> str | None:
        raise ServiceUnavailable("the database is unreachable")

    assert await OrderMarkets(down).market_of("o") is None


def test_the_chosen_operation_decides() -> None:
    query = (
        'mutation A { mintCompleteSet(marketId: "a", quantity: 1) { cents } } '
        'mutation B { mintCompleteSet(marketId: "b", quantity: 1) { cents } } '
        "query C { me { id } }"
    )
    locator = MarketLocator(2000)
    assert locator.target(query, "B").named_id(None) == "b"  # type: ignore[union-attr]
    assert locator.target(query, "C") is None
    assert locator.target(query, ["A"]) is None


def test_the_error_position_is_the_market_field() -> None:
    target = MarketLocator(2000).target("mutation {\n  x: lmsrTrade(input: $i) { prices } }", None)
    assert target is not None
    assert (target.response_key, target.line, target.column) == ("x", 2, 3)


def test_a_worker_slot_travels_in_its_environment(tmp_path: Path) -> None:
    slot = WorkerSlot(1, 3, tmp_path)
    assert WorkerSlot.from_env(slot.env()) == slot
    assert WorkerSlot.from_env({}) is None
    assert slot.socket_path(2) == tmp_path / "worker-2.sock"
