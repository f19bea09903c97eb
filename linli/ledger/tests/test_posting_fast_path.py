"""The posting fast path (docs/performance.md › Ledger): hashes written without the JSON encoder, the version 2 request
fingerprint, transfers built without Model.__init__, and PostgreSQL's COPY for many legs. Each must give exactly what
the plain path gave: the row hash verify recomputes, the rows the database holds, and every refusal."""

from __future__ import annotations

import os
import string
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from linli.ledger import domain, sealing, services
from linli.ledger.errors import IdempotencyKeyReused, InsufficientPoints
from linli.ledger.models import Account, SystemAccount, Transfer, TransferKind
from linli.org.models import Person, User

KEY = b"k" * 32
ids = st.integers(min_value=1, max_value=2**63 - 1)
maybe_ids = st.none() | ids
texts = st.text(max_size=60)  # any unicode: quotes, backslashes, control characters, CJK, emoji, lone surrogates
moments = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.sampled_from([UTC, None])
)


FIELDS = ["community", "debit", "credit", "amount", "kind", "memo", "ref_type", "ref_id", "reverses", "actor", "key"]
FIELDS += ["request", "at", "debit_after", "credit_after"]
rows = st.tuples(
    ids, ids, ids, ids, st.sampled_from(sorted(TransferKind.values)), texts, texts, maybe_ids, maybe_ids, maybe_ids,
    texts, texts, moments, maybe_ids, maybe_ids,
)  # fmt: skip


def _fast(values: Sequence[Any]) -> str:
    """transfer_row_hash on a row in hash_fields' order (its `at` still a datetime)."""
    fast: Any = domain.transfer_row_hash  # called with unpacked values: typed per argument, checked by the assert
    return str(fast(KEY, *values[:12], domain.canonical_time(values[12]), *values[13:]))


@settings(max_examples=400, deadline=None)
@given(rows)
def test_fast_row_hash_is_the_canonical_row_hash(values: tuple[Any, ...]) -> None:
    """transfer_row_hash writes the bytes canonical() writes: verify (which uses row_hash) agrees with every row."""
    fields = dict(zip(FIELDS, values, strict=True))
    fast = _fast(values)
    assert fast == domain.row_hash(KEY, fields)


