"""Figures, export and the catalogue/calendar pages (linli/orders/reports.py, export.py, views_reports.py).

A fixed set of requests with known times and ratings; every figure below is worked out by hand:

    o1  A1 noise   yellow  qr       received m1-03 10:00, closed 24 h later, rated 5
    o2  A1 repair  blue    hotline  received m1-05 10:00, closed 72 h later, rated 3 (not satisfied)
    o3  A2 repair  red     hotline  received m2-02 10:00, resolved (not rated)
    o4  A2 noise   —       hotline  received m2-04 10:00, open and past its deadline (overdue)
    o5  duplicate of o4, merged (not counted)      o6  cancelled (not counted)
    o7  received three months before m1 (outside the period)      o8  in community B, open
"""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext, override
from openpyxl import load_workbook

from linli.common.testing import client_for, make_world
from linli.orders import export, reports, services
from linli.orders.models import Category, Holiday, WorkOrder
from linli.orders.reports import Period, add_months
from linli.orders.services import AssigneeInput, OrderInput, tz
from linli.orders.testing import make_orders
from linli.orders.tests.test_imports import GOOD, xlsx
from linli.org.access import actor_for

pytestmark = pytest.mark.django_db


def at(month: Any, day: int, hour: int = 10) -> datetime:
    return datetime.combine(month.replace(day=day), time(hour), tzinfo=tz())


def _file(w: SimpleNamespace, received: datetime, *, category: str = "property-noise", **kw: Any) -> WorkOrder:
    resident = kw.pop("resident", False)
    community = kw.pop("community", w.A)
    actor = actor_for(w.resident_a1 if resident else (w.staff_a if community == w.A else w.staff_b))
    data = OrderInput(category=category, description="测试诉求", received_at=received, **kw)
    return services.order_create(
        actor=actor, community=community, data=data, channel="qr" if resident else "hotline"
    ).order


def _to_resolved(w: SimpleNamespace, order: WorkOrder, severity: str) -> WorkOrder:
    staff = actor_for(w.staff_a)
    services.order_accept(actor=staff, order=order)
    services.order_grade(actor=staff, order=order, severity=severity)
    services.order_dispatch(
        actor=staff, order=order, assignees=[AssigneeInput(handler="property", unit_id=w.propertyA.pk)]
    )
    return services.order_resolve(actor=staff, order=order, answer="已处理")


@pytest.fixture
def w() -> SimpleNamespace:
    w = make_orders(make_world())
    this = timezone.localdate().replace(day=1)
    w.m1, w.m2 = add_months(this, -2), add_months(this, -1)
    staff, resident = actor_for(w.staff_a), actor_for(w.resident_a1)
    w.o1 = _file(w, at(w.m1, 3), resident=True, building_id=w.bA1.pk)
    _to_resolved(w, w.o1, "yellow")
    services.order_rate(actor=resident, order=w.o1, rating=5)
    w.o2 = _file(w, at(w.m1, 5), category="property-repair", building_id=w.bA1.pk, contact_name="李建国")
    _to_resolved(w, w.o2, "blue")
    services.order_rate(actor=staff, order=w.o2, rating=3)  # by phone
    for order, resolved, closed in ((w.o1, at(w.m1, 3, 20), at(w.m1, 4)), (w.o2, at(w.m1, 7), at(w.m1, 8))):
        received = order.received_at
        WorkOrder.objects.filter(pk=order.pk).update(  # the steps as they happened: o1 closed in 24 h, o2 in 72 h
            accepted_at=received + timedelta(hours=1),
            dispatched_at=received + timedelta(hours=2),
            resolved_at=resolved,
            closed_at=closed,
        )
    w.o3 = _file(w, at(w.m2, 2), category="property-repair", building_id=w.bA2.pk)
    _to_resolved(w, w.o3, "red")
    w.o4 = _file(w, at(w.m2, 4), building_id=w.bA2.pk, contact_name="张先生", contact_phone="13912345678")
    WorkOrder.objects.filter(pk=w.o4.pk).update(due_at=timezone.now() - timedelta(days=1))
    w.o5 = _file(w, at(w.m2, 5), building_id=w.bA2.pk)
    services.order_merge(actor=staff, order=w.o5, into=w.o4)
    w.o6 = _file(w, at(w.m2, 6))
    services.order_cancel(actor=staff, order=w.o6, reason="居民撤回")
    w.o7 = _file(w, at(add_months(w.m1, -3), 1))
    w.o8 = _file(w, at(w.m2, 9), community=w.B)
    w.period = Period(w.m1, w.m2)
    for name in ("o1", "o2", "o3", "o4"):
        getattr(w, name).refresh_from_db()
    return w


