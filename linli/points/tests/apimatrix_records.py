"""API permission rows for donations, donated items, volunteer records and certificates (merged by
tests/test_api_permissions.py). Every request targets community A and its resident pA1 (grid A1, building bA1).

Readers of donations and of the whole community's certificates: A's staff, the street admin, A's auditor. Writers:
A's staff and the street admin. pA1's volunteer record and certificates: those readers and pA1 themself.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from linli.org.access import actor_for
from linli.org.tests.test_api_permissions import Op, Request, allow
from linli.points import donations, services
from linli.points.donations import ItemInput
from linli.points.models import Certificate, Donation
from linli.points.services import ClaimInput
from linli.points.testing import make_catalogue

READ_A = allow("street_admin", "staff_a", "auditor_a")
WRITE_A = allow("street_admin", "staff_a")
PA1 = allow("street_admin", "staff_a", "auditor_a", "resident_a1")

MATRIX: dict[Op, dict[str, bool]] = {
    ("GET", "/donations"): READ_A,  # ?community=A
    ("POST", "/donations"): WRITE_A,
    ("GET", "/donations/{donation_id}"): READ_A,
    ("POST", "/donations/{donation_id}/assess"): WRITE_A,
    ("POST", "/donations/{donation_id}/decline"): WRITE_A,
    ("GET", "/donated-items"): READ_A,  # ?community=A
    ("GET", "/people/{person_id}/volunteer-record"): PA1,
    ("GET", "/certificates"): PA1,  # ?person=pA1
    ("POST", "/certificates"): WRITE_A,
    ("GET", "/certificates/{certificate_id}"): PA1,
    ("POST", "/certificates/{certificate_id}/revoke"): WRITE_A,
    ("GET", "/certificates/{certificate_id}/pdf"): PA1,
}


def donation_of_pa1(w: Any) -> Donation:
    return donations.donation_register(
        actor=actor_for(w.staff_a),
        donor=w.pA1,
        items=[ItemInput("儿童绘本", "书籍", 3), ItemInput("旧皮鞋", "鞋子", 1)],
        idempotency_key="matrix-donation",
    ).donation


def _assess(w: Any) -> tuple[str, Any]:
    d = donation_of_pa1(w)
    books, shoes = d.items.order_by("id")
    body = {
        "items": [
            {"item_id": books.pk, "usable": True, "points": 2, "price": 5},
            {"item_id": shoes.pk, "usable": False},
        ]
    }
    return f"/donations/{d.pk}/assess", body


def certificate_of_pa1(w: Any) -> Certificate:
    found = Certificate.objects.filter(code="api-matrix-code").first()
    if found is not None:
        return found
    today = timezone.localdate()
    return Certificate.objects.create(
        community=w.A,
        person=w.pA1,
        number=f"DXDL-{today.year}-09998",
        period_from=today - timedelta(days=30),
        period_to=today,
        minutes=90,
        services=[{"name": "环境清扫", "count": 1, "minutes": 90}],
        code="api-matrix-code",
        issued_by=w.staff_a,
        person_name=w.pA1.name,
        issuer_name=w.A.name,
    )


def _issue(w: Any) -> tuple[str, Any]:
    """pA1 has an hour of approved clean-up this month (each user's request runs in its own rolled-back savepoint)."""
    make_catalogue(w)
    today = timezone.localdate()
    claim = services.claim_submit(
        actor=actor_for(w.grid_worker_a1),
        person=w.pA1,
        rule=w.cleanup,
        data=ClaimInput(occurred_on=today, minutes=60),
        idempotency_key="matrix-service",
    ).claim
    services.claim_approve(actor=actor_for(w.staff_a), claim=claim)
    return "/certificates", {
        "person_id": w.pA1.id,
        "period_from": str(today - timedelta(days=30)),
        "period_to": str(today),
    }


REQUESTS: dict[Op, Request] = {
    ("GET", "/donations"): lambda w: (f"/donations?community={w.A.id}", None),
    ("POST", "/donations"): lambda w: (
        "/donations",
        {"donor_id": w.pA1.id, "items": [{"description": "旧书", "category": "书籍", "quantity": 2}]},
    ),
    ("GET", "/donations/{donation_id}"): lambda w: (f"/donations/{donation_of_pa1(w).id}", None),
    ("POST", "/donations/{donation_id}/assess"): _assess,
    ("POST", "/donations/{donation_id}/decline"): lambda w: (
        f"/donations/{donation_of_pa1(w).id}/decline",
        {"reason": "物品损坏"},
    ),
    ("GET", "/donated-items"): lambda w: (f"/donated-items?community={w.A.id}", None),
    ("GET", "/people/{person_id}/volunteer-record"): lambda w: (f"/people/{w.pA1.id}/volunteer-record", None),
    ("GET", "/certificates"): lambda w: (f"/certificates?person={certificate_of_pa1(w).person_id}", None),
    ("POST", "/certificates"): _issue,
    ("GET", "/certificates/{certificate_id}"): lambda w: (f"/certificates/{certificate_of_pa1(w).id}", None),
    ("POST", "/certificates/{certificate_id}/revoke"): lambda w: (
        f"/certificates/{certificate_of_pa1(w).id}/revoke",
        {"reason": "录入有误"},
    ),
    ("GET", "/certificates/{certificate_id}/pdf"): lambda w: (f"/certificates/{certificate_of_pa1(w).id}/pdf", None),
}