def test_fast_row_hash_time_in_another_zone() -> None:
    at = datetime(2026, 11, 22, 8, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
    fields: dict[str, Any] = {"community": 1, "debit": 2, "credit": 3, "amount": 4, "kind": "award"}
    fields |= {"memo": '"\\\n志愿'}
    fields |= {"ref_type": "", "ref_id": None, "reverses": None, "actor": None, "key": "k", "request": "r"}
    fields |= {"at": at, "debit_after": None, "credit_after": 7}
    values = list(fields.values())
    fast = _fast(values)
    assert fast == domain.row_hash(KEY, fields)
    assert domain.canonical_time(at) == '"2026-11-22T00:00:00.123456+00:00"'


def test_fingerprint_v2_shape_and_field_boundaries() -> None:
    base = (1, 2, 3, 10, "award", "memo", "activity", 9, None)
    fp = domain.request_fingerprint_v2(*base)
    assert fp.startswith("2:") and len(fp) == 64 and all(c in string.hexdigits for c in fp[2:])
    # every field counts, and no memo or ref_type can move a boundary to imitate another request
    variants = [
        (1, 2, 3, 10, "award", "memo", "activity", 9, 4),
        (1, 2, 3, 11, "award", "memo", "activity", 9, None),
        (1, 3, 2, 10, "award", "memo", "activity", 9, None),
        (1, 2, 3, 10, "award", "memo", "activity", None, None),
        (1, 2, 3, 10, "adjustment", "memo", "activity", 9, None),
        (1, 2, 3, 10, "award", "memo\x1f", "activity", 9, None),
        (1, 2, 3, 10, "award", "a\x1fb", "", 9, None),
        (1, 2, 3, 10, "award", "a", "b\x1f", 9, None),
    ]
    prints = {domain.request_fingerprint_v2(*v) for v in variants}
    assert len(prints) == len(variants) and fp not in prints
    assert domain.request_fingerprint_v2(*base) == fp  # deterministic


def _legs(world: SimpleNamespace, n: int, amount: int = 3) -> list[services.Leg]:
    issuance = services.system_account(world.A, SystemAccount.ISSUANCE)
    people = [Person.objects.create(community=world.A, name=f"居民{i}", birth_year=1950 + i) for i in range(n)]
    return [
        services.Leg(issuance, services.account_for_person(p), amount + i, TransferKind.AWARD, memo=f'第{i}次 "好"')
        for i, p in enumerate(people)
    ]


@pytest.mark.parametrize("n", [1, 12])  # 12 legs: COPY on PostgreSQL; 1: a plain INSERT
def test_built_transfers_are_the_stored_rows(world: SimpleNamespace, n: int) -> None:
    legs = _legs(world, n)
    out = services.transfer_post_batch(community=world.A, legs=legs, actor=world.staff_a, idempotency_key=f"b{n}")
    stored = {t.pk: t for t in Transfer.objects.filter(pk__in=[t.pk for t in out])}
    assert len(stored) == n
    names = [f.attname for f in Transfer._meta.concrete_fields]
    for t, leg in zip(out, legs, strict=True):
        assert isinstance(t, Transfer) and not t._state.adding and t._state.db == connection.alias
        assert {a: getattr(t, a) for a in names} == {a: getattr(stored[t.pk], a) for a in names}
        assert t.request_hash.startswith("2:")
        with CaptureQueriesContext(connection) as captured:
            assert t.debit is leg.debit and t.credit is leg.credit  # cached: no query
        assert captured.captured_queries == []
    assert [t.pk for t in out] == sorted(t.pk for t in out)  # ids in leg order
    assert [t.credit_balance_after for t in out] == [3 + i for i in range(n)]
    assert sealing.ledger_verify().ok


def test_many_leg_batch_replay_conflict_and_shortfall(world: SimpleNamespace) -> None:
    legs = _legs(world, 12)
    first = services.transfer_post_batch(community=world.A, legs=legs, actor=world.staff_a, idempotency_key="act")
    again = services.transfer_post_batch(community=world.A, legs=legs, actor=world.staff_a, idempotency_key="act")
    assert [t.pk for t in again] == [t.pk for t in first]
    changed = [*legs[:-1], services.Leg(legs[-1].debit, legs[-1].credit, 99, TransferKind.AWARD)]
    with pytest.raises(IdempotencyKeyReused):
        services.transfer_post_batch(community=world.A, legs=changed, actor=world.staff_a, idempotency_key="act")
    market = services.system_account(world.A, SystemAccount.MARKET)
    spend = [services.Leg(leg.credit, market, 3 + i, TransferKind.REDEMPTION) for i, leg in enumerate(legs)]
    spend[5] = services.Leg(legs[5].credit, market, 9, TransferKind.REDEMPTION)  # has 8
    with pytest.raises(InsufficientPoints):
        services.transfer_post_batch(community=world.A, legs=spend, actor=world.staff_a, idempotency_key="spend")
    assert Transfer.objects.count() == 12
    assert Account.objects.get(pk=market.pk).balance == 0
    assert [Account.objects.get(pk=leg.credit.pk).balance for leg in legs] == [3 + i for i in range(12)]


def test_replay_of_a_request_stored_with_a_version_1_fingerprint(world: SimpleNamespace) -> None:
    """Rows written before version 2 carry the JSON fingerprint: their replays are still recognised, their clashes
    still refused."""
    issuance = services.system_account(world.A, SystemAccount.ISSUANCE)
    acc = services.account_for_person(world.pA2)
    leg = services.Leg(issuance, acc, 5, TransferKind.AWARD, memo="旧")
    old = services._fingerprint_v1(world.A.pk, leg)
    assert len(old) == 64 and ":" not in old
    posted = services.transfer_post(
        debit=issuance, credit=acc, amount=5, kind=TransferKind.AWARD, actor=world.staff_a, idempotency_key="old",
        memo="旧",
    )  # fmt: skip
    # as if it had been written by the earlier code: swap in the version 1 fingerprint (and its row hash)
    t = posted.transfer
    t.request_hash = old
    t.row_hash = domain.row_hash(services.hmac_key(), services.hash_fields(t))
    with connection.cursor() as c:
        c.execute("DELETE FROM ledger_maintenance")
        c.execute("INSERT INTO ledger_maintenance (id, reason) VALUES (1, 'test: write an old-format row')")
        c.execute("UPDATE ledger_transfer SET request_hash = %s, row_hash = %s WHERE id = %s", [old, t.row_hash, t.pk])
        c.execute("DELETE FROM ledger_maintenance")
    again = services.transfer_post(
        debit=issuance, credit=acc, amount=5, kind=TransferKind.AWARD, actor=world.staff_a, idempotency_key="old",
        memo="旧",
    )  # fmt: skip
    assert again.replayed and again.transfer.pk == t.pk
    with pytest.raises(IdempotencyKeyReused):
        services.transfer_post(
            debit=issuance, credit=acc, amount=5, kind=TransferKind.AWARD, actor=world.staff_a,
            idempotency_key="old", memo="新",
        )  # fmt: skip
    assert Transfer.objects.count() == 1


# --- the fast award ------------------------------------------------------------------------------------------------


def _postgresql_only(why: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif("postgres" not in os.environ.get("DATABASE_URL", ""), reason=f"PostgreSQL only: {why}")


def _award_queries(world: SimpleNamespace, **kwargs: Any) -> tuple[services.Posted, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        posted = services.award(person=world.pA2, actor=world.staff_a, **kwargs)
    return posted, [q["sql"] for q in captured.captured_queries]


def test_fast_award_is_two_statements_and_the_stored_row(world: SimpleNamespace) -> None:
    # the first creates both accounts (and asks once whether the actor is a person: cached on the actor object)
    first, _sql = _award_queries(world, amount=4, idempotency_key="first")
    posted, sql = _award_queries(
        world, amount=6, idempotency_key="second", memo=' 志愿 "扫雪" ', ref_type="claim", ref_id=3
    )
    statements = [q for q in sql if not q.upper().startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))]
    assert len(statements) == 2, statements
    assert statements[0].startswith("UPDATE ledger_account") and statements[1].startswith("INSERT INTO ledger_transfer")
    t = posted.transfer
    stored = Transfer.objects.get(pk=t.pk)
    names = [f.attname for f in Transfer._meta.concrete_fields]
    assert {a: getattr(t, a) for a in names} == {a: getattr(stored, a) for a in names}
    assert not posted.replayed and t.memo == '志愿 "扫雪"' and (t.ref_type, t.ref_id) == ("claim", 3)
    assert t.credit_balance_after == 10 and t.debit_balance_after is None and t.kind == TransferKind.AWARD
    assert t.debit_id == first.transfer.debit_id and t.credit == services.account_for_person(world.pA2)
    assert t.request_hash.startswith("2:") and t.actor_id == world.staff_a.pk
    assert Account.objects.get(pk=t.debit_id).balance == 0  # the issuance row is never written
    assert sealing.ledger_verify().ok


def test_fast_award_replay_conflict_and_refusals(world: SimpleNamespace) -> None:
    from linli.common.errors import Forbidden, Invalid
    from linli.ledger.errors import InvalidAmount

    services.award(person=world.pA2, amount=1, actor=world.staff_a, idempotency_key="seed")
    first = services.award(person=world.pA2, amount=5, actor=world.staff_a, idempotency_key="k", memo="x")
    again = services.award(person=world.pA2, amount=5, actor=world.staff_a, idempotency_key="k", memo="x")
    assert again.replayed and again.transfer.pk == first.transfer.pk
    with pytest.raises(IdempotencyKeyReused):
        services.award(person=world.pA2, amount=5, actor=world.staff_a, idempotency_key="k", memo="y")
    services.award(person=world.pA1, amount=1, actor=world.staff_a, idempotency_key="seed-a1")
    with pytest.raises(Forbidden):
        services.award(person=world.pA1, amount=5, actor=world.resident_a1, idempotency_key="self")
    for amount in (0, -1, True, services.MAX_AMOUNT + 1):
        with pytest.raises(InvalidAmount):
            services.award(person=world.pA2, amount=amount, actor=world.staff_a, idempotency_key=f"bad{amount}")
    with pytest.raises(Invalid):
        services.award(person=world.pA2, amount=5, actor=world.staff_a, idempotency_key="long", memo="长" * 201)
    assert Transfer.objects.count() == 3
    assert Account.objects.get(person=world.pA2).balance == 6


@pytest.mark.django_db(transaction=True)
def test_fast_award_committing_for_real() -> None:
    """Outside any transaction (as a view or the benchmark calls it): its own BEGIN … COMMIT, replays and clashes
    answered after the failed INSERT rolled back, and the books verify."""
    from linli.common.testing import make_world

    w = make_world()
    services.award(person=w.pA2, amount=2, actor=w.staff_a, idempotency_key="seed")
    assert connection.get_autocommit() and not connection.in_atomic_block
    posted = [services.award(person=w.pA2, amount=3, actor=w.staff_a, idempotency_key=f"r{i}") for i in range(3)]
    again = services.award(person=w.pA2, amount=3, actor=w.staff_a, idempotency_key="r1")
    assert again.replayed and again.transfer.pk == posted[1].transfer.pk
    with pytest.raises(IdempotencyKeyReused):
        services.award(person=w.pA2, amount=4, actor=w.staff_a, idempotency_key="r1")
    assert [p.transfer.credit_balance_after for p in posted] == [5, 8, 11]
    assert Account.objects.get(person=w.pA2).balance == 11 and Transfer.objects.count() == 4
    assert sealing.ledger_verify().ok


def _sent(fn: Any) -> tuple[Any, list[str]]:
    """What fn sent to the database, statement by statement (the test client and CaptureQueriesContext reset or skip
    the query log; an execute wrapper sees every execute)."""
    sent: list[str] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        result = fn()
    return result, sent


@pytest.mark.django_db(transaction=True)
def test_an_award_outside_a_transaction_begins_and_commits_its_own() -> None:
    from linli.common.testing import make_world

    w = make_world()
    services.award(person=w.pA2, amount=2, actor=w.staff_a, idempotency_key="seed")  # creates the accounts
    posted, sent = _sent(lambda: services.award(person=w.pA2, amount=3, actor=w.staff_a, idempotency_key="own"))
    assert posted.transfer.credit_balance_after == 5 and not posted.replayed
    if connection.vendor == "postgresql":
        # BEGIN and COMMIT go to libpq directly, as psycopg's own do; the two statements pass the execute wrappers
        assert [s.split()[0] for s in sent] == ["UPDATE", "INSERT"], sent
        assert sent[0].startswith("UPDATE ledger_account") and sent[1].startswith("INSERT INTO ledger_transfer")
        from psycopg.pq import TransactionStatus

        assert connection.connection.info.transaction_status == TransactionStatus.IDLE
    else:  # SQLite: Django's transaction around the same two statements
        assert [s.split()[0] for s in sent] == ["BEGIN", "UPDATE", "INSERT"], sent  # BEGIN IMMEDIATE (decision 0002)
    # committed for real: another connection sees it
    from django.db import connections

    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT balance FROM ledger_account WHERE person_id = %s", [w.pA2.pk])
            assert cursor.fetchone() == (5,)
    finally:
        other.close()

    # inside the caller's transaction the award joins it: no BEGIN or COMMIT of its own
    from django.db import transaction

    with transaction.atomic():
        joined, sent = _sent(lambda: services.award(person=w.pA2, amount=4, actor=w.staff_a, idempotency_key="in"))
        assert not any(s.upper().startswith(("BEGIN", "COMMIT")) or "COMMIT" in s for s in sent), sent
        if connection.vendor == "postgresql":
            from psycopg.pq import TransactionStatus

            assert connection.connection.info.transaction_status == TransactionStatus.INTRANS  # still the caller's
    assert joined.transfer.credit_balance_after == 9
    assert sealing.ledger_verify().ok


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql ORDER BY prepare_time")
        return [row[0] for row in cursor.fetchall()]


@_postgresql_only("SQLite prepares every statement anyway (Python's sqlite3 caches them per connection)")
@pytest.mark.django_db(transaction=True)
def test_the_award_prepares_its_statements_and_carries_on_after_deallocation_and_rollback() -> None:
    """The award's UPDATE and INSERT are prepared on this connection at its first award, and only they: Django's own
    statements bind on the client. After a DEALLOCATE ALL the next award prepares them anew; a rolled-back
    transaction leaves them be."""
    from django.db import transaction

    from linli.common.testing import make_world

    w = make_world()
    connection.ensure_connection()
    assert (
        connection.connection.prepare_threshold == django_settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]
    )
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # whatever earlier tests on this connection left
    balance = 0
    for n in range(3):
        balance += 1
        assert services.award(
            person=w.pA2, amount=1, actor=w.staff_a, idempotency_key=f"p{n}"
        ).transfer.credit_balance_after == balance  # fmt: skip
    prepared = _prepared_statements()
    assert len(prepared) == 2, prepared
    assert any(s.startswith("UPDATE ledger_account SET balance = balance + $1") for s in prepared), prepared
    assert any(s.startswith("INSERT INTO ledger_transfer") for s in prepared), prepared

    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    assert _prepared_statements() == []
    for n in range(3):
        balance += 2
        assert services.award(
            person=w.pA2, amount=2, actor=w.staff_a, idempotency_key=f"q{n}"
        ).transfer.credit_balance_after == balance  # fmt: skip
    assert _prepared_statements() == prepared
    with pytest.raises(IntegrityError), transaction.atomic():  # a rollback
        Transfer.objects.create(community=w.A, debit_id=-1, credit_id=-2, amount=1, kind="award", idempotency_key="x")
    balance += 3
    assert services.award(
        person=w.pA2, amount=3, actor=w.staff_a, idempotency_key="r"
    ).transfer.credit_balance_after == (balance)
    assert _prepared_statements() == prepared
    assert Account.objects.get(person=w.pA2).balance == balance
    assert sealing.ledger_verify().ok


