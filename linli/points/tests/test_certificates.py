"""Volunteer service records and certificates: what the record holds, numbers per community and year without gaps
(also under concurrency), what is frozen at issue, who may issue, revoke, read, and the public view and the PDF."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from linli.common.errors import Forbidden, Invalid, NotFound
from linli.common.testing import make_world
from linli.ledger.errors import IdempotencyKeyReused
from linli.ledger.tests.test_concurrency import assert_real_database, real_db, run_threads  # noqa: F401
from linli.org.access import actor_for
from linli.org.models import Role, RoleAssignment, User
from linli.points import certificates, services
from linli.points.certificates import ServiceEntry
from linli.points.models import Activity, Certificate, CertificateCounter, Claim
from linli.points.services import ClaimInput
from linli.points.testing import make_catalogue


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    return make_catalogue(world)


def today() -> date:
    return timezone.localdate()


def approved(w: SimpleNamespace, minutes: int, day: date, key: str, person: Any = None, recorder: Any = None) -> Claim:
    """A clean-up recorded by the grid worker (verified by recording it) and approved by staff."""
    submitted = services.claim_submit(
        actor=actor_for(recorder or w.grid_worker_a1),
        person=person or w.pA1,
        rule=w.cleanup,
        data=ClaimInput(occurred_on=day, minutes=minutes, note="清扫楼道"),
        idempotency_key=key,
    )
    return services.claim_approve(actor=actor_for(w.staff_a), claim=submitted.claim)


def issue(w: SimpleNamespace, start: date | None = None, end: date | None = None, key: str = "", **kw: Any) -> Any:
    return certificates.certificate_issue(
        actor=actor_for(kw.pop("by", w.staff_a)),
        person=kw.pop("person", w.pA1),
        period_from=start or today() - timedelta(days=30),
        period_to=end or today(),
        idempotency_key=key,
    )


# --- pure -------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("minutes", "text"), [(0, "0"), (60, "1"), (90, "1.5"), (125, "2"), (59, "0.9"), (600, "10")])
def test_hours_are_rounded_down_to_a_tenth(minutes: int, text: str) -> None:
    assert certificates.format_hours(minutes) == text


def test_number_and_summary() -> None:
    assert certificates.certificate_number("dxdl", 2026, 7) == "DXDL-2026-00007"
    d = date(2026, 1, 1)
    rows = certificates.summarise(
        [
            ServiceEntry(1, d, "环境清扫", 60, "", ""),
            ServiceEntry(2, d, "义务理发", 120, "", ""),
            ServiceEntry(3, d, "环境清扫", 90, "", ""),
        ]
    )
    assert rows == [
        {"name": "环境清扫", "count": 2, "minutes": 150},
        {"name": "义务理发", "count": 1, "minutes": 120},
    ]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 2, 1), date(2026, 1, 1)),
        (date(1999, 12, 31), date(2001, 1, 1)),
        (date(2010, 1, 1), date(2025, 1, 1)),
    ],
)
def test_bad_periods(start: date, end: date) -> None:
    with pytest.raises(Invalid) as caught:
        certificates.check_period(start, end, date(2026, 3, 1))
    assert caught.value.code == "period_invalid"
    with pytest.raises(Invalid):
        certificates.check_period(date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 1))  # ends in the future


# --- the record -------------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_record_holds_approved_hours_with_place_and_organiser(w: SimpleNamespace) -> None:
    approved(w, 120, today() - timedelta(days=2), "c1")
    # not approved yet, and a claim without minutes: neither is service time
    services.claim_submit(
        actor=actor_for(w.resident_a1),
        person=w.pA1,
        rule=w.cleanup,
        data=ClaimInput(occurred_on=today(), minutes=60),
        idempotency_key="c2",
    )
    services.claim_approve(
        actor=actor_for(w.staff_a),
        claim=services.claim_submit(
            actor=actor_for(w.grid_worker_a1),
            person=w.pA1,
            rule=w.mediation,
            data=ClaimInput(occurred_on=today()),
            idempotency_key="c3",
        ).claim,
    )
    start = timezone.now() - timedelta(days=1)
    activity = Activity.objects.create(
        community=w.A,
        team=w.teamA,
        title="义务理发进社区",
        place="社区广场",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        rule=w.haircut,
        organiser=w.staff_a,
        secret="s",
    )
    at_activity = services.claim_submit(
        actor=actor_for(w.staff_a),
        person=w.pA1,
        rule=w.haircut,
        data=ClaimInput(occurred_on=timezone.localdate(start), minutes=90),
        idempotency_key="c4",
        activity=activity,
    ).claim
    services.claim_approve(actor=actor_for(w.staff_a), claim=at_activity)

    record = certificates.service_record(actor_for(w.resident_a1), w.pA1)
    assert [(e.content, e.minutes) for e in record.entries] == [("环境清扫", 120), ("义务理发进社区", 90)]
    cleanup, haircut = record.entries
    assert (cleanup.place, cleanup.organiser) == (w.A.name, w.A.name)
    assert (haircut.place, haircut.organiser) == ("社区广场", "帮帮团")
    assert record.minutes == 210 and record.hours == "3.5"
    # the period filter
    assert certificates.service_record(actor_for(w.staff_a), w.pA1, since=today() - timedelta(days=1)).minutes == 90


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("staff_a", True),
        ("auditor_a", True),
        ("resident_a1", True),
        ("grid_worker_a1", False),
        ("steward_a1", False),
        ("staff_b", False),
    ],
)
def test_who_reads_a_record(w: SimpleNamespace, name: str, allowed: bool) -> None:
    if allowed:
        assert certificates.service_record(actor_for(w.users[name]), w.pA1).person == w.pA1
    else:
        with pytest.raises(NotFound):
            certificates.service_record(actor_for(w.users[name]), w.pA1)
    with pytest.raises(NotFound):  # the resident does not read a neighbour's record
        certificates.service_record(actor_for(w.resident_a1), w.pA2)


# --- issue and revoke -------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_issue_numbers_per_community_and_year_and_freezes_what_was_certified(w: SimpleNamespace) -> None:
    approved(w, 120, today() - timedelta(days=3), "c1")
    approved(w, 60, today() - timedelta(days=2), "c2")
    first = issue(w).certificate
    year = timezone.localdate(first.issued_at).year
    assert first.number == f"DXDL-{year}-00001"
    assert first.minutes == 180 and first.services == [{"name": "环境清扫", "count": 2, "minutes": 180}]
    assert (first.person_name, first.issuer_name) == ("王秀英", "大兴东路社区")
    assert len(first.code) >= 24 and first.issued_by == w.staff_a
    # more hours later, and a rename: the issued certificate does not change; a new one counts on
    approved(w, 60, today() - timedelta(days=1), "c3")
    w.pA1.name = "王秀芳"
    w.pA1.save()
    second = issue(w, key="k2").certificate
    first.refresh_from_db()
    assert first.minutes == 180 and first.person_name == "王秀英"
    assert second.number == f"DXDL-{year}-00002" and second.minutes == 240 and second.person_name == "王秀芳"
    # community B counts from 1
    grid_worker_b1 = User.objects.create_user(phone="13700000091", password="x-Linli-2026", name="府西网格员")
    RoleAssignment.objects.create(user=grid_worker_b1, role=Role.GRID_WORKER, grid=w.B1)
    services.claim_approve(
        actor=actor_for(w.staff_b),
        claim=services.claim_submit(
            actor=actor_for(grid_worker_b1),
            person=w.pB1,
            rule=w.cleanupB,
            data=ClaimInput(occurred_on=today(), minutes=60),
            idempotency_key="b1",
        ).claim,
    )
    assert issue(w, person=w.pB1, by=w.staff_b).certificate.number == f"FUXI-{year}-00001"
    CertificateCounter.objects.filter(community=w.A).update(last=41)
    assert issue(w, key="k3").certificate.number == f"DXDL-{year}-00042"


@pytest.mark.django_db
def test_issue_replays_with_the_same_key(w: SimpleNamespace) -> None:
    approved(w, 60, today(), "c1")
    one = issue(w, key="web:1:x")
    again = issue(w, key="web:1:x")
    assert again.replayed and again.certificate.pk == one.certificate.pk and Certificate.objects.count() == 1
    with pytest.raises(IdempotencyKeyReused):
        issue(w, start=today() - timedelta(days=5), key="web:1:x")


@pytest.mark.django_db
def test_nothing_to_certify(w: SimpleNamespace) -> None:
    with pytest.raises(certificates.NoService):
        issue(w)
    assert not Certificate.objects.exists() and not CertificateCounter.objects.exists()


@pytest.mark.django_db
def test_nobody_certifies_themselves(w: SimpleNamespace) -> None:
    approved(w, 60, today(), "c1", person=w.pA2, recorder=w.grid_worker_a2)
    w.pA2.user = w.staff_a
    w.pA2.save()
    with pytest.raises(certificates.OwnCertificate):
        issue(w, person=w.pA2)
    assert issue(w, person=w.pA2, by=w.street_admin).certificate.person == w.pA2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "error"),
    [("auditor_a", Forbidden), ("grid_worker_a1", Forbidden), ("resident_a1", Forbidden), ("staff_b", NotFound)],
)
def test_only_staff_in_scope_issue(w: SimpleNamespace, name: str, error: type[Exception]) -> None:
    approved(w, 60, today(), "c1")
    with pytest.raises(error):
        issue(w, by=w.users[name])
    assert not Certificate.objects.exists()


@pytest.mark.django_db
def test_revoke_and_the_public_view(w: SimpleNamespace) -> None:
    approved(w, 90, today(), "c1")
    cert = issue(w).certificate
    view = certificates.public_view(certificates.certificate_by_code(cert.code))
    assert (view.number, view.name, view.hours, view.issuer, view.revoked) == (
        cert.number,
        "王*英",
        "1.5",
        w.A.name,
        False,
    )
    with pytest.raises(Forbidden):
        certificates.certificate_revoke(actor=actor_for(w.auditor_a), certificate=cert, reason="x")
    with pytest.raises(Invalid):
        certificates.certificate_revoke(actor=actor_for(w.staff_a), certificate=cert, reason=" ")
    done = certificates.certificate_revoke(actor=actor_for(w.staff_a), certificate=cert, reason="时长录入有误")
    assert done.revoked_at is not None and done.revoked_by == w.staff_a
    with pytest.raises(certificates.AlreadyRevoked):
        certificates.certificate_revoke(actor=actor_for(w.street_admin), certificate=cert, reason="again")
    assert certificates.public_view(done).revoked
    for code in ["", "nope", "x" * 40]:
        with pytest.raises(NotFound):
            certificates.certificate_by_code(code)


@pytest.mark.django_db
def test_who_reads_certificates(w: SimpleNamespace) -> None:
    approved(w, 60, today(), "c1")
    cert = issue(w).certificate
    assert certificates.certificate_get(actor_for(w.resident_a1), cert.pk) == cert
    assert list(certificates.certificates_of(actor_for(w.resident_a1), w.pA1)) == [cert]
    assert list(certificates.certificates(actor_for(w.auditor_a), w.A)) == [cert]
    with pytest.raises(Forbidden):
        certificates.certificates(actor_for(w.resident_a1), w.A)  # not the whole community's list
    for name in ("grid_worker_a1", "staff_b", "merchant_op_a"):
        with pytest.raises(NotFound):
            certificates.certificate_get(actor_for(w.users[name]), cert.pk)


@pytest.mark.django_db
def test_the_pdf_has_the_number_hours_issuer_and_qr(w: SimpleNamespace) -> None:
    w.A.address, w.A.phone = "大兴东路 12 号", "029-88888888"
    w.A.save()
    approved(w, 90, today(), "c1")
    cert = issue(w).certificate
    url = "https://linli.example" + certificates.public_path(cert)
    body = certificates.render_pdf(cert, public_url=url)
    assert body.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=body, capture_output=True, check=True).stdout.decode()
        # the title reads 志愿服务证明 once the zh-hans catalogue has it; these hold in every language
        for expected in (cert.number, "王秀英", "1.5", "大兴东路 12 号", "029-88888888", "138****0001"):
            assert expected in text, expected
    if shutil.which("pdfimages"):
        listed = subprocess.run(["pdfimages", "-list", "-"], input=body, capture_output=True)
        assert listed.returncode != 0 or b"image" in listed.stdout  # the QR is an embedded image


# --- concurrency ------------------------------------------------------------------------------------------------------
def test_concurrent_issues_get_distinct_numbers_without_gaps(real_db: None) -> None:  # noqa: F811
    assert_real_database()
    w = make_catalogue(make_world())
    approved(w, 60, today(), "c1")
    staff = actor_for(w.staff_a)

    def one(i: int) -> str:
        return certificates.certificate_issue(
            actor=staff,
            person=w.pA1,
            period_from=today() - timedelta(days=i + 1),
            period_to=today(),
            idempotency_key=f"race-{i}",
        ).certificate.number

    results = run_threads(8, one)
    assert [kind for kind, _ in results] == ["ok"] * 8, results
    numbers = sorted(value for _, value in results)
    year = today().year
    assert numbers == [f"DXDL-{year}-{n:05d}" for n in range(1, 9)]
    assert CertificateCounter.objects.get(community=w.A, year=year).last == 8
