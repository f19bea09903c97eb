"""The ledger under real concurrency: real threads, each with its own database connection, against a real database.

PostgreSQL: the throwaway server of scripts/with-postgres.sh. SQLite: a database FILE (WAL, BEGIN IMMEDIATE, busy
timeout 20 s: writers queue on the write lock, which is expected). pytest-django keeps the SQLite test database in
memory, where threads would meet shared-cache table locks instead of the real file locking; the `real_db` fixture
therefore copies it into a temporary file for the test and points every new connection there (unless
LINLI_TEST_SQLITE_FILE already made the test database a file). Everything the test writes goes away with the file;
the in-memory database is emptied by the conftest's `_ledger_guard` as after any transactional test.

Every thread closes its connection when done, and every join has a timeout, so a deadlock fails the test instead of
hanging the suite.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from linli.common.testing import make_world
from linli.ledger import sealing, selectors, services
from linli.ledger.errors import InsufficientPoints
from linli.ledger.models import Account, SystemAccount, Transfer, TransferKind
from linli.org.models import Person

JOIN_TIMEOUT = 60.0


@pytest.fixture
def real_db(transactional_db: None, tmp_path: Path) -> Iterator[None]:
    if not _in_memory():
        yield
        return
    settings_dict = connection.settings_dict
    memory_name = settings_dict["NAME"]
    keeper = sqlite3.connect(memory_name, uri=True)  # holds the shared in-memory test database open meanwhile
    path = tmp_path / "concurrency.sqlite3"
    copy = sqlite3.connect(path)
    keeper.backup(copy)
    copy.close()
    settings_dict["NAME"] = str(path)  # the same dict every new (per-thread) connection is built from
    connection.close()  # really closes now that the name is a file; the next query opens the file
    try:
        yield
    finally:
        connection.close()
        settings_dict["NAME"] = memory_name
        connection.ensure_connection()  # back on the in-memory database before the keeper lets go of it
        keeper.close()


def _in_memory() -> bool:
    return connection.vendor == "sqlite" and bool(connection.is_in_memory_db())  # type: ignore[attr-defined]


def run_threads(n: int, work: Callable[[int], Any]) -> list[tuple[str, Any]]:
    """Start n threads together (barrier), each calling work(i) on its own connection; return ("ok", value) or
    ("error", exception) per thread, in thread order."""
    results: list[tuple[str, Any] | None] = [None] * n
    barrier = threading.Barrier(n)

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=JOIN_TIMEOUT)
            results[i] = ("ok", work(i))
        except Exception as exc:
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + JOIN_TIMEOUT
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "threads still running after the timeout: a deadlock?"
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def assert_real_database() -> None:
    assert not _in_memory()
    if connection.vendor == "sqlite":
        with connection.cursor() as c:
            c.execute("PRAGMA journal_mode")
            assert c.fetchone()[0] == "wal"


def assert_books_hold() -> None:
    """Every constrained balance equals the sum of its transfers; every hash and running balance holds."""
    for account in Account.objects.all():
        credits = Transfer.objects.filter(credit=account).aggregate(s=Sum("amount"))["s"] or 0
        debits = Transfer.objects.filter(debit=account).aggregate(s=Sum("amount"))["s"] or 0
        assert selectors.balance(account) == credits - debits, account
    report = sealing.ledger_verify()
    assert [p for p in report.problems if p.code != "guard"] == []


def test_64_debits_of_10_against_100(real_db: None) -> None:
    assert_real_database()
    w = make_world()
    services.award(person=w.pA1, amount=100, actor=w.staff_a, idempotency_key="seed")
    payer = services.account_for_person(w.pA1)
    market = services.system_account(w.A, SystemAccount.MARKET)

    def debit(i: int) -> services.Posted:
        return services.transfer_post(
            debit=payer,
            credit=market,
            amount=10,
            kind=TransferKind.REDEMPTION,
            actor=w.staff_a,
            idempotency_key=f"debit-{i}",
        )

    results = run_threads(64, debit)
    ok = [v for kind, v in results if kind == "ok"]
    refused = [v for kind, v in results if kind == "error" and isinstance(v, InsufficientPoints)]
    other = [v for kind, v in results if kind == "error" and not isinstance(v, InsufficientPoints)]
    assert other == []
    assert len(ok) == 10 and len(refused) == 54
    assert all(e.code == "insufficient_points" and e.status == 409 for e in refused)
    assert selectors.balance(payer) == 0 and selectors.balance(market) == 100
    # the running balances of the 10 debits are 90, 80, ... 0 in id order
    after = list(Transfer.objects.filter(debit=payer).order_by("id").values_list("debit_balance_after", flat=True))
    assert after == list(range(90, -1, -10))
    assert_books_hold()


def test_16_retries_of_one_request_post_once(real_db: None) -> None:
    w = make_world()
    services.account_for_person(w.pA2)
    services.system_account(w.A, SystemAccount.ISSUANCE)

    def same(_i: int) -> int:
        posted = services.award(person=w.pA2, amount=5, actor=w.staff_a, idempotency_key="one-request", memo="扫雪")
        return posted.transfer.pk

    results = run_threads(16, same)
    assert [kind for kind, _v in results] == ["ok"] * 16, [v for kind, v in results if kind == "error"]
    assert len({v for _kind, v in results}) == 1
    assert Transfer.objects.filter(idempotency_key="one-request").count() == 1 and Transfer.objects.count() == 1
    assert selectors.balance(services.account_for_person(w.pA2)) == 5
    assert_books_hold()


def _people(w: Any, n: int) -> list[Person]:
    return [Person.objects.create(community=w.A, name=f"居民{i}", birth_year=1950 + i) for i in range(n)]


def test_parallel_awards_never_touch_the_issuance_row(real_db: None) -> None:
    w = make_world()
    people = _people(w, 8)
    accounts = [services.account_for_person(p) for p in people]
    issuance = services.system_account(w.A, SystemAccount.ISSUANCE)
    statements: list[tuple[str, Any]] = []
    lock = threading.Lock()

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        with lock:
            statements.append((sql, params))
        return execute(sql, params, many, context)

    def award(i: int) -> int:
        with connection.execute_wrapper(record):
            return services.award(
                person=people[i], amount=11 + i, actor=w.staff_a, idempotency_key=f"award-{i}"
            ).transfer.pk

    results = run_threads(8, award)
    assert [kind for kind, _v in results] == ["ok"] * 8, [v for kind, v in results if kind == "error"]
    updates = [(sql, list(params or [])) for sql, params in statements if sql.lstrip().upper().startswith("UPDATE")]
    assert updates, "the person balances are updated"
    by_person = {a.person_id: a.pk for a in accounts}
    for sql, params in updates:
        assert sql.startswith("UPDATE ledger_account SET balance = "), sql
        if "WHERE person_id = %s" in sql:
            # the fast award: (amount, person, ...) — one person's account, found by its person
            touched = {by_person[params[1]]}
        else:
            # the conditional balance UPDATE: SQLite (account id, delta) pairs; PostgreSQL an array of ids and deltas
            assert "FROM (VALUES" in sql or "FROM unnest" in sql, sql
            touched = set(params[0]) if "unnest" in sql else set(params[0::2])
        assert issuance.pk not in touched and touched <= {a.pk for a in accounts}
    assert not any("FOR UPDATE" in sql.upper() and "ledger_account" in sql for sql, _p in statements)
    assert Account.objects.get(pk=issuance.pk).balance == 0  # never written: its balance is derived
    assert selectors.balance(issuance) == -sum(11 + i for i in range(8))
    assert [selectors.balance(a) for a in accounts] == [11 + i for i in range(8)]
    assert_books_hold()


@pytest.mark.skipif(
    "postgres" not in os.environ.get("DATABASE_URL", ""),
    reason="PostgreSQL only: SQLite has one writer per database file by design, so there is nothing to show",
)
def test_an_open_award_does_not_hold_up_another(real_db: None) -> None:
    """PostgreSQL: while one transaction that has posted an award is still open, another award from the same issuance
    account to someone else completes and commits. (SQLite has one writer at a time by design: nothing to show.)"""
    w = make_world()
    first, second = _people(w, 2)
    for p in (first, second):
        services.account_for_person(p)
    services.system_account(w.A, SystemAccount.ISSUANCE)
    posted_open = threading.Event()
    release = threading.Event()
    second_done = threading.Event()
    errors: list[BaseException] = []

    def hold_open() -> None:
        try:
            with transaction.atomic():
                services.award(person=first, amount=5, actor=w.staff_a, idempotency_key="held")
                posted_open.set()
                release.wait(timeout=JOIN_TIMEOUT)
        except BaseException as exc:
            errors.append(exc)
        finally:
            posted_open.set()
            connection.close()

    def meanwhile() -> None:
        try:
            posted_open.wait(timeout=JOIN_TIMEOUT)
            with connection.cursor() as c:
                c.execute("SET lock_timeout = '5s'")  # a wait on the issuance row would fail here, not hang
            services.award(person=second, amount=7, actor=w.staff_a, idempotency_key="meanwhile")
            second_done.set()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_open, daemon=True)
    other = threading.Thread(target=meanwhile, daemon=True)
    holder.start()
    other.start()
    try:
        assert second_done.wait(timeout=10), f"the second award waited on the open one: {errors}"
        assert holder.is_alive()  # the first transaction is still open
        # committed and visible while the first is still uncommitted
        assert list(Transfer.objects.values_list("idempotency_key", flat=True)) == ["meanwhile"]
    finally:
        release.set()
        holder.join(timeout=JOIN_TIMEOUT)
        other.join(timeout=JOIN_TIMEOUT)
    assert errors == [] and not holder.is_alive() and not other.is_alive()
    assert sorted(Transfer.objects.values_list("idempotency_key", flat=True)) == ["held", "meanwhile"]
    assert_books_hold()


@pytest.mark.skipif(
    "postgres" not in os.environ.get("DATABASE_URL", ""),
    reason="PostgreSQL only: SQLite locks the whole database for a writer, not one row",
)
def test_a_locked_account_look_up_holds_the_row_until_the_transaction_ends(real_db: None) -> None:
    """account_for_person(lock=True) reads and locks in one statement (the market counter's first step): a second
    locker of the same row waits for the first transaction; a plain look-up and another person's row do not."""
    from django.db import OperationalError

    w = make_world()
    services.award(person=w.pA1, amount=30, actor=w.staff_a, idempotency_key="seed")
    services.account_for_person(w.pA2)
    locked = threading.Event()
    release = threading.Event()
    seen: dict[str, Any] = {}

    def holder() -> None:
        try:
            with transaction.atomic():
                seen["balance"] = services.account_for_person(w.pA1, lock=True).balance
                locked.set()
                release.wait(timeout=JOIN_TIMEOUT)
        finally:
            locked.set()
            connection.close()

    def _try(person: Person, *, lock: bool) -> str:
        try:
            with transaction.atomic():
                with connection.cursor() as c:
                    c.execute("SET LOCAL lock_timeout = '300ms'")
                services.account_for_person(person, lock=lock)
            return "ok"
        except OperationalError:
            return "waited"

    thread = threading.Thread(target=holder, daemon=True)
    thread.start()
    try:
        assert locked.wait(timeout=JOIN_TIMEOUT)
        assert seen["balance"] == 30
        assert _try(w.pA1, lock=True) == "waited"
        assert _try(w.pA1, lock=False) == "ok"
        assert _try(w.pA2, lock=True) == "ok"
    finally:
        release.set()
        thread.join(timeout=JOIN_TIMEOUT)
    assert not thread.is_alive()
    assert _try(w.pA1, lock=True) == "ok"
