"""API permission rows for caring merchants' service points (merged by tests/test_api_permissions.py). Every request
targets A's barber mA (operator merchant_op_a) under A's clean-up rule (3 points per full hour).

Only those who may award a shop ("merchant.award": A's staff and the street admin) record its services. Its books
("merchant_service.view") are read by them, the auditor and the shop's own operator; everyone else is refused (403
when they can see the shop, 404 otherwise).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from linli.org.tests.test_api_permissions import Op, Request, allow
from linli.points.models import Rule
from linli.points.testing import make_catalogue

AWARD_A = allow("street_admin", "staff_a")
READ_A = allow("street_admin", "staff_a", "auditor_a", "merchant_op_a")

MATRIX: dict[Op, dict[str, bool]] = {
    ("GET", "/points/merchants/{merchant_id}/services"): READ_A,
    ("POST", "/points/merchants/{merchant_id}/services"): AWARD_A,
}


def _record(w: Any) -> tuple[str, Any]:
    # each user's request runs in a savepoint that is rolled back: the catalogue may be gone again
    rule = Rule.objects.filter(community=w.A, code="cleanup").first()
    if rule is None:
        rule = make_catalogue(w).cleanup
    body = {"rule_id": rule.pk, "quantity": "2", "occurred_on": str(timezone.localdate()), "note": "为独居老人理发"}
    return f"/points/merchants/{w.mA.pk}/services", body


REQUESTS: dict[Op, Request] = {
    ("GET", "/points/merchants/{merchant_id}/services"): lambda w: (f"/points/merchants/{w.mA.pk}/services", None),
    ("POST", "/points/merchants/{merchant_id}/services"): _record,
}
