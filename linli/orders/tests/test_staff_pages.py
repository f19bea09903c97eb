"""The staff pages of the work orders: the dispatch board, an order's triage page and each of its actions, intake by
hotline / walk-in / chat / patrol, and the street office's escalations. Per role: who reaches what, what they see,
and that a refused step changes nothing."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from linli.common.testing import client_for, make_world
from linli.orders import services
from linli.orders.models import Action, Assignment, OrderEvent, OrderPhoto, Status, WorkOrder
from linli.orders.services import AssigneeInput
from linli.orders.testing import file_order, make_orders
from linli.org.access import actor_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def w() -> SimpleNamespace:
    return make_orders(make_world())


def jpeg(name: str = "p.jpg") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def board_url(w: SimpleNamespace, **params: Any) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"community": w.A.pk, **params}.items())
    return f"{reverse('orders:board')}?{query}"


def act(client: Client, order: WorkOrder, action: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(reverse("orders:act", args=[order.pk, action]), data or {})


def fresh(order: WorkOrder) -> WorkOrder:
    return WorkOrder.objects.get(pk=order.pk)


def dispatched(w: SimpleNamespace, order: WorkOrder) -> WorkOrder:
    staff = actor_for(w.staff_a)
    services.order_accept(actor=staff, order=order)
    return services.order_dispatch(
        actor=staff, order=order, assignees=[AssigneeInput(handler="property", unit_id=w.propertyA.pk)]
    )


def resolved(w: SimpleNamespace, order: WorkOrder) -> WorkOrder:
    order = dispatched(w, order)
    return services.order_resolve(actor=actor_for(w.staff_a), order=order, answer="道闸加了缓冲垫")


# --- the board ------------------------------------------------------------------------------------------------------
def test_board_lists_orders_with_colour_words_status_counts_and_overdue(w: SimpleNamespace) -> None:
    late = file_order(w, description="楼道灯坏了一个月")
    WorkOrder.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(days=3, hours=1))
    graded = file_order(w, description="夜里道闸抬杆声太大")
    services.order_grade(actor=actor_for(w.staff_a), order=graded, severity="yellow")
    page = client_for(w.staff_a).get(board_url(w))
    assert page.status_code == 200
    html = page.content.decode()
    assert late.number in html and graded.number in html
    assert "未定级" in html or "not graded" in html  # the ungraded one says so in words
    assert "order-sev-yellow" in html
    assert "order-due-overdue" in html
    rows = page.context["rows"]
    assert rows[0].order.pk == late.pk  # the most urgent first
    assert rows[0].due_state == "overdue" and "3" in rows[0].due and rows[0].due in html
    assert rows[1].due == ""  # 15 days left: nothing to say
    counts = {s: n for s, _label, n in page.context["counts"]}
    assert counts["received"] == 2 and page.context["open_count"] == 2


def test_board_filters(w: SimpleNamespace) -> None:
    a = file_order(w, description="噪音")
    b = file_order(w, category="property-repair", description="漏水")
    services.order_grade(actor=actor_for(w.staff_a), order=b, severity="red")
    staff = client_for(w.staff_a)

    def numbers(**params: Any) -> set[str]:
        return {r.order.number for r in staff.get(board_url(w, **params)).context["rows"]}

    assert numbers(severity="none") == {a.number}
    assert numbers(severity="red") == {b.number}
    assert numbers(category=w.repair.pk) == {b.number}
    assert numbers(q="漏水") == {b.number}
    assert numbers(status="done") == set()
    assert numbers(status="open") == {a.number, b.number}
    assert numbers(unassigned="on") == {a.number, b.number}
    assert numbers(overdue="on") == set()
    dispatched(w, a)
    assert numbers(unassigned="on") == {b.number}
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert numbers(since=tomorrow) == set()


def test_board_bad_filters_are_errors_on_the_form_never_a_500(w: SimpleNamespace) -> None:
    file_order(w)
    page = client_for(w.staff_a).get(board_url(w, status="bogus", category="x", since="2026-13-45"))
    assert page.status_code == 200
    form = page.context["filter_form"]
    assert {"status", "category", "since"} <= set(form.errors)
    assert len(page.context["rows"]) == 1  # an invalid filter filters nothing


def test_board_is_scoped(w: SimpleNamespace) -> None:
    in_a1 = file_order(w)
    assert client_for(w.grid_worker_a2).get(board_url(w)).context["rows"] == []
    assert [r.order for r in client_for(w.grid_worker_a1).get(board_url(w)).context["rows"]] == [in_a1]
    assert client_for(w.staff_b).get(board_url(w)).status_code == 404
    assert client_for(w.resident_a1).get(board_url(w)).status_code == 403
    assert client_for(w.merchant_op_a).get(board_url(w)).status_code == 403


# --- one order ------------------------------------------------------------------------------------------------------
def test_detail_shows_everything_to_staff_and_masks_the_phone_for_the_auditor(w: SimpleNamespace) -> None:
    order = file_order(w)
    services.order_note(actor=actor_for(w.staff_a), order=order, note="内部：物业经理电话已要到", public=False)
    staff = client_for(w.staff_a).get(reverse("orders:detail", args=[order.pk]))
    html = staff.content.decode()
    assert staff.status_code == 200
    assert "13800000001" in html and "王秀英" in html
    assert "内部：物业经理电话已要到" in html
    names = [name for name, _act, _form in staff.context["acts"]]
    assert names[:2] == ["accept", "grade"] and "resolve" not in names  # only steps that may follow now
    audit = client_for(w.auditor_a).get(reverse("orders:detail", args=[order.pk]))
    html = audit.content.decode()
    assert "13800000001" not in html and "138****0001" in html
    assert audit.context["acts"] == []  # reads only
    worker = client_for(w.grid_worker_a1).get(reverse("orders:detail", args=[order.pk]))
    assert [n for n, _a, _f in worker.context["acts"]] == ["note", "escalate"]


def test_detail_refuses_outsiders_and_sends_residents_to_their_own_page(w: SimpleNamespace) -> None:
    order = file_order(w)
    url = reverse("orders:detail", args=[order.pk])
    assert client_for(w.staff_b).get(url).status_code == 404
    assert client_for(w.grid_worker_a2).get(url).status_code == 404
    assert client_for(w.resident_a1).get(url).status_code == 403
    assert client_for(w.staff_a).get(reverse("orders:detail", args=[99999])).status_code == 404


def test_the_whole_chain_through_the_page(w: SimpleNamespace) -> None:
    order = file_order(w)
    staff = client_for(w.staff_a)
    assert act(staff, order, "accept").status_code == 302
    assert fresh(order).status == Status.ACCEPTED
    r = act(staff, order, "grade", {"severity": "yellow", "scale": 2, "difficulty": 2, "impact": 1})
    assert r.status_code == 302
    o = fresh(order)
    assert o.severity == "yellow" and o.factors == {"scale": 2, "difficulty": 2, "impact": 1, "suggested": "yellow"}
    r = act(
        staff,
        order,
        "dispatch",
        {
            "assignees": [f"unit:{w.propertyA.pk}", f"user:{w.grid_worker_a1.pk}"],
            "lead": f"unit:{w.propertyA.pk}",
            "handler": "auto",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    active = {(a.kind, a.handler, a.is_lead) for a in Assignment.objects.filter(order=order, active=True)}
    assert active == {("unit", "property", True), ("user", "grid_worker", False)}
    assert fresh(order).status == Status.DISPATCHED
    # the grid worker, now a joint handler, starts, notes with a photo and resolves
    worker = client_for(w.grid_worker_a1)
    assert act(worker, order, "start").status_code == 302
    r = worker.post(
        reverse("orders:act", args=[order.pk, "note"]), {"note": "已到现场", "public": "on", "photos": [jpeg()]}
    )
    assert r.status_code == 302
    assert OrderPhoto.objects.filter(order=order).count() == 1
    assert OrderEvent.objects.get(order=order, action=Action.NOTE).is_public
    r = worker.post(reverse("orders:act", args=[order.pk, "resolve"]), {"answer": "道闸加装缓冲垫，夜间静音"})
    assert r.status_code == 302
    assert fresh(order).status == Status.RESOLVED and fresh(order).answer == "道闸加装缓冲垫，夜间静音"
    # staff record the rating the resident gave on the return call
    assert act(staff, order, "rate", {"rating": 5, "comment": "很满意"}).status_code == 302
    o = fresh(order)
    assert o.status == Status.CLOSED and o.rating == 5
    assert OrderEvent.objects.get(order=order, action=Action.RATE).data["by_phone"] is True
    page = staff.get(reverse("orders:detail", args=[order.pk]))
    assert "道闸加装缓冲垫" in page.content.decode()
    assert [n for n, _a, _f in page.context["acts"]][:2] == ["note", "reopen"]


def test_redispatch_replaces_the_handlers(w: SimpleNamespace) -> None:
    order = dispatched(w, file_order(w))
    r = act(
        client_for(w.staff_a),
        order,
        "dispatch",
        {"assignees": [f"team:{w.teamA.pk}"], "replace": "on", "handler": "auto"},
    )
    assert r.status_code == 302
    active = list(Assignment.objects.filter(order=order, active=True))
    assert [(a.team_id, a.handler, a.is_lead) for a in active] == [(w.teamA.pk, "team", True)]
    assert OrderEvent.objects.filter(order=order, action=Action.REDISPATCH).exists()


def test_hold_resume_escalate_reopen_close(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    order = dispatched(w, file_order(w))
    assert act(staff, order, "hold", {"reason": "等配件"}).status_code == 302
    assert fresh(order).status == Status.ON_HOLD
    assert act(staff, order, "resume").status_code == 302
    assert fresh(order).status == Status.DISPATCHED
    assert act(staff, order, "escalate", {"reason": "物业不配合"}).status_code == 302
    assert fresh(order).escalated_at is not None
    services.order_resolve(actor=actor_for(w.staff_a), order=order, answer="已修好")
    assert act(staff, order, "close", {"note": "回访无人接听"}).status_code == 302
    assert fresh(order).status == Status.CLOSED
    assert act(staff, order, "reopen", {"reason": "居民说又响了"}).status_code == 302
    assert fresh(order).status == Status.REOPENED


def test_merge_and_cancel(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    first, again = file_order(w), file_order(w, description="还是道闸的声音")
    assert act(staff, again, "merge", {"into": first.number}).status_code == 302
    assert fresh(again).status == Status.MERGED and fresh(again).merged_into_id == first.pk
    third = file_order(w, description="不是本社区的事")
    assert act(staff, third, "cancel", {"reason": "属于隔壁社区"}).status_code == 302
    assert fresh(third).status == Status.CANCELLED


def test_credit_a_volunteer(w: SimpleNamespace) -> None:
    from linli.points.models import Claim
    from linli.points.testing import make_catalogue

    make_catalogue(w)
    order = resolved(w, file_order(w))
    r = act(client_for(w.staff_a), order, "credit", {"person": "13800000002", "rule": w.mediation.pk, "minutes": ""})
    assert r.status_code == 302, r.content.decode()[:3000]
    claim = Claim.objects.get(person=w.pA2)
    assert claim.ref_type == "work_order" and claim.ref_id == order.pk
    assert OrderEvent.objects.filter(order=order, action=Action.CREDIT).exists()
    # an unknown person is an inline error, nothing credited twice or to nobody
    r = act(client_for(w.staff_a), order, "credit", {"person": "不存在的人", "rule": w.mediation.pk})
    assert r.status_code == 404
    assert {n: f for n, _a, f in r.context["acts"]}["credit"].errors["person"]
    assert Claim.objects.count() == 1


# --- refusals: inline, nothing changed --------------------------------------------------------------------------
def test_a_skipped_step_is_an_inline_error_and_changes_nothing(w: SimpleNamespace) -> None:
    order = file_order(w)
    r = act(client_for(w.staff_a), order, "resolve", {"answer": "好了"})
    assert r.status_code == 409
    assert r.context["open_form"] == "resolve"
    form = {n: f for n, _a, f in r.context["acts"]}["resolve"]
    assert form.non_field_errors()
    o = fresh(order)
    assert o.status == Status.RECEIVED and o.answer == "" and o.resolved_at is None
    assert not OrderEvent.objects.filter(order=order, action=Action.RESOLVE).exists()


@pytest.mark.parametrize(
    ("action", "data", "field"),
    [
        ("grade", {"severity": "purple"}, "severity"),
        ("hold", {"reason": ""}, "reason"),
        ("escalate", {"reason": "  "}, "reason"),
        ("dispatch", {"assignees": ["unit:999999"]}, "assignees"),
        ("merge", {"into": "2099-9999"}, "into"),
        ("note", {"note": ""}, "note"),
    ],
)
def test_bad_input_is_an_inline_error(w: SimpleNamespace, action: str, data: dict[str, Any], field: str) -> None:
    order = file_order(w)
    services.order_accept(actor=actor_for(w.staff_a), order=order)
    before = OrderEvent.objects.filter(order=order).count()
    r = act(client_for(w.staff_a), order, action, data)
    assert r.status_code in {400, 404}
    form = {n: f for n, _a, f in r.context["acts"]}[action]
    assert form.errors.get(field) or form.non_field_errors(), form.errors
    assert OrderEvent.objects.filter(order=order).count() == before
    assert fresh(order).status == Status.ACCEPTED


def test_dispatch_lead_must_be_chosen(w: SimpleNamespace) -> None:
    order = file_order(w)
    services.order_accept(actor=actor_for(w.staff_a), order=order)
    r = act(
        client_for(w.staff_a),
        order,
        "dispatch",
        {"assignees": [f"unit:{w.propertyA.pk}"], "lead": f"team:{w.teamA.pk}", "handler": "auto"},
    )
    assert r.status_code == 400
    assert not Assignment.objects.filter(order=order).exists()


def test_actions_beyond_the_role_are_refused(w: SimpleNamespace) -> None:
    order = file_order(w)
    assert act(client_for(w.grid_worker_a1), order, "accept").status_code == 403
    assert act(client_for(w.auditor_a), order, "note", {"note": "x"}).status_code == 403
    assert act(client_for(w.staff_b), order, "accept").status_code == 404
    assert act(client_for(w.staff_a), order, "explode").status_code == 404
    assert fresh(order).status == Status.RECEIVED


# --- intake ---------------------------------------------------------------------------------------------------------
def intake_data(w: SimpleNamespace, **extra: Any) -> dict[str, Any]:
    return {
        "community": w.A.pk,
        "idempotency_key": "k-1",
        "channel": "hotline",
        "category": "property-repair",
        "description": "2号楼电梯困人",
        "building": w.bA2.pk,
        "contact_name": "张先生",
        "contact_phone": "13912345678",
        **extra,
    }


def test_intake_by_hotline_files_once(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    url = reverse("orders:intake")
    assert staff.get(f"{url}?community={w.A.pk}").status_code == 200
    r = staff.post(url, intake_data(w))
    order = WorkOrder.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("orders:detail", args=[order.pk])
    assert order.channel == "hotline" and order.grid_id == w.A2.pk and order.contact_phone == "13912345678"
    assert order.created_by_id == w.staff_a.pk
    staff.post(url, intake_data(w))  # the double tap
    assert WorkOrder.objects.count() == 1


def test_intake_for_a_resident_picked_by_phone(w: SimpleNamespace) -> None:
    r = client_for(w.staff_a).post(
        reverse("orders:intake"), intake_data(w, reporter="13800000002", contact_name="", contact_phone="")
    )
    assert r.status_code == 302
    assert WorkOrder.objects.get().reporter_id == w.pA2.pk


def test_patrol_with_photos_by_a_grid_worker(w: SimpleNamespace) -> None:
    r = client_for(w.grid_worker_a1).post(
        reverse("orders:intake"),
        intake_data(
            w, channel="patrol", category="environment", building=w.bA1.pk, photos=[jpeg("a.jpg"), jpeg("b.jpg")]
        ),
    )
    assert r.status_code == 302
    order = WorkOrder.objects.get()
    assert order.channel == "patrol" and OrderPhoto.objects.filter(order=order).count() == 2


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"building": "", "grid": "", "address": ""}, None),  # nowhere
        ({"category": "no-such"}, "category"),
        ({"description": ""}, "description"),
        ({"lat": "91"}, "lat"),
        ({"reporter": "不存在"}, "reporter"),
        ({"channel": "open311"}, "channel"),
    ],
)
def test_intake_bad_input_files_nothing(w: SimpleNamespace, extra: dict[str, Any], field: str | None) -> None:
    r = client_for(w.staff_a).post(reverse("orders:intake"), intake_data(w, **extra))
    assert r.status_code == 400
    form = r.context["form"]
    assert form.errors.get(field) if field else form.non_field_errors(), form.errors
    assert not WorkOrder.objects.exists()


def test_intake_of_a_building_in_another_community_is_refused(w: SimpleNamespace) -> None:
    r = client_for(w.staff_a).post(reverse("orders:intake"), intake_data(w, building=w.bB1.pk))
    assert r.status_code == 400
    assert not WorkOrder.objects.exists()


def test_intake_is_for_workers(w: SimpleNamespace) -> None:
    url = f"{reverse('orders:intake')}?community={w.A.pk}"
    assert client_for(w.resident_a1).get(url).status_code == 403
    assert client_for(w.auditor_a).get(url).status_code == 403
    assert client_for(w.staff_b).get(url).status_code == 404


# --- escalations ----------------------------------------------------------------------------------------------------
def test_escalations_for_the_street_and_for_staff(w: SimpleNamespace) -> None:
    escalated = file_order(w)
    services.order_escalate(actor=actor_for(w.staff_a), order=escalated, reason="需要街道协调")
    late_b = services.order_create(
        actor=actor_for(w.staff_b),
        community=w.B,
        data=services.OrderInput(category="property-noise", description="府西噪音", building_id=w.bB1.pk),
        channel="hotline",
    ).order
    WorkOrder.objects.filter(pk=late_b.pk).update(due_at=timezone.now() - timedelta(days=1))
    calm = file_order(w, description="不急")
    url = reverse("orders:escalations")
    street = client_for(w.street_admin).get(url)
    assert street.status_code == 200
    assert {r.order.pk for r in street.context["rows"]} == {escalated.pk, late_b.pk}
    assert "府西社区" in street.content.decode()  # the community column
    assert calm.number not in street.content.decode() or calm.number == escalated.number
    assert {r.order.pk for r in client_for(w.staff_a).get(url).context["rows"]} == {escalated.pk}
    assert client_for(w.grid_chief_a1).get(url).status_code == 403
    assert client_for(w.auditor_a).get(url).status_code == 403
    assert client_for(w.resident_a1).get(url).status_code == 403


def test_the_task_list_leads_a_grid_worker_to_a_patrol_report(w: SimpleNamespace) -> None:
    client = client_for(w.grid_worker_a1)
    tasks = client.get(reverse("orders:tasks")).content.decode()
    assert f"{reverse('orders:intake')}?channel=patrol" in tasks
    form = client.get(reverse("orders:intake") + "?channel=patrol").content.decode()
    checked = re.findall(r'<input type="radio" name="channel" value="(\w+)"[^>]*\bchecked\b', form)
    assert checked == ["patrol"]


def test_staff_keep_a_request_off_the_echo_wall(w: SimpleNamespace) -> None:
    order = resolved(w, file_order(w, description="家里的私事，请不要公开"))
    wall = reverse("orders:echo_wall", args=[w.A.code])
    assert "家里的私事" in Client().get(wall).content.decode()
    assert act(client_for(w.staff_a), order, "publish", {"note": "涉及家庭隐私"}).status_code == 302  # box unticked
    assert fresh(order).on_echo_wall is False
    assert "家里的私事" not in Client().get(wall).content.decode()
    assert fresh(order).events.filter(action="publish", is_public=False).count() == 1
    # a handler cannot decide it, and the resident's timeline never shows it
    assert act(client_for(w.steward_a1), order, "publish", {"shown": "on"}).status_code == 403
    assert fresh(order).on_echo_wall is False
    assert act(client_for(w.staff_a), order, "publish", {"shown": "on"}).status_code == 302
    assert fresh(order).on_echo_wall is True
