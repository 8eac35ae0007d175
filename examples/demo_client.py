"""The seed chapter's end-to-end demo (section 32.9) in GraphQL, with the ``gql`` client.

Run a server first (``make run`` or ``bellwether serve``), then:

    python examples/demo_client.py [--url http://127.0.0.1:8000/graphql]

It registers two users (a random suffix keeps names unique, and the output
says the names it used), logs them in, lets Alice create an LMSR market whose
title carries the same suffix (so a run never repeats the demo data's or an
earlier run's question), has Bob buy 20 YES shares, prints the new prices and
Bob's position, then Alice resolves the market and both balances are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
from datetime import UTC, datetime
from typing import Any

from gql import Client, gql
from gql.transport.httpx import HTTPXAsyncTransport

REGISTER = gql("mutation($i: RegisterInput!) { register(input: $i) { id username } }")
LOGIN = gql(
    "mutation($u: String!, $p: String!) { login(username: $u, password: $p) "
    "{ accessToken expiresAt } }"
)
CREATE = gql(
    """mutation($i: CreateMarketInput!) { createMarket(input: $i) {
      id title prices outcomes { id name } } }"""
)
TRADE = gql(
    """mutation($i: LmsrTradeInput!) { lmsrTrade(input: $i) {
      costOrPayoutCents sharesDelta newPositionYes prices } }"""
)
PRICES = gql("query($id: ID!) { market(id: $id) { prices volumeCents } }")
POSITIONS = gql(
    """query($m: ID) { myPositions(marketId: $m) { outcome { name } shares
      averageCostCents currentPrice unrealizedPnlCents } }"""
)
RESOLVE = gql(
    """mutation($id: ID!, $w: ID!) { resolveMarket(id: $id, winningOutcomeId: $w) {
      totalPayoutCents winnersCount refundedCents market { status } } }"""
)
ME = gql("{ me { username balanceCents } }")


async def call(url: str, document: Any, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    transport = HTTPXAsyncTransport(url=url, headers=headers)
    async with Client(transport=transport) as session:
        return await session.execute(document, variable_values=variables)


async def demo(url: str) -> None:
    suffix = secrets.token_hex(3)
    people = {"alice": "securepassword123", "bob": "anotherpassword456"}
    tokens: dict[str, str] = {}
    usernames = {name: f"{name}_{suffix}" for name in people}
    for name, password in people.items():
        username = usernames[name]
        user = (
            await call(
                url,
                REGISTER,
                {
                    "i": {
                        "username": username,
                        "email": f"{username}@example.com",
                        "password": password,
                    }
                },
            )
        )["register"]
        print(f"Step 1: {user['username']} registered with ID {user['id']}")
        login = (await call(url, LOGIN, {"u": username, "p": password}))["login"]
        tokens[name] = login["accessToken"]
        print(f"Step 2: {username} logged in; token valid until {login['expiresAt']}")

    closes = datetime(2029, 12, 31, 23, 59, 59, tzinfo=UTC).isoformat()
    market = (
        await call(
            url,
            CREATE,
            {
                "i": {
                    "title": f"Demo client run {suffix}: will Bob's trade move the price?",
                    "description": "Created by examples/demo_client.py; resolved at its end.",
                    "marketType": "LMSR",
                    "outcomes": ["Yes", "No"],
                    "liquidityParameter": 100.0,
                    "resolutionSource": "examples/demo_client.py",
                    "closesAt": closes,
                }
            },
            tokens["alice"],
        )
    )["createMarket"]
    print(f"Step 3: market created: {market['title']}; initial prices {market['prices']}")

    trade = (
        await call(
            url,
            TRADE,
            {
                "i": {
                    "marketId": market["id"],
                    "side": "BUY_YES",
                    "amountType": "SHARES",
                    "amount": 20,
                }
            },
            tokens["bob"],
        )
    )["lmsrTrade"]
    bought, paid = trade["sharesDelta"], trade["costOrPayoutCents"]
    print(f"Step 4: {usernames['bob']} bought {bought} YES for {paid} cents")

    prices = (await call(url, PRICES, {"id": market["id"]}))["market"]
    print(f"Step 5: updated prices {prices['prices']} (volume {prices['volumeCents']} cents)")

    positions = (await call(url, POSITIONS, {"m": market["id"]}, tokens["bob"]))["myPositions"]
    print(f"Step 6: {usernames['bob']}'s positions {positions}")

    yes = market["outcomes"][0]["id"]
    result = await call(url, RESOLVE, {"id": market["id"], "w": yes}, tokens["alice"])
    print(f"Step 7: resolved YES: {result['resolveMarket']}")
    for name in people:
        me = (await call(url, ME, {}, tokens[name]))["me"]
        print(f"        {me['username']} now holds {me['balanceCents']} cents")


def main() -> None:
    parser = argparse.ArgumentParser(description="Bellwether end-to-end demo over GraphQL")
    parser.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    asyncio.run(demo(parser.parse_args().url))


if __name__ == "__main__":
    main()
