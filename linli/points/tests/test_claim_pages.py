"""Claim pages: a resident checks in and follows the claim; stewards verify on the queue; staff approve in bulk and
see per-claim refusals; bad input is a clear error on the page and writes nothing."""

from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from PIL import Image

from linli.common.testing import client_for as _client_for
from linli.ledger import selectors as ledger_reads
from linli.org.access import actor_for
from linli.points import services
from linli.points.models import Claim, ClaimStatus, Source
from linli.points.services import ClaimInput
from linli.points.testing import make_catalogue

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    return make_catalogue(world)


def client_for(user: Any) -> Client:
    """Pages in English, so that assertions read the msgids (the zh-hans text is the translators' business)."""
    client = _client_for(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def jpeg(color: str = "red") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, "JPEG")
    return SimpleUploadedFile("p.jpg", out.getvalue(), content_type="image/jpeg")


def today() -> str:
    return timezone.localdate().isoformat()


def check_in(w: SimpleNamespace, key: str, minutes: int = 60, rule: Any = None) -> Claim:
    return services.claim_submit(
        actor=actor_for(w.resident_a1),
        person=w.pA1,
        rule=rule or w.cleanup,
        data=ClaimInput(occurred_on=timezone.localdate(), minutes=minutes, note="清扫楼道"),
        idempotency_key=key,
    ).claim


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- the resident ---------------------------------------------------------------------------------------------------


def test_checkin_offers_only_rules_the_resident_may_record(w: SimpleNamespace) -> None:
    page = client_for(w.resident_a1).get(reverse("points:checkin"))
    assert page.status_code == 200
    html = page.content.decode()
    for code in ("cleanup", "haircut", "recycling"):
        assert f'data-rule="{code}"' in html
    assert 'data-rule="mediation"' not in html  # stewards, grid workers and staff record mediation
    assert "志愿服务" in html and "3 points per full hour" in html


def test_checkin_form_asks_only_what_the_rule_needs(w: SimpleNamespace) -> None:
    client = client_for(w.resident_a1)
    hourly = client.get(reverse("points:checkin"), {"rule": w.cleanup.pk}).content.decode()
    assert 'name="hours"' in hourly and 'name="difficulty"' in hourly and 'name="quantity"' not in hourly
    assert 'accept="image/*"' in hourly and 'capture="environment"' in hourly
    assert 'enctype="multipart/form-data"' in hourly and 'name="idempotency_key"' in hourly
    kg = client.get(reverse("points:checkin"), {"rule": w.recycling.pk}).content.decode()
    assert 'name="quantity"' in kg and 'name="hours"' not in kg and 'name="difficulty"' not in kg


def test_resident_checks_in_once_even_when_sending_twice(w: SimpleNamespace) -> None:
    client = client_for(w.resident_a1)
    form = {
        "rule": w.cleanup.pk,
        "idempotency_key": "abc123",
        "occurred_on": today(),
        "hours": 1,
        "minutes": 0,
        "difficulty": "一般",
        "note": "清扫楼道",
    }
    first = client.post(reverse("points:checkin"), form)
    claim = Claim.objects.get()
    assert first.status_code == 302 and first["Location"] == reverse("points:claim_detail", args=[claim.pk])
    assert (claim.points, claim.status, claim.source, claim.minutes) == (3, ClaimStatus.SUBMITTED, Source.CHECKIN, 60)
    again = client.post(reverse("points:checkin"), form, follow=True)
    assert Claim.objects.count() == 1
    assert any("already sent" in m for m in messages_of(again))


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"hours": 0, "minutes": 0}, "Say how long"),
        ({"hours": 0, "minutes": 30}, "no points"),  # less than one full hour earns nothing
        ({"occurred_on": (timezone.localdate() + timedelta(days=2)).isoformat()}, "in the future"),
        ({"occurred_on": "yesterday"}, "valid date"),
        ({"difficulty": "超难"}, "valid choice"),
        ({"hours": 99}, "valid choice"),
        ({"note": "x" * 301}, "at most 300"),
    ],
)
def test_bad_checkin_shows_an_error_and_saves_nothing(w: SimpleNamespace, change: dict[str, Any], error: str) -> None:
    form = {"rule": w.cleanup.pk, "idempotency_key": "k", "occurred_on": today(), "hours": 1, "minutes": 0}
    response = client_for(w.resident_a1).post(reverse("points:checkin"), {**form, **change})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Claim.objects.exists()


def test_a_rule_the_resident_may_not_record_goes_back_to_the_choice(w: SimpleNamespace) -> None:
    form = {"rule": w.mediation.pk, "idempotency_key": "k", "occurred_on": today()}
    response = client_for(w.resident_a1).post(reverse("points:checkin"), form)
    assert response.status_code == 200 and 'data-rule="cleanup"' in response.content.decode()
    assert any("cannot be recorded" in m for m in messages_of(response))
    assert not Claim.objects.exists()


