"""Page permission rows for the work-order staff pages (see linli/common/tests/matrix.py).

The order is resident pA1's noise complaint about building bA1 (grid A1) in community A. Working readers of it: A's
staff and the street admin, A1's grid chief and worker, bA1's steward, the auditor (residents follow it on their own
page). Triage (accept): staff and A1's grid chief. Escalate: staff and A1's grid workers. Notes: whoever may handle it
there (staff, A1's grid chief and worker, bA1's steward).
"""

from __future__ import annotations

from types import SimpleNamespace

from linli.common.tests.matrix import A_READERS, A_STAFF, ANY_STAFF, Page, in_a
from linli.orders import services
from linli.orders.models import Category, OrderEvent, Status, WorkOrder
from linli.orders.services import OrderInput
from linli.orders.testing import make_orders
from linli.org.access import actor_for

WORKING_VIEWERS = A_STAFF | {"grid_chief_a1", "grid_worker_a1", "steward_a1", "auditor_a"}
TRIAGE = A_STAFF | {"grid_chief_a1"}
INTAKE = A_READERS - {"auditor_a"}
KEY = "page-matrix-staff"


def order(w: SimpleNamespace) -> WorkOrder:
    """pA1's request, received and not yet accepted (the same order on every call)."""
    if not Category.objects.filter(community=w.A, code="property-noise").exists():
        make_orders(w)
    return services.order_create(
        actor=actor_for(w.resident_a1),
        community=w.A,
        data=OrderInput(category="property-noise", description="夜里道闸抬杆声太大", building_id=w.bA1.pk),
        channel="qr",
        request_key=KEY,
    ).order


def _still_received(w: SimpleNamespace) -> bool:
    return WorkOrder.objects.get(request_key=KEY).status == Status.RECEIVED


def _not_escalated(w: SimpleNamespace) -> bool:
    return WorkOrder.objects.get(request_key=KEY).escalated_at is None


def _no_note(w: SimpleNamespace) -> bool:
    return not OrderEvent.objects.filter(order__request_key=KEY, action="note").exists()


PAGES: list[Page] = [
    Page("orders:board", A_READERS, query=in_a),
    Page("orders:intake", INTAKE, query=in_a),
    Page("orders:escalations", ANY_STAFF),
    Page("orders:detail", WORKING_VIEWERS, args=lambda w: [order(w).id]),
    Page(
        "orders:act",
        TRIAGE,
        method="POST",
        args=lambda w: [order(w).id, "accept"],
        unchanged=_still_received,
    ),
    Page(
        "orders:act",
        A_STAFF | {"grid_chief_a1", "grid_worker_a1"},
        method="POST",
        args=lambda w: [order(w).id, "escalate"],
        data=lambda w: {"reason": "三天没人管"},
        unchanged=_not_escalated,
    ),
    Page(
        "orders:act",
        A_STAFF | {"grid_chief_a1", "grid_worker_a1", "steward_a1"},
        method="POST",
        args=lambda w: [order(w).id, "note"],
        data=lambda w: {"note": "已电话联系物业"},
        unchanged=_no_note,
    ),
]
