"""Who may call each work-order API operation (merged by tests/test_api_permissions.py).

Every order is resident_a1's request about building bA1 (grid A1, community A), filed afresh for each user (each
user's request runs in a savepoint that is rolled back). Readers: A's staff and the street admin, A1's grid chief and
worker, bA1's steward, the auditor and the resident who asked. Triage (accept, grade, dispatch, hold, resume, close,
reopen, merge, credit): staff and the grid chief. Handling (start, note, resolve): those plus A1's grid worker and
bA1's steward. Escalation: staff and grid. Rating: the resident, or staff recording it by phone. Cancelling: the
resident who asked, or triage. Figures: staff, the grid chief (their grid) and the auditor.
"""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from linli.orders import services
from linli.orders.models import Category, WorkOrder
from linli.orders.services import AssigneeInput, OrderInput
from linli.orders.testing import file_order, make_orders
from linli.org.access import actor_for
from linli.org.tests.test_api_permissions import EVERYONE, IN_COMMUNITY_A, Op, Request, allow
from linli.points.models import Rule
from linli.points.testing import make_catalogue

READ = allow("street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1", "steward_a1", "auditor_a", "resident_a1")
# the board of community A: everyone holding a reading role in A (each sees only their own orders); not the shop
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
REPORT_BA1 = allow("street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1", "steward_a1", "resident_a1")
TRIAGE = allow("street_admin", "staff_a", "grid_chief_a1")
HANDLE = allow("street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1", "steward_a1")
ESCALATE = allow("street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1")
RATE = allow("street_admin", "staff_a", "resident_a1")
CANCEL = allow("street_admin", "staff_a", "grid_chief_a1", "resident_a1")
STATS = allow("street_admin", "staff_a", "grid_chief_a1", "auditor_a")

MATRIX: dict[Op, dict[str, bool]] = {
    ("GET", "/order-categories"): IN_COMMUNITY_A,  # ?community=A: what a request can be about is no secret
    ("GET", "/orders"): LIST_A,  # ?community=A
    ("GET", "/orders/mine"): EVERYONE,  # each their own (possibly none)
    ("GET", "/orders/tasks"): EVERYONE,  # each their own (possibly none)
    ("GET", "/orders/stats"): STATS,  # ?community=A
    ("GET", "/orders/{order_id}"): READ,
    ("GET", "/orders/{order_id}/photos/{photo_id}"): READ,
    ("POST", "/orders"): REPORT_BA1,
    ("POST", "/orders/{order_id}/accept"): TRIAGE,
    ("POST", "/orders/{order_id}/grade"): TRIAGE,
    ("POST", "/orders/{order_id}/dispatch"): TRIAGE,
    ("POST", "/orders/{order_id}/start"): HANDLE,
    ("POST", "/orders/{order_id}/note"): HANDLE,
    ("POST", "/orders/{order_id}/hold"): TRIAGE,
    ("POST", "/orders/{order_id}/resume"): TRIAGE,
    ("POST", "/orders/{order_id}/escalate"): ESCALATE,
    ("POST", "/orders/{order_id}/resolve"): HANDLE,
    ("POST", "/orders/{order_id}/rate"): RATE,
    ("POST", "/orders/{order_id}/close"): TRIAGE,
    ("POST", "/orders/{order_id}/reopen"): TRIAGE,
    ("POST", "/orders/{order_id}/merge"): TRIAGE,
    ("POST", "/orders/{order_id}/cancel"): CANCEL,
    ("POST", "/orders/{order_id}/credit"): TRIAGE,  # for pA1b (bA1) under the mediation rule
    ("POST", "/orders/{order_id}/publish"): TRIAGE,
}


def _orders(w: Any) -> Any:
    # each user's request runs in a savepoint that is rolled back: the catalogue may be gone again
    if not Category.objects.filter(community=w.A).exists():
        make_orders(w)
    return w


def jpeg() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(out, "JPEG")
    return SimpleUploadedFile("p.jpg", out.getvalue(), content_type="image/jpeg")


def received(w: Any) -> WorkOrder:
    return file_order(_orders(w))


def accepted(w: Any) -> WorkOrder:
    order = received(w)
    return services.order_accept(actor=actor_for(w.staff_a), order=order)


def dispatched(w: Any) -> WorkOrder:
    order = accepted(w)
    return services.order_dispatch(
        actor=actor_for(w.staff_a), order=order, assignees=[AssigneeInput(handler="property", unit_id=w.propertyA.pk)]
    )


def in_progress(w: Any) -> WorkOrder:
    return services.order_start(actor=actor_for(w.staff_a), order=dispatched(w))


