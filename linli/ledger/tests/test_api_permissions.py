"""Who may call each ledger API operation (the format of linli/org/tests/test_api_permissions.py, which collects it).

Every request targets community A: person pA1 (grid A1, building bA1) and a transfer to them. Readers of pA1's
passbook: A's staff and the street admin, A1's grid chief and worker, A's auditor and the resident pA1 themself.
Writers: A's staff and the street admin only. Every write carries an Idempotency-Key header.
"""

from __future__ import annotations

from typing import Any

import pytest

from linli.ledger import adjustments, services
from linli.ledger.models import Adjustment, Transfer
from linli.org.models import Role, RoleAssignment, User
from linli.org.tests import test_api_permissions as org_matrix
from linli.org.tests.test_api_permissions import Op, Request, allow, check_operation

READ_PA1 = allow("street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1", "auditor_a", "resident_a1")
# lists of transfers: whoever reads some passbook in community A (each sees only what is in their scope)
LIST_A = allow(
    "street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1", "grid_worker_a2", "auditor_a", "resident_a1"
)
WRITE_A = allow("street_admin", "staff_a")

MATRIX: dict[Op, dict[str, bool]] = {
    ("GET", "/people/{person_id}/balance"): READ_PA1,
    ("GET", "/people/{person_id}/passbook"): READ_PA1,
    ("GET", "/transfers"): LIST_A,  # ?community=A
    ("GET", "/transfers/{transfer_id}"): READ_PA1,  # an award to pA1
    ("POST", "/transfers/{transfer_id}/reverse"): WRITE_A,
    ("POST", "/awards"): WRITE_A,
    ("POST", "/adjustments"): WRITE_A,
    # asked for by a third staff member of A, so that both writers may decide it
    ("POST", "/adjustments/{adjustment_id}/approve"): WRITE_A,
    ("POST", "/adjustments/{adjustment_id}/reject"): WRITE_A,
}


def award_to_pa1(w: Any) -> Transfer:
    return services.award(person=w.pA1, amount=20, actor=w.staff_a, idempotency_key="matrix-award").transfer


def pending_adjustment(w: Any) -> Adjustment:
    user = User.objects.filter(phone="13700000077").first()
    if user is None:
        user = User.objects.create_user(phone="13700000077", password="x-Linli-2026", name="社区工作者戊")
        RoleAssignment.objects.create(user=user, role=Role.COMMUNITY_STAFF, community=w.A)
    return adjustments.adjustment_request(
        actor=user, person=w.pA1, amount=80, reason="年度补发", idempotency_key="matrix-adjustment"
    )


REQUESTS: dict[Op, Request] = {
    ("GET", "/people/{person_id}/balance"): lambda w: (f"/people/{w.pA1.id}/balance", None),
    ("GET", "/people/{person_id}/passbook"): lambda w: (f"/people/{award_to_pa1(w).credit.person_id}/passbook", None),
    ("GET", "/transfers"): lambda w: (f"/transfers?community={w.A.id}&before={award_to_pa1(w).id + 1}", None),
    ("GET", "/transfers/{transfer_id}"): lambda w: (f"/transfers/{award_to_pa1(w).id}", None),
    ("POST", "/transfers/{transfer_id}/reverse"): lambda w: (
        f"/transfers/{award_to_pa1(w).id}/reverse",
        {"reason": "录错了"},
    ),
    ("POST", "/awards"): lambda w: ("/awards", {"person_id": w.pA1.id, "amount": 5, "memo": "清扫楼道"}),
    ("POST", "/adjustments"): lambda w: ("/adjustments", {"person_id": w.pA1.id, "amount": 5, "reason": "补录"}),
    ("POST", "/adjustments/{adjustment_id}/approve"): lambda w: (
        f"/adjustments/{pending_adjustment(w).id}/approve",
        None,
    ),
    ("POST", "/adjustments/{adjustment_id}/reject"): lambda w: (
        f"/adjustments/{pending_adjustment(w).id}/reject",
        {"note": "不符合"},
    ),
}


@pytest.fixture
def idempotency_header(monkeypatch: pytest.MonkeyPatch) -> None:
    """The org matrix sends only auth headers; every ledger write also needs its Idempotency-Key."""
    send = org_matrix._send

    def with_key(client: Any, method: str, path: str, payload: Any, headers: dict[str, str]) -> Any:
        extra = {"Idempotency-Key": "matrix-key"} if method != "GET" else {}
        return send(client, method, path, payload, {**headers, **extra})

    monkeypatch.setattr(org_matrix, "_send", with_key)


def test_ledger_matrix_is_complete() -> None:
    served = {op for op in org_matrix.spec_operations() if op in MATRIX}
    assert set(MATRIX) == served, set(MATRIX) ^ served
    assert set(REQUESTS) == set(MATRIX)


@pytest.mark.parametrize("auth", ["session", "token"])
@pytest.mark.parametrize("op", sorted(MATRIX), ids=lambda op: f"{op[0]} {op[1]}")
def test_each_role_is_refused_outside_its_scope(world: Any, idempotency_header: None, op: Op, auth: str) -> None:
    problems = check_operation(world, op, MATRIX[op], REQUESTS[op], auth)
    assert not problems, "\n".join(problems)
