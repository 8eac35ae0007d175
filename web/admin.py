"""Operator commands: ``migrate``, ``audit``, ``demo`` and ``create-admin``.

Each reads ``BELLWETHER_DATABASE_URL`` (see ``web.settings``) and returns an
exit status: 0 on success, 1 when the command ran and found a problem.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
from collections.abc import Awaitable, Callable

from domain.errors import DomainError
from persistence.memory import RecordingPublisher
from persistence.tortoise.database import Database, migrate
from persistence.tortoise.snapshot import audit_database
from web.backends import Backend, default_hasher, open_tortoise
from web.settings import AppSettings

PASSWORD_ENV = "BELLWETHER_ADMIN_PASSWORD"


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("migrate", help="apply database migrations").set_defaults(run=migrate_command)
    sub.add_parser(
        "audit", help="check every money invariant of the database; exit 1 on any mismatch"
    ).set_defaults(run=audit_command)
    sub.add_parser(
        "demo", help="seed demo users, markets and trades (does nothing if data exists)"
    ).set_defaults(run=demo_command)
    admin = sub.add_parser("create-admin", help="create an admin user")
    admin.add_argument("--username", required=True)
    admin.add_argument("--email", required=True)
    admin.add_argument(
        "--password", help=f"default: ${PASSWORD_ENV}, else prompted for (not echoed)"
    )
    admin.set_defaults(run=create_admin_command)


def migrate_command(args: argparse.Namespace) -> int:
    applied = asyncio.run(migrate(AppSettings.from_env().database_url))
    print("applied: " + ", ".join(applied) if applied else "no migrations to apply")
    return 0


def audit_command(args: argparse.Namespace) -> int:
    return asyncio.run(_audit(AppSettings.from_env().database_url))


async def _audit(url: str) -> int:
    database = await Database.open(url)
    try:
        problems = await audit_database(database)
    finally:
        await database.close()
    for problem in problems:
        print(f"MISMATCH {problem}")
    print(f"audit: {len(problems)} problem(s)" if problems else "audit: every invariant holds")
    return 1 if problems else 0


async def _with_backend(run: Callable[[Backend], Awaitable[int]]) -> int:
    backend = await open_tortoise(AppSettings.from_env(), RecordingPublisher(), default_hasher())
    try:
        return await run(backend)
    finally:
        await backend.close()


def demo_command(args: argparse.Namespace) -> int:
    from web.seed import seed_if_empty

    async def run(backend: Backend) -> int:
        seeded = await seed_if_empty(backend)
        print("demo data seeded" if seeded else "data exists already: nothing seeded")
        return 0

    return asyncio.run(_with_backend(run))


def create_admin_command(args: argparse.Namespace) -> int:
    password = args.password or os.environ.get(PASSWORD_ENV) or getpass.getpass("Password: ")

    async def run(backend: Backend) -> int:
        from domain.services import accounts

        registration = accounts.Registration(args.username, args.email, password)
        try:
            user = await accounts.register(backend.services, registration)
            await promote(backend, user.id)
        except DomainError as exc:
            print(f"create-admin: {exc.code}: {exc.message}")
            return 1
        print(f"admin {user.username} created (id {user.id})")
        return 0

    return asyncio.run(_with_backend(run))


async def promote(backend: Backend, user_id: str) -> None:
    async with backend.services.uow() as uow:
        user = await uow.users.get(user_id)
        assert user is not None
        user.is_admin = True
        await uow.users.save(user)
        await uow.commit()
