"""Page permission rows for the claim pages (see linli/common/tests/matrix.py).

Claims are about pA1 (building bA1, grid A1) under the clean-up rule of community A. Readers of a claim: whoever may
read pA1 (A's staff and the street admin, A1's grid chief and worker, bA1's steward, the auditor, pA1 herself).
Checkers (verify, reject before verification): staff, A1's grid chief and worker, bA1's steward. Approvers: staff.
The queues and "record for someone" open for every working role of A (each sees only their own people there).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from linli.common.tests.matrix import A_STAFF, BA1_VIEWERS, Page, in_a
from linli.org.access import actor_for
from linli.points import services
from linli.points.models import Claim, ClaimStatus, Rule
from linli.points.services import ClaimInput
from linli.points.testing import make_catalogue

WORKERS_A = A_STAFF | {"grid_chief_a1", "grid_worker_a1", "grid_worker_a2", "steward_a1"}
CHECKERS_PA1 = A_STAFF | {"grid_chief_a1", "grid_worker_a1", "steward_a1"}
# the community's claims list: staff and the auditor see all; grid workers and stewards only their own people
CLAIM_READERS_A = WORKERS_A | {"auditor_a"}


def _catalogue(w: SimpleNamespace) -> SimpleNamespace:
    # each user's request runs in a savepoint that is rolled back: the catalogue may be gone again
    if not hasattr(w, "cleanup") or not Rule.objects.filter(pk=w.cleanup.pk).exists():
        make_catalogue(w)
    return w


def jpeg() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(out, "JPEG")
    return SimpleUploadedFile("p.jpg", out.getvalue(), content_type="image/jpeg")


def submitted(w: SimpleNamespace, key: str = "page-matrix-submitted", photo: bool = False) -> Claim:
    """pA1's own check-in of one hour of clean-up, waiting for verification (the same claim on every call)."""
    _catalogue(w)
    return services.claim_submit(
        actor=actor_for(w.resident_a1),
        person=w.pA1,
        rule=w.cleanup,
        data=ClaimInput(occurred_on=timezone.localdate(), minutes=60, note="清扫楼道"),
        idempotency_key=key,
        photo=jpeg() if photo else None,
    ).claim


def verified(w: SimpleNamespace) -> Claim:
    claim = submitted(w, "page-matrix-verified")
    if claim.status == ClaimStatus.SUBMITTED:
        claim = services.claim_verify(actor=actor_for(w.steward_a1), claim=claim)
    return claim


def rejected(w: SimpleNamespace) -> Claim:
    claim = submitted(w, "page-matrix-rejected")
    if claim.status == ClaimStatus.SUBMITTED:
        claim = services.claim_reject(actor=actor_for(w.steward_a1), claim=claim, reason="没有看到")
    return claim


def _status_is(status: str, key: str) -> Callable[[SimpleNamespace], bool]:
    def check(w: SimpleNamespace) -> bool:
        return Claim.objects.get(idempotency_key=key).status == status

    return check


PAGES: list[Page] = [
    Page("points:checkin", frozenset({"resident_a1"})),
    Page("points:my_claims", frozenset({"resident_a1"})),
    Page("points:record", WORKERS_A, query=in_a),
    Page("points:verify_queue", WORKERS_A, query=in_a),
    Page(
        "points:verify_bulk",
        WORKERS_A,  # grid_worker_a2 may send it, but pA1's claim is not in their queue: nothing happens
        method="POST",
        query=in_a,
        data=lambda w: {"claim": [submitted(w).id]},
        unchanged=_status_is(ClaimStatus.SUBMITTED, "page-matrix-submitted"),
    ),
    Page("points:approve_queue", A_STAFF, query=in_a),
    Page(
        "points:approve_bulk",
        A_STAFF,
        method="POST",
        query=in_a,
        data=lambda w: {"claim": [verified(w).id], "action": "approve"},
        unchanged=_status_is(ClaimStatus.VERIFIED, "page-matrix-verified"),
    ),
    Page("points:claims", CLAIM_READERS_A, query=in_a),
    Page("points:claims_xlsx", CLAIM_READERS_A, query=in_a),
    Page("points:claim_detail", BA1_VIEWERS, args=lambda w: [submitted(w).id]),
    Page("points:claim_photo", BA1_VIEWERS, args=lambda w: [submitted(w, "page-matrix-photo", photo=True).id]),
    Page("points:claim_resubmit", frozenset({"resident_a1"}), args=lambda w: [rejected(w).id]),
    Page(
        "points:claim_withdraw",
        frozenset({"resident_a1"}),
        method="POST",
        args=lambda w: [submitted(w).id],
        unchanged=_status_is(ClaimStatus.SUBMITTED, "page-matrix-submitted"),
    ),
    Page(
        "points:claim_verify",
        CHECKERS_PA1,
        method="POST",
        args=lambda w: [submitted(w).id],
        unchanged=_status_is(ClaimStatus.SUBMITTED, "page-matrix-submitted"),
    ),
    Page(
        "points:claim_approve",
        A_STAFF,
        method="POST",
        args=lambda w: [verified(w).id],
        unchanged=_status_is(ClaimStatus.VERIFIED, "page-matrix-verified"),
    ),
    Page(
        "points:claim_reject",
        CHECKERS_PA1,
        method="POST",
        args=lambda w: [submitted(w).id],
        data=lambda w: {"reason": "没有看到"},
        unchanged=_status_is(ClaimStatus.SUBMITTED, "page-matrix-submitted"),
    ),
]
