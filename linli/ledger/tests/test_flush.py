"""Tests that commit for real can still be emptied afterwards, and the guard is back for the next test."""

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from linli.common.testing import make_world
from linli.ledger import services
from linli.ledger.models import Transfer


@pytest.mark.django_db(transaction=True)
def test_committed_transfers_then_flush(transactional_db):
    world = make_world()
    services.award(person=world.pA1, amount=5, actor=world.staff_a, idempotency_key="x")
    assert Transfer.objects.count() == 1


def test_guard_is_back_after_a_flush(db, world):
    services.award(person=world.pA1, amount=5, actor=world.staff_a, idempotency_key="y")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
        c.execute("DELETE FROM ledger_transfer")
