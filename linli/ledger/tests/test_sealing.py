"""Seals, `linli ledger seal|verify`, tamper evidence and the public proof page (issue 3 part 4)."""

from __future__ import annotations

import hashlib
import importlib
import io
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import translation

from linli.common.errors import DomainError
from linli.common.models import AuditEvent
from linli.common.testing import client_for
from linli.ledger import domain, sealing, selectors, services
from linli.ledger.models import AccountRollup, Seal, SystemAccount, Transfer, TransferKind
from linli.org.access import actor_for

SH = ZoneInfo("Asia/Shanghai")
OCT = datetime(2026, 10, 5, 10, 0, tzinfo=SH)
AFTER_OCT = datetime(2026, 11, 1, 0, 6, tzinfo=SH)  # past the end of October plus the grace
GUARD = importlib.import_module("linli.ledger.migrations.0002_append_only")


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    with mock.patch("django.utils.timezone.now", return_value=moment.astimezone(UTC)):
        yield


def _cmd(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("ledger", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def _history(w: SimpleNamespace) -> list[Transfer]:
    """October: awards to two people, a redemption, a reversal; plus one posting on 1 November."""
    market = services.system_account(w.A, SystemAccount.MARKET)
    acc1 = services.account_for_person(w.pA1)
    made: list[Transfer] = []
    with at(OCT):
        made.append(services.award(person=w.pA1, amount=100, actor=w.staff_a, idempotency_key="oct-award-pA1").transfer)
        made.append(services.award(person=w.pA2, amount=40, actor=w.staff_a, idempotency_key="o2").transfer)
    with at(OCT + timedelta(days=3)):
        spend = services.transfer_post(
            debit=acc1, credit=market, amount=30, kind=TransferKind.REDEMPTION, actor=w.staff_a, idempotency_key="o3"
        )
        made.append(spend.transfer)
    with at(datetime(2026, 10, 31, 23, 59, 59, tzinfo=SH)):  # the last second of October, Beijing time
        made.append(services.transfer_reverse(transfer=spend.transfer, actor=w.staff_a, idempotency_key="o4").transfer)
        made.append(services.award(person=w.pA1, amount=7, actor=w.staff_a, idempotency_key="o5").transfer)
    with at(datetime(2026, 11, 1, 0, 0, 1, tzinfo=SH)):  # already November (still October in UTC)
        made.append(services.award(person=w.pA2, amount=3, actor=w.staff_a, idempotency_key="n1").transfer)
    return made


def _seal_october(w: SimpleNamespace) -> Seal:
    with at(AFTER_OCT):
        return sealing.ledger_seal(community=w.A, month="2026-10", actor=None).seal


@contextmanager
def _guard_dropped() -> Iterator[None]:
    """Take away the append-only trigger the way an attacker with database access would, then put it back."""
    pg = connection.vendor == "postgresql"
    with connection.cursor() as c:
        if pg:
            c.execute("DROP TRIGGER ledger_transfer_no_change ON ledger_transfer")
        else:
            c.execute("DROP TRIGGER ledger_transfer_no_update")
    try:
        yield
    finally:
        with connection.cursor() as c:
            if pg:
                c.execute(
                    "CREATE TRIGGER ledger_transfer_no_change BEFORE UPDATE OR DELETE ON ledger_transfer "
                    "FOR EACH ROW EXECUTE FUNCTION ledger_transfer_append_only()"
                )
            else:
                c.execute(next(s for s in GUARD.SQLITE if "ledger_transfer_no_update" in s))


@contextmanager
def _guard_lifted() -> Iterator[None]:
    with connection.cursor() as c:
        c.execute("INSERT INTO ledger_maintenance (id, reason) VALUES (1, 'tamper test')")
    try:
        yield
    finally:
        with connection.cursor() as c:
            c.execute("DELETE FROM ledger_maintenance")


# --- pure parts -----------------------------------------------------------------------------------------------------


def test_streaming_root_equals_domain_root() -> None:
    rng = random.Random(3)
    for n in [*range(70), 127, 128, 129, 1000, 1025]:
        leaves = [hashlib.sha256(rng.randbytes(8)).hexdigest() for _ in range(n)]
        acc = sealing.MerkleAccumulator()
        for leaf in leaves:
            acc.add(leaf)
        assert acc.count == n
        assert acc.root() == domain.merkle_root(leaves), n


def test_row_hash_ignores_how_the_time_zone_is_written() -> None:
    fields = {"at": OCT, "amount": 1}
    assert domain.canonical(fields) == domain.canonical({**fields, "at": OCT.astimezone(UTC)})


def test_month_window_in_beijing_time() -> None:
    start, end = sealing.month_window("2026-10")
    assert start.isoformat() == "2026-10-01T00:00:00+08:00" and end.isoformat() == "2026-11-01T00:00:00+08:00"
    assert sealing.month_window("2026-12")[1] == datetime(2027, 1, 1, tzinfo=SH)
    for bad in ["2026-13", "2026-1", "26-10", "", "2026-10-01", "2026/10"]:
        with pytest.raises(sealing.MonthInvalid):
            sealing.month_window(bad)
    assert sealing.previous_month(datetime(2026, 1, 15, tzinfo=SH)) == "2025-12"


def test_reference_parsing_forgives_how_people_type() -> None:
    typed = ["12-0a1b2c3d", " 12 - 0A1B2C3D ", "#12-0a1b2c3d", "１２－０ａ１ｂ２ｃ３ｄ", "12—0a1b2c3d", "12 0a1b2c3d"]
    for text in typed:
        assert sealing.parse_reference(text) == (12, "0a1b2c3d"), text
    for text in ["", "12", "12-0a1b2c3", "12-0a1b2c3g", "x-0a1b2c3d", "1" * 50, "12-0a1b2c3d0"]:
        with pytest.raises(sealing.ReferenceInvalid):
            sealing.parse_reference(text)


# --- sealing --------------------------------------------------------------------------------------------------------


def test_seal_a_month(world: SimpleNamespace) -> None:
    made = _history(world)
    october = made[:5]
    with at(datetime(2026, 11, 1, 0, 4, tzinfo=SH)), pytest.raises(sealing.MonthNotOver):
        sealing.ledger_seal(community=world.A, month="2026-10", actor=None)
    with at(AFTER_OCT), pytest.raises(sealing.MonthNotOver):
        sealing.ledger_seal(community=world.A, month="2026-11", actor=None)
    seal = _seal_october(world)
    assert seal.transfer_count == 5
    assert (seal.first_transfer_id, seal.last_transfer_id) == (october[0].pk, october[-1].pk)
    assert seal.merkle_root == domain.merkle_root([t.row_hash for t in october])
    assert AuditEvent.objects.filter(action="ledger.seal", object_id=seal.pk, community_id=world.A.pk).exists()
    # the issuance roll-up moved up to the last sealed transfer; the derived balance is unchanged by it
    issuance = services.system_account(world.A, SystemAccount.ISSUANCE)
    rollup = AccountRollup.objects.get(account=issuance)
    assert (rollup.upto_transfer_id, rollup.balance) == (october[-1].pk, -147)
    assert selectors.balance(issuance) == -150
    # sealing again with the same rows returns the stored seal
    with at(AFTER_OCT + timedelta(days=2)):
        again = sealing.ledger_seal(community=world.A, month="2026-10", actor=None)
    assert again.replayed and again.seal.pk == seal.pk and Seal.objects.count() == 1
    # an empty month is sealed too (the notice board says: no entries), an earlier month may come later
    with at(AFTER_OCT):
        empty = sealing.ledger_seal(community=world.B, month="2026-10", actor=None).seal
        earlier = sealing.ledger_seal(community=world.A, month="2026-09", actor=None).seal
    assert empty.transfer_count == 0 and empty.merkle_root == domain.EMPTY_ROOT and empty.first_transfer_id is None
    assert earlier.transfer_count == 0
    assert AccountRollup.objects.get(account=issuance).upto_transfer_id == october[-1].pk  # never backwards


def test_seal_needs_staff_of_that_community(world: SimpleNamespace) -> None:
    _history(world)
    for outsider in (world.staff_b, world.auditor_a, world.resident_a1, world.grid_worker_a1):
        with at(AFTER_OCT), pytest.raises(DomainError) as refused:
            sealing.ledger_seal(community=world.A, month="2026-10", actor=actor_for(outsider))
        assert refused.value.status in {403, 404}
    with at(AFTER_OCT):
        sealed = sealing.ledger_seal(community=world.A, month="2026-10", actor=actor_for(world.staff_a))
    assert sealed.seal.sealed_by == world.staff_a and not sealed.replayed


def test_seal_refuses_a_month_whose_rows_changed(world: SimpleNamespace) -> None:
    made = _history(world)
    _seal_october(world)
    with _guard_lifted(), connection.cursor() as c:
        c.execute("DELETE FROM ledger_transfer WHERE id = %s", [made[4].pk])
    with at(AFTER_OCT), pytest.raises(sealing.AlreadySealed) as refused:
        sealing.ledger_seal(community=world.A, month="2026-10", actor=None)
    assert refused.value.status == 409 and refused.value.code == "already_sealed"


def test_seal_command(world: SimpleNamespace) -> None:
    _history(world)
    with at(AFTER_OCT):
        code, out, _err = _cmd("seal", "--month", "2026-10")
    assert code == 0
    root = Seal.objects.get(community=world.A, month="2026-10").merkle_root
    assert f"dxdl 2026-10 {root} 5 transfers" in out and "sealed" in out
    assert Seal.objects.filter(month="2026-10").count() == 3  # every community
    with at(AFTER_OCT):
        code, out, _err = _cmd("seal", "--month", "2026-10", "--community", "dxdl")
    assert code == 0 and "already sealed, same root" in out
    with at(AFTER_OCT):
        assert _cmd("seal", "--month", "2026-11", "--community", "dxdl")[0] == 1
        assert _cmd("seal", "--month", "2026-10", "--community", "nowhere")[0] == 2
        assert _cmd("seal", "--month", "October")[0] == 1


# --- verification ---------------------------------------------------------------------------------------------------


def test_verify_passes_on_an_honest_ledger(world: SimpleNamespace) -> None:
    _history(world)
    _seal_october(world)
    report = sealing.ledger_verify()
    assert report.ok, report.problems
    assert report.transfers == 6 and report.seals == 1 and report.communities == 3
    code, out, _err = _cmd("verify")
    assert code == 0 and out.startswith("ledger OK: 3 communities, 6 transfers")
    code, out, _err = _cmd("verify", "--community", "fuxi")
    assert code == 0 and "1 communities, 0 transfers" in out
    assert _cmd("verify", "--community", "nowhere")[0] == 2


def test_verify_reports_when_the_database_no_longer_holds_transfers_to_their_community(world: SimpleNamespace) -> None:
    _history(world)
    assert sealing.ledger_verify().ok
    with transaction.atomic():
        with connection.cursor() as c:
            if connection.vendor == "postgresql":
                c.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the history's deferred checks first: no ALTER before
                c.execute("ALTER TABLE ledger_transfer DROP CONSTRAINT transfer_credit_in_community")
            else:
                c.execute("DROP TRIGGER ledger_transfer_same_community")
        report = sealing.ledger_verify()
        code, out, _err = _cmd("verify")
        transaction.set_rollback(True)  # the DDL goes with it, on both databases
    missing = "transfer_credit_in_community" if connection.vendor == "postgresql" else "ledger_transfer_same_community"
    assert not report.ok and code == 1
    assert [p.code for p in report.problems] == ["guard"] and missing in report.problems[0].message
    assert not report.guard_lifted  # the append-only guard itself is intact
    assert missing in out
    assert sealing.ledger_verify().ok


@pytest.mark.parametrize("how", ["drop_trigger", "maintenance_row"])
def test_verify_names_a_transfer_changed_behind_the_applications_back(world: SimpleNamespace, how: str) -> None:
    made = _history(world)
    _seal_october(world)
    victim = made[2]  # the redemption of 30
    with _guard_dropped() if how == "drop_trigger" else _guard_lifted():
        with connection.cursor() as c:
            c.execute("UPDATE ledger_transfer SET amount = 3 WHERE id = %s", [victim.pk])
        code, out, _err = _cmd("verify")
        report = sealing.ledger_verify()
    assert code == 1
    assert f"first bad transfer: #{victim.pk} " in out
    assert report.first_bad_transfer == victim.pk
    assert {p.code for p in report.problems_of(victim.pk)} >= {"row_hash", "running_balance"}
    codes = {p.code for p in report.problems}
    assert "guard" in codes and report.guard_lifted  # the missing trigger / the maintenance row is reported
    assert "account_balance" in codes  # both accounts of the redemption no longer add up
    # the seal's leaves are the row hashes, which the attacker left alone: the keyed row hash is what catches it
    assert "seal" not in codes
    # after the guard is back, the changed row is still named
    assert sealing.ledger_verify().first_bad_transfer == victim.pk


def test_verify_catches_a_rewritten_row_hash_through_the_seal(world: SimpleNamespace) -> None:
    made = _history(world)
    _seal_october(world)
    forged = hashlib.sha256(b"forged").hexdigest()
    with _guard_lifted(), connection.cursor() as c:
        c.execute("UPDATE ledger_transfer SET amount = 1, row_hash = %s WHERE id = %s", [forged, made[1].pk])
    report = sealing.ledger_verify()
    assert report.first_bad_transfer == made[1].pk
    assert any(p.code == "seal" and p.month == "2026-10" for p in report.problems)


def test_verify_catches_a_tampered_balance(world: SimpleNamespace) -> None:
    made = _history(world)
    account = made[0].credit_id
    with connection.cursor() as c:  # no trigger guards balances: the CHECK only stops negatives
        c.execute("UPDATE ledger_account SET balance = balance + 50 WHERE id = %s", [account])
    report = sealing.ledger_verify()
    assert not report.ok and report.first_bad_transfer is None
    assert [(p.code, p.account_id) for p in report.problems] == [
        ("account_balance", account),
        ("not_zero", None),
    ]
    code, out, _err = _cmd("verify", "--community", "dxdl")
    assert code == 1 and f" #{account} " in out and "ledger NOT OK: 2 problems" in out


def test_verify_catches_a_deleted_transfer(world: SimpleNamespace) -> None:
    made = _history(world)
    _seal_october(world)
    gone = made[0]  # the first award of 100 to pA1; the redemption (made[2]) follows on the same account
    with _guard_lifted(), connection.cursor() as c:
        c.execute("DELETE FROM ledger_transfer WHERE id = %s", [gone.pk])
    with translation.override("en"):
        report = sealing.ledger_verify()
    seal_problems = [p for p in report.problems if p.code == "seal"]
    assert len(seal_problems) == 1 and seal_problems[0].month == "2026-10"
    assert "sealed 5 transfers" in seal_problems[0].message and "now 4 transfers" in seal_problems[0].message
    # the next transfer of the same account no longer follows from the one before
    assert report.first_bad_transfer == made[2].pk
    assert {p.code for p in report.problems_of(made[2].pk)} == {"running_balance"}
    assert _cmd("verify")[0] == 1


def test_verify_catches_a_tampered_rollup(world: SimpleNamespace) -> None:
    _history(world)
    _seal_october(world)
    AccountRollup.objects.update(balance=-1)
    report = sealing.ledger_verify()
    assert [p.code for p in report.problems] == ["rollup"]


# --- the public proof page ------------------------------------------------------------------------------------------


def _independent_check(proof: dict) -> bool:
    """What a resident's own tool does with the JSON, exactly as the page documents it."""
    x = hashlib.sha256(b"\x00" + bytes.fromhex(proof["leaf"])).digest()
    for step in proof["path"]:
        h = bytes.fromhex(step["hash"])
        x = hashlib.sha256(b"\x01" + (h + x if step["side"] == "L" else x + h)).digest()
    return x.hex() == proof["root"]


def test_proof_of_every_sealed_entry(world: SimpleNamespace) -> None:
    made = _history(world)
    seal = _seal_october(world)
    client = client_for(None)  # no login
    for t in made[:5]:
        proof = sealing.transfer_proof(t.reference)
        assert proof.verified and proof.root == seal.merkle_root and proof.month == "2026-10"
        body = client.get(reverse("ledger:proof"), {"ref": t.reference, "format": "json"}).json()
        assert body["verified"] and _independent_check(body)
        assert body["amount"] == t.amount and body["kind"] == t.kind and body["count"] == 5
    assert sealing.transfer_proof(made[4].reference).date == "2026-10-31"


def test_proof_page_shows_no_names(world: SimpleNamespace) -> None:
    made = _history(world)
    seal = _seal_october(world)
    response = client_for(None).get(reverse("ledger:proof"), {"ref": made[0].reference})
    assert response.status_code == 200
    html = response.content.decode()
    assert "✓" in html and seal.merkle_root in html and made[0].row_hash in html and "2026-10" in html
    assert world.A.name in html
    # the idempotency key is long on purpose: the page's random CSRF token can hold any short one ("o1" did)
    for private in (world.pA1.name, world.pA1.phone, world.staff_a.name, "oct-award-pA1"):
        assert private not in html
    json_body = client_for(None).get(reverse("ledger:proof"), {"ref": made[0].reference, "format": "json"}).content
    assert world.pA1.name.encode() not in json_body and b"oct-award-pA1" not in json_body


def test_proof_refusals(world: SimpleNamespace) -> None:
    made = _history(world)
    _seal_october(world)
    client = client_for(None)
    url = reverse("ledger:proof")
    assert client.get(url).status_code == 200  # the empty form
    wrong_prefix = f"{made[0].pk}-{'0' * 8 if not made[0].row_hash.startswith('0' * 8) else '1' * 8}"
    cases = [
        ("nonsense", 400, "reference_invalid"),
        ("999999-0a1b2c3d", 404, "reference_unknown"),
        (wrong_prefix, 400, "reference_mismatch"),
        (made[5].reference, 409, "month_not_sealed"),  # 1 November: not sealed yet
    ]
    for ref, status, code in cases:
        page = client.get(url, {"ref": ref})
        assert page.status_code == status and "✗" in page.content.decode(), ref
        as_json = client.get(url, {"ref": ref, "format": "json"})
        assert as_json.status_code == status and as_json.json()["code"] == code, ref
    assert "2026-11" in client.get(url, {"ref": made[5].reference, "format": "json"}).json()["message"]


def test_proof_fails_visibly_when_the_sealed_rows_changed(world: SimpleNamespace) -> None:
    made = _history(world)
    _seal_october(world)
    with _guard_lifted(), connection.cursor() as c:
        c.execute("DELETE FROM ledger_transfer WHERE id = %s", [made[1].pk])
    proof = sealing.transfer_proof(made[0].reference)
    assert not proof.verified
    page = client_for(None).get(reverse("ledger:proof"), {"ref": made[0].reference})
    assert page.status_code == 200 and "✗" in page.content.decode()
