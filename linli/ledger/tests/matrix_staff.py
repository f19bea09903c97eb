"""Page permission rows for the staff ledger pages (see linli/common/tests/matrix.py).

Readers: A's staff and the street admin, the auditor, and the grid chiefs and workers of A (grid workers see only the
people of their own grids). Writers (award, reverse, adjust, approve, settings): A's staff and the street admin.
"""

from __future__ import annotations

from types import SimpleNamespace

from linli.common.tests.matrix import A1_GRID, A_STAFF, Page, in_a
from linli.ledger import adjustments, services
from linli.ledger.models import Adjustment, AdjustmentStatus, Transfer
from linli.org.models import Role, RoleAssignment, User

LEDGER_READERS_A = A_STAFF | A1_GRID | {"grid_worker_a2", "auditor_a"}
PA1_READERS = A_STAFF | A1_GRID | {"auditor_a"}


def award_to_pa1(w: SimpleNamespace) -> Transfer:
    return services.award(person=w.pA1, amount=20, actor=w.staff_a, idempotency_key="page-matrix-award").transfer


def pending_adjustment(w: SimpleNamespace) -> Adjustment:
    """Asked for by a third staff member of A, so that both writers may decide it."""
    user = User.objects.filter(phone="13700000078").first()
    if user is None:
        user = User.objects.create_user(phone="13700000078", password="x-Linli-2026", name="社区工作者己")
        RoleAssignment.objects.create(user=user, role=Role.COMMUNITY_STAFF, community=w.A)
    return adjustments.adjustment_request(
        actor=user, person=w.pA1, amount=80, reason="年度补发", idempotency_key="page-matrix-adjustment"
    )


def _still_pending(w: SimpleNamespace) -> bool:
    return not Adjustment.objects.exclude(status=AdjustmentStatus.PENDING).exists()


PAGES: list[Page] = [
    Page("ledger:staff_home", LEDGER_READERS_A, query=in_a),
    Page("ledger:award", A_STAFF, query=in_a),
    Page("ledger:transfer_detail", PA1_READERS, args=lambda w: [award_to_pa1(w).id]),
    Page(
        "ledger:reverse",
        A_STAFF,
        method="POST",
        args=lambda w: [award_to_pa1(w).id],
        data=lambda w: {"reason": "录错了", "idempotency_key": "page-matrix-reverse"},
        unchanged=lambda w: not Transfer.objects.filter(reverses__isnull=False).exists(),
    ),
    Page("ledger:adjust", A_STAFF, query=in_a),
    Page(
        "ledger:adjustment_approve",
        A_STAFF,
        method="POST",
        args=lambda w: [pending_adjustment(w).id],
        unchanged=_still_pending,
    ),
    Page(
        "ledger:adjustment_reject",
        A_STAFF,
        method="POST",
        args=lambda w: [pending_adjustment(w).id],
        data=lambda w: {"note": "不符合"},
        unchanged=_still_pending,
    ),
    Page("ledger:policy", A_STAFF, query=in_a),
]