@_postgresql_only("the setting is psycopg's")
@pytest.mark.django_db(transaction=True)
def test_with_prepared_statements_off_the_award_prepares_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from linli.common.testing import make_world

    w = make_world()
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)  # LINLI_PG_PREPARE_THRESHOLD=off
    for n in range(8):
        services.award(person=w.pA2, amount=1, actor=w.staff_a, idempotency_key=f"off{n}")
    assert _prepared_statements() == []
    assert Account.objects.get(person=w.pA2).balance == 8 and sealing.ledger_verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_commit_refused_by_a_deferred_foreign_key_keeps_nothing() -> None:
    """The transfer's foreign keys are checked at COMMIT: an award by a user deleted meanwhile fails there, keeps no
    points and leaves the connection ready for the next award."""
    from linli.common.testing import make_world

    w = make_world()
    services.award(person=w.pA2, amount=2, actor=w.staff_a, idempotency_key="seed")
    gone = User.objects.create_user(phone="13900001111", password="x-Long-password-1", name="已离职")
    gone_pk = gone.pk
    gone.delete()
    gone.pk = gone_pk  # a stale actor object, as a request that started before the deletion still holds
    with pytest.raises(IntegrityError):
        services.award(person=w.pA2, amount=3, actor=gone, idempotency_key="stale")
    assert not connection.in_atomic_block
    if connection.vendor == "postgresql":
        from psycopg.pq import TransactionStatus

        assert connection.connection.info.transaction_status == TransactionStatus.IDLE
    assert Account.objects.get(person=w.pA2).balance == 2 and Transfer.objects.count() == 1
    assert services.award(person=w.pA2, amount=3, actor=w.staff_a, idempotency_key="stale").transfer.pk
    assert Account.objects.get(person=w.pA2).balance == 5 and sealing.ledger_verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_failure_between_begin_and_commit_leaves_nothing_and_the_connection_usable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from linli.common.testing import make_world

    w = make_world()
    services.award(person=w.pA2, amount=2, actor=w.staff_a, idempotency_key="seed")

    def broken(*args: Any) -> str:
        raise ZeroDivisionError("hash failed")

    monkeypatch.setattr(domain, "transfer_row_hash", broken)  # after the balance UPDATE, before the INSERT
    with pytest.raises(ZeroDivisionError):
        services.award(person=w.pA2, amount=3, actor=w.staff_a, idempotency_key="lost")
    monkeypatch.undo()
    assert not connection.in_atomic_block
    if connection.vendor == "postgresql":
        from psycopg.pq import TransactionStatus

        assert connection.connection.info.transaction_status == TransactionStatus.IDLE  # rolled back, not left open
    assert Account.objects.get(person=w.pA2).balance == 2 and Transfer.objects.count() == 1
    after = services.award(person=w.pA2, amount=3, actor=w.staff_a, idempotency_key="lost")  # the retry posts
    assert after.transfer.credit_balance_after == 5 and not after.replayed
    assert sealing.ledger_verify().ok