def test_photo_rules_need_a_real_photo(w: SimpleNamespace) -> None:
    client = client_for(w.resident_a1)
    form = {"rule": w.recycling.pk, "idempotency_key": "k1", "occurred_on": today(), "quantity": "2.5"}
    missing = client.post(reverse("points:checkin"), form)
    assert "needs a photo" in missing.content.decode()
    fake = SimpleUploadedFile("p.jpg", b"not an image at all", content_type="image/jpeg")
    bad = client.post(reverse("points:checkin"), {**form, "photo": fake})
    assert "could not be read" in bad.content.decode()
    assert not Claim.objects.exists()
    ok = client.post(reverse("points:checkin"), {**form, "photo": jpeg()})
    claim = Claim.objects.get()
    assert ok.status_code == 302 and claim.photo_id and claim.points == 2


def test_the_photo_is_private(w: SimpleNamespace) -> None:
    client = client_for(w.resident_a1)
    form = {"rule": w.recycling.pk, "idempotency_key": "k1", "occurred_on": today(), "quantity": "1", "photo": jpeg()}
    client.post(reverse("points:checkin"), form)
    claim = Claim.objects.get()
    url = reverse("points:claim_photo", args=[claim.pk])
    own = client.get(url)
    assert own.status_code == 200 and own["Content-Type"] == "image/jpeg"
    assert own["Cache-Control"].startswith("private")
    assert own.content.startswith(b"\xff\xd8")  # the re-encoded JPEG
    assert client_for(w.steward_a1).get(url).status_code == 200
    assert client_for(w.grid_worker_a2).get(url).status_code == 404
    assert client_for(w.staff_b).get(url).status_code == 404
    assert client_for(None).get(url).status_code == 302  # to the login page
    no_photo = check_in(w, "np")
    assert client.get(reverse("points:claim_photo", args=[no_photo.pk])).status_code == 404


def test_my_claims_show_status_in_words_and_the_reason(w: SimpleNamespace) -> None:
    waiting = check_in(w, "a")
    turned_down = check_in(w, "b")
    services.claim_reject(actor=actor_for(w.steward_a1), claim=turned_down, reason="那天我没看到你打扫")
    html = client_for(w.resident_a1).get(reverse("points:my_claims")).content.decode()
    assert "waiting for verification" in html and "那天我没看到你打扫" in html
    assert f'data-claim="{waiting.pk}"' in html and f'data-claim="{turned_down.pk}"' in html
    detail = client_for(w.resident_a1).get(reverse("points:claim_detail", args=[turned_down.pk])).content.decode()
    assert "那天我没看到你打扫" in detail and "Turned down" in detail and "Correct and send again" in detail


def test_resubmit_a_rejected_claim(w: SimpleNamespace) -> None:
    claim = check_in(w, "a")
    services.claim_reject(actor=actor_for(w.steward_a1), claim=claim, reason="时间不对")
    client = client_for(w.resident_a1)
    url = reverse("points:claim_resubmit", args=[claim.pk])
    form = client.get(url)
    assert form.status_code == 200 and "时间不对" in form.content.decode()
    assert 'value="清扫楼道"' in form.content.decode() or "清扫楼道</textarea>" in form.content.decode()
    bad = client.post(url, {"occurred_on": today(), "hours": 0, "minutes": 0})
    assert bad.status_code == 200
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REJECTED
    done = client.post(url, {"occurred_on": today(), "hours": 2, "minutes": 0, "difficulty": "一般", "note": "改了"})
    claim.refresh_from_db()
    assert done.status_code == 302 and (claim.status, claim.points, claim.note) == (ClaimStatus.SUBMITTED, 6, "改了")
    assert [e.action for e in claim.events.all()] == ["submitted", "rejected", "resubmitted"]
    # only a rejected claim can be sent again
    assert client.post(url, {"occurred_on": today(), "hours": 1, "minutes": 0}).status_code == 302
    claim.refresh_from_db()
    assert claim.points == 6


def test_withdraw(w: SimpleNamespace) -> None:
    claim = check_in(w, "a")
    url = reverse("points:claim_withdraw", args=[claim.pk])
    assert client_for(w.staff_a).post(url).status_code == 403  # staff may see it, not withdraw it
    assert client_for(w.resident_a1).post(url).status_code == 302
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.WITHDRAWN
    again = client_for(w.resident_a1).post(url, follow=True)
    assert any("no longer waiting" in m for m in messages_of(again))


# --- recording for someone ------------------------------------------------------------------------------------------


