from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0005_resolution")]

    initial = False

    operations = [
        ops.AddField(
            model_name="MarketRecord",
            name="trade_sequence",
            field=fields.BigIntField(default=0),
        ),
        ops.AddField(
            model_name="TradeRecord",
            name="sequence",
            field=fields.BigIntField(null=True),
        ),
    ]
