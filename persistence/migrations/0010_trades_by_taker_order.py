"""Issue 14: trades get an index by ``taker_order_id``, beside the one by ``maker_order_id``.

``Order.trades`` (``TortoiseReadModel.trades_for_orders``) asks for ``taker_order_id IN
(...) OR maker_order_id IN (...)``; with one side unindexed PostgreSQL scanned the whole
table, and with both it combines the two index scans (BitmapOr). It costs one more B-tree
entry per trade (docs/BENCHMARKS.md). Both backends name the index as Tortoise would, so
both create it by name; the migrations' model state follows with ``AlterField`` applied
to the state only (on SQLite an ``AlterField`` would rebuild the whole table). A plain
``CREATE INDEX`` blocks writes to ``trades`` while it builds.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from persistence.migrations._state import altered_in_state

_INDEX = "idx_trades_taker_o_48930b"


class Migration(migrations.Migration):
    dependencies = [("models", "0009_ledger_indexes")]

    initial = False

    operations = [
        ops.RunSQL(
            f'CREATE INDEX IF NOT EXISTS "{_INDEX}" ON "trades" ("taker_order_id")',
            f'DROP INDEX IF EXISTS "{_INDEX}"',
        ),
        altered_in_state(
            "TradeRecord",
            "taker_order_id",
            fields.CharField(max_length=32, null=True, db_index=True),
        ),
    ]
