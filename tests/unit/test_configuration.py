"""Every environment variable the code reads is documented with its default, and the
startup heap freeze can be switched off."""

from __future__ import annotations

import gc
import re
from pathlib import Path

import pytest

from tests.harness import FakeHasher
from web.app import create_app
from web.settings import AppSettings

ROOT = Path(__file__).resolve().parents[2]
READ = re.compile(r'_(?:raw|int|bool|list)\(\s*env,\s*"([A-Z_]+)"|"BELLWETHER_([A-Z_]+)"')


def variables_read() -> set[str]:
    names: set[str] = set()
    for package in ("web", "auth", "schema", "resolvers", "persistence"):
        for source in (ROOT / package).rglob("*.py"):
            for match in READ.finditer(source.read_text()):
                names.add(match.group(1) or match.group(2))
    return names


def test_every_variable_read_is_in_the_configuration_tables() -> None:
    documented = (ROOT / "docs" / "API.md").read_text() + (ROOT / "README.md").read_text()
    names = variables_read()
    assert {"DATABASE_URL", "JWT_SECRET", "GC_FREEZE", "PORT"} <= names  # the scan works
    missing = {name for name in names if f"`{name}`" not in documented}
    assert missing == set()


async def test_the_heap_is_frozen_after_the_start_only_when_asked(tmp_path: Path) -> None:
    for freeze in (False, True):
        settings = AppSettings(
            database_url="memory://", jwt_secret="x" * 40, demo=False, gc_freeze=freeze
        )
        app = create_app(settings, hasher=FakeHasher())
        try:
            async with app.router.lifespan_context(app):
                assert (gc.get_freeze_count() > 0) is freeze
        finally:
            gc.unfreeze()  # this test process starts many apps


def test_a_default_fee_outside_the_market_range_is_refused_at_start_up() -> None:
    assert AppSettings.from_env({"BELLWETHER_DEFAULT_FEE_BPS": "1000"}).default_fee_bps == 1000
    for bad in ("-1", "1001", "10000"):
        with pytest.raises(SystemExit, match="BELLWETHER_DEFAULT_FEE_BPS must be from 0 to 1000"):
            AppSettings.from_env({"BELLWETHER_DEFAULT_FEE_BPS": bad})
