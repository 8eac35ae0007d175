"""Issue 14: trades and price points name their market (and a trade its outcome) by a
plain id, not a foreign key.

Each row inserted into a table with a foreign key makes PostgreSQL look up and
KEY SHARE-lock the referenced row (a trigger per row and key); a market batch
inserts a trade per fill naming the market and outcome its own transaction has just
locked and updated, so the checks pass by construction and only cost the backend CPU
(docs/BENCHMARKS.md). Markets and outcomes are never deleted, and ``bellwether audit``
reports any trade or price point whose market or outcome does not exist
(``domain.audit``). docs/PERSISTENCE.md, "Foreign keys", says which tables keep theirs.

PostgreSQL drops the constraints; SQLite cannot, so it rebuilds the two tables
(copy, drop, rename; the same indexes) as its documentation prescribes. The
migrations' model state changes without touching the database (``InStateOnly``).
"""

from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from persistence.migrations._state import InStateOnly

_TABLES = ("trades", "price_points")

_SQLITE_TABLES = {
    "trades": (
        """CREATE TABLE "new__trades" (
    "id" VARCHAR(32) NOT NULL PRIMARY KEY,
    "price_cents" INT NOT NULL,
    "quantity" BIGINT NOT NULL,
    "is_amm" INT NOT NULL,
    "taker_side" VARCHAR(4) NOT NULL,
    "taker_user_id" VARCHAR(32) NOT NULL,
    "maker_user_id" VARCHAR(32),
    "taker_order_id" VARCHAR(32),
    "maker_order_id" VARCHAR(32),
    "lmsr_side" VARCHAR(8),
    "notional_cents" BIGINT NOT NULL,
    "fee_cents" BIGINT NOT NULL,
    "executed_at" TIMESTAMP NOT NULL,
    "market_id" VARCHAR(32) NOT NULL,
    "outcome_id" VARCHAR(32) NOT NULL,
    "sequence" BIGINT
)""",
        (
            'CREATE INDEX "idx_trades_taker_u_418302" ON "trades" ("taker_user_id")',
            'CREATE INDEX "idx_trades_maker_u_6f0f89" ON "trades" ("maker_user_id")',
            'CREATE INDEX "idx_trades_maker_o_75527f" ON "trades" ("maker_order_id")',
            'CREATE INDEX "idx_trades_market__4927d7" ON "trades" ("market_id", "executed_at")',
        ),
    ),
    "price_points": (
        """CREATE TABLE "new__price_points" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "at" TIMESTAMP NOT NULL,
    "prices" JSON NOT NULL,
    "market_id" VARCHAR(32) NOT NULL
)""",
        ('CREATE INDEX "idx_price_point_market__b4fa7d" ON "price_points" ("market_id", "at")',),
    ),
}

# Every foreign key of the two tables, whatever PostgreSQL named it.
_POSTGRES_DROP = """
DO $$
DECLARE fk record;
BEGIN
    FOR fk IN
        SELECT conrelid::regclass AS tab, conname FROM pg_constraint
        WHERE contype = 'f' AND conrelid IN ('trades'::regclass, 'price_points'::regclass)
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tab, fk.conname);
    END LOOP;
END $$
"""

_POSTGRES_ADD = """
ALTER TABLE trades
    ADD CONSTRAINT trades_market_id_fkey FOREIGN KEY (market_id)
        REFERENCES markets (id) ON DELETE CASCADE,
    ADD CONSTRAINT trades_outcome_id_fkey FOREIGN KEY (outcome_id)
        REFERENCES outcomes (id) ON DELETE CASCADE;
ALTER TABLE price_points
    ADD CONSTRAINT price_points_market_id_fkey FOREIGN KEY (market_id)
        REFERENCES markets (id) ON DELETE CASCADE
"""


async def _rebuild_sqlite(editor: Any, table: str) -> None:
    create, indexes = _SQLITE_TABLES[table]
    columns = create.split("(", 1)[1]
    names = ", ".join(
        line.split()[0] for line in columns.splitlines() if line.strip().startswith('"')
    )
    for statement in (
        create,
        f'INSERT INTO "new__{table}" ({names}) SELECT {names} FROM "{table}"',
        f'DROP TABLE "{table}"',
        f'ALTER TABLE "new__{table}" RENAME TO "{table}"',
        *indexes,
    ):
        await editor.client.execute_script(statement)


async def _drop_foreign_keys(_apps: Any, editor: Any) -> None:
    if editor.DIALECT == "postgres":
        await editor.client.execute_script(_POSTGRES_DROP)
    elif editor.DIALECT == "sqlite":
        for table in _TABLES:
            await _rebuild_sqlite(editor, table)


async def _add_foreign_keys(_apps: Any, editor: Any) -> None:
    if editor.DIALECT == "postgres":
        await editor.client.execute_script(_POSTGRES_ADD)


def _plain_ids(model: str, *relations: str) -> list[InStateOnly]:
    """``model``'s foreign keys ``relations`` replaced by plain ``<relation>_id`` columns."""
    removed = [InStateOnly(ops.RemoveField(model_name=model, name=name)) for name in relations]
    added = [
        InStateOnly(
            ops.AddField(model_name=model, name=f"{name}_id", field=fields.CharField(max_length=32))
        )
        for name in relations
    ]
    return [*removed, *added]


class Migration(migrations.Migration):
    dependencies = [("models", "0007_unlogged_counters")]

    initial = False

    operations = [
        ops.RunPython(_drop_foreign_keys, _add_foreign_keys),
        # Each foreign key goes before its plain column comes: both are named <relation>_id.
        *_plain_ids("PricePointRecord", "market"),
        *_plain_ids("TradeRecord", "market", "outcome"),
    ]
