"""The users a worker saw signed in lately (``auth.principals``): kept for a while,
forgotten when deactivated, never kept from a lookup that a deactivation overtook."""

from __future__ import annotations

from datetime import UTC, datetime

from auth.principals import RecentPrincipals
from auth.tokens import Principal
from domain.events import PricesChanged, UserDeactivated

AT = datetime(2030, 1, 1, tzinfo=UTC)
ALICE, BOB = Principal("alice", is_admin=False), Principal("bob", is_admin=True)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_principal_is_kept_for_its_time_then_looked_up_again() -> None:
    clock = Clock()
    recent = RecentPrincipals(ttl=2.0, clock=clock)
    recent.keep(ALICE, recent.mark())
    clock.now += 1.9
    assert recent.get("alice") == ALICE
    clock.now += 0.1
    assert recent.get("alice") is None
    assert recent.get("bob") is None


def test_a_deactivated_user_is_forgotten_and_others_kept() -> None:
    recent = RecentPrincipals(ttl=2.0)
    recent.keep(ALICE, recent.mark())
    recent.keep(BOB, recent.mark())
    recent.forget("alice")
    assert recent.get("alice") is None and recent.get("bob") == BOB


def test_a_lookup_overtaken_by_a_deactivation_is_not_kept() -> None:
    """It may have read the user before the deactivation committed."""
    recent = RecentPrincipals(ttl=2.0)
    mark = recent.mark()  # a lookup starts
    recent.forget("alice")  # a deactivation arrives meanwhile (of anyone)
    recent.keep(ALICE, mark)  # the lookup ends: it found alice active
    assert recent.get("alice") is None
    recent.keep(ALICE, recent.mark())  # a lookup that started after it
    assert recent.get("alice") == ALICE


async def test_the_bus_forgets_deactivated_users_and_a_reconnect_forgets_everyone() -> None:
    recent = RecentPrincipals(ttl=2.0)
    recent.keep(ALICE, recent.mark())
    recent.keep(BOB, recent.mark())
    await recent.on_events([PricesChanged("m", (0.5, 0.5), None, 0, 1, AT)])
    assert recent.get("alice") == ALICE
    await recent.on_events([UserDeactivated("alice", AT)])
    assert recent.get("alice") is None and recent.get("bob") == BOB
    await recent.on_reconnect()
    assert recent.get("bob") is None


def test_beyond_its_size_the_least_recently_looked_up_go_first() -> None:
    recent = RecentPrincipals(ttl=2.0, max_size=2)
    carol = Principal("carol", is_admin=False)
    for principal in (ALICE, BOB, ALICE, carol):
        recent.keep(principal, recent.mark())
    assert recent.get("bob") is None
    assert recent.get("alice") == ALICE and recent.get("carol") == carol
