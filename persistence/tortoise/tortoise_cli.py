"""Configuration for Tortoise's own CLI, used by developers to write migrations:

    TORTOISE_ORM=persistence.tortoise.tortoise_cli.TORTOISE_ORM .venv/bin/tortoise makemigrations

It reads ``BELLWETHER_DATABASE_URL`` (default: a scratch SQLite file). The
application itself never imports this module; it calls ``database.migrate``.
"""

from __future__ import annotations

import os

from persistence.tortoise.database import tortoise_config

TORTOISE_ORM = tortoise_config(
    os.environ.get("BELLWETHER_DATABASE_URL") or "sqlite://bellwether-migrations.db"
)
