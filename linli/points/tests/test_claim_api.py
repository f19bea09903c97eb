"""The claims API: the seed story over JSON, retries that create nothing twice, multipart photos, queues, bulk actions
with per-claim refusals, and bad input answered with stable codes (never a 500, nothing half-written)."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image

from linli.common.testing import client_for
from linli.ledger import selectors as ledger_reads
from linli.org.access import actor_for
from linli.points import services
from linli.points.models import Claim, ClaimStatus, Photo, Source
from linli.points.services import ClaimInput
from linli.points.testing import make_catalogue

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    return make_catalogue(world)


def call(client: Client, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None:
        kwargs["data"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
        kwargs["content_type"] = "application/json"
    response = getattr(client, method.lower())(API + path, **kwargs)
    assert response.status_code < 500, response.content
    return response


def jpeg_bytes(color: str = "blue") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (50, 40), color).save(out, "JPEG")
    return out.getvalue()


def check_in(w: SimpleNamespace, key: str, minutes: int = 60) -> Claim:
    return services.claim_submit(
        actor=actor_for(w.resident_a1),
        person=w.pA1,
        rule=w.cleanup,
        data=ClaimInput(occurred_on=timezone.localdate(), minutes=minutes),
        idempotency_key=key,
    ).claim


def test_seed_story_over_the_api(w: SimpleNamespace) -> None:
    resident, steward, staff = client_for(w.resident_a1), client_for(w.steward_a1), client_for(w.staff_a)
    made = call(resident, "POST", "/claims", {"rule_id": w.cleanup.id, "minutes": 75, "note": "清扫楼道"}, key="c1")
    assert made.status_code == 201
    body = made.json()
    assert (body["person_id"], body["points"], body["status"], body["source"]) == (w.pA1.id, 3, "submitted", "checkin")
    assert body["occurred_on"] == timezone.localdate().isoformat() and body["events"][0]["action"] == "submitted"
    claim_id = body["id"]
    queue = call(steward, "GET", f"/claims?community={w.A.id}&queue=verify").json()
    assert [c["id"] for c in queue["items"]] == [claim_id] and queue["count"] == 1
    assert call(steward, "POST", f"/claims/{claim_id}/verify").json()["status"] == "verified"
    # the verifier is not the approver; staff approve and the points are posted once
    assert call(steward, "POST", f"/claims/{claim_id}/approve").status_code == 404
    approved = call(staff, "POST", f"/claims/{claim_id}/approve").json()
    assert approved["status"] == "approved" and approved["transfer_id"]
    assert [e["action"] for e in approved["events"]] == ["submitted", "verified", "approved"]
    assert ledger_reads.person_balance(w.pA1) == 3
    again = call(staff, "POST", f"/claims/{claim_id}/approve")
    assert (again.status_code, again.json()["code"]) == (409, "claim_status")
    assert ledger_reads.person_balance(w.pA1) == 3
    mine = call(resident, "GET", f"/people/{w.pA1.id}/claims").json()
    assert mine["count"] == 1 and mine["items"][0]["status_label"]


def test_a_retry_creates_nothing_twice(w: SimpleNamespace) -> None:
    c = client_for(w.resident_a1)
    body = {"rule_id": w.cleanup.id, "minutes": 60}
    first = call(c, "POST", "/claims", body, key="same")
    second = call(c, "POST", "/claims", body, key="same")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"] and Claim.objects.count() == 1
    other_day = {**body, "occurred_on": (timezone.localdate() - timedelta(days=1)).isoformat()}
    reused = call(c, "POST", "/claims", other_day, key="same")
    assert (reused.status_code, reused.json()["code"]) == (409, "idempotency_key_reused")
    missing = call(c, "POST", "/claims", body)
    assert (missing.status_code, missing.json()["code"]) == (400, "idempotency_key_required")
    # keys are per user: staff using the same key do not get the resident's claim back
    staff = call(client_for(w.staff_a), "POST", "/claims", {**body, "person_id": w.pA1.id}, key="same")
    assert (staff.status_code, staff.json()["code"]) == (403, "not_a_recorder")
    assert Claim.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"minutes": 60}, 400, "invalid_input"),  # no rule
        ({"rule_id": "x", "minutes": 60}, 400, "invalid_input"),
        ({"rule_id": 1, "minutes": 60, "note": "x" * 301}, 400, "invalid_input"),
        ({"rule_id": 1, "minutes": 0}, 400, "invalid_input"),
        ({"rule_id": 1, "minutes": 30}, 400, "no_points"),
        ({"rule_id": 1}, 400, "minutes_required"),
        ({"rule_id": 1, "minutes": 60, "difficulty": "超难"}, 400, "difficulty_invalid"),
        ({"rule_id": 1, "minutes": 60, "occurred_on": "2999-01-01"}, 400, "date_future"),
        ({"rule_id": 1, "minutes": 60, "occurred_on": "2000-01-01"}, 400, "date_too_old"),
        ({"rule_id": 1, "minutes": 60, "note": "a\x00b"}, 400, "invalid_input"),
        ({"rule_id": "mediation"}, 403, "not_a_recorder"),
        ({"rule_id": "cleanupB", "minutes": 60}, 404, "not_found"),  # another community's rule
        ({"rule_id": 999999, "minutes": 60}, 404, "not_found"),
        ({"rule_id": 1, "minutes": 60, "person_id": "pB1"}, 404, "not_found"),
        ({"rule_id": "recycling", "quantity": 2}, 400, "photo_required"),
    ],
)
def test_bad_claims_are_refused_with_a_code(w: SimpleNamespace, body: dict[str, Any], status: int, code: str) -> None:
    body = dict(body)
    if body.get("rule_id") == 1:
        body["rule_id"] = w.cleanup.id
    elif isinstance(body.get("rule_id"), str) and hasattr(w, body["rule_id"]):
        body["rule_id"] = getattr(w, body["rule_id"]).id
    if body.get("person_id") == "pB1":
        body["person_id"] = w.pB1.id
    response = call(client_for(w.resident_a1), "POST", "/claims", body, key="k")
    assert (response.status_code, response.json()["code"]) == (status, code), response.json()
    assert not Claim.objects.exists()


def test_not_json_and_staff_without_a_person(w: SimpleNamespace) -> None:
    garbage = call(client_for(w.resident_a1), "POST", "/claims", "{not json", key="k")
    assert (garbage.status_code, garbage.json()["code"]) == (400, "invalid_json")
    listed = call(client_for(w.resident_a1), "POST", "/claims", "[1, 2]", key="k")
    assert (listed.status_code, listed.json()["code"]) == (400, "invalid_input")
    nobody = call(client_for(w.staff_a), "POST", "/claims", {"rule_id": w.mediation.id}, key="k")
    assert (nobody.status_code, nobody.json()["code"]) == (400, "person_required")


def test_multipart_check_in_with_a_photo(w: SimpleNamespace) -> None:
    c = client_for(w.resident_a1)
    upload = io.BytesIO(jpeg_bytes())
    upload.name = "photo.jpg"
    response = c.post(
        f"{API}/claims",
        {"rule_id": str(w.recycling.id), "quantity": "2.5", "note": "", "photo": upload},
        headers={"Idempotency-Key": "m1"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["points"] == 2 and body["photo_url"] == f"/api/v1/claims/{body['id']}/photo"
    # recycling needs verification only: still waiting
    assert body["status"] == "submitted"
    photo = c.get(body["photo_url"])
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    assert photo["Cache-Control"].startswith("private")
    assert client_for(w.staff_b).get(body["photo_url"]).status_code == 404
    assert Photo.objects.count() == 1
    broken = io.BytesIO(b"GIF89a but not really")
    broken.name = "x.gif"
    refused = c.post(
        f"{API}/claims",
        {"rule_id": str(w.recycling.id), "quantity": "1", "photo": broken},
        headers={"Idempotency-Key": "m2"},
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "photo_invalid")
    bad_field = c.post(f"{API}/claims", {"rule_id": "abc"}, headers={"Idempotency-Key": "m3"})
    assert (bad_field.status_code, bad_field.json()["code"]) == (400, "invalid_input")
    assert Claim.objects.count() == 1 and Photo.objects.count() == 1
    no_photo = call(c, "GET", f"/claims/{check_in(w, 'np').id}/photo")
    assert (no_photo.status_code, no_photo.json()["code"]) == (404, "no_photo")


def test_steward_records_for_an_elder(w: SimpleNamespace) -> None:
    body = {"person_id": w.pA1b.id, "rule_id": w.mediation.id, "note": "调解楼上漏水"}
    made = call(client_for(w.steward_a1), "POST", "/claims", body, key="r1").json()
    assert (made["source"], made["status"], made["points"]) == (Source.RECORDED, "verified", 8)
    # grid A2's worker may not record for people of grid A1
    other = call(client_for(w.grid_worker_a2), "POST", "/claims", body, key="r1")
    assert other.status_code == 404


def test_reject_resubmit_and_withdraw(w: SimpleNamespace) -> None:
    claim = check_in(w, "a")
    resident, steward = client_for(w.resident_a1), client_for(w.steward_a1)
    empty = call(steward, "POST", f"/claims/{claim.id}/reject", {"reason": ""})
    assert (empty.status_code, empty.json()["code"]) == (400, "invalid_input")
    blank = call(steward, "POST", f"/claims/{claim.id}/reject", {"reason": "   "})
    assert (blank.status_code, blank.json()["code"]) == (400, "reason_required")
    rejected = call(steward, "POST", f"/claims/{claim.id}/reject", {"reason": "没看到"}).json()
    assert (rejected["status"], rejected["reason"]) == ("rejected", "没看到")
    assert call(resident, "GET", f"/claims/{claim.id}").json()["reason"] == "没看到"
    by_staff = call(client_for(w.staff_a), "POST", f"/claims/{claim.id}/resubmit", {"minutes": 120})
    assert (by_staff.status_code, by_staff.json()["code"]) == (403, "not_a_recorder")
    bad = call(resident, "POST", f"/claims/{claim.id}/resubmit", {"minutes": 20})
    assert (bad.status_code, bad.json()["code"]) == (400, "no_points")
    again = call(resident, "POST", f"/claims/{claim.id}/resubmit", {"minutes": 120, "note": "两小时"}).json()
    assert (again["status"], again["points"], again["reason"]) == ("submitted", 6, "")
    assert call(resident, "POST", f"/claims/{claim.id}/withdraw").json()["status"] == "withdrawn"
    twice = call(resident, "POST", f"/claims/{claim.id}/withdraw")
    assert (twice.status_code, twice.json()["code"]) == (409, "claim_status")


def test_nobody_verifies_their_own_claim(w: SimpleNamespace) -> None:
    claim = check_in(w, "a")
    own = call(client_for(w.resident_a1), "POST", f"/claims/{claim.id}/verify")
    assert own.status_code == 404  # a resident may not verify at all
    assert Claim.objects.get(pk=claim.pk).status == ClaimStatus.SUBMITTED


def test_bulk_verify_and_approve_report_each_failure(w: SimpleNamespace) -> None:
    a, b, c = check_in(w, "a", 180), check_in(w, "b", 180), check_in(w, "c", 60)
    steward, staff = client_for(w.steward_a1), client_for(w.staff_a)
    verified = call(steward, "POST", "/claims/bulk-verify", {"claim_ids": [a.id, b.id]}).json()
    assert [x["id"] for x in verified["done"]] == [a.id, b.id] and verified["failed"] == []
    assert verified["done"][0]["area_name"] == "志愿服务"
    twice = call(steward, "POST", "/claims/bulk-verify", {"claim_ids": [a.id, c.id]}).json()
    assert [x["id"] for x in twice["done"]] == [c.id]
    assert [(f["claim_id"], f["code"]) for f in twice["failed"]] == [(a.id, "claim_status")]
    # 9 + 9 points the same day under a daily cap of 9: the second is refused, the others go through
    approved = call(staff, "POST", "/claims/bulk-approve", {"claim_ids": [a.id, b.id]}).json()
    assert [x["id"] for x in approved["done"]] == [a.id]
    assert [(f["claim_id"], f["code"]) for f in approved["failed"]] == [(b.id, "cap_exceeded")]
    assert ledger_reads.person_balance(w.pA1) == 9
    # an id the caller cannot see refuses the whole request
    hidden = check_in_b(w)
    refused = call(staff, "POST", "/claims/bulk-approve", {"claim_ids": [c.id, hidden.id]})
    assert refused.status_code == 404 and refused.json()["details"] == {"claim_ids": [hidden.id]}
    assert Claim.objects.get(pk=c.pk).status == ClaimStatus.VERIFIED
    too_many = call(staff, "POST", "/claims/bulk-approve", {"claim_ids": list(range(1, 202))})
    assert (too_many.status_code, too_many.json()["code"]) == (400, "invalid_input")
    rejected = call(staff, "POST", "/claims/bulk-reject", {"claim_ids": [b.id, c.id], "reason": "重复"}).json()
    assert {x["id"] for x in rejected["done"]} == {b.id, c.id}


def check_in_b(w: SimpleNamespace) -> Claim:
    """pB1's own claim in community B (pB1 gets a login for it)."""
    from linli.org.models import User

    user = User.objects.create_user(phone="13800000003", password="x-Linli-2026", name="赵德明")
    w.pB1.user = user
    w.pB1.save()
    return services.claim_submit(
        actor=actor_for(user),
        person=w.pB1,
        rule=w.cleanupB,
        data=ClaimInput(occurred_on=timezone.localdate(), minutes=60),
        idempotency_key="b1",
    ).claim