def test_steward_records_mediation_for_an_elder_without_a_phone(w: SimpleNamespace) -> None:
    client = client_for(w.steward_a1)
    base = reverse("points:record")
    found = client.get(base, {"community": w.A.pk, "q": "王老伯"}).content.decode()
    assert f"person={w.pA1b.pk}" in found
    nobody = client.get(base, {"community": w.A.pk, "q": "李建华"}).content.decode()  # grid A2: not the steward's
    assert f"person={w.pA2.pk}" not in nobody
    rules = client.get(base, {"community": w.A.pk, "person": w.pA1b.pk}).content.decode()
    assert 'data-rule="mediation"' in rules and 'data-rule="haircut"' not in rules
    response = client.post(
        f"{base}?community={w.A.pk}&person={w.pA1b.pk}",
        {"rule": w.mediation.pk, "idempotency_key": "r1", "occurred_on": today(), "note": "调解了楼上漏水"},
    )
    claim = Claim.objects.get()
    assert response.status_code == 302
    assert (claim.person, claim.source, claim.status, claim.points) == (
        w.pA1b,
        Source.RECORDED,
        ClaimStatus.VERIFIED,  # the steward witnessed it: it waits only for staff approval
        8,
    )
    assert client.get(base, {"community": w.A.pk, "person": w.pA2.pk}).status_code == 404


# --- verification ---------------------------------------------------------------------------------------------------


def test_verify_queue_shows_the_stewards_people_and_verifies(w: SimpleNamespace) -> None:
    claim = check_in(w, "a")
    queue = reverse("points:verify_queue") + f"?community={w.A.pk}"
    html = client_for(w.steward_a1).get(queue).content.decode()
    assert f'id="claim-{claim.pk}"' in html and "王秀英" in html and "1 h" in html and "清扫楼道" in html
    assert f'id="claim-{claim.pk}"' not in client_for(w.grid_worker_a2).get(queue).content.decode()
    response = client_for(w.steward_a1).post(reverse("points:claim_verify", args=[claim.pk]), {"next": queue})
    assert response.status_code == 302 and response["Location"] == queue
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.VERIFIED and claim.verified_by == w.steward_a1
    # a second click is a clear message, not an error page
    again = client_for(w.grid_worker_a1).post(reverse("points:claim_verify", args=[claim.pk]), follow=True)
    assert any("no longer waiting" in m for m in messages_of(again))


def test_verify_queue_flags_duplicates(w: SimpleNamespace) -> None:
    check_in(w, "a")
    second = check_in(w, "b")
    html = client_for(w.steward_a1).get(reverse("points:verify_queue")).content.decode()
    assert f"Another claim for the same rule that day (#{second.duplicate_of_id})" in html


