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
