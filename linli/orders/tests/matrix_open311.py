"""Page permission rows for Open311 (see linli/common/tests/matrix.py).

The GeoReport v2 endpoints are public (the spec asks no key for reading) and filing needs an api_key, not a login:
every user, signed in or not, gets the same answer. The key management page is for community A's staff
(order.catalogue): A's staff and the street admin.
"""

from __future__ import annotations

from types import SimpleNamespace

from linli.common.tests.matrix import A_STAFF, EVERYONE, Page, in_a
from linli.orders import services
from linli.orders.catalogue import catalogue_install
from linli.orders.models import Category, Open311Client, WorkOrder
from linli.orders.testing import file_order
from linli.org.access import actor_for

IN_A = "jurisdiction_id=dxdl"  # community A's code in make_world()


def _catalogue(w: SimpleNamespace) -> None:
    if not Category.objects.filter(community=w.A).exists():
        catalogue_install(actor=actor_for(w.staff_a), community=w.A)


def noise_code(w: SimpleNamespace) -> str:
    _catalogue(w)
    return "property-noise"


def published(w: SimpleNamespace) -> WorkOrder:
    """One request of pA1 in A, shown on the echo wall (the same one on every call)."""
    _catalogue(w)
    order = WorkOrder.objects.filter(community=w.A).first()
    return order or file_order(w)


def with_order(w: SimpleNamespace, fmt: str) -> str:
    """The format argument, once there is a published request to list."""
    published(w)
    return fmt


def client(w: SimpleNamespace) -> Open311Client:
    existing = Open311Client.objects.filter(community=w.A, name="matrix").first()
    if existing is not None:
        return existing
    issued = services.open311_client_issue(actor=actor_for(w.staff_a), community=w.A, name="matrix")
    w.open311_key = issued.key
    return issued.client


def filing(w: SimpleNamespace) -> dict[str, object]:
    _catalogue(w)
    key = services.open311_client_issue(actor=actor_for(w.staff_a), community=w.A, name="matrix-post").key
    return {
        "api_key": key,
        "jurisdiction_id": "dxdl",
        "service_code": "property-noise",
        "address_id": w.bA1.pk,
        "description": "楼下广场舞音响太吵",
    }


def _no_new_client(w: SimpleNamespace) -> bool:
    return not Open311Client.objects.filter(community=w.A, name="page-matrix").exists()


def _client_live(w: SimpleNamespace) -> bool:
    return Open311Client.objects.filter(community=w.A, name="matrix", revoked_at__isnull=True).exists()


PAGES: list[Page] = [
    Page("open311:discovery", EVERYONE, args=lambda w: ["json"], public=True),
    Page("open311:services", EVERYONE, args=lambda w: ["xml"], query=lambda w: IN_A, public=True),
    Page(
        "open311:service",
        EVERYONE,
        args=lambda w: [noise_code(w), "json"],
        query=lambda w: IN_A,
        public=True,
    ),
    Page("open311:requests", EVERYONE, args=lambda w: [with_order(w, "json")], query=lambda w: IN_A, public=True),
    Page("open311:requests", EVERYONE, method="POST", args=lambda w: ["json"], data=filing),
    Page("open311:request", EVERYONE, args=lambda w: [published(w).number, "xml"], query=lambda w: IN_A, public=True),
    Page("open311:token", EVERYONE, args=lambda w: [published(w).token, "json"], query=lambda w: IN_A, public=True),
    Page("orders:open311_clients", A_STAFF, query=in_a),
    Page(
        "orders:open311_clients",
        A_STAFF,
        method="POST",
        query=in_a,
        data=lambda w: {"name": "page-matrix"},
        unchanged=_no_new_client,
    ),
    Page(
        "orders:open311_client_revoke",
        A_STAFF,
        method="POST",
        args=lambda w: [client(w).pk],
        unchanged=_client_live,
    ),
]
