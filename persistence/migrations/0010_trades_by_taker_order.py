"""Issue 14: trades get an index by ``taker_order_id``, beside the one by ``maker_order_id``.

``Order.trades`` (``TortoiseReadModel.trades_for_orders``) asks for ``taker_order_id IN
(...) OR maker_order_id IN (...)``; with one side unindexed PostgreSQL scanned the whole
table, and with both it combines the two index scans (BitmapOr). It costs one more B-tree
entry per trade (docs/BENCHMARKS.md). Both backends name the index as Tortoise would, so
both create it by name; the migrations' model state follows with ``AlterField`` applied
to the state only (on SQLite an ``AlterField`` would rebuild the whole table). A plain
``CREATE INDEX`` blocks writes to ``trades`` while it builds.
"""

from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from persistence.migrations._state import altered_in_state

_INDEX = "idx_trades_taker_o_48930b"


async def _create(_apps: Any, editor: Any) -> None:
    await editor.client.execute_script(
        f'CREATE INDEX IF NOT EXISTS "{_INDEX}" ON "trades" ("taker_order_id")'
    )


async def _drop(_apps: Any, editor: Any) -> None:
    await editor.client.execute_script(f'DROP INDEX IF EXISTS "{_INDEX}"')


class Migration(migrations.Migration):
    dependencies = [("models", "0009_ledger_indexes")]

    initial = False

    operations = [
        ops.RunPython(_create, _drop),
        altered_in_state(
            "TradeRecord",
            "taker_order_id",
            fields.CharField(max_length=32, null=True, db_index=True),
        ),
    ]