@_postgresql_only("there the award begins and commits its own transaction; on SQLite Django's atomic does")
@pytest.mark.django_db(transaction=True)
def test_a_broken_connection_during_the_award_is_closed_not_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    """If even the ROLLBACK fails the connection is closed (the server rolls back what it held) and the next call opens
    a new one."""
    from linli.common.testing import make_world

    w = make_world()
    services.award(person=w.pA2, amount=2, actor=w.staff_a, idempotency_key="seed")

    def drop_connection(*args: Any) -> str:
        with connections_other() as other, other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
        raise ZeroDivisionError("hash failed")

    from contextlib import contextmanager

    from django.db import connections

    @contextmanager
    def connections_other() -> Any:
        other = connections.create_connection("default")
        try:
            yield other
        finally:
            other.close()

    backend = connection.connection.info.backend_pid
    monkeypatch.setattr(domain, "transfer_row_hash", drop_connection)
    with pytest.raises(ZeroDivisionError):
        services.award(person=w.pA2, amount=3, actor=w.staff_a, idempotency_key="lost")
    monkeypatch.undo()
    assert connection.connection is None  # closed: the next use connects afresh
    assert Account.objects.get(person=w.pA2).balance == 2 and Transfer.objects.count() == 1
    assert (
        services.award(person=w.pA2, amount=3, actor=w.staff_a, idempotency_key="lost").transfer.credit_balance_after
        == 5
    )


