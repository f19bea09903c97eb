"""Page permission rows for the figures, export, 12345 import, service catalogue and holiday calendar pages (see
linli/common/tests/matrix.py).

Figures of community A (order.stats): A's staff, the street admin, the auditor and A1's grid chief (who sees their
grid's). The street's figures: the street admin. Export (order.export): staff and the auditor. Import and the
catalogue (order.import, order.catalogue): A's staff and the street admin. The holiday calendar of street S: read by
everyone who keeps a catalogue in S (the street admin, staff of A and B); changed only by the street admin, because
`holiday_set` asks order.catalogue on the street itself.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile

from linli.common.tests.matrix import A_STAFF, Page, in_a
from linli.orders.catalogue import catalogue_install
from linli.orders.models import Category, Holiday, WorkOrder
from linli.orders.tests.test_imports import GOOD, xlsx
from linli.org.access import actor_for

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATS_A = A_STAFF | {"auditor_a", "grid_chief_a1"}
CALENDAR_READERS = frozenset({"street_admin", "staff_a", "staff_b"})


def _catalogue(w: SimpleNamespace) -> None:
    if not Category.objects.filter(community=w.A).exists():
        catalogue_install(actor=actor_for(w.staff_a), community=w.A)


def noise(w: SimpleNamespace) -> Category:
    _catalogue(w)
    return Category.objects.get(community=w.A, code="property-noise")


def holiday(w: SimpleNamespace) -> Holiday:
    return Holiday.objects.get_or_create(street=w.S, day=date(2026, 10, 1), defaults={"name": "国庆节"})[0]


def in_s(w: SimpleNamespace) -> str:
    return f"street={w.S.id}"


def sheet(w: SimpleNamespace) -> dict[str, object]:
    _catalogue(w)
    return {"community": w.A.id, "file": SimpleUploadedFile("gd.xlsx", xlsx(GOOD), content_type=XLSX)}


def category_data(name: str, code: str) -> dict[str, object]:
    return {
        "name": name,
        "code": code,
        "group": "property",
        "handler": "property",
        "deadline_days": "10",
        "day_kind": "calendar",
        "red_days": "2",
        "is_active": "on",
    }


PAGES: list[Page] = [
    Page("orders:stats", STATS_A, query=in_a),
    Page("orders:stats_street", frozenset({"street_admin"}), query=in_s),
    Page("orders:export", A_STAFF | {"auditor_a"}, query=in_a),
    Page("orders:import", A_STAFF, query=in_a),
    Page(
        "orders:import",
        A_STAFF,
        method="POST",
        query=in_a,
        data=sheet,
        unchanged=lambda w: not WorkOrder.objects.exists(),
    ),
    Page("orders:import_example", A_STAFF, query=in_a),
    Page("orders:categories", A_STAFF, query=in_a),
    Page(
        "orders:categories_install",
        A_STAFF,
        method="POST",
        query=in_a,
        unchanged=lambda w: not Category.objects.filter(community=w.A).exists(),
    ),
    Page("orders:category_new", A_STAFF, query=in_a),
    Page(
        "orders:category_new",
        A_STAFF,
        method="POST",
        query=in_a,
        data=lambda w: category_data("楼道照明", "stair-light"),
        unchanged=lambda w: not Category.objects.filter(code="stair-light").exists(),
    ),
    Page("orders:category_edit", A_STAFF, args=lambda w: [noise(w).pk]),
    Page(
        "orders:category_edit",
        A_STAFF,
        method="POST",
        args=lambda w: [noise(w).pk],
        data=lambda w: category_data("噪音投诉", "property-noise"),
        unchanged=lambda w: Category.objects.get(community=w.A, code="property-noise").name == "噪音扰民",
    ),
    Page("orders:holidays", CALENDAR_READERS, query=in_s),
    Page(
        "orders:holidays",
        frozenset({"street_admin"}),
        method="POST",
        query=in_s,
        data=lambda w: {"day": "2026-10-02", "name": "国庆节"},
        unchanged=lambda w: not Holiday.objects.exists(),
    ),
    Page(
        "orders:holiday_remove",
        frozenset({"street_admin"}),
        method="POST",
        args=lambda w: [holiday(w).pk],
        unchanged=lambda w: Holiday.objects.filter(day=date(2026, 10, 1)).exists(),
    ),
]
