"""The work-order API: the SEEDS 004 story over JSON, retries that act once, multipart photos, what each reader sees
(masked data, internal notes and their photos), the board's filters, the figures, and bad input answered with stable
codes (never a 500, nothing half-written)."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from linli.common.testing import client_for
from linli.orders import services
from linli.orders.models import Action, OrderEvent, OrderPhoto, Status, WorkOrder
from linli.orders.services import AssigneeInput, OrderInput
from linli.orders.testing import file_order, make_orders
from linli.org.access import actor_for
from linli.points.models import Claim
from linli.points.testing import make_catalogue

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    return make_orders(world)


_keys = iter(range(10**6))


def call(client: Client, method: str, path: str, body: Any = None, key: str | None = "auto") -> Any:
    """One API call; writes get a fresh Idempotency-Key unless the test names one (None: no header at all)."""
    headers = {}
    if method != "GET" and key is not None:
        headers["Idempotency-Key"] = f"k{next(_keys)}" if key == "auto" else key
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None:
        kwargs["data"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
        kwargs["content_type"] = "application/json"
    response = getattr(client, method.lower())(API + path, **kwargs)
    assert response.status_code < 500, response.content
    return response


def code(response: Any) -> tuple[int, str]:
    return response.status_code, response.json().get("code", "")


def jpeg_bytes(color: str = "blue") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (50, 40), color).save(out, "JPEG")
    return out.getvalue()


def upload(name: str, data: bytes) -> io.BytesIO:
    f = io.BytesIO(data)
    f.name = name
    return f


def noise_body(w: SimpleNamespace, **extra: Any) -> dict[str, Any]:
    return {
        "category": "property-noise",
        "description": "夜里停车道闸抬杆声音太大，影响休息",
        "building_id": w.bA1.pk,
    } | extra


def file_in_a2(w: SimpleNamespace) -> WorkOrder:
    """Staff file a hotline request about grid A2 (no building)."""
    data = OrderInput(category="property-noise", description="二网格路灯不亮", grid_id=w.A2.pk)
    return services.order_create(actor=actor_for(w.staff_a), community=w.A, data=data, channel="hotline").order


def to_resolved(w: SimpleNamespace, order: WorkOrder) -> WorkOrder:
    staff = actor_for(w.staff_a)
    services.order_accept(actor=staff, order=order)
    services.order_dispatch(
        actor=staff, order=order, assignees=[AssigneeInput(handler="property", unit_id=w.propertyA.pk)]
    )
    services.order_start(actor=staff, order=order)
    return services.order_resolve(actor=staff, order=order, answer="道闸加装缓冲垫，夜间改为静音模式")


# --- the story ------------------------------------------------------------------------------------------------------


def test_seeds_004_story_over_the_api(w: SimpleNamespace) -> None:
    """A resident scans the building QR and reports night noise from the parking barrier; staff grade it yellow and
    dispatch it to the property company; it is resolved; the resident rates 5; the figures show it."""
    resident, staff = client_for(w.resident_a1), client_for(w.staff_a)
    categories = call(resident, "GET", f"/order-categories?community={w.A.pk}").json()
    assert "property-noise" in {c["code"] for c in categories}

    made = call(resident, "POST", "/orders", noise_body(w, channel="qr"), key="story-1")
    assert made.status_code == 201, made.content
    body = made.json()
    order_id = body["id"]
    assert (body["status"], body["channel"], body["reporter_id"], body["grid_id"]) == (
        "received",
        "qr",
        w.pA1.pk,
        w.A1.pk,
    )
    assert body["reporter_name"] == "王秀英"  # the resident reads their own name in full
    assert body["actions"] == ["escalate", "cancel"] or "cancel" in body["actions"]
    assert "accept" not in body["actions"]

    board = call(staff, "GET", f"/orders?community={w.A.pk}&status=received").json()
    assert [o["id"] for o in board["items"]] == [order_id]
    assert "accept" in call(staff, "GET", f"/orders/{order_id}").json()["actions"]

    assert call(staff, "POST", f"/orders/{order_id}/accept", {}).json()["status"] == "accepted"
    graded = call(
        staff,
        "POST",
        f"/orders/{order_id}/grade",
        {"severity": "yellow", "factors": {"scale": 2, "difficulty": 2, "impact": 1}, "note": "影响整栋楼"},
    ).json()
    assert graded["severity"] == "yellow" and graded["factors"]["suggested"]
    dispatched = call(
        staff,
        "POST",
        f"/orders/{order_id}/dispatch",
        {"assignees": [{"handler": "property", "unit_id": w.propertyA.pk}]},
    ).json()
    assert dispatched["status"] == "dispatched"
    assert [(a["unit_id"], a["is_lead"], a["name"]) for a in dispatched["assignments"]] == [
        (w.propertyA.pk, True, "兴庆物业公司")
    ]
    assert call(staff, "POST", f"/orders/{order_id}/start", {}).json()["status"] == "in_progress"
    resolved = call(staff, "POST", f"/orders/{order_id}/resolve", {"answer": "道闸加装缓冲垫，夜间改为静音模式"})
    assert resolved.json()["status"] == "resolved"

    mine = call(resident, "GET", "/orders/mine").json()
    assert [o["id"] for o in mine["items"]] == [order_id]
    seen = call(resident, "GET", f"/orders/{order_id}").json()
    assert seen["answer"] == "道闸加装缓冲垫，夜间改为静音模式" and "rate" in seen["actions"]
    # the grading was internal: the resident's timeline does not show it, staff's does
    assert "grade" not in [e["action"] for e in seen["timeline"]]
    assert "grade" in [e["action"] for e in call(staff, "GET", f"/orders/{order_id}").json()["timeline"]]

    rated = call(resident, "POST", f"/orders/{order_id}/rate", {"rating": 5, "comment": "很满意"}).json()
    assert (rated["status"], rated["rating"], rated["feedback"]) == ("closed", 5, "很满意")
    again = call(resident, "POST", f"/orders/{order_id}/rate", {"rating": 4})
    assert code(again) == (409, "already_rated")

    stats = call(staff, "GET", f"/orders/stats?community={w.A.pk}").json()
    assert (stats["received"], stats["completed"], stats["completion_rate"]) == (1, 1, 100.0)
    assert (stats["rated"], stats["satisfied"], stats["satisfaction_rate"]) == (1, 1, 100.0)
    assert stats["by_status"] == {"closed": 1} and stats["by_severity"] == {"yellow": 1}
    assert stats["by_category"] == {"property-noise": 1} and stats["by_channel"] == {"qr": 1}
    assert stats["mean_hours_to_close"] is not None and stats["overdue"] == 0
    actions = list(OrderEvent.objects.filter(order_id=order_id).values_list("action", flat=True))
    assert actions == ["receive", "accept", "grade", "dispatch", "start", "resolve", "rate"]


# --- retries --------------------------------------------------------------------------------------------------------


def test_filing_needs_a_key_and_a_retry_files_once(w: SimpleNamespace) -> None:
    resident = client_for(w.resident_a1)
    assert code(call(resident, "POST", "/orders", noise_body(w), key=None)) == (400, "idempotency_key_required")
    assert code(call(resident, "POST", "/orders", noise_body(w), key="x" * 101)) == (400, "idempotency_key_invalid")
    first = call(resident, "POST", "/orders", noise_body(w), key="same")
    second = call(resident, "POST", "/orders", noise_body(w), key="same")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"] and first.json()["number"] == second.json()["number"]
    other = call(resident, "POST", "/orders", noise_body(w, description="楼道灯坏了"), key="same")
    assert code(other) == (409, "idempotency_key_reused")
    assert WorkOrder.objects.count() == 1
    # keys are kept apart per user: staff's "same" is another request
    staff = call(client_for(w.staff_a), "POST", "/orders", noise_body(w, community_id=w.A.pk), key="same")
    assert staff.status_code == 201 and WorkOrder.objects.count() == 2


def test_a_step_sent_twice_acts_once(w: SimpleNamespace) -> None:
    order = file_order(w)
    staff = client_for(w.staff_a)
    first = call(staff, "POST", f"/orders/{order.pk}/accept", {"note": "受理"}, key="acc")
    again = call(staff, "POST", f"/orders/{order.pk}/accept", {"note": "受理"}, key="acc")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["status"] == "accepted"
    assert OrderEvent.objects.filter(order=order, action=Action.ACCEPT).count() == 1
    # a new request (another key) to accept again is out of turn
    assert code(call(staff, "POST", f"/orders/{order.pk}/accept", {}, key="acc-2")) == (409, "order_status")
    # the same key for another step is refused, and the step is not done
    reused = call(staff, "POST", f"/orders/{order.pk}/hold", {"reason": "等配件"}, key="acc")
    assert code(reused) == (409, "idempotency_key_reused")
    assert WorkOrder.objects.get(pk=order.pk).status == Status.ACCEPTED
    # steps that do not change the status (a note) are not repeated either
    for _ in range(2):
        assert call(staff, "POST", f"/orders/{order.pk}/note", {"note": "已电话联系"}, key="n1").status_code == 200
    assert OrderEvent.objects.filter(order=order, action=Action.NOTE).count() == 1
    assert code(call(staff, "POST", f"/orders/{order.pk}/note", {"note": "x"}, key=None)) == (
        400,
        "idempotency_key_required",
    )
    # the key never shows in the timeline
    timeline = call(staff, "GET", f"/orders/{order.pk}").json()["timeline"]
    assert all("key" not in e["data"] for e in timeline)


def test_replay_key_in_the_service_layer(w: SimpleNamespace) -> None:
    """services.replay_key: the events a step writes carry the key; the same key again raises Replayed, untouched."""
    order = file_order(w)
    staff = actor_for(w.staff_a)
    with services.replay_key("svc-1"):
        services.order_accept(actor=staff, order=order)
    assert OrderEvent.objects.get(order=order, action=Action.ACCEPT).data["key"] == "svc-1"
    with pytest.raises(services.Replayed) as done, services.replay_key("svc-1"):
        services.order_accept(actor=staff, order=order)
    assert done.value.event.action == Action.ACCEPT
    # outside replay_key nothing is tagged and nothing is looked up
    services.order_grade(actor=staff, order=order, severity="blue")
    assert "key" not in OrderEvent.objects.get(order=order, action=Action.GRADE).data


# --- photos ---------------------------------------------------------------------------------------------------------


def test_multipart_filing_with_photos_and_reading_them(w: SimpleNamespace) -> None:
    resident = client_for(w.resident_a1)
    made = resident.post(
        f"{API}/orders",
        data={**noise_body(w), "lat": "34.270000", "long": "108.900000", "photos": [upload("a.jpg", jpeg_bytes())]},
        headers={"Idempotency-Key": "mp-1"},
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["lat"] == "34.270000" and len(body["photos"]) == 1
    photo = body["photos"][0]
    got = resident.get(photo["url"])
    assert got.status_code == 200 and got["Content-Type"] == "image/jpeg" and got.content[:2] == b"\xff\xd8"
    assert Image.open(io.BytesIO(got.content)).size == (50, 40)
    # another community's staff cannot fetch it; an unknown photo id of a visible order is 404 too
    assert call(client_for(w.staff_b), "GET", photo["url"][len(API) :]).status_code == 404
    assert call(resident, "GET", f"/orders/{body['id']}/photos/{photo['id'] + 999}").status_code == 404


def test_fake_or_too_many_photos_refused_and_nothing_filed(w: SimpleNamespace) -> None:
    resident = client_for(w.resident_a1)
    fake = resident.post(
        f"{API}/orders",
        data={**noise_body(w), "photos": [upload("a.jpg", b"not a picture at all")]},
        headers={"Idempotency-Key": "fake"},
    )
    assert code(fake) == (400, "photo_invalid")
    many = resident.post(
        f"{API}/orders",
        data={**noise_body(w), "photos": [upload(f"{i}.jpg", jpeg_bytes()) for i in range(7)]},
        headers={"Idempotency-Key": "many"},
    )
    assert code(many) == (400, "too_many_photos")
    assert WorkOrder.objects.count() == 0 and OrderPhoto.objects.count() == 0


def test_photos_of_internal_notes_stay_internal(w: SimpleNamespace) -> None:
    order = file_order(w)
    staff, resident = client_for(w.staff_a), client_for(w.resident_a1)
    noted = staff.post(
        f"{API}/orders/{order.pk}/note",
        data={"note": "现场照片（内部）", "photos": [upload("n.jpg", jpeg_bytes("red"))]},
        headers={"Idempotency-Key": "note-photo"},
    )
    assert noted.status_code == 200, noted.content
    photo = noted.json()["photos"][0]
    assert noted.json()["timeline"][-1]["photo_ids"] == [photo["id"]]
    assert staff.get(photo["url"]).status_code == 200
    seen = call(resident, "GET", f"/orders/{order.pk}").json()
    assert seen["photos"] == [] and all(e["action"] != "note" for e in seen["timeline"])
    assert resident.get(photo["url"]).status_code == 404
    public = staff.post(
        f"{API}/orders/{order.pk}/note",
        data={"note": "已派人查看", "public": "true", "photos": [upload("p.jpg", jpeg_bytes("green"))]},
        headers={"Idempotency-Key": "note-public"},
    )
    assert public.status_code == 200
    assert len(call(resident, "GET", f"/orders/{order.pk}").json()["photos"]) == 1


# --- who reads what -------------------------------------------------------------------------------------------------


def test_personal_data_masked_for_readers_who_do_not_work_on_it(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    body = noise_body(
        w,
        community_id=w.A.pk,
        channel="hotline",
        contact_name="张三丰",
        contact_phone="13912345678",
        address="1号楼502",
    )
    order_id = call(staff, "POST", "/orders", body).json()["id"]
    full = call(staff, "GET", f"/orders/{order_id}").json()
    assert (full["contact_name"], full["contact_phone"], full["address"]) == ("张三丰", "13912345678", "1号楼502")
    audited = call(client_for(w.auditor_a), "GET", f"/orders/{order_id}").json()
    assert (audited["contact_name"], audited["contact_phone"], audited["address"]) == (
        "张*丰",
        "139****5678",
        "1号楼****",
    )
    listed = call(client_for(w.auditor_a), "GET", f"/orders?community={w.A.pk}").json()["items"]
    assert [o["contact_phone"] for o in listed] == ["139****5678"]
    assert [o["contact_phone"] for o in call(staff, "GET", f"/orders?community={w.A.pk}").json()["items"]] == [
        "13912345678"
    ]


def test_lists_show_each_reader_only_their_orders(w: SimpleNamespace) -> None:
    in_a1 = file_order(w)
    in_a2 = file_in_a2(w)
    ids = {
        name: {o["id"] for o in call(client_for(w.users[name]), "GET", f"/orders?community={w.A.pk}").json()["items"]}
        for name in ("staff_a", "grid_worker_a1", "grid_worker_a2", "steward_a1", "auditor_a", "resident_a1")
    }
    assert ids == {
        "staff_a": {in_a1.pk, in_a2.pk},
        "grid_worker_a1": {in_a1.pk},
        "grid_worker_a2": {in_a2.pk},
        "steward_a1": {in_a1.pk},
        "auditor_a": {in_a1.pk, in_a2.pk},
        "resident_a1": {in_a1.pk},
    }
    assert call(client_for(w.staff_b), "GET", f"/orders?community={w.A.pk}").status_code == 404
    assert code(call(client_for(w.merchant_op_a), "GET", f"/orders?community={w.A.pk}")) == (403, "forbidden")
    assert call(client_for(w.staff_a), "GET", "/orders/mine").json() == {"count": 0, "items": []}


def test_tasks_of_a_handler(w: SimpleNamespace) -> None:
    """An order dispatched to grid worker A2 about a building of grid A1: it is in their tasks and they may work on
    it (start, resolve) though it lies outside their grid."""
    order = file_order(w)
    staff, worker = client_for(w.staff_a), client_for(w.grid_worker_a2)
    assert call(worker, "GET", f"/orders/{order.pk}").status_code == 404
    call(staff, "POST", f"/orders/{order.pk}/accept", {})
    dispatched = call(
        staff,
        "POST",
        f"/orders/{order.pk}/dispatch",
        {"assignees": [{"handler": "grid_worker", "user_id": w.grid_worker_a2.pk}]},
    )
    assert dispatched.status_code == 200, dispatched.content
    tasks = call(worker, "GET", "/orders/tasks").json()
    assert [o["id"] for o in tasks["items"]] == [order.pk]
    assert tasks["items"][0]["reporter_name"] == "王秀英"  # the handler calls the resident back
    assert set(call(worker, "GET", f"/orders/{order.pk}").json()["actions"]) >= {"start", "note"}
    assert call(worker, "POST", f"/orders/{order.pk}/start", {}).json()["status"] == "in_progress"
    assert code(call(worker, "POST", f"/orders/{order.pk}/hold", {"reason": "等"})) == (403, "forbidden")
    assert call(worker, "POST", f"/orders/{order.pk}/resolve", {"answer": "已处理"}).json()["status"] == "resolved"
    assert call(worker, "GET", "/orders/tasks").json()["count"] == 0


def test_board_filters(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    a = file_order(w)
    b = file_order(w, category="property-repair", description="楼道灯坏了")
    services.order_accept(actor=actor_for(w.staff_a), order=b)
    services.order_grade(actor=actor_for(w.staff_a), order=b, severity="red")
    WorkOrder.objects.filter(pk=a.pk).update(due_at=timezone.now() - timedelta(hours=1))

    def ids(query: str) -> list[int]:
        response = call(staff, "GET", f"/orders?community={w.A.pk}&{query}")
        assert response.status_code == 200, response.content
        return [o["id"] for o in response.json()["items"]]

    assert ids("severity=red") == [b.pk]
    assert ids("severity=none") == [a.pk]
    assert ids("status=accepted") == [b.pk]
    assert ids("status=open") == [a.pk, b.pk]  # due first
    assert ids(f"category={w.repair.pk}") == [b.pk]
    assert ids("overdue=true") == [a.pk] and ids("escalated=true") == [a.pk]
    assert ids("unassigned=true") == [a.pk, b.pk]
    assert ids(f"grid={w.A2.pk}") == []
    assert ids("q=楼道灯") == [b.pk]
    assert ids("channel=qr") == [a.pk, b.pk]
    today = timezone.localdate()
    assert ids(f"since={today}&until={today}") == [a.pk, b.pk]
    assert ids(f"since={today + timedelta(days=1)}") == []
    assert ids("limit=1&offset=1") == [b.pk]
    overdue = call(staff, "GET", f"/orders?community={w.A.pk}&overdue=true").json()["items"][0]
    assert overdue["overdue"] is True and overdue["due_soon"] is False
    for bad in ("status=lost", "severity=green", "limit=0", "limit=201", "since=yesterday", "overdue=maybe"):
        assert code(call(staff, "GET", f"/orders?community={w.A.pk}&{bad}")) == (400, "invalid_input"), bad
    assert code(call(staff, "GET", "/orders")) == (400, "invalid_input")


def test_stats_follow_the_readers_scope(w: SimpleNamespace) -> None:
    file_order(w)
    file_in_a2(w)
    cancelled = file_order(w)
    services.order_cancel(actor=actor_for(w.resident_a1), order=cancelled, reason="不用了")

    def stats(user: Any, query: str = "") -> Any:
        return call(client_for(user), "GET", f"/orders/stats?community={w.A.pk}{query}")

    assert stats(w.staff_a).json()["received"] == 2  # cancelled requests do not count
    assert stats(w.staff_a).json()["by_status"] == {"cancelled": 1, "received": 2}
    assert stats(w.grid_chief_a1).json()["received"] == 1  # their grid only
    assert stats(w.auditor_a).json()["received"] == 2
    assert stats(w.staff_a, f"&grid={w.A2.pk}").json()["received"] == 1
    empty = stats(w.staff_a, f"&since={timezone.localdate() + timedelta(days=1)}").json()
    assert (empty["received"], empty["completion_rate"], empty["satisfaction_rate"]) == (0, None, None)
    today = timezone.localdate()
    assert code(stats(w.staff_a, f"&since={today}&until={today - timedelta(days=1)}")) == (400, "date_range")
    assert code(stats(w.grid_worker_a1)) == (403, "forbidden")
    assert stats(w.staff_b).status_code == 404


# --- the other steps ------------------------------------------------------------------------------------------------


def test_hold_resume_escalate_reopen_close_merge_cancel(w: SimpleNamespace) -> None:
    staff, resident = client_for(w.staff_a), client_for(w.resident_a1)
    order = file_order(w)
    call(staff, "POST", f"/orders/{order.pk}/accept", {})
    due = WorkOrder.objects.get(pk=order.pk).due_at
    assert call(staff, "POST", f"/orders/{order.pk}/hold", {"reason": "等配件"}).json()["status"] == "on_hold"
    WorkOrder.objects.filter(pk=order.pk).update(held_at=timezone.now() - timedelta(hours=5))
    resumed = call(staff, "POST", f"/orders/{order.pk}/resume", {}).json()
    assert resumed["status"] == "accepted"
    assert WorkOrder.objects.get(pk=order.pk).due_at >= due + timedelta(hours=5)
    escalated = call(client_for(w.grid_worker_a1), "POST", f"/orders/{order.pk}/escalate", {"reason": "需街道协调"})
    assert escalated.json()["escalated_at"] is not None

    done = to_resolved(w, file_order(w))
    assert call(staff, "POST", f"/orders/{done.pk}/close", {"note": "回访未接"}).json()["status"] == "closed"
    reopened = call(staff, "POST", f"/orders/{done.pk}/reopen", {"reason": "又响了"}).json()
    assert (reopened["status"], reopened["reopen_count"]) == ("reopened", 1)

    duplicate = file_order(w)
    merged = call(staff, "POST", f"/orders/{duplicate.pk}/merge", {"into": order.pk}).json()
    assert (merged["status"], merged["merged_into_id"]) == ("merged", order.pk)
    assert code(call(staff, "POST", f"/orders/{order.pk}/merge", {"into": order.pk})) == (400, "merge_self")

    own = file_order(w)
    assert call(resident, "POST", f"/orders/{own.pk}/cancel", {"reason": "已自行解决"}).json()["status"] == "cancelled"


def test_unsatisfied_rating_reopens(w: SimpleNamespace) -> None:
    order = to_resolved(w, file_order(w))
    rated = call(client_for(w.resident_a1), "POST", f"/orders/{order.pk}/rate", {"rating": 2, "comment": "还是响"})
    assert (rated.json()["status"], rated.json()["reopen_count"]) == ("reopened", 1)


def test_credit_the_volunteer_once(w: SimpleNamespace) -> None:
    make_catalogue(w)
    order = to_resolved(w, file_order(w))
    staff = client_for(w.staff_a)
    body = {"person_id": w.pA2.pk, "rule_id": w.mediation.pk}
    first = call(staff, "POST", f"/orders/{order.pk}/credit", body, key="cr")
    assert first.status_code == 200, first.content
    credit = first.json()
    assert (credit["order_id"], credit["claim_status"], credit["replayed"]) == (order.pk, "verified", False)
    again = call(staff, "POST", f"/orders/{order.pk}/credit", body, key="cr").json()
    assert (again["claim_id"], again["replayed"]) == (credit["claim_id"], True)
    other_key = call(staff, "POST", f"/orders/{order.pk}/credit", body, key="cr-2").json()
    assert (other_key["claim_id"], other_key["replayed"]) == (credit["claim_id"], True)
    assert Claim.objects.filter(ref_type="work_order", ref_id=order.pk).count() == 1
    assert OrderEvent.objects.filter(order=order, action=Action.CREDIT).count() == 1
    assert call(staff, "POST", f"/orders/{order.pk}/credit", body | {"person_id": w.pB1.pk}).status_code == 404
    assert code(call(staff, "POST", f"/orders/{file_order(w).pk}/credit", body)) == (409, "order_status")


# --- bad input ------------------------------------------------------------------------------------------------------


def test_bad_filing_input_answers_with_stable_codes(w: SimpleNamespace) -> None:
    resident, staff = client_for(w.resident_a1), client_for(w.staff_a)
    cases: list[tuple[Any, Any, tuple[int, str]]] = [
        (resident, noise_body(w, category="no-such-thing"), (400, "unknown_category")),
        (resident, noise_body(w, category=w.noiseB.code, community_id=w.B.pk), (404, "not_found")),
        (resident, noise_body(w, building_id=w.bB1.pk), (400, "place_outside")),
        (resident, noise_body(w, grid_id=w.A2.pk), (400, "place_outside")),  # bA1 lies in grid A1
        (resident, noise_body(w, building_id=2**63 - 1), (400, "place_outside")),
        (resident, noise_body(w, building_id=2**63), (400, "invalid_input")),
        (resident, noise_body(w, building_id="one"), (400, "invalid_input")),
        (resident, noise_body(w, description=""), (400, "required")),
        (resident, noise_body(w, description="   "), (400, "required")),
        (resident, noise_body(w, description="x" * 4001), (400, "invalid_input")),
        (resident, noise_body(w, description="噪音\x00"), (400, "invalid_input")),
        (resident, noise_body(w, title="\x00"), (400, "invalid_input")),
        (resident, noise_body(w, lat=91), (400, "invalid_input")),
        (resident, noise_body(w, long="east"), (400, "invalid_input")),
        (resident, noise_body(w, channel="open311"), (400, "invalid_input")),
        (resident, noise_body(w, channel="hotline"), (400, "invalid")),  # a worker's channel
        (resident, noise_body(w, received_at="2026-01-01T08:00:00+08:00"), (400, "received_at_not_allowed")),
        (
            staff,
            noise_body(w, community_id=w.A.pk, channel="hotline", received_at="2999-01-01T00:00+08:00"),
            (400, "invalid"),
        ),
        (
            staff,
            noise_body(w, community_id=w.A.pk, channel="hotline", received_at="0001-01-01T00:00+14:00"),
            (400, "invalid_input"),
        ),
        (
            staff,
            noise_body(w, community_id=w.A.pk, channel="hotline", received_at="1999-12-31T00:00Z"),
            (400, "invalid_input"),
        ),
        (resident, {"description": "没有类别"}, (400, "invalid_input")),
        (resident, [1, 2], (400, "invalid_input")),
        (resident, "{not json", (400, "invalid_json")),
        (staff, noise_body(w), (400, "community_required")),  # staff have no community of their own
        (staff, noise_body(w, community_id=w.A.pk, reporter_id=w.pB1.pk), (404, "not_found")),
        (client_for(w.staff_c), noise_body(w, community_id=w.A.pk), (404, "not_found")),
        (
            client_for(w.grid_worker_a2),
            noise_body(w, community_id=w.A.pk),
            (403, "forbidden"),
        ),  # bA1 is not in their grid
    ]
    for client, body, expected in cases:
        response = call(client, "POST", "/orders", body)
        assert code(response) == expected, (body, response.content)
    assert WorkOrder.objects.count() == 0


def test_bad_step_input_answers_with_stable_codes(w: SimpleNamespace) -> None:
    staff, resident = client_for(w.staff_a), client_for(w.resident_a1)
    order = file_order(w)
    o = f"/orders/{order.pk}"
    cases: list[tuple[Any, str, Any, tuple[int, str]]] = [
        (staff, f"{o}/start", {}, (409, "order_status")),  # a step skipped
        (staff, f"{o}/resolve", {"answer": "好了"}, (409, "order_status")),
        (staff, f"{o}/close", {}, (409, "order_status")),
        (staff, f"{o}/rate", {"rating": 5}, (409, "order_status")),
        (resident, f"{o}/rate", {"rating": 6}, (400, "invalid_input")),
        (resident, f"{o}/rate", {"rating": "five"}, (400, "invalid_input")),
        (resident, f"{o}/rate", {"rating": 2**70}, (400, "invalid_input")),
        (resident, f"{o}/accept", {}, (403, "forbidden")),
        (staff, f"{o}/grade", {"severity": "green"}, (400, "invalid_input")),
        (staff, f"{o}/grade", {"severity": "red", "factors": {"scale": 9}}, (400, "invalid_input")),
        (staff, f"{o}/grade", {"severity": "red", "factors": {"scale": "big"}}, (400, "invalid_input")),
        (staff, f"{o}/hold", {"reason": "  "}, (400, "reason_required")),
        (staff, f"{o}/hold", {}, (400, "invalid_input")),
        (staff, f"{o}/escalate", {"reason": "x" * 501}, (400, "invalid_input")),
        (staff, f"{o}/cancel", {"reason": "\x00"}, (400, "invalid_input")),
        (staff, f"{o}/note", {"note": ""}, (400, "required")),
        (staff, f"{o}/note", {"note": "x" * 4001}, (400, "invalid_input")),
        (staff, f"{o}/merge", {"into": 2**63 - 1}, (404, "not_found")),
        (staff, f"{o}/merge", {"into": 0}, (400, "invalid_input")),
        (staff, f"{o}/dispatch", {"assignees": []}, (400, "invalid_input")),
        (staff, f"{o}/dispatch", {"assignees": [{"handler": "team"}]}, (400, "invalid_input")),
        (
            staff,
            f"{o}/dispatch",
            {"assignees": [{"handler": "team", "team_id": w.teamA.pk, "unit_id": w.propertyA.pk}]},
            (400, "invalid_input"),
        ),
        (staff, f"{o}/dispatch", {"assignees": [{"handler": "team", "team_id": w.teamA.pk}]}, (409, "order_status")),
        (staff, "/orders/9223372036854775807/accept", {}, (404, "not_found")),
        (staff, "/orders/9223372036854775808/accept", {}, (400, "invalid_input")),
        (staff, "/orders/-1/accept", {}, (400, "invalid_input")),
        (staff, "/orders/abc/accept", {}, (400, "invalid_input")),
        (staff, f"{o}/accept", "[1]", (400, "invalid_input")),
        (staff, f"{o}/accept", '"note"', (400, "invalid_input")),
        (staff, f"{o}/accept", "{oops", (400, "invalid_json")),
        (client_for(w.staff_b), f"{o}/accept", {}, (404, "not_found")),
        (client_for(w.grid_worker_a1), f"{o}/resolve", {"answer": "x"}, (409, "order_status")),
        (client_for(w.auditor_a), f"{o}/note", {"note": "x"}, (403, "not_assigned")),
    ]
    for client, path, body, expected in cases:
        response = call(client, "POST", path, body)
        assert code(response) == expected, (path, body, response.content)
    assert list(OrderEvent.objects.filter(order=order).values_list("action", flat=True)) == ["receive"]
    # once accepted: a team of another community is refused as a handler, an answer must be written
    services.order_accept(actor=actor_for(w.staff_a), order=order)
    outside = call(staff, "POST", f"{o}/dispatch", {"assignees": [{"handler": "team", "team_id": w.teamB.pk}]})
    assert code(outside) == (400, "assignee_outside")
    services.order_dispatch(
        actor=actor_for(w.staff_a), order=order, assignees=[AssigneeInput(handler="team", team_id=w.teamA.pk)]
    )
    assert code(call(staff, "POST", f"{o}/resolve", {"answer": " "})) == (400, "answer_required")
    assert code(call(resident, "POST", f"{o}/resolve", {"answer": "好了"})) == (403, "not_assigned")


def test_reading_bad_ids(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    order = file_order(w)
    assert code(call(staff, "GET", "/orders/9223372036854775807")) == (404, "not_found")
    assert code(call(staff, "GET", "/orders/99999999999999999999999")) == (400, "invalid_input")
    assert code(call(staff, "GET", f"/orders/{order.pk}/photos/0")) == (400, "invalid_input")
    assert code(call(staff, "GET", "/order-categories?community=abc")) == (400, "invalid_input")
    assert code(call(staff, "GET", f"/orders?community={w.A.pk}&q=" + "x" * 101)) == (400, "invalid_input")
    assert code(call(staff, "GET", f"/orders?community={w.A.pk}&q=%00")) == (400, "invalid_input")
    assert call(staff, "GET", f"/orders?community={w.A.pk}&q=%25_").json()["count"] == 0
    assert call(Client(), "GET", f"/orders/{order.pk}").status_code == 401


def test_a_hotline_call_keeps_its_own_time(w: SimpleNamespace) -> None:
    """Staff record yesterday's call: the clock started then. A time without offset is the community's local time."""
    staff = client_for(w.staff_a)
    yesterday = (timezone.localtime() - timedelta(days=1)).replace(microsecond=0, tzinfo=None)
    body = noise_body(w, community_id=w.A.pk, channel="hotline", received_at=yesterday.isoformat())
    made = call(staff, "POST", "/orders", body)
    assert made.status_code == 201, made.content
    stored = WorkOrder.objects.get(pk=made.json()["id"]).received_at
    assert timezone.localtime(stored).replace(tzinfo=None) == yesterday


@given(
    body=st.dictionaries(
        st.sampled_from(
            [
                "category",
                "description",
                "title",
                "building_id",
                "grid_id",
                "lat",
                "long",
                "channel",
                "reporter_id",
                "contact_phone",
                "received_at",
                "community_id",
                "address",
            ]
        ),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(min_value=-(2**80), max_value=2**80),
            st.floats(allow_nan=True, allow_infinity=True),
            st.text(max_size=300),
            st.sampled_from(["property-noise", "\x00", "x" * 5000, "2026-13-45", "9999-12-31T23:59:59-14:00"]),
            st.lists(st.integers(), max_size=3),
        ),
        max_size=8,
    )
)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_filing_body_is_answered_never_a_500(w: SimpleNamespace, body: dict[str, Any]) -> None:
    before = WorkOrder.objects.count()
    response = call(client_for(w.resident_a1), "POST", "/orders", body)
    if response.status_code >= 400:
        assert response.json()["code"] and WorkOrder.objects.count() == before
    else:
        assert response.status_code == 201 and WorkOrder.objects.count() == before + 1


@given(
    step=st.sampled_from(["accept", "grade", "dispatch", "hold", "escalate", "note", "rate", "merge", "cancel"]),
    body=st.one_of(
        st.dictionaries(
            st.sampled_from(["note", "reason", "severity", "factors", "assignees", "rating", "into", "public"]),
            st.one_of(
                st.none(),
                st.integers(min_value=-(2**70), max_value=2**70),
                st.text(max_size=50),
                st.lists(
                    st.dictionaries(st.sampled_from(["handler", "user_id", "unit_id"]), st.integers()), max_size=2
                ),
                st.dictionaries(st.sampled_from(["scale", "impact", "other"]), st.integers(-5, 5)),
            ),
            max_size=4,
        ),
        st.lists(st.integers(), max_size=2),
        st.text(max_size=20),
    ),
)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_step_body_is_answered_never_a_500(w: SimpleNamespace, step: str, body: Any) -> None:
    order = file_order(w)
    raw = json.dumps(body) if not isinstance(body, str) else body
    response = call(client_for(w.staff_a), "POST", f"/orders/{order.pk}/{step}", raw)
    if response.status_code >= 400:
        assert response.json()["code"]
        assert list(OrderEvent.objects.filter(order=order).values_list("action", flat=True)) == ["receive"]