# --- two round trips on PostgreSQL (linli.ledger.pgwire, decision 0018) -----------------------------------------------


def test_parameters_travel_in_the_text_form_the_server_reads() -> None:
    from decimal import Decimal

    from linli.ledger import pgwire

    at = datetime(2026, 11, 23, 8, 5, 1, 123456, tzinfo=UTC)
    assert [pgwire.text(v) for v in (None, 7, -3, True, False, "扫雪 'x'", TransferKind.AWARD.value, at)] == [
        None, b"7", b"-3", b"t", b"f", "扫雪 'x'".encode(), b"award", b"2026-11-23T08:05:01.123456+00:00",
    ]  # fmt: skip
    for unknown in (datetime(2026, 11, 23, 8, 5), Decimal("1.5"), b"raw", 1.5):  # naive time, or no agreed form
        with pytest.raises(TypeError):
            pgwire.text(unknown)
    st = pgwire.statement("UPDATE t SET a = %s WHERE b = %s AND c = %s")
    assert st.numbered == b"UPDATE t SET a = $1 WHERE b = $2 AND c = $3"
    assert st.name.startswith(b"linli_") and st == pgwire.statement(st.sql)  # one text, one name, in any process
    assert pgwire.statement(st.sql + " ").name != st.name


def _our_statements() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'linli%%'")
        return dict(cursor.fetchall())


