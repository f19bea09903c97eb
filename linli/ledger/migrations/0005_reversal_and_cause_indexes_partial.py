"""Index only the transfers that have what an index is for: the unique index of reversals covers transfers that
reverse one (not every transfer's NULL), the index by cause covers transfers that have a cause. Every posting wrote
both at the same end of each index, a page all concurrent postings fought over (docs/performance.md).

On PostgreSQL the old unique constraint on reverses_id is dropped by name found by introspection. On SQLite it is part
of the table's definition and stays (it enforces the same rule); an AlterField there would rebuild the table and drop
the append-only triggers of 0002 with it, so the field change is state only, as in 0004."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

TABLE = "ledger_transfer"


def drop_full_unique_on_postgresql(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    for name, info in constraints.items():
        full = info.get("unique") and list(info.get("columns") or []) == ["reverses_id"]
        if full and name != "transfer_reversed_once":
            schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {schema_editor.quote_name(name)}")


def restore_full_unique_on_postgresql(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        name = "ledger_transfer_reverses_id_key"
        schema_editor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} UNIQUE (reverses_id)")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_drop_covered_transfer_indexes")]

    operations = [
        migrations.RemoveIndex(model_name="transfer", name="transfer_ref"),
        migrations.AddIndex(
            model_name="transfer",
            index=models.Index(
                condition=models.Q(("ref_id__isnull", False)), fields=["ref_type", "ref_id"], name="transfer_ref_set"
            ),
        ),
        migrations.AddConstraint(
            model_name="transfer",
            constraint=models.UniqueConstraint(
                condition=models.Q(("reverses__isnull", False)), fields=("reverses",), name="transfer_reversed_once"
            ),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunPython(drop_full_unique_on_postgresql, restore_full_unique_on_postgresql)
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="transfer",
                    name="reverses",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reversed_by",
                        to="ledger.transfer",
                    ),
                ),
            ],
        ),
    ]
