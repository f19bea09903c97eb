"""Drop the single-column indexes on transfer.community_id, debit_id and credit_id: the composite indexes
(community, idempotency_key), (debit, -id) and (credit, -id) serve the same lookups, and each index costs a write per
posting. Done with DROP INDEX found by introspection rather than AlterField, because SQLite would rebuild the table
for an AlterField and drop the append-only triggers of 0002 with it."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

COLUMNS = ("community_id", "debit_id", "credit_id")


def drop_single_column_indexes(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    table = "ledger_transfer"
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    for name, info in constraints.items():
        single = list(info.get("columns") or []) in ([c] for c in COLUMNS)
        if single and info.get("index") and not info.get("unique") and not info.get("primary_key"):
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def recreate(apps: Any, schema_editor: Any) -> None:
    for column in COLUMNS:
        name = f"ledger_transfer_{column}_single"
        schema_editor.execute(f'CREATE INDEX "{name}" ON "ledger_transfer" ("{column}")')


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0003_policy_adjustments_cards"),
        ("org", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_single_column_indexes, recreate)],
            state_operations=[
                migrations.AlterField(
                    model_name="transfer",
                    name="community",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="org.community",
                    ),
                ),
                migrations.AlterField(
                    model_name="transfer",
                    name="credit",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="credits",
                        to="ledger.account",
                    ),
                ),
                migrations.AlterField(
                    model_name="transfer",
                    name="debit",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="debits",
                        to="ledger.account",
                    ),
                ),
            ],
        ),
    ]
