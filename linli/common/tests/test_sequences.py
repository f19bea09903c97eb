"""Gapless numbers: one per call, per key, none lost to a rollback, none given twice under concurrent callers."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from linli.common.sequences import next_number
from linli.common.testing import make_world
from linli.ledger.tests.test_concurrency import assert_real_database, real_db, run_threads  # noqa: F401
from linli.market.models import RedemptionCounter
from linli.orders.models import OrderCounter


@pytest.mark.django_db
def test_numbers_count_up_per_key() -> None:
    w = make_world()
    assert [next_number(OrderCounter, community=w.A, year=2026) for _ in range(3)] == [1, 2, 3]
    assert next_number(OrderCounter, community=w.A, year=2027) == 1  # a new year starts again
    assert next_number(OrderCounter, community=w.B, year=2026) == 1  # another community has its own
    assert next_number(RedemptionCounter, community_id=w.A.pk, year=2026) == 1  # by id as well as by object
    assert next_number(RedemptionCounter, community=w.A, year=2026) == 2
    assert OrderCounter.objects.get(community=w.A, year=2026).last == 3


@pytest.mark.django_db
def test_a_number_is_one_statement_once_the_key_exists() -> None:
    w = make_world()
    next_number(OrderCounter, community=w.A, year=2026)
    with CaptureQueriesContext(connection) as queries:
        assert next_number(OrderCounter, community=w.A, year=2026) == 2
    assert len(queries) == 1, [q["sql"] for q in queries]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_caller_leaves_no_gap() -> None:
    w = make_world()
    next_number(OrderCounter, community=w.A, year=2026)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert next_number(OrderCounter, community=w.A, year=2026) == 2
        raise RuntimeError("the caller failed after taking its number")
    assert next_number(OrderCounter, community=w.A, year=2026) == 2


@pytest.mark.usefixtures("real_db")
def test_concurrent_callers_get_every_number_once() -> None:
    assert_real_database()
    w = make_world()

    def take(_i: int) -> int:
        with transaction.atomic():
            return next_number(OrderCounter, community_id=w.A.pk, year=2026)

    results = run_threads(16, take)  # the first callers race to create the row, the rest queue on its lock
    assert [kind for kind, _ in results] == ["ok"] * 16, results
    assert sorted(value for _, value in results) == list(range(1, 17))
