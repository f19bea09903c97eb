"""The claim chain: submit -> verify -> approve -> posted once; rejection with a reason and resubmission; who may do
which step; caps; duplicates; bad input posts nothing."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from linli.common.errors import DomainError, Forbidden, NotFound
from linli.ledger import selectors as ledger_reads
from linli.ledger import services as ledger
from linli.ledger.models import Transfer
from linli.org.access import actor_for
from linli.points import certificates, leaderboards, selectors, services
from linli.points.errors import CapExceeded, NoPoints, NotARecorder, OwnClaim, RuleNotInForce, SameChecker
from linli.points.models import Claim, ClaimStatus, Source
from linli.points.services import ClaimInput, RuleData
from linli.points.testing import make_catalogue

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    return make_catalogue(world)


def jpeg(color: str = "red", size: tuple[int, int] = (40, 30)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return SimpleUploadedFile("p.jpg", out.getvalue(), content_type="image/jpeg")


def today() -> Any:
    return timezone.localdate()


def check_in(w: SimpleNamespace, minutes: int = 60, key: str = "k1", photo: Any = None, **kw: Any) -> Claim:
    return services.claim_submit(
        actor=actor_for(w.resident_a1),
        person=w.pA1,
        rule=w.cleanup,
        data=ClaimInput(occurred_on=kw.pop("day", today()), minutes=minutes, note="清扫楼道", **kw),
        idempotency_key=key,
        photo=photo,
    ).claim


def balance(person: Any) -> int:
    return ledger_reads.person_balance(person)


def test_seed_story_one_hour_cleanup_gives_three_points(w: SimpleNamespace) -> None:
    claim = check_in(w)
    assert (claim.status, claim.points, claim.source) == (ClaimStatus.SUBMITTED, 3, Source.CHECKIN)
    services.claim_verify(actor=actor_for(w.steward_a1), claim=claim)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.VERIFIED and claim.verified_by == w.steward_a1
    assert balance(w.pA1) == 0  # nothing posted before approval
    services.claim_approve(actor=actor_for(w.staff_a), claim=claim)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.APPROVED
    transfer = Transfer.objects.get(ref_type="claim", ref_id=claim.pk)
    assert (transfer.pk, transfer.amount) == (claim.transfer_id, 3)
    assert balance(w.pA1) == 3
    assert [e.action for e in claim.events.all()] == ["submitted", "verified", "approved"]


def test_approving_twice_posts_once(w: SimpleNamespace) -> None:
    claim = check_in(w)
    services.claim_verify(actor=actor_for(w.steward_a1), claim=claim)
    services.claim_approve(actor=actor_for(w.staff_a), claim=claim)
    with pytest.raises(DomainError) as err:
        services.claim_approve(actor=actor_for(w.street_admin), claim=claim)
    assert err.value.code == "claim_status"
    assert Transfer.objects.filter(ref_type="claim", ref_id=claim.pk).count() == 1


def test_points_follow_units_and_difficulty(w: SimpleNamespace) -> None:
    claim = check_in(w, minutes=150, difficulty="较难")  # two full hours × 3 × 150%
    assert claim.points == 9
    with pytest.raises(NoPoints):
        check_in(w, minutes=45, key="k2")  # less than a full hour
    with pytest.raises(DomainError) as err:
        check_in(w, minutes=60, key="k3", difficulty="极难")
    assert err.value.code == "difficulty_invalid"


def test_retry_with_the_same_key_returns_the_first_claim(w: SimpleNamespace) -> None:
    first = check_in(w, key="same")
    again = services.claim_submit(
        actor=actor_for(w.resident_a1),
        person=w.pA1,
        rule=w.cleanup,
        data=ClaimInput(occurred_on=today(), minutes=60),
        idempotency_key="same",
    )
    assert again.replayed and again.claim.pk == first.pk
    assert Claim.objects.count() == 1
    with pytest.raises(DomainError) as err:  # the same key for another rule
        services.claim_submit(
            actor=actor_for(w.resident_a1),
            person=w.pA1,
            rule=w.haircut,
            data=ClaimInput(occurred_on=today()),
            idempotency_key="same",
        )
    assert err.value.code == "idempotency_key_reused"


def test_nobody_checks_their_own_claim(w: SimpleNamespace) -> None:
    # the steward's own claim, recorded by the grid worker: the steward may not verify or approve it
    steward_person = w.pA2
    steward_person.user = w.steward_a1
    steward_person.save()
    claim = services.claim_submit(
        actor=actor_for(w.resident_a1),
        person=w.pA1,
        rule=w.cleanup,
        data=ClaimInput(occurred_on=today(), minutes=60),
        idempotency_key="x",
    ).claim
    # pA1 is also the resident; give the staff member pA1's login to prove the approval refusal
    w.pA1.user = None
    w.pA1.save()
    staff_person = w.pA1
    staff_person.user = w.staff_a
    staff_person.save()
    services.claim_verify(actor=actor_for(w.steward_a1), claim=claim)
    with pytest.raises(OwnClaim):
        services.claim_approve(actor=actor_for(w.staff_a), claim=claim)


def test_the_verifier_does_not_also_approve(w: SimpleNamespace) -> None:
    claim = check_in(w)
    services.claim_verify(actor=actor_for(w.staff_a), claim=claim)
    with pytest.raises(SameChecker):
        services.claim_approve(actor=actor_for(w.staff_a), claim=claim)
    services.claim_approve(actor=actor_for(w.street_admin), claim=claim)
    assert balance(w.pA1) == 3


def test_verification_is_refused_outside_scope(w: SimpleNamespace) -> None:
    claim = check_in(w)
    with pytest.raises(NotFound):  # grid A2's worker does not see pA1 (grid A1)
        services.claim_verify(actor=actor_for(w.grid_worker_a2), claim=claim)
    with pytest.raises(NotFound):
        services.claim_verify(actor=actor_for(w.staff_b), claim=claim)
    with pytest.raises((Forbidden, NotFound)):  # the auditor reads but never checks
        services.claim_verify(actor=actor_for(w.auditor_a), claim=claim)
    with pytest.raises(DomainError) as err:  # approval before the rule's verification step
        services.claim_approve(actor=actor_for(w.staff_a), claim=claim)
    assert err.value.code == "not_verified"


def test_recording_for_an_elder_without_a_phone_counts_as_verified(w: SimpleNamespace) -> None:
    claim = services.claim_submit(
        actor=actor_for(w.steward_a1),
        person=w.pA1b,
        rule=w.mediation,
        data=ClaimInput(occurred_on=today(), note="调解漏水纠纷"),
        idempotency_key="m1",
    ).claim
    assert (claim.source, claim.status, claim.verified_by) == (Source.RECORDED, ClaimStatus.VERIFIED, w.steward_a1)
    assert claim in selectors.approve_queue(actor_for(w.staff_a), w.A)
    services.claim_approve(actor=actor_for(w.staff_a), claim=claim)
    assert balance(w.pA1b) == 8


def test_who_may_record_follows_the_rule(w: SimpleNamespace) -> None:
    with pytest.raises(NotARecorder):  # mediation is recorded by stewards, grid workers and staff, not self
        services.claim_submit(
            actor=actor_for(w.resident_a1),
            person=w.pA1,
            rule=w.mediation,
            data=ClaimInput(occurred_on=today()),
            idempotency_key="m",
        )
    with pytest.raises(NotFound):  # a resident cannot claim for a neighbour
        services.claim_submit(
            actor=actor_for(w.resident_a1),
            person=w.pA2,
            rule=w.cleanup,
            data=ClaimInput(occurred_on=today(), minutes=60),
            idempotency_key="n",
        )
    with pytest.raises(NotFound):  # a rule of another community
        services.claim_submit(
            actor=actor_for(w.resident_a1),
            person=w.pA1,
            rule=w.cleanupB,
            data=ClaimInput(occurred_on=today(), minutes=60),
            idempotency_key="o",
        )
    assert Claim.objects.count() == 0


def test_approve_only_and_verify_only_rules(w: SimpleNamespace) -> None:
    haircut = services.claim_submit(
        actor=actor_for(w.resident_a1),
        person=w.pA1,
        rule=w.haircut,
        data=ClaimInput(occurred_on=today()),
        idempotency_key="h",
    ).claim
    assert haircut in selectors.approve_queue(actor_for(w.staff_a), w.A)
    assert haircut not in selectors.verify_queue(actor_for(w.steward_a1), w.A)
    services.claim_approve(actor=actor_for(w.staff_a), claim=haircut)
    recycled = services.claim_submit(
        actor=actor_for(w.resident_a1),
        person=w.pA1,
        rule=w.recycling,
        data=ClaimInput(occurred_on=today(), quantity=Decimal("4.5")),
        idempotency_key="r",
        photo=jpeg(),
    ).claim
    services.claim_verify(actor=actor_for(w.grid_worker_a1), claim=recycled)  # verify-only: posted here
    recycled.refresh_from_db()
    assert recycled.status == ClaimStatus.APPROVED and recycled.points == 4
    assert balance(w.pA1) == 2 + 4


def test_rejection_reason_and_resubmission(w: SimpleNamespace) -> None:
    claim = check_in(w)
    with pytest.raises(DomainError) as err:
        services.claim_reject(actor=actor_for(w.steward_a1), claim=claim, reason=" ")
    assert err.value.code == "reason_required"
    services.claim_reject(actor=actor_for(w.steward_a1), claim=claim, reason="时间写错了")
    claim.refresh_from_db()
    assert (claim.status, claim.reason) == (ClaimStatus.REJECTED, "时间写错了")
    services.claim_resubmit(
        actor=actor_for(w.resident_a1), claim=claim, data=ClaimInput(occurred_on=today(), minutes=120)
    )
    claim.refresh_from_db()
    assert (claim.status, claim.points, claim.reason) == (ClaimStatus.SUBMITTED, 6, "")
    assert [e.action for e in claim.events.all()] == ["submitted", "rejected", "resubmitted"]


def test_caps_are_enforced_at_approval(w: SimpleNamespace) -> None:
    staff, steward = actor_for(w.staff_a), actor_for(w.steward_a1)
    first = check_in(w, minutes=180, key="a")  # 9 = the daily cap
    second = check_in(w, minutes=60, key="b")  # allowed at submission: the first is not approved yet
    for claim in (first, second):
        services.claim_verify(actor=steward, claim=claim)
    services.claim_approve(actor=staff, claim=first)
    with pytest.raises(CapExceeded) as err:
        services.claim_approve(actor=staff, claim=second)
    assert err.value.details == {"cap": "day", "limit": 9, "left": 0}
    assert balance(w.pA1) == 9
    with pytest.raises(CapExceeded):  # and now refused at submission too
        check_in(w, minutes=60, key="c")


def test_a_claim_whose_points_were_reversed_no_longer_counts(w: SimpleNamespace, client: Any) -> None:
    """Staff reverse a claim's transfer in the ledger (points posted by mistake): the claim stays approved in its
    history, but it no longer fills the daily cap, the leaderboard or the volunteer record, and its page says so."""
    staff, steward = actor_for(w.staff_a), actor_for(w.steward_a1)
    first = check_in(w, minutes=180, key="a")  # 9 = the daily cap
    services.claim_verify(actor=steward, claim=first)
    first = services.claim_approve(actor=staff, claim=first)
    assert list(Claim.objects.standing()) == [first]
    assert leaderboards.leaderboard(community=w.A).rows[0].points == 9
    assert len(certificates.service_record(staff, w.pA1).entries) == 1
    ledger.transfer_reverse(
        transfer=Transfer.objects.get(ref_type="claim", ref_id=first.pk),
        actor=w.staff_a,
        idempotency_key="undo",
        memo="误录",
    )
    assert balance(w.pA1) == 0
    assert list(Claim.objects.standing()) == []
    assert Claim.objects.get(pk=first.pk).status == ClaimStatus.APPROVED  # what happened stays as it happened
    assert leaderboards.leaderboard(community=w.A).rows == []
    assert certificates.service_record(staff, w.pA1).entries == []
    second = check_in(w, minutes=180, key="b")  # the cap is free again
    services.claim_verify(actor=steward, claim=second)
    services.claim_approve(actor=staff, claim=second)
    assert balance(w.pA1) == 9
    client.force_login(w.resident_a1)
    page = client.get(f"/points/claims/{first.pk}/").content.decode()
    assert 'data-testid="points-reversed"' in page
    assert 'data-testid="points-reversed"' not in client.get(f"/points/claims/{second.pk}/").content.decode()
    mine = client.get("/points/claims/mine/").content.decode()
    assert mine.count('data-testid="points-reversed"') == 1


def test_rule_versions_keep_past_claims(w: SimpleNamespace) -> None:
    claim = check_in(w)
    services.rule_update(
        actor=actor_for(w.staff_a), rule=w.cleanup, data=RuleData(name="环境清扫", points=4, unit="hour")
    )
    w.cleanup.refresh_from_db()
    assert w.cleanup.current.number == 2
    claim.refresh_from_db()
    assert (claim.rule_version.number, claim.rule_version.points, claim.points) == (1, 3, 3)
    later = check_in(w, key="later")
    assert later.points == 4


def test_rules_not_in_force_and_bad_dates(w: SimpleNamespace) -> None:
    services.rule_update(
        actor=actor_for(w.staff_a),
        rule=w.cleanup,
        data=RuleData(name="环境清扫", points=3, unit="hour", valid_from=today()),
    )
    with pytest.raises(RuleNotInForce):
        check_in(w, day=today() - timedelta(days=1))
    with pytest.raises(DomainError) as err:
        check_in(w, day=today() + timedelta(days=1), key="f")
    assert err.value.code == "date_future"
    services.rule_retire(actor=actor_for(w.staff_a), rule=w.cleanup)
    with pytest.raises(RuleNotInForce):
        check_in(w, key="g")


def test_duplicates_are_flagged_not_refused(w: SimpleNamespace) -> None:
    data = jpeg("blue").read()
    first = services.claim_submit(
        actor=actor_for(w.resident_a1),
        person=w.pA1,
        rule=w.cleanup,
        data=ClaimInput(occurred_on=today(), minutes=60),
        idempotency_key="d1",
        photo=SimpleUploadedFile("a.jpg", data),
    ).claim
    second = services.claim_submit(
        actor=actor_for(w.resident_a1),
        person=w.pA1,
        rule=w.cleanup,
        data=ClaimInput(occurred_on=today(), minutes=60),
        idempotency_key="d2",
        photo=SimpleUploadedFile("b.jpg", data),
    ).claim
    assert first.duplicate_of_id is None and not first.photo_reused
    assert second.duplicate_of_id == first.pk and second.photo_reused
    assert list(selectors.verify_queue(actor_for(w.steward_a1), w.A, selectors.ClaimFilter(flagged=True))) == [second]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"not an image at all", "photo_invalid"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "photo_invalid"),
    ],
)
def test_bad_photos_are_refused_and_nothing_is_kept(w: SimpleNamespace, payload: bytes, code: str) -> None:
    with pytest.raises(DomainError) as err:
        check_in(w, photo=SimpleUploadedFile("x.jpg", payload))
    assert err.value.code == code
    assert Claim.objects.count() == 0


def test_a_huge_photo_is_refused(w: SimpleNamespace, settings: Any) -> None:
    settings.LINLI_PHOTO_MAX_BYTES = 1000
    with pytest.raises(DomainError) as err:
        check_in(w, photo=jpeg(size=(800, 800)))
    assert err.value.code == "photo_too_large"


def test_photos_lose_their_exif(w: SimpleNamespace) -> None:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    Image.new("RGB", (3000, 2000), "green").save(out, "JPEG", exif=exif.tobytes())
    claim = check_in(w, photo=SimpleUploadedFile("big.jpg", out.getvalue()))
    assert claim.photo is not None
    stored = Image.open(io.BytesIO(bytes(claim.photo.data)))
    assert max(stored.size) == 1600
    assert not stored.getexif()


def test_work_order_helper_credit_is_idempotent(w: SimpleNamespace) -> None:
    staff = actor_for(w.staff_a)
    first = services.claim_for_work_order(
        actor=staff, person=w.pA2, rule=w.mediation, work_order_id=77, occurred_on=today()
    )
    again = services.claim_for_work_order(
        actor=staff, person=w.pA2, rule=w.mediation, work_order_id=77, occurred_on=today()
    )
    assert again.replayed and again.claim.pk == first.claim.pk
    assert first.claim.status == ClaimStatus.VERIFIED and first.claim.verified_by is None
    services.claim_approve(actor=staff, claim=first.claim)  # the closing was the check; staff approve
    assert balance(w.pA2) == 8


def test_bulk_approve_reports_each_refusal(w: SimpleNamespace) -> None:
    steward, staff = actor_for(w.steward_a1), actor_for(w.staff_a)
    claims = [check_in(w, minutes=120, key=f"b{i}") for i in range(3)]  # 6 each, daily cap 9: only one fits
    services.claims_verify(actor=steward, claims=claims)
    result = services.claims_approve(actor=staff, claims=claims)
    assert len(result.done) == 1 and [code.code for _, code in result.failed] == ["cap_exceeded", "cap_exceeded"]
    assert balance(w.pA1) == 6


def test_withdraw(w: SimpleNamespace) -> None:
    claim = check_in(w)
    with pytest.raises(DomainError):
        services.claim_withdraw(actor=actor_for(w.grid_worker_a1), claim=claim)
    services.claim_withdraw(actor=actor_for(w.resident_a1), claim=claim)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.WITHDRAWN
    assert claim not in selectors.verify_queue(actor_for(w.steward_a1), w.A)