def test_htmx_verify_swaps_the_card(w: SimpleNamespace) -> None:
    claim = check_in(w, "a")
    response = client_for(w.steward_a1).post(reverse("points:claim_verify", args=[claim.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'id="claim-{claim.pk}"' in response.content.decode() and "Staff will approve" in response.content.decode()


def test_reject_needs_a_reason(w: SimpleNamespace) -> None:
    claim = check_in(w, "a")
    url = reverse("points:claim_reject", args=[claim.pk])
    empty = client_for(w.steward_a1).post(url, {"reason": "  "})
    assert empty.status_code == 400 and "This field is required" in empty.content.decode()
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED
    client_for(w.steward_a1).post(url, {"reason": "照片看不清"})
    claim.refresh_from_db()
    assert (claim.status, claim.reason) == (ClaimStatus.REJECTED, "照片看不清")


def test_bulk_verify(w: SimpleNamespace) -> None:
    claims = [check_in(w, k) for k in ("a", "b", "c")]
    response = client_for(w.grid_worker_a1).post(
        reverse("points:verify_bulk") + f"?community={w.A.pk}",
        {"claim": [claims[0].pk, claims[1].pk, "junk", 999999]},
        follow=True,
    )
    statuses = [Claim.objects.get(pk=c.pk).status for c in claims]
    assert statuses == [ClaimStatus.VERIFIED, ClaimStatus.VERIFIED, ClaimStatus.SUBMITTED]
    shown = messages_of(response)
    assert any("2 claims verified" in m for m in shown) and any("no longer waiting" in m for m in shown)
    nothing = client_for(w.grid_worker_a1).post(reverse("points:verify_bulk"), {}, follow=True)
    assert any("Select the claims" in m for m in messages_of(nothing))


# --- approval -------------------------------------------------------------------------------------------------------


def verified(w: SimpleNamespace, key: str, minutes: int = 60) -> Claim:
    return services.claim_verify(actor=actor_for(w.steward_a1), claim=check_in(w, key, minutes))


def test_bulk_approve_posts_and_names_each_refusal(w: SimpleNamespace) -> None:
    first, second = verified(w, "a", 180), verified(w, "b", 180)  # 9 points each; the daily cap is 9
    response = client_for(w.staff_a).post(
        reverse("points:approve_bulk") + f"?community={w.A.pk}",
        {"claim": [first.pk, second.pk], "action": "approve"},
        follow=True,
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (ClaimStatus.APPROVED, ClaimStatus.VERIFIED)
    shown = messages_of(response)
    assert any("1 claim approved" in m for m in shown)
    assert any(f"Claim #{second.pk}" in m and "daily limit" in m for m in shown)
    assert ledger_reads.person_balance(w.pA1) == 9


def test_bulk_reject_needs_one_reason(w: SimpleNamespace) -> None:
    claims = [verified(w, "a"), verified(w, "b")]
    url = reverse("points:approve_bulk") + f"?community={w.A.pk}"
    ids = [c.pk for c in claims]
    refused = client_for(w.staff_a).post(url, {"claim": ids, "action": "reject"}, follow=True)
    assert any("reason" in m for m in messages_of(refused))
    assert not Claim.objects.filter(status=ClaimStatus.REJECTED).exists()
    client_for(w.staff_a).post(url, {"claim": ids, "action": "reject", "reason": "重复申报"})
    assert (
        list(Claim.objects.filter(pk__in=ids).values_list("status", "reason"))
        == [(ClaimStatus.REJECTED, "重复申报")] * 2
    )
    unknown = client_for(w.staff_a).post(url, {"claim": ids, "action": "delete"}, follow=True)
    assert any("Unknown action" in m for m in messages_of(unknown))


def test_approve_queue_filters(w: SimpleNamespace) -> None:
    plain = verified(w, "a")
    flagged = verified(w, "b")  # same person, rule and day as the first
    haircut = check_in(w, "c", rule=w.haircut)  # approval only: waits for staff at once
    url = reverse("points:approve_queue")
    client = client_for(w.staff_a)

    def shown(query: dict[str, Any]) -> set[int]:
        page = client.get(url, {"community": w.A.pk, **query})
        assert page.status_code == 200
        return {r.claim.pk for r in page.context["rows"]}

    assert shown({}) == {plain.pk, flagged.pk, haircut.pk}
    assert shown({"flagged": "on"}) == {flagged.pk}
    assert shown({"rule": w.haircut.pk}) == {haircut.pk}
    assert shown({"area": w.areaA.pk}) == {plain.pk, flagged.pk, haircut.pk}
    assert shown({"area": w.areaA2.pk}) == set()
    assert shown({"grid": w.A2.pk}) == set()
    assert shown({"source": "recorded"}) == set()
    assert shown({"q": "清扫"}) == {plain.pk, flagged.pk, haircut.pk}
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert shown({"since": tomorrow}) == set()
    bad = client.get(url, {"community": w.A.pk, "since": "not-a-date", "rule": "x"})
    assert bad.status_code == 200 and "valid date" in bad.content.decode()
    backwards = client.get(url, {"community": w.A.pk, "since": tomorrow, "until": today()})
    assert "before" in backwards.content.decode()


def test_staff_approve_one_from_the_detail_page(w: SimpleNamespace) -> None:
    claim = verified(w, "a")
    detail = client_for(w.staff_a).get(reverse("points:claim_detail", args=[claim.pk])).content.decode()
    assert "Approve and post 3 points" in detail
    client_for(w.staff_a).post(reverse("points:claim_approve", args=[claim.pk]))
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.APPROVED and ledger_reads.person_balance(w.pA1) == 3
    # the steward who verified may not approve: no button for a grid chief, and a refusal if they try
    assert client_for(w.grid_chief_a1).post(reverse("points:claim_approve", args=[claim.pk])).status_code == 404


# --- the claims list and its export ---------------------------------------------------------------------------------


def test_claims_list_and_excel_export(w: SimpleNamespace) -> None:
    approved = services.claim_approve(actor=actor_for(w.staff_a), claim=verified(w, "a"))
    turned_down = check_in(w, "b")
    services.claim_reject(actor=actor_for(w.steward_a1), claim=turned_down, reason="重复")
    client = client_for(w.staff_a)
    page = client.get(reverse("points:claims"), {"community": w.A.pk, "status": "rejected"})
    assert [r.claim.pk for r in page.context["rows"]] == [turned_down.pk]
    assert "export.xlsx?" in page.content.decode() and "status=rejected" in page.context["export_qs"]
    export = client.get(reverse("points:claims_xlsx"), {"community": w.A.pk})
    assert export.status_code == 200 and export["Content-Disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3 and {r[0] for r in rows[1:]} == {approved.pk, turned_down.pk}
    assert rows[1][2] == "王秀英"
    # the auditor reads the list with names masked
    audited = client_for(w.auditor_a).get(reverse("points:claims_xlsx"), {"community": w.A.pk})
    masked = list(load_workbook(io.BytesIO(audited.content)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert masked[1][2] == "王*英"
