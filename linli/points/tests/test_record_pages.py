"""The donation and certificate pages and API in use: forms, double submissions, inline errors, masking for the
auditor, the market queue, the PDF, the public confirmation page and "my volunteer record"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.common.testing import client_for
from linli.ledger import selectors as ledger_reads
from linli.ledger.models import Transfer
from linli.org.access import actor_for
from linli.points import certificates, market_port
from linli.points.models import Certificate, DonatedItem, Donation, DonationStatus, ItemStatus
from linli.points.services import ClaimInput
from linli.points.testing import make_catalogue
from linli.points.tests.test_donations import FakeMarket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_market(settings: Any) -> Iterator[None]:
    settings.LINLI_MARKET_PORT = ""  # these tests install their own fake market, or none
    market_port.register(None)
    yield
    market_port.register(None)


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    return make_catalogue(world)


def today() -> Any:
    return timezone.localdate()


def register_form(w: SimpleNamespace, key: str = "k1") -> dict[str, Any]:
    return {
        "person": w.pA1.id,
        "received_on": str(today()),
        "note": "",
        "idempotency_key": key,
        "items-TOTAL_FORMS": "3",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "30",
        "items-0-description": "儿童绘本",
        "items-0-category": "书籍",
        "items-0-quantity": "4",
        "items-0-condition": "九成新",
        "items-1-description": "旧皮鞋",
        "items-1-quantity": "1",
        "items-2-quantity": "1",  # an untouched blank row
    }


def new_url(w: SimpleNamespace) -> str:
    return f"{reverse('points:donation_new')}?community={w.A.id}"


def test_register_a_donation_in_the_page_once_even_if_sent_twice(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    found = staff.get(new_url(w) + "&q=王秀英")
    assert found.status_code == 200 and "王秀英" in found.content.decode()
    assert staff.get(new_url(w) + f"&person={w.pA1.id}").status_code == 200
    first = staff.post(new_url(w), register_form(w))
    d = Donation.objects.get()
    assert first.status_code == 302 and first["Location"] == reverse("points:donation_detail", args=[d.pk])
    assert list(d.items.values_list("description", "quantity")) == [("儿童绘本", 4), ("旧皮鞋", 1)]
    again = staff.post(new_url(w), register_form(w))
    assert again.status_code == 302 and Donation.objects.count() == 1


def test_a_bad_item_row_shows_an_error_and_registers_nothing(w: SimpleNamespace) -> None:
    data = register_form(w)
    data["items-0-quantity"] = "0"
    response = client_for(w.staff_a).post(new_url(w), data)
    assert response.status_code == 400 and 'class="errorlist' in response.content.decode()
    data = register_form(w)
    for k in ("items-0-description", "items-1-description"):
        data[k] = ""
    data["items-0-category"] = data["items-0-condition"] = ""
    data["items-0-quantity"] = "1"
    response = client_for(w.staff_a).post(new_url(w), data)
    assert response.status_code == 400 and 'class="error-box"' in response.content.decode()  # items_required
    assert not Donation.objects.exists()


def _registered(w: SimpleNamespace) -> Donation:
    client_for(w.staff_a).post(new_url(w), register_form(w))
    return Donation.objects.get()


def test_assess_in_the_page_posts_points_once(w: SimpleNamespace) -> None:
    d = _registered(w)
    books, shoes = d.items.order_by("id")
    url = reverse("points:donation_assess", args=[d.pk])
    staff = client_for(w.street_admin)
    page = staff.get(reverse("points:donation_detail", args=[d.pk]))
    assert f'name="price_{books.pk}"' in page.content.decode()
    # a usable item without a price: an inline error, nothing posted
    missing = staff.post(url, {f"points_{books.pk}": "2", f"unusable_{shoes.pk}": "on"})
    assert missing.status_code == 400 and 'class="errorlist' in missing.content.decode()
    assert not Transfer.objects.exists()
    done = staff.post(url, {f"points_{books.pk}": "2", f"price_{books.pk}": "5", f"unusable_{shoes.pk}": "on"})
    assert done.status_code == 302
    assert ledger_reads.person_balance(w.pA1) == 8  # 4 books × 2
    again = staff.post(url, {f"points_{books.pk}": "2", f"price_{books.pk}": "5", f"unusable_{shoes.pk}": "on"})
    assert again.status_code == 400 and ledger_reads.person_balance(w.pA1) == 8
    detail = staff.get(reverse("points:donation_detail", args=[d.pk])).content.decode()
    assert "儿童绘本" in detail and 'data-testid="points">8<' in detail


def test_decline_in_the_page(w: SimpleNamespace) -> None:
    d = _registered(w)
    url = reverse("points:donation_decline", args=[d.pk])
    assert client_for(w.staff_a).post(url, {"reason": ""}).status_code == 400
    assert client_for(w.staff_a).post(url, {"reason": "已发霉"}).status_code == 302
    d.refresh_from_db()
    assert d.status == DonationStatus.DECLINED and d.reason == "已发霉"


def test_the_auditor_reads_donations_with_masked_names(w: SimpleNamespace) -> None:
    d = _registered(w)
    auditor = client_for(w.auditor_a)
    listing = auditor.get(f"{reverse('points:donations')}?community={w.A.id}").content.decode()
    detail = auditor.get(reverse("points:donation_detail", args=[d.pk])).content.decode()
    for body in (listing, detail):
        assert "王*英" in body and "王秀英" not in body
    assert reverse("points:donation_assess", args=[d.pk]) not in detail
    staff_list = client_for(w.staff_a).get(f"{reverse('points:donations')}?community={w.A.id}").content.decode()
    assert "王秀英" in staff_list


def test_the_queue_waits_for_a_market_then_sends(w: SimpleNamespace) -> None:
    d = _registered(w)
    books, shoes = d.items.order_by("id")
    client_for(w.staff_a).post(
        reverse("points:donation_assess", args=[d.pk]),
        {f"points_{books.pk}": "2", f"price_{books.pk}": "5", f"unusable_{shoes.pk}": "on"},
    )
    queue_url = f"{reverse('points:donation_queue')}?community={w.A.id}"
    page = client_for(w.staff_a).get(queue_url).content.decode()
    assert 'data-testid="no-market"' in page and "儿童绘本" in page
    send = client_for(w.staff_a).post(reverse("points:donation_queue_send"), {"community": w.A.id})
    assert send.status_code == 302 and DonatedItem.objects.get(pk=books.pk).status == ItemStatus.QUEUED
    market_port.register(FakeMarket())
    page = client_for(w.staff_a).get(queue_url).content.decode()
    assert "no-market" not in page and reverse("points:donation_queue_send") in page
    client_for(w.staff_a).post(reverse("points:donation_queue_send"), {"community": w.A.id})
    assert DonatedItem.objects.get(pk=books.pk).status == ItemStatus.STOCKED


# --- certificates ---------------------------------------------------------------------------------------------------
def service(w: SimpleNamespace, minutes: int = 90, key: str = "s1") -> None:
    from linli.points import services

    claim = services.claim_submit(
        actor=actor_for(w.grid_worker_a1),
        person=w.pA1,
        rule=w.cleanup,
        data=ClaimInput(occurred_on=today(), minutes=minutes),
        idempotency_key=key,
    ).claim
    services.claim_approve(actor=actor_for(w.staff_a), claim=claim)


def issue_url(w: SimpleNamespace) -> str:
    return f"{reverse('points:certificate_issue')}?community={w.A.id}"


def test_issue_in_the_page_then_pdf_and_public_page(w: SimpleNamespace) -> None:
    service(w)
    staff = client_for(w.staff_a)
    chosen = staff.get(issue_url(w) + f"&person={w.pA1.id}").content.decode()
    assert "1.5" in chosen  # the hours on record are shown before issuing
    form = {"person": w.pA1.id, "period_from": str(today() - timedelta(days=7)), "period_to": str(today())}
    response = staff.post(issue_url(w), {**form, "idempotency_key": "c1"})
    cert = Certificate.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("points:certificate_detail", args=[cert.pk])
    assert staff.post(issue_url(w), {**form, "idempotency_key": "c1"}).status_code == 302
    assert Certificate.objects.count() == 1
    pdf = staff.get(reverse("points:certificate_pdf", args=[cert.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    public = client_for(None).get(certificates.public_path(cert))
    body = public.content.decode()
    assert "verdict verdict-ok" in body
    assert public.status_code == 200 and cert.number in body and "王*英" in body and "1.5" in body
    assert "王秀英" not in body and "13800000001" not in body and "138****0001" not in body
    # the resident reads it in their own record
    mine = client_for(w.resident_a1).get(reverse("points:my_volunteer_record")).content.decode()
    assert cert.number in mine and 'data-testid="hours">1.5<' in mine and "环境清扫" in mine


def test_issue_with_nothing_to_certify_shows_the_reason(w: SimpleNamespace) -> None:
    form = {"person": w.pA1.id, "period_from": str(today() - timedelta(days=7)), "period_to": str(today())}
    response = client_for(w.staff_a).post(issue_url(w), {**form, "idempotency_key": "c1"})
    assert response.status_code == 400 and 'class="error-box"' in response.content.decode()  # no_service
    bad = client_for(w.staff_a).post(
        issue_url(w), {**form, "period_to": str(today() + timedelta(days=3)), "idempotency_key": "c2"}
    )
    assert bad.status_code == 400 and not Certificate.objects.exists()


def test_revoked_and_unknown_certificates_on_the_public_page(w: SimpleNamespace) -> None:
    service(w)
    cert = certificates.certificate_issue(
        actor=actor_for(w.staff_a), person=w.pA1, period_from=today(), period_to=today()
    ).certificate
    revoke = client_for(w.staff_a).post(reverse("points:certificate_revoke", args=[cert.pk]), {"reason": "录入有误"})
    assert revoke.status_code == 302
    body = client_for(None).get(certificates.public_path(cert)).content.decode()
    assert "verdict verdict-bad" in body and "verdict verdict-ok" not in body and cert.number in body
    unknown = client_for(None).get(reverse("points:certificate_public", args=["not-a-real-code"]))
    assert unknown.status_code == 404 and "verdict verdict-bad" in unknown.content.decode()


def test_my_volunteer_record_is_only_mine(w: SimpleNamespace) -> None:
    assert client_for(w.staff_a).get(reverse("points:my_volunteer_record")).status_code == 404  # no person
    assert client_for(w.resident_a1).get(reverse("points:volunteer_record", args=[w.pA2.id])).status_code == 404
    assert client_for(w.staff_b).get(reverse("points:volunteer_record", args=[w.pA1.id])).status_code == 404


# --- the API ----------------------------------------------------------------------------------------------------------
def api(client: Any, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None:
        kwargs["data"] = json.dumps(body)
        kwargs["content_type"] = "application/json"
    return getattr(client, method)(f"/api/v1{path}", **kwargs)


def test_api_donation_flow(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    body = {"donor_id": w.pA1.id, "items": [{"description": "旧书", "quantity": 3}, {"description": "玩具车"}]}
    assert api(staff, "post", "/donations", body).json()["code"] == "idempotency_key_required"
    made = api(staff, "post", "/donations", body, key="d1")
    assert made.status_code == 201 and made.json()["status"] == "registered"
    assert api(staff, "post", "/donations", body, key="d1").status_code == 200
    assert api(staff, "post", "/donations", {**body, "items": []}, key="d2").status_code == 400
    assert (
        api(
            staff, "post", "/donations", {**body, "items": [{"description": "x", "quantity": "3"}]}, key="d3"
        ).status_code
        == 400
    )
    d = made.json()
    books, car = (i["id"] for i in d["items"])
    half = api(
        staff,
        "post",
        f"/donations/{d['id']}/assess",
        {"items": [{"item_id": books, "usable": True, "points": 1, "price": 2}]},
    )
    assert half.status_code == 400 and half.json()["code"] == "assessment_items"
    done = api(
        staff,
        "post",
        f"/donations/{d['id']}/assess",
        {"items": [{"item_id": books, "usable": True, "points": 1, "price": 2}, {"item_id": car, "usable": False}]},
    )
    assert done.status_code == 200 and done.json()["points"] == 3 and done.json()["transfer_id"]
    again = api(staff, "post", f"/donations/{d['id']}/decline", {"reason": "x"})
    assert again.status_code == 409 and again.json()["code"] == "donation_status"
    queue = api(staff, "get", f"/donated-items?community={w.A.id}").json()
    assert [i["id"] for i in queue["items"]] == [books]
    auditor = api(client_for(w.auditor_a), "get", f"/donations?community={w.A.id}").json()
    assert auditor["items"][0]["donor_name"] == "王*英"


def test_api_certificates(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    body = {"person_id": w.pA1.id, "period_from": str(today()), "period_to": str(today())}
    nothing = api(staff, "post", "/certificates", body, key="c1")
    assert nothing.status_code == 400 and nothing.json()["code"] == "no_service"
    service(w, minutes=150)
    made = api(staff, "post", "/certificates", body, key="c2")
    assert made.status_code == 201
    out = made.json()
    assert out["hours"] == "2.5" and out["number"].startswith("DXDL-") and out["public_url"].startswith("http")
    reversed_period = {**body, "period_from": str(today() + timedelta(days=1))}
    assert api(staff, "post", "/certificates", reversed_period, key="c3").json()["code"] == "period_invalid"
    mine = api(client_for(w.resident_a1), "get", f"/certificates?person={w.pA1.id}").json()
    assert [c["id"] for c in mine["items"]] == [out["id"]]
    record = api(client_for(w.resident_a1), "get", f"/people/{w.pA1.id}/volunteer-record").json()
    assert record["minutes"] == 150 and record["entries"][0]["content"] == "环境清扫"
    assert api(staff, "get", "/certificates").json()["code"] == "filter_required"
    revoked = api(staff, "post", f"/certificates/{out['id']}/revoke", {"reason": "重开"})
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert api(staff, "post", f"/certificates/{out['id']}/revoke", {"reason": "重开"}).status_code == 409
