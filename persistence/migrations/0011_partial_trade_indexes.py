"""Issue 14: trades index their maker and their orders only where they have one.

The indexes by ``maker_user_id``, ``taker_order_id`` and ``maker_order_id`` become
partial (``WHERE column IS NOT NULL``), under the same names. An LMSR trade has no maker
and no order, so each one wrote three NULL entries that no query reads: the reads look
these columns up by value (``myTrades``: ``maker_user_id = $1``; ``Order.trades``:
``taker_order_id IN (...) OR maker_order_id IN (...)``), and PostgreSQL (prepared
statements included) and SQLite use a partial index for them (docs/BENCHMARKS.md). Both
backends drop and create the indexes by name; the model state follows in state only (an
``AlterField`` on SQLite would rebuild the table). A plain ``CREATE INDEX`` blocks writes
to ``trades`` while it builds.
"""

from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from persistence.migrations._state import InStateOnly, altered_in_state
from persistence.tortoise.models import NonNullIndex

_INDEXES = {
    "maker_user_id": "idx_trades_maker_u_6f0f89",
    "taker_order_id": "idx_trades_taker_o_48930b",
    "maker_order_id": "idx_trades_maker_o_75527f",
}


async def _rebuild(editor: Any, where: str) -> None:
    for column, index in _INDEXES.items():
        condition = where.format(column=column)
        await editor.client.execute_script(
            f'DROP INDEX IF EXISTS "{index}"; '
            f'CREATE INDEX "{index}" ON "trades" ("{column}"){condition}'
        )


async def _partial(_apps: Any, editor: Any) -> None:
    await _rebuild(editor, ' WHERE "{column}" IS NOT NULL')


async def _full(_apps: Any, editor: Any) -> None:
    await _rebuild(editor, "")


class Migration(migrations.Migration):
    dependencies = [("models", "0010_trades_by_taker_order")]

    initial = False

    operations = [
        ops.RunPython(_partial, _full),
        *(
            altered_in_state("TradeRecord", column, fields.CharField(max_length=32, null=True))
            for column in _INDEXES
        ),
        *(
            InStateOnly(ops.AddIndex("TradeRecord", NonNullIndex(fields=(column,), name=name)))
            for column, name in _INDEXES.items()
        ),
    ]