def test_lists_are_scoped_and_filtered(w: SimpleNamespace) -> None:
    first = check_in(w, "a")
    services.claim_verify(actor=actor_for(w.steward_a1), claim=first)
    second = check_in(w, "b")  # flagged: same person, rule and day
    staff = client_for(w.staff_a)

    def ids(client: Client, query: str) -> list[int]:
        response = call(client, "GET", f"/claims?community={w.A.id}{query}")
        assert response.status_code == 200, response.json()
        return [c["id"] for c in response.json()["items"]]

    assert ids(staff, "") == [second.id, first.id]
    assert ids(staff, "&status=verified") == [first.id]
    assert ids(staff, "&flagged=true") == [second.id]
    assert ids(staff, "&queue=approve") == [first.id]
    assert ids(staff, f"&person={w.pA2.id}") == []
    assert ids(staff, "&limit=1&offset=1") == [first.id]
    assert ids(client_for(w.grid_worker_a2), "") == []  # not their grid
    assert ids(client_for(w.resident_a1), "") == [second.id, first.id]  # her own
    auditor = call(client_for(w.auditor_a), "GET", f"/claims?community={w.A.id}").json()
    assert {c["person_name"] for c in auditor["items"]} == {"王*英"}
    assert call(client_for(w.auditor_a), "GET", f"/claims?community={w.A.id}&queue=verify").status_code == 403
    assert call(client_for(w.steward_a1), "GET", f"/claims?community={w.A.id}&queue=approve").status_code == 403
    bad = call(staff, "GET", f"/claims?community={w.A.id}&status=lost&since=never")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_input")
    assert call(client_for(w.staff_b), "GET", f"/claims?community={w.A.id}").status_code == 404
    assert call(client_for(w.merchant_op_a), "GET", f"/claims?community={w.A.id}").status_code == 403
    assert call(staff, "GET", "/claims/999999").status_code == 404
    assert call(staff, "GET", f"/people/{w.pB1.id}/claims").status_code == 404


def test_token_clients_use_the_api_too(w: SimpleNamespace) -> None:
    from linli.org.models import ApiToken
    from linli.org.services import token_hash

    key = "lnl_claims_test_token"
    ApiToken.objects.create(user=w.steward_a1, name="巡查 app", prefix=key[:12], key_hash=token_hash(key))
    claim = check_in(w, "a")
    response = Client().post(f"{API}/claims/{claim.id}/verify", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200 and response.json()["verified_by_id"] == w.steward_a1.id


def test_a_photo_too_large_is_refused(w: SimpleNamespace, settings: Any) -> None:
    settings.LINLI_PHOTO_MAX_BYTES = 200  # stands in for the 50 MB photo of the issue
    upload = io.BytesIO(jpeg_bytes())
    upload.name = "big.jpg"
    response = client_for(w.resident_a1).post(
        f"{API}/claims",
        {"rule_id": str(w.recycling.id), "quantity": "1", "photo": upload},
        headers={"Idempotency-Key": "big"},
    )
    assert (response.status_code, response.json()["code"]) == (400, "photo_too_large")
    assert not Claim.objects.exists() and not Photo.objects.exists()