@_postgresql_only("the pipeline and the prepared statements are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_the_lone_award_prepares_its_two_statements_once_and_logs_them() -> None:
    from linli.common.testing import make_world
    from linli.ledger import pgwire

    w = make_world()
    services.award(person=w.pA2, amount=2, actor=w.staff_a, idempotency_key="seed")
    assert pgwire.usable(connection)
    ours = _our_statements()
    assert sorted(s.split()[0] for s in ours.values()) == ["INSERT", "UPDATE"], ours
    with CaptureQueriesContext(connection) as captured:
        posted = services.award(person=w.pA2, amount=3, actor=w.staff_a, idempotency_key="logged", memo="扫雪")
    sql = [q["sql"] for q in captured.captured_queries]
    assert len(sql) == 2 and sql[0].startswith("UPDATE ledger_account") and sql[1].startswith("INSERT INTO")
    assert f"person_id = {w.pA2.pk}" in sql[0] and "'logged'" in sql[1] and "'扫雪'" in sql[1]  # with their values
    assert _our_statements() == ours  # not prepared again
    assert posted.transfer.credit_balance_after == 5 and Transfer.objects.get(pk=posted.transfer.pk).memo == "扫雪"
    assert sealing.ledger_verify().ok


@_postgresql_only("a prepared statement's result type is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_an_award_after_a_migration_changed_the_table_prepares_anew() -> None:
    """A column's type changed under a prepared statement ("cached plan must not change result type"): that award
    rolls back, prepares again and posts."""
    from linli.common.testing import make_world

    w = make_world()
    services.award(person=w.pA2, amount=2, actor=w.staff_a, idempotency_key="seed")
    services.award(person=w.pA2, amount=2, actor=w.staff_a, idempotency_key="prepared")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE ledger_account ALTER COLUMN balance TYPE integer")
    try:
        posted = services.award(person=w.pA2, amount=3, actor=w.staff_a, idempotency_key="after")
        assert posted.transfer.credit_balance_after == 7 and not posted.replayed
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE ledger_account ALTER COLUMN balance TYPE bigint")
    assert Account.objects.get(person=w.pA2).balance == 7 and Transfer.objects.count() == 3
    assert sealing.ledger_verify().ok


@_postgresql_only("the server connection is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_connection_lost_before_the_award_is_django_operational_error_and_the_next_connects_anew() -> None:
    from django.db import OperationalError, connections

    from linli.common.testing import make_world

    w = make_world()
    services.award(person=w.pA2, amount=2, actor=w.staff_a, idempotency_key="seed")
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
    finally:
        other.close()
    with pytest.raises(OperationalError):
        services.award(person=w.pA2, amount=3, actor=w.staff_a, idempotency_key="lost")
    assert connection.connection is None  # closed: the next use connects afresh
    assert services.award(person=w.pA2, amount=3, actor=w.staff_a, idempotency_key="lost").transfer.pk
    assert Account.objects.get(person=w.pA2).balance == 5 and sealing.ledger_verify().ok


@_postgresql_only("the wait for the server's answer is libpq's")
@pytest.mark.django_db(transaction=True)
def test_other_threads_run_while_an_award_waits_for_the_server() -> None:
    """The award waits in select(), not in libpq's own wait (which holds the GIL): a web worker's other threads go on
    while one award waits on a row another transaction holds."""
    import threading
    import time

    from django.db import connections

    from linli.common.testing import make_world

    w = make_world()
    services.award(person=w.pA2, amount=2, actor=w.staff_a, idempotency_key="seed")

    def spins_during(seconds: float) -> int:
        n, stop = 0, time.monotonic() + seconds
        while time.monotonic() < stop:
            n += 1
        return n

    def award() -> None:
        try:
            services.award(person=w.pA2, amount=3, actor=w.staff_a, idempotency_key="waited")
        finally:
            connections.close_all()

    def counted(target: Any, then: Any = None) -> int:
        thread = threading.Thread(target=target)
        thread.start()
        time.sleep(0.05)
        n = spins_during(0.4)
        if then is not None:
            then()
        thread.join(timeout=30)
        return -1 if thread.is_alive() else n

    baseline = counted(lambda: time.sleep(0.5))  # the other thread is idle
    holder = connections.create_connection("default")
    try:
        holder.set_autocommit(False)
        with holder.cursor() as cursor:
            cursor.execute("SELECT balance FROM ledger_account WHERE person_id = %s FOR UPDATE", [w.pA2.pk])
        during = counted(award, then=holder.commit)  # the other thread is in the award, waiting on the row till then
    finally:
        holder.close()
    assert during > baseline * 0.3, (during, baseline)
    assert Account.objects.get(person=w.pA2).balance == 5 and sealing.ledger_verify().ok


# --- fresh_key: the caller vouches that the key is new ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_fresh_key_batch_needs_the_callers_transaction_and_a_clash_rolls_it_back() -> None:
    from django.db import IntegrityError, transaction

    from linli.common.testing import make_world

    w = make_world()
    issuance = services.system_account(w.A, SystemAccount.ISSUANCE)
    acc = services.account_for_person(w.pA2)
    legs = [services.Leg(issuance, acc, 5, TransferKind.AWARD)]

    def post(key: str) -> list[Transfer]:
        return services.transfer_post_batch(
            community=w.A, legs=legs, actor=w.staff_a, idempotency_key=key, fresh_key=True
        )

    assert not connection.in_atomic_block
    with pytest.raises(RuntimeError):  # alone it would have no savepoint and no transaction to roll back
        post("alone")
    assert Transfer.objects.count() == 0

    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        first = post("redemption-1")
    assert not any(q["sql"].upper().startswith("SAVEPOINT") for q in captured.captured_queries)
    assert [t.idempotency_key for t in first] == ["redemption-1#0"] and first[0].credit_balance_after == 5

    # the key was not fresh after all: refused, and the caller's own writes go with it
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(community=w.A, name="不该留下", birth_year=1960)
        post("redemption-1")
    assert not Person.objects.filter(name="不该留下").exists()
    assert Transfer.objects.count() == 1 and Account.objects.get(pk=acc.pk).balance == 5
    assert sealing.ledger_verify().ok
