"""The transfer table carries only the indexes its queries use (each is a write per posting), and losing the
single-column ones did not cost the append-only guards (SQLite would drop triggers on a table rebuild)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from linli.common.testing import make_world
from linli.ledger import services

pytestmark = pytest.mark.django_db


def _indexes() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "ledger_transfer")
    return {
        name: list(info["columns"]) for name, info in found.items() if info.get("index") and not info.get("primary_key")
    }


def test_no_single_column_index_on_community_debit_or_credit() -> None:
    columns = list(_indexes().values())
    for column in ("community_id", "debit_id", "credit_id"):
        assert [column] not in columns
    # the composite indexes that serve those lookups are there
    assert ["debit_id", "id"] in columns and ["credit_id", "id"] in columns
    assert ["community_id", "created_at"] in columns


def test_transfers_still_refuse_update_and_delete() -> None:
    w = make_world()
    posted = services.award(person=w.pA1, amount=5, actor=w.staff_a, idempotency_key="guard-after-0004")
    for sql in ("UPDATE ledger_transfer SET amount = 500 WHERE id = %s", "DELETE FROM ledger_transfer WHERE id = %s"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [posted.transfer.pk])


def _foreign_keys() -> list[tuple[list[str], str, str]]:
    """(columns, referenced table, referenced column) of every foreign key on ledger_transfer."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "ledger_transfer")
    keys = []
    for info in found.values():
        target = info.get("foreign_key")
        if target:
            table, column = target
            keys.append((list(info["columns"]), str(table), str(column)))
    return sorted(keys)


def test_a_transfers_accounts_are_held_to_its_community_by_the_database() -> None:
    keys = _foreign_keys()
    if connection.vendor == "postgresql":
        # two composite keys instead of three single ones: one check fewer per posting, and the community is checked
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'ledger_transfer'::regclass AND contype = 'f' ORDER BY conname"
            )
            definitions = dict(cursor.fetchall())
        assert definitions["transfer_debit_in_community"].startswith(
            "FOREIGN KEY (debit_id, community_id) REFERENCES ledger_account(id, community_id)"
        )
        assert definitions["transfer_credit_in_community"].startswith(
            "FOREIGN KEY (credit_id, community_id) REFERENCES ledger_account(id, community_id)"
        )
        single = [columns for columns, _table, _column in keys if len(columns) == 1]
        assert sorted(single) == [["actor_id"], ["reverses_id"]]
    else:
        # SQLite keeps the table's single keys (a rebuild would drop the triggers) and adds a trigger for the community
        assert [["community_id"], "org_community", "id"] in [[c, t, col] for c, t, col in keys]
        assert [["debit_id"], "ledger_account", "id"] in [[c, t, col] for c, t, col in keys]
        assert [["credit_id"], "ledger_account", "id"] in [[c, t, col] for c, t, col in keys]
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'ledger_transfer'")
            assert "ledger_transfer_same_community" in {name for (name,) in cursor.fetchall()}
