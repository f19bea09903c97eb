"""Who may call each claim API operation (merged by tests/test_api_permissions.py).

Claims are about pA1 (building bA1, grid A1) under community A's clean-up rule; records are for pA1b (the elder in the
same household, without a phone) under the mediation rule, which stewards, grid workers and staff may record.
Readers of pA1's claims: A's staff and the street admin, A1's grid chief and worker, bA1's steward, the auditor and
pA1 herself. Checkers: staff, A1's grid chief and worker, bA1's steward. Approvers: A's staff and the street admin.
Amending (resubmit, withdraw) is for the resident who checked in.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from linli.org.access import actor_for
from linli.org.tests.test_api_permissions import Op, Request, allow
from linli.points import services
from linli.points.models import Claim, ClaimStatus, Rule
from linli.points.services import ClaimInput
from linli.points.testing import make_catalogue
from linli.points.tests.matrix_claims import jpeg

READ_PA1 = allow("street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1", "steward_a1", "auditor_a", "resident_a1")
# lists of a community's claims: every reader in A (each sees only their own people); not the merchant
LIST_A = allow(
    "street_admin",
    "staff_a",
    "grid_chief_a1",
    "grid_worker_a1",
    "grid_worker_a2",
    "steward_a1",
    "auditor_a",
    "resident_a1",
)
CHECK_PA1 = allow("street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1", "steward_a1")
APPROVE_A = allow("street_admin", "staff_a")
RESIDENT = allow("resident_a1")

MATRIX: dict[Op, dict[str, bool]] = {
    ("GET", "/claims"): LIST_A,  # ?community=A
    ("GET", "/claims/{claim_id}"): READ_PA1,
    ("GET", "/claims/{claim_id}/photo"): READ_PA1,
    ("GET", "/people/{person_id}/claims"): READ_PA1,
    ("POST", "/claims"): CHECK_PA1,  # mediation recorded for pA1b
    ("POST", "/claims/{claim_id}/resubmit"): RESIDENT,
    ("POST", "/claims/{claim_id}/withdraw"): RESIDENT,
    ("POST", "/claims/{claim_id}/verify"): CHECK_PA1,
    ("POST", "/claims/{claim_id}/approve"): APPROVE_A,
    ("POST", "/claims/{claim_id}/reject"): CHECK_PA1,  # before verification the checkers may turn it down
    ("POST", "/claims/bulk-verify"): CHECK_PA1,
    ("POST", "/claims/bulk-approve"): APPROVE_A,
    ("POST", "/claims/bulk-reject"): CHECK_PA1,
}


def _catalogue(w: Any) -> Any:
    # each user's request runs in a savepoint that is rolled back: the catalogue may be gone again
    if not hasattr(w, "cleanup") or not Rule.objects.filter(pk=w.cleanup.pk).exists():
        make_catalogue(w)
    return w


def submitted(w: Any, key: str = "api-matrix-submitted", photo: bool = False) -> Claim:
    _catalogue(w)
    return services.claim_submit(
        actor=actor_for(w.resident_a1),
        person=w.pA1,
        rule=w.cleanup,
        data=ClaimInput(occurred_on=timezone.localdate(), minutes=60, note="清扫楼道"),
        idempotency_key=key,
        photo=jpeg() if photo else None,
    ).claim


def verified(w: Any) -> Claim:
    claim = submitted(w, "api-matrix-verified")
    if claim.status == ClaimStatus.SUBMITTED:
        claim = services.claim_verify(actor=actor_for(w.steward_a1), claim=claim)
    return claim


def rejected(w: Any) -> Claim:
    claim = submitted(w, "api-matrix-rejected")
    if claim.status == ClaimStatus.SUBMITTED:
        claim = services.claim_reject(actor=actor_for(w.steward_a1), claim=claim, reason="没有看到")
    return claim


REQUESTS: dict[Op, Request] = {
    ("GET", "/claims"): lambda w: (f"/claims?community={w.A.id}", None),
    ("GET", "/claims/{claim_id}"): lambda w: (f"/claims/{submitted(w).id}", None),
    ("GET", "/claims/{claim_id}/photo"): lambda w: (f"/claims/{submitted(w, 'api-matrix-photo', True).id}/photo", None),
    ("GET", "/people/{person_id}/claims"): lambda w: (f"/people/{submitted(w).person_id}/claims", None),
    ("POST", "/claims"): lambda w: (
        "/claims",
        {"person_id": w.pA1b.id, "rule_id": _catalogue(w).mediation.id, "note": "调解楼上漏水"},
    ),
    ("POST", "/claims/{claim_id}/resubmit"): lambda w: (
        f"/claims/{rejected(w).id}/resubmit",
        {"minutes": 120, "note": "两个小时"},
    ),
    ("POST", "/claims/{claim_id}/withdraw"): lambda w: (f"/claims/{submitted(w).id}/withdraw", None),
    ("POST", "/claims/{claim_id}/verify"): lambda w: (f"/claims/{submitted(w).id}/verify", None),
    ("POST", "/claims/{claim_id}/approve"): lambda w: (f"/claims/{verified(w).id}/approve", None),
    ("POST", "/claims/{claim_id}/reject"): lambda w: (f"/claims/{submitted(w).id}/reject", {"reason": "没看到"}),
    ("POST", "/claims/bulk-verify"): lambda w: ("/claims/bulk-verify", {"claim_ids": [submitted(w).id]}),
    ("POST", "/claims/bulk-approve"): lambda w: ("/claims/bulk-approve", {"claim_ids": [verified(w).id]}),
    ("POST", "/claims/bulk-reject"): lambda w: (
        "/claims/bulk-reject",
        {"claim_ids": [submitted(w).id], "reason": "没看到"},
    ),
}
