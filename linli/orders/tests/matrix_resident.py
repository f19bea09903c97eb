"""Page permission rows for the residents' and handlers' phone pages (see linli/common/tests/matrix.py).

Orders are resident_a1's (pA1) about building bA1 in grid A1. Readers of such an order: A's staff and the street
admin, A1's grid chief and worker, bA1's steward, the auditor, and pA1. Handlers (start, note, resolve): staff, A1's
grid chief and worker, bA1's steward; it is dispatched to the property company (a unit without a login), so nobody
else becomes a handler by assignment. "My requests" and the rating are the reporter's alone; the building QR codes
are the office's; the echo wall is public.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from linli.common.tests.matrix import A1_GRID, A_STAFF, ANY_STAFF, BA1_VIEWERS, EVERYONE, Page, in_a
from linli.orders import services
from linli.orders.catalogue import catalogue_install
from linli.orders.models import Action, Category, OrderEvent, Status, WorkOrder
from linli.orders.services import AssigneeInput, OrderInput
from linli.orders.testing import make_orders
from linli.org.access import actor_for

REPORTERS = ANY_STAFF | A1_GRID | {"grid_worker_a2", "steward_a1", "resident_a1"}  # everyone who files somewhere
HANDLERS_BA1 = A_STAFF | A1_GRID | {"steward_a1"}
TASK_LIST = ANY_STAFF | A1_GRID | {"grid_worker_a2", "steward_a1"}
TEXT = "夜里停车道闸抬杆声音太大，影响休息"


def catalogue(w: SimpleNamespace) -> SimpleNamespace:
    """The default catalogue in A, B and C (once per world)."""
    if not Category.objects.filter(community=w.A).exists():
        make_orders(w)
        catalogue_install(actor=actor_for(w.staff_c), community=w.C)
    return w


def jpeg(colour: str = "green") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "JPEG")
    return SimpleUploadedFile("p.jpg", out.getvalue(), content_type="image/jpeg")


def filed(w: SimpleNamespace, key: str = "matrix-filed", photo: bool = False) -> WorkOrder:
    """pA1's request about bA1 (the same order on every call with the same key)."""
    catalogue(w)
    return services.order_create(
        actor=actor_for(w.resident_a1),
        community=w.A,
        data=OrderInput(category="property-noise", description=TEXT, building_id=w.bA1.pk),
        channel="qr",
        photos=[jpeg()] if photo else [],
        request_key=key,
    ).order


def dispatched(w: SimpleNamespace, key: str = "matrix-dispatched") -> WorkOrder:
    order = filed(w, key)
    staff = actor_for(w.staff_a)
    if order.status == Status.RECEIVED:
        order = services.order_accept(actor=staff, order=order)
        order = services.order_dispatch(
            actor=staff, order=order, assignees=[AssigneeInput(handler="property", unit_id=w.propertyA.pk)]
        )
    return order


def resolved(w: SimpleNamespace, key: str = "matrix-resolved") -> WorkOrder:
    order = dispatched(w, key)
    if order.status == Status.DISPATCHED:
        order = services.order_resolve(actor=actor_for(w.staff_a), order=order, answer="已调整道闸，夜间改为静音模式")
    return order


def _status(key: str, status: str) -> Callable[[SimpleNamespace], bool]:
    return lambda w: WorkOrder.objects.get(request_key=key).status == status


def _no_note(w: SimpleNamespace) -> bool:
    return not OrderEvent.objects.filter(action=Action.NOTE).exists()


def _ready(w: SimpleNamespace) -> list[int]:
    catalogue(w)
    return []


def _request(w: SimpleNamespace) -> dict[str, str]:
    catalogue(w)
    return {"category": "property-noise", "description": TEXT, "request_key": "m1"}


def _photo_id(w: SimpleNamespace) -> list[int]:
    order = filed(w, "matrix-photo", photo=True)
    return [order.pk, order.photos.get().pk]


PAGES: list[Page] = [
    Page("orders:new", REPORTERS, args=_ready),
    Page("orders:new", REPORTERS, query=lambda w: f"building={catalogue(w).bA1.id}"),
    Page(
        "orders:new",
        ANY_STAFF | {"resident_a1"},  # grid workers and stewards file about a building of theirs, not the community
        method="POST",
        data=_request,
        unchanged=lambda w: not WorkOrder.objects.exists(),
    ),
    Page("orders:receipt", BA1_VIEWERS, args=lambda w: [filed(w).id]),
    Page("orders:mine", EVERYONE),
    Page("orders:mine_detail", frozenset({"resident_a1"}), args=lambda w: [filed(w).id]),
    Page(
        "orders:rate",
        frozenset({"resident_a1"}),
        method="POST",
        args=lambda w: [resolved(w).id],
        data=lambda w: {"rating": "5"},
        unchanged=_status("matrix-resolved", Status.RESOLVED),
    ),
    Page(
        "orders:withdraw",
        frozenset({"resident_a1"}),
        method="POST",
        args=lambda w: [filed(w).id],
        data=lambda w: {"reason": "已自行解决"},
        unchanged=_status("matrix-filed", Status.RECEIVED),
    ),
    Page("orders:photo", BA1_VIEWERS, args=_photo_id),
    Page("orders:tasks", TASK_LIST),
    Page("orders:task", HANDLERS_BA1, args=lambda w: [dispatched(w).id]),
    Page(
        "orders:task_start",
        HANDLERS_BA1,
        method="POST",
        args=lambda w: [dispatched(w).id],
        unchanged=_status("matrix-dispatched", Status.DISPATCHED),
    ),
    Page(
        "orders:task_note",
        HANDLERS_BA1,
        method="POST",
        args=lambda w: [dispatched(w).id],
        data=lambda w: {"note": "已联系物业"},
        unchanged=_no_note,
    ),
    Page(
        "orders:task_resolve",
        HANDLERS_BA1,
        method="POST",
        args=lambda w: [dispatched(w).id],
        data=lambda w: {"answer": "已处理"},
        unchanged=_status("matrix-dispatched", Status.DISPATCHED),
    ),
    Page("orders:building_qr", A_STAFF, args=lambda w: [w.bA1.id]),
    Page("orders:building_qr_sheet", A_STAFF, query=in_a),
    Page("orders:echo_wall", EVERYONE, args=lambda w: [w.A.code], public=True),
]
