"""Helpers of the migrations (the loader skips modules named ``_...``)."""

from typing import Any

from tortoise.fields import Field
from tortoise.migrations import operations as ops


class InStateOnly(ops.TortoiseOperation):
    """``operation`` applied to the migrations' model state only: the migration changes
    the database itself (a ``RunPython`` beside it), as ``operation`` would not, or not
    cheaply (an ``AlterField`` on SQLite rebuilds the table)."""

    def __init__(self, operation: ops.TortoiseOperation) -> None:
        self.operation = operation

    def describe(self) -> str:
        return f"{self.operation.describe()} (model state only)"

    def state_forward(self, app_label: str, state: Any) -> None:
        self.operation.state_forward(app_label, state)


def altered_in_state(model: str, name: str, field: Field[Any]) -> InStateOnly:
    """``model``'s field ``name`` now declared as ``field``, in the model state only."""
    return InStateOnly(ops.AlterField(model_name=model, name=name, field=field))
