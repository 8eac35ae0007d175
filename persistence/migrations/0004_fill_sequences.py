from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0003_shared_counters")]

    initial = False

    operations = [
        ops.AddField(
            model_name="UserRecord",
            name="fill_sequence",
            field=fields.BigIntField(default=0),
        ),
    ]
