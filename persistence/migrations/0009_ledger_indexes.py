"""Issue 14: the ledger's indexes by source and by destination account go.

No query reads the ledger by account: the audit pages it by id, and balances are kept
on the users' and markets' rows. Every ledger entry a market batch appends (one or more
per command) updated those two B-trees as well as the primary key's. Both backends name
the indexes alike, so both drop them by name; the columns stay. The migrations' model
state follows with ``AlterField`` applied to the state only (on SQLite an ``AlterField``
would rebuild the whole table).
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from persistence.migrations._state import altered_in_state

_INDEXES = {
    "source": "idx_ledger_entr_source_420f64",
    "destination": "idx_ledger_entr_destina_847281",
}


class Migration(migrations.Migration):
    dependencies = [("models", "0008_plain_ids_on_appends")]

    initial = False

    operations = [
        ops.RunSQL(
            [f'DROP INDEX IF EXISTS "{index}"' for index in _INDEXES.values()],
            [
                f'CREATE INDEX IF NOT EXISTS "{index}" ON "ledger_entries" ("{column}")'
                for column, index in _INDEXES.items()
            ],
        ),
        *(
            altered_in_state("LedgerEntryRecord", column, fields.CharField(max_length=48))
            for column in _INDEXES
        ),
    ]
