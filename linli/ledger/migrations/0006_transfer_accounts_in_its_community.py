"""A transfer's two accounts belong to the transfer's community, and the database says so.

PostgreSQL: ledger_account gets a unique key (id, community_id), and the transfer's three foreign keys (debit,
credit, community) become two composite ones, (debit_id, community_id) and (credit_id, community_id) →
ledger_account (id, community_id). Each still proves the account exists, now also that it is of the transfer's
community (and so, through the account's own foreign key, that the community exists). One foreign-key check fewer per
posting — 300 fewer at the COMMIT of an activity's batch — and no more share-locking of the community's row by every
posting (docs/decisions/0019).

SQLite: the single foreign keys are part of the table's definition and stay (changing them would rebuild the table and
drop the append-only triggers of 0002); a BEFORE INSERT trigger refuses a transfer whose accounts are of another
community. Django's state marks the three fields db_constraint=False, since the constraints that guard them are no
longer the ones Django would create for a single column."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

TABLE = "ledger_transfer"
UNIQUE = "account_id_community"
COMPOSITE = {"debit_id": "transfer_debit_in_community", "credit_id": "transfer_credit_in_community"}
SINGLE = {"community_id": "org_community", "debit_id": "ledger_account", "credit_id": "ledger_account"}
SQLITE_TRIGGER = "ledger_transfer_same_community"


def forwards(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE ledger_account ADD CONSTRAINT {UNIQUE} UNIQUE (id, community_id)")
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, TABLE)
        for name, info in constraints.items():
            if info.get("foreign_key") and list(info.get("columns") or []) in ([c] for c in SINGLE):
                schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {schema_editor.quote_name(name)}")
        for column, name in COMPOSITE.items():
            schema_editor.execute(
                f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} FOREIGN KEY ({column}, community_id) "
                "REFERENCES ledger_account (id, community_id) DEFERRABLE INITIALLY DEFERRED"
            )
    else:
        schema_editor.execute(f"CREATE UNIQUE INDEX {UNIQUE} ON ledger_account (id, community_id)")
        schema_editor.execute(
            f"CREATE TRIGGER {SQLITE_TRIGGER} BEFORE INSERT ON {TABLE} "
            "WHEN NOT EXISTS (SELECT 1 FROM ledger_account WHERE id = NEW.debit_id AND community_id = NEW.community_id) "
            "OR NOT EXISTS (SELECT 1 FROM ledger_account WHERE id = NEW.credit_id AND community_id = NEW.community_id) "
            "BEGIN SELECT RAISE(ABORT, 'ledger_transfer: both accounts must be of the transfer''s community'); END"
        )


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for name in COMPOSITE.values():
            schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {name}")
        for column, target in SINGLE.items():
            schema_editor.execute(
                f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_{column}_fk FOREIGN KEY ({column}) "
                f"REFERENCES {target} (id) DEFERRABLE INITIALLY DEFERRED"
            )
        schema_editor.execute(f"ALTER TABLE ledger_account DROP CONSTRAINT {UNIQUE}")
    else:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {SQLITE_TRIGGER}")
        schema_editor.execute(f"DROP INDEX IF EXISTS {UNIQUE}")


def _unconstrained(to: str, related_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        db_constraint=False,
        db_index=False,
        on_delete=django.db.models.deletion.PROTECT,
        related_name=related_name,
        to=to,
    )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0005_reversal_and_cause_indexes_partial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.AddConstraint(
                    model_name="account",
                    constraint=models.UniqueConstraint(fields=("id", "community"), name=UNIQUE),
                ),
                migrations.AlterField(
                    model_name="transfer", name="community", field=_unconstrained("org.community", "+")
                ),
                migrations.AlterField(
                    model_name="transfer", name="debit", field=_unconstrained("ledger.account", "debits")
                ),
                migrations.AlterField(
                    model_name="transfer", name="credit", field=_unconstrained("ledger.account", "credits")
                ),
            ],
        ),
    ]