def by_key(rows: list[reports.Row]) -> dict[str, reports.Row]:
    return {r.key: r for r in rows}


def test_community_figures_by_hand(w: SimpleNamespace) -> None:
    data = reports.community_stats(actor_for(w.staff_a), w.A, w.period)
    t = data.total
    assert (t.received, t.completed, t.completion_rate) == (4, 3, 75.0)
    assert (t.rated, t.satisfied, t.satisfaction_rate) == (2, 1, 50.0)
    assert (t.mean_hours_to_close, t.p90_hours_to_close, t.overdue) == (48.0, 72.0, 1)

    months = by_key(data.by_month)
    assert list(months) == [w.m1.strftime("%Y-%m"), w.m2.strftime("%Y-%m")]
    m1, m2 = months[w.m1.strftime("%Y-%m")].figures, months[w.m2.strftime("%Y-%m")].figures
    assert (m1.received, m1.completed, m1.completion_rate, m1.satisfaction_rate, m1.overdue) == (2, 2, 100.0, 50.0, 0)
    assert (m1.mean_hours_to_close, m1.p90_hours_to_close) == (48.0, 72.0)
    assert (m2.received, m2.completed, m2.completion_rate, m2.satisfaction_rate, m2.overdue) == (2, 1, 50.0, None, 1)
    assert m2.mean_hours_to_close is None

    grids = by_key(data.by_grid)
    a1, a2 = grids[str(w.A1.pk)].figures, grids[str(w.A2.pk)].figures
    assert (a1.received, a1.completed, a1.overdue) == (2, 2, 0) and grids[str(w.A1.pk)].label == "第一网格"
    assert (a2.received, a2.completed, a2.overdue) == (2, 1, 1)

    cats = by_key(data.by_category)
    noise, repair = cats[str(w.noise.pk)].figures, cats[str(w.repair.pk)].figures
    assert (noise.received, noise.completed, noise.satisfaction_rate) == (2, 1, 100.0)
    assert (repair.received, repair.completed, repair.satisfaction_rate) == (2, 2, 0.0)
    assert len(data.by_category) == 2  # categories without requests are left out

    colours = {k: r.figures.received for k, r in by_key(data.by_severity).items()}
    assert colours == {"yellow": 1, "blue": 1, "red": 1, "": 1}
    channels = {k: r.figures.received for k, r in by_key(data.by_channel).items()}
    assert channels == {"qr": 1, "hotline": 3}


def test_period_and_scope(w: SimpleNamespace) -> None:
    # the month before m1 holds o7 only
    earlier = reports.community_stats(actor_for(w.staff_a), w.A, Period(add_months(w.m1, -3), add_months(w.m1, -3)))
    assert earlier.total.received == 1
    # a grid chief sees their grid's requests only
    chief = reports.community_stats(actor_for(w.grid_chief_a1), w.A, w.period)
    assert chief.total.received == 2 and {r.key for r in chief.by_grid} == {str(w.A1.pk)}
    # a grid worker (no order.stats) sees nothing
    assert reports.community_stats(actor_for(w.grid_worker_a1), w.A, w.period).total.received == 0


def test_street_figures_side_by_side(w: SimpleNamespace) -> None:
    data = reports.street_stats(actor_for(w.street_admin), w.S, w.period)
    rows = by_key(data.by_community)
    assert list(rows) == [str(w.A.pk), str(w.B.pk)]  # C lies in another street
    assert rows[str(w.A.pk)].figures.received == 4 and rows[str(w.B.pk)].figures.received == 1
    assert data.total.received == 5 and data.total.completed == 3
    # scoped: community staff would see only their own community (the page itself is for the street admin)
    assert reports.street_stats(actor_for(w.staff_a), w.S, w.period).total.received == 4  # their own only


