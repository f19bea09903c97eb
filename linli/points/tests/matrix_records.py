"""Page permission rows for donations, certificates and volunteer records (see linli/common/tests/matrix.py).

Readers of donations and certificates: A's staff, the street admin and A's auditor. Writers: A's staff and the street
admin. A volunteer record and a certificate are also readable by the resident they are about (pA1). The confirmation
page behind a certificate's QR code is public.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from django.utils import timezone

from linli.common.tests.matrix import A_STAFF, EVERYONE, Page, in_a
from linli.org.access import actor_for
from linli.points import donations
from linli.points.donations import ItemInput
from linli.points.models import Certificate, Donation, DonationStatus

READ_A = A_STAFF | {"auditor_a"}
PA1_RECORD = READ_A | {"resident_a1"}


def donation_of_pa1(w: SimpleNamespace) -> Donation:
    """A registered donation of pA1 (the same one however often asked for within a test)."""
    return donations.donation_register(
        actor=actor_for(w.staff_a),
        donor=w.pA1,
        items=[ItemInput("儿童绘本", "书籍", 3, "九成新"), ItemInput("旧皮鞋", "鞋子", 1, "开胶")],
        idempotency_key="page-matrix-donation",
    ).donation


def assess_data(w: SimpleNamespace) -> dict[str, Any]:
    books, shoes = donation_of_pa1(w).items.order_by("id")
    return {f"points_{books.pk}": "2", f"price_{books.pk}": "5", f"unusable_{shoes.pk}": "on"}


def certificate_of_pa1(w: SimpleNamespace) -> Certificate:
    found = Certificate.objects.filter(code="page-matrix-code").first()
    if found is not None:
        return found
    today = timezone.localdate()
    return Certificate.objects.create(
        community=w.A,
        person=w.pA1,
        number=f"DXDL-{today.year}-09999",
        period_from=today - timedelta(days=30),
        period_to=today,
        minutes=90,
        services=[{"name": "环境清扫", "count": 1, "minutes": 90}],
        code="page-matrix-code",
        issued_by=w.staff_a,
        person_name=w.pA1.name,
        issuer_name=w.A.name,
    )


def _still_registered(w: SimpleNamespace) -> bool:
    return not Donation.objects.exclude(status=DonationStatus.REGISTERED).exists()


PAGES: list[Page] = [
    Page("points:donations", READ_A, query=in_a),
    Page("points:donation_new", A_STAFF, query=in_a),
    Page("points:donation_queue", READ_A, query=in_a),
    Page("points:donation_queue_send", A_STAFF, method="POST", query=in_a),
    Page("points:donation_detail", READ_A, args=lambda w: [donation_of_pa1(w).id]),
    Page(
        "points:donation_assess",
        A_STAFF,
        method="POST",
        args=lambda w: [donation_of_pa1(w).id],
        data=assess_data,
        unchanged=_still_registered,
    ),
    Page(
        "points:donation_decline",
        A_STAFF,
        method="POST",
        args=lambda w: [donation_of_pa1(w).id],
        data=lambda w: {"reason": "物品损坏"},
        unchanged=_still_registered,
    ),
    Page("points:certificates", READ_A, query=in_a),
    Page("points:certificate_issue", A_STAFF, query=in_a),
    Page("points:certificate_detail", PA1_RECORD, args=lambda w: [certificate_of_pa1(w).id]),
    Page("points:certificate_pdf", PA1_RECORD, args=lambda w: [certificate_of_pa1(w).id]),
    Page(
        "points:certificate_revoke",
        A_STAFF,
        method="POST",
        args=lambda w: [certificate_of_pa1(w).id],
        data=lambda w: {"reason": "录入有误"},
        unchanged=lambda w: not Certificate.objects.filter(revoked_at__isnull=False).exists(),
    ),
    # public: the page behind the QR code, for anyone, signed in or not
    Page("points:certificate_public", EVERYONE, args=lambda w: [certificate_of_pa1(w).code], public=True),
    Page("points:volunteer_record", PA1_RECORD, args=lambda w: [w.pA1.id]),
    Page("points:my_volunteer_record", frozenset({"resident_a1"})),
]
