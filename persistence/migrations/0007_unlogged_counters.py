"""Issue 14: the shared counters' table is UNLOGGED on PostgreSQL (SQLite: nothing to do).

Every order operation and login attempt takes from a token bucket in ``counters``
(``persistence.tortoise.counters``), one statement committed on its own. A logged
table makes each of those commits wait for the write-ahead log to reach the disk; an
unlogged one writes no WAL, so the commit does not wait. What is given up: after a
crash of PostgreSQL (not a clean restart) the table comes back empty, every bucket
full again, and a standby has none. Rate limits may forget; money is not there. The
heartbeats' ``deadlines`` stay logged: a dead-man switch must survive a crash.
"""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops


async def _unlogged(_apps: Any, editor: Any) -> None:
    if editor.DIALECT == "postgres":
        await editor.client.execute_script("ALTER TABLE counters SET UNLOGGED")


async def _logged(_apps: Any, editor: Any) -> None:
    if editor.DIALECT == "postgres":
        await editor.client.execute_script("ALTER TABLE counters SET LOGGED")


class Migration(migrations.Migration):
    dependencies = [("models", "0006_trade_sequences")]

    initial = False

    operations = [ops.RunPython(_unlogged, _logged)]