def test_stats_page(w: SimpleNamespace) -> None:
    client = client_for(w.staff_a)
    query = f"community={w.A.pk}&since={w.m1:%Y-%m}&until={w.m2:%Y-%m}"
    page = client.get(f"/orders/stats/?{query}")
    assert page.status_code == 200
    text = page.content.decode()
    with override("zh-hans"):
        headline = gettext("%(received)s requests taken, %(completed)s completed.") % {"received": 4, "completed": 3}
    assert headline in text and headline.startswith("已接收 4 条")
    assert "75%" in text and "50%" in text and "第二网格" in text
    bad = client.get(f"/orders/stats/?community={w.A.pk}&since={w.m2:%Y-%m}&until={w.m1:%Y-%m}")
    assert bad.status_code == 400
    assert client.get(f"/orders/stats/?community={w.A.pk}&since=2026-13").status_code == 400
    street = client_for(w.street_admin).get(f"/orders/stats/street/?street={w.S.pk}&since={w.m1:%Y-%m}")
    assert street.status_code == 200 and w.A.name in street.content.decode() and w.B.name in street.content.decode()


def _sheet(response: Any) -> list[tuple[Any, ...]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    with translation.override("zh-hans"):  # the page's language; headers are whatever the catalogue says
        assert list(rows[0]) == export.headers()
    return rows


def _by_number(rows: list[tuple[Any, ...]]) -> dict[str, dict[str, Any]]:
    """Each order's cells by the English name of the column (headers() in the order written)."""
    with translation.override("en"):
        names = export.headers()
    return {r[0]: dict(zip(names, r, strict=True)) for r in rows[1:]}


def test_export_has_the_timestamps_in_local_time(w: SimpleNamespace) -> None:
    body = _by_number(_sheet(client_for(w.staff_a).get(f"/orders/export.xlsx?community={w.A.pk}")))
    assert len(body) == 7  # every order of A, merged and cancelled too
    o1 = body[w.o1.number]
    assert o1["Received"] == w.o1.received_at.astimezone(tz()).replace(tzinfo=None) == at(w.m1, 3).replace(tzinfo=None)
    assert o1["Closed"] == at(w.m1, 4).replace(tzinfo=None)
    assert o1["Accepted"] is not None and o1["Dispatched"] is not None and o1["Resolved"] is not None
    assert o1["Accepted"] <= o1["Dispatched"] <= o1["Resolved"]
    assert o1["Answer due"] == w.o1.due_at.astimezone(tz()).replace(tzinfo=None)
    assert o1["Rating"] == 5 and "兴庆物业公司" in o1["Handlers"] and o1["Category"] == "噪音扰民"
    with translation.override("zh-hans"):
        yes = gettext("yes")
    assert body[w.o4.number]["Overdue"] == yes and not o1["Overdue"]
    assert body[w.o4.number]["Contact phone"] == "13912345678" and body[w.o4.number]["Reporter"] == "张先生"


def test_export_filters_and_masks_for_the_auditor(w: SimpleNamespace) -> None:
    body = _by_number(_sheet(client_for(w.auditor_a).get(f"/orders/export.xlsx?community={w.A.pk}&overdue=on")))
    assert list(body) == [w.o7.number, w.o4.number]  # open past the deadline, by time received
    assert body[w.o4.number]["Contact phone"] == "139****5678" and body[w.o4.number]["Reporter"] == "张*生"
    bad = client_for(w.staff_a).get(f"/orders/export.xlsx?community={w.A.pk}&since=yesterday")
    assert bad.status_code == 400


def test_catalogue_pages(w: SimpleNamespace) -> None:
    client = client_for(w.staff_a)
    page = client.get(f"/orders/categories/?community={w.A.pk}")
    assert page.status_code == 200 and "噪音扰民" in page.content.decode()
    data = {
        "name": "楼道照明",
        "code": "stair-light",
        "group": "property",
        "handler": "property",
        "deadline_days": "5",
        "day_kind": "working",
        "red_days": "1",
        "is_active": "on",
    }
    assert client.post(f"/orders/categories/new/?community={w.A.pk}", data).status_code == 302
    made = Category.objects.get(community=w.A, code="stair-light")
    assert (made.deadline_days, made.day_kind, made.severity_days) == (5, "working", {"red": 1})
    # a code already used: the service's refusal shows on the form, nothing changes
    again = client.post(f"/orders/categories/new/?community={w.A.pk}", {**data, "name": "别的"})
    assert again.status_code == 400 and Category.objects.filter(code="stair-light").count() == 1
    edit = client.post(f"/orders/categories/{made.pk}/", {**data, "name": "楼道灯", "deadline_days": "7"})
    assert edit.status_code == 302
    made.refresh_from_db()
    assert (made.name, made.deadline_days) == ("楼道灯", 7)
    assert client_for(w.staff_b).get(f"/orders/categories/{made.pk}/").status_code == 404
    # installing the defaults again adds nothing
    before = Category.objects.filter(community=w.A).count()
    client.post("/orders/categories/install/", {"community": w.A.pk})
    assert Category.objects.filter(community=w.A).count() == before


def test_holiday_pages(w: SimpleNamespace) -> None:
    admin = client_for(w.street_admin)
    assert admin.post(f"/orders/holidays/?street={w.S.pk}", {"day": "2026-10-01", "name": "国庆节"}).status_code == 302
    data = {"day": "2026-10-11", "name": "国庆调休", "is_workday": "on"}
    assert admin.post(f"/orders/holidays/?street={w.S.pk}", data).status_code == 302
    assert Holiday.objects.get(day="2026-10-11").is_workday
    assert admin.post(f"/orders/holidays/?street={w.S.pk}", {"day": "", "name": "x"}).status_code == 400
    # staff of the street's communities read it, cannot change it (the service asks for the street)
    staff = client_for(w.staff_a).get("/orders/holidays/")
    assert (
        staff.status_code == 200 and "国庆节" in staff.content.decode() and 'name="day"' not in staff.content.decode()
    )
    assert client_for(w.staff_a).post("/orders/holidays/", {"day": "2026-10-02", "name": "x"}).status_code == 403
    assert client_for(w.staff_c).get("/orders/holidays/").content.decode().count("国庆节") == 0  # street T
    holiday = Holiday.objects.get(day="2026-10-01")
    assert client_for(w.staff_a).post(f"/orders/holidays/{holiday.pk}/remove/").status_code == 404
    assert admin.post(f"/orders/holidays/{holiday.pk}/remove/").status_code == 302
    assert not Holiday.objects.filter(day="2026-10-01").exists()


def test_import_page(w: SimpleNamespace) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(w.staff_a)
    upload = SimpleUploadedFile("gd.xlsx", xlsx(GOOD))
    checked = client.post("/orders/import/", {"community": w.A.pk, "file": upload, "check": "1"})
    assert checked.status_code == 200 and 'data-testid="filed">3' in checked.content.decode()
    assert not WorkOrder.objects.filter(channel="12345").exists()
    upload = SimpleUploadedFile("gd.xlsx", xlsx(GOOD))
    done = client.post("/orders/import/", {"community": w.A.pk, "file": upload})
    assert done.status_code == 200 and WorkOrder.objects.filter(channel="12345").count() == 3
    bad = SimpleUploadedFile("bad.xlsx", xlsx([["GD1", "明天", "噪音扰民", "吵", "", "", ""]]))
    refused = client.post("/orders/import/", {"community": w.A.pk, "file": bad})
    assert refused.status_code == 400 and "来电时间" in refused.content.decode()
    assert client.post("/orders/import/", {"community": w.A.pk}).status_code == 400
    example = client.get(f"/orders/import/example.xlsx?community={w.A.pk}")
    assert load_workbook(io.BytesIO(example.content)).worksheets[0]["A1"].value == "工单编号"
