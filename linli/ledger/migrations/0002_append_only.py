"""Transfers are append-only, enforced by the database itself.

A row in `ledger_maintenance` (created by hand by an operator, or by the test harness before it empties a test
database) lifts the guard; `linli ledger verify` reports when it is present.
"""

from django.db import migrations

SQLITE = [
    """CREATE TABLE IF NOT EXISTS ledger_maintenance (
        id INTEGER PRIMARY KEY CHECK (id = 1), reason TEXT NOT NULL, since TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)""",
    """CREATE TRIGGER ledger_transfer_no_update BEFORE UPDATE ON ledger_transfer
       WHEN NOT EXISTS (SELECT 1 FROM ledger_maintenance)
       BEGIN SELECT RAISE(ABORT, 'ledger_transfer is append-only: a transfer is never changed'); END""",
    """CREATE TRIGGER ledger_transfer_no_delete BEFORE DELETE ON ledger_transfer
       WHEN NOT EXISTS (SELECT 1 FROM ledger_maintenance)
       BEGIN SELECT RAISE(ABORT, 'ledger_transfer is append-only: a transfer is never deleted'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS ledger_transfer_no_update",
    "DROP TRIGGER IF EXISTS ledger_transfer_no_delete",
    "DROP TABLE IF EXISTS ledger_maintenance",
]

POSTGRES = [
    """CREATE TABLE IF NOT EXISTS ledger_maintenance (
        id integer PRIMARY KEY CHECK (id = 1), reason text NOT NULL, since timestamptz NOT NULL DEFAULT now())""",
    """CREATE OR REPLACE FUNCTION ledger_transfer_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM ledger_maintenance) THEN
           IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
           IF TG_OP = 'UPDATE' THEN RETURN NEW; END IF;
           RETURN NULL;
         END IF;
         RAISE EXCEPTION 'ledger_transfer is append-only: % refused', TG_OP;
       END $$""",
    """CREATE TRIGGER ledger_transfer_no_change BEFORE UPDATE OR DELETE ON ledger_transfer
       FOR EACH ROW EXECUTE FUNCTION ledger_transfer_append_only()""",
    """CREATE TRIGGER ledger_transfer_no_truncate BEFORE TRUNCATE ON ledger_transfer
       FOR EACH STATEMENT EXECUTE FUNCTION ledger_transfer_append_only()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS ledger_transfer_no_change ON ledger_transfer",
    "DROP TRIGGER IF EXISTS ledger_transfer_no_truncate ON ledger_transfer",
    "DROP FUNCTION IF EXISTS ledger_transfer_append_only()",
    "DROP TABLE IF EXISTS ledger_maintenance",
]


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    statements = POSTGRES_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