def resolved(w: Any) -> WorkOrder:
    return services.order_resolve(actor=actor_for(w.staff_a), order=in_progress(w), answer="道闸加装缓冲垫")


def on_hold(w: Any) -> WorkOrder:
    return services.order_hold(actor=actor_for(w.staff_a), order=accepted(w), reason="等配件")


def with_photo(w: Any) -> tuple[WorkOrder, int]:
    _orders(w)
    order = services.order_create(
        actor=actor_for(w.resident_a1),
        community=w.A,
        data=OrderInput(category="property-noise", description="道闸噪音", building_id=w.bA1.pk),
        channel="qr",
        photos=[jpeg()],
    ).order
    return order, order.photos.get().pk


def _credit(w: Any) -> tuple[str, Any]:
    order = resolved(w)
    if not Rule.objects.filter(community=w.A, code="mediation").exists():
        make_catalogue(w)
    return f"/orders/{order.pk}/credit", {"person_id": w.pA1b.pk, "rule_id": w.mediation.pk}


def _photo(w: Any) -> tuple[str, Any]:
    order, photo_id = with_photo(w)
    return f"/orders/{order.pk}/photos/{photo_id}", None


REQUESTS: dict[Op, Request] = {
    ("GET", "/order-categories"): lambda w: (f"/order-categories?community={_orders(w).A.pk}", None),
    ("GET", "/orders"): lambda w: (f"/orders?community={received(w).community_id}", None),
    ("GET", "/orders/mine"): lambda w: ("/orders/mine", None),
    ("GET", "/orders/tasks"): lambda w: ("/orders/tasks", None),
    ("GET", "/orders/stats"): lambda w: (f"/orders/stats?community={received(w).community_id}", None),
    ("GET", "/orders/{order_id}"): lambda w: (f"/orders/{received(w).pk}", None),
    ("GET", "/orders/{order_id}/photos/{photo_id}"): _photo,
    ("POST", "/orders"): lambda w: (
        "/orders",
        {
            "community_id": _orders(w).A.pk,
            "category": "property-noise",
            "description": "夜里停车道闸抬杆声音太大",
            "building_id": w.bA1.pk,
        },
    ),
    ("POST", "/orders/{order_id}/accept"): lambda w: (f"/orders/{received(w).pk}/accept", {}),
    ("POST", "/orders/{order_id}/grade"): lambda w: (
        f"/orders/{received(w).pk}/grade",
        {"severity": "yellow", "factors": {"scale": 2, "difficulty": 2, "impact": 1}},
    ),
    ("POST", "/orders/{order_id}/dispatch"): lambda w: (
        f"/orders/{accepted(w).pk}/dispatch",
        {"assignees": [{"handler": "property", "unit_id": w.propertyA.pk}]},
    ),
    ("POST", "/orders/{order_id}/start"): lambda w: (f"/orders/{dispatched(w).pk}/start", {}),
    ("POST", "/orders/{order_id}/note"): lambda w: (f"/orders/{dispatched(w).pk}/note", {"note": "已联系物业"}),
    ("POST", "/orders/{order_id}/hold"): lambda w: (f"/orders/{accepted(w).pk}/hold", {"reason": "等配件"}),
    ("POST", "/orders/{order_id}/publish"): lambda w: (f"/orders/{accepted(w).pk}/publish", {"shown": False}),
    ("POST", "/orders/{order_id}/resume"): lambda w: (f"/orders/{on_hold(w).pk}/resume", {}),
    ("POST", "/orders/{order_id}/escalate"): lambda w: (f"/orders/{accepted(w).pk}/escalate", {"reason": "需街道协调"}),
    ("POST", "/orders/{order_id}/resolve"): lambda w: (
        f"/orders/{in_progress(w).pk}/resolve",
        {"answer": "道闸加装缓冲垫，夜间静音"},
    ),
    ("POST", "/orders/{order_id}/rate"): lambda w: (f"/orders/{resolved(w).pk}/rate", {"rating": 5, "comment": "好"}),
    ("POST", "/orders/{order_id}/close"): lambda w: (f"/orders/{resolved(w).pk}/close", {}),
    ("POST", "/orders/{order_id}/reopen"): lambda w: (f"/orders/{resolved(w).pk}/reopen", {"reason": "又响了"}),
    ("POST", "/orders/{order_id}/merge"): lambda w: (f"/orders/{received(w).pk}/merge", {"into": received(w).pk}),
    ("POST", "/orders/{order_id}/cancel"): lambda w: (f"/orders/{received(w).pk}/cancel", {"reason": "已自行解决"}),
    ("POST", "/orders/{order_id}/credit"): _credit,
}
