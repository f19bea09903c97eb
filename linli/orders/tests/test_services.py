"""The work-order chain through its services: intake, triage, dispatch, handling, the resident's rating, scope."""

from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone
from PIL import Image

from linli.common.errors import DomainError, NotFound
from linli.common.testing import make_world
from linli.orders import selectors, services
from linli.orders.models import Action, Status, WorkOrder
from linli.orders.services import AssigneeInput, OrderInput
from linli.orders.testing import file_order, make_orders
from linli.org.access import actor_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def w() -> SimpleNamespace:
    return make_orders(make_world())


def a(user: object) -> services.Actor:
    return actor_for(user)


def code_of(excinfo: pytest.ExceptionInfo[DomainError]) -> str:
    return excinfo.value.code


def jpeg() -> io.BytesIO:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buf, "JPEG")
    buf.seek(0)
    buf.name = "p.jpg"
    return buf


def carry_to_resolved(w: SimpleNamespace, order: WorkOrder) -> WorkOrder:
    staff = a(w.staff_a)
    services.order_accept(actor=staff, order=order)
    services.order_grade(
        actor=staff, order=order, severity="yellow", factors={"scale": 2, "difficulty": 2, "impact": 1}
    )
    services.order_dispatch(
        actor=staff, order=order, assignees=[AssigneeInput(handler="property", unit_id=w.propertyA.pk)]
    )
    services.order_start(actor=staff, order=order)
    return services.order_resolve(actor=staff, order=order, answer="道闸加装缓冲垫，夜间改为静音模式")


def test_a_resident_files_from_the_building_qr(w: SimpleNamespace) -> None:
    order = file_order(w)
    assert order.status == Status.RECEIVED
    assert order.reporter_id == w.pA1.pk and order.grid_id == w.A1.pk and order.building_id == w.bA1.pk
    year = timezone.localtime(order.received_at).year
    assert order.number == f"{year}-0001"
    assert file_order(w).number == f"{year}-0002"
    local_due = timezone.localtime(order.due_at)
    assert local_due.date() == timezone.localtime(order.received_at).date() + timedelta(days=15)
    assert (local_due.hour, local_due.minute) == (23, 59)
    assert [e.action for e in order.events.all()] == [Action.RECEIVE]


def test_bad_input_is_refused_with_stable_codes_and_nothing_filed(w: SimpleNamespace) -> None:
    resident = a(w.resident_a1)
    cases = [
        (OrderInput(category="nope", description="x", building_id=w.bA1.pk), "unknown_category"),
        (OrderInput(category="property-noise", description="x", building_id=w.bB1.pk), "place_outside"),
        (
            OrderInput(category="property-noise", description="x", grid_id=w.A2.pk, building_id=w.bA1.pk),
            "place_outside",
        ),
        (OrderInput(category="property-noise", description="  "), "required"),
        (OrderInput(category="property-noise", description="x", lat="91"), "invalid"),
        (OrderInput(category="property-noise", description="x" * 4001), "too_long"),
    ]
    for data, code in cases:
        with pytest.raises(DomainError) as caught:
            services.order_create(actor=resident, community=w.A, data=data, channel="qr")
        assert code_of(caught) == code, data
    with pytest.raises(DomainError) as caught:
        services.order_create(
            actor=resident,
            community=w.A,
            data=OrderInput(category="property-noise", description="x"),
            channel="hotline",
        )
    assert caught.value.field == "channel"
    with pytest.raises(DomainError) as caught:
        services.order_create(
            actor=resident,
            community=w.A,
            data=OrderInput(category="other", description="x"),
            channel="qr",
            photos=[io.BytesIO(b"not a picture")],
        )
    assert code_of(caught) == "photo_invalid"
    assert WorkOrder.objects.count() == 0


def test_a_double_tapped_submit_files_once(w: SimpleNamespace) -> None:
    resident = a(w.resident_a1)
    data = OrderInput(category="property-noise", description="道闸噪音", building_id=w.bA1.pk)
    first = services.order_create(actor=resident, community=w.A, data=data, channel="qr", request_key="web:1:k")
    again = services.order_create(actor=resident, community=w.A, data=data, channel="qr", request_key="web:1:k")
    assert (first.replayed, again.replayed, again.order.pk) == (False, True, first.order.pk)


def test_the_seeds_004_story_from_receipt_to_closed(w: SimpleNamespace) -> None:
    order = file_order(w)
    resolved = carry_to_resolved(w, order)
    assert resolved.status == Status.RESOLVED and resolved.resolved_at is not None
    assert resolved.severity == "yellow" and resolved.factors["suggested"] == "yellow"
    closed = services.order_rate(actor=a(w.resident_a1), order=order, rating=5, comment="很满意")
    assert closed.status == Status.CLOSED and closed.rating == 5 and closed.closed_at is not None
    actions = [e.action for e in closed.events.all()]
    assert actions == ["receive", "accept", "grade", "dispatch", "start", "resolve", "rate"]
    with pytest.raises(DomainError) as caught:
        services.order_rate(actor=a(w.resident_a1), order=order, rating=4)
    assert code_of(caught) == "already_rated" and caught.value.status == 409


def test_skipping_a_step_is_409_and_changes_nothing(w: SimpleNamespace) -> None:
    order = file_order(w)
    with pytest.raises(DomainError) as caught:
        services.order_dispatch(
            actor=a(w.staff_a), order=order, assignees=[AssigneeInput(handler="property", unit_id=w.propertyA.pk)]
        )
    assert code_of(caught) == "order_status"
    with pytest.raises(DomainError):
        services.order_resolve(actor=a(w.staff_a), order=order, answer="done")
    order.refresh_from_db()
    assert order.status == Status.RECEIVED and not order.assignments.exists()


def test_unsatisfied_rating_reopens_with_a_fresh_deadline(w: SimpleNamespace) -> None:
    order = carry_to_resolved(w, file_order(w))
    reopened = services.order_rate(actor=a(w.resident_a1), order=order, rating=2, comment="晚上还是响")
    assert reopened.status == Status.REOPENED and reopened.reopen_count == 1
    assert reopened.due_at > timezone.now() + timedelta(days=2)
    assert not reopened.assignments.filter(active=True).exists()
    services.order_dispatch(
        actor=a(w.staff_a), order=order, assignees=[AssigneeInput(handler="grid_worker", user_id=w.grid_worker_a1.pk)]
    )
    services.order_resolve(actor=a(w.grid_worker_a1), order=order, answer="更换了道闸电机")
    assert services.order_rate(actor=a(w.resident_a1), order=order, rating=4).status == Status.CLOSED


def test_only_the_reporter_rates_and_staff_may_record_a_phone_rating(w: SimpleNamespace) -> None:
    order = carry_to_resolved(w, file_order(w))
    for outsider in (w.grid_worker_a1, w.steward_a1):
        with pytest.raises(DomainError) as caught:
            services.order_rate(actor=a(outsider), order=order, rating=5)
        assert caught.value.status in (403, 404)
    with pytest.raises(DomainError) as caught:
        services.order_rate(actor=a(w.staff_b), order=order, rating=5)
    assert caught.value.status == 404
    with pytest.raises(DomainError) as caught:
        services.order_rate(actor=a(w.staff_a), order=order, rating=0)
    assert code_of(caught) == "rating_range"
    rated = services.order_rate(actor=a(w.staff_a), order=order, rating=5, comment="电话回访：满意")
    assert rated.events.get(action="rate").data["by_phone"] is True


def test_joint_handling_and_redispatch(w: SimpleNamespace) -> None:
    order = file_order(w)
    staff = a(w.staff_a)
    services.order_accept(actor=staff, order=order)
    services.order_dispatch(
        actor=staff,
        order=order,
        assignees=[
            AssigneeInput(handler="property", unit_id=w.propertyA.pk),
            AssigneeInput(handler="grid_worker", user_id=w.grid_worker_a1.pk),
        ],
    )
    active = list(order.assignments.filter(active=True).order_by("id"))
    assert len(active) == 2 and active[0].is_lead and not active[1].is_lead
    # adding a co-handler keeps the others
    services.order_dispatch(actor=staff, order=order, assignees=[AssigneeInput(handler="team", team_id=w.teamA.pk)])
    assert order.assignments.filter(active=True).count() == 3
    # 转派 replaces them all
    services.order_dispatch(
        actor=staff,
        order=order,
        assignees=[AssigneeInput(handler="grid_worker", user_id=w.grid_worker_a2.pk)],
        replace=True,
    )
    assert [x.user_id for x in order.assignments.filter(active=True)] == [w.grid_worker_a2.pk]
    assert order.events.filter(action="redispatch").count() == 1
    with pytest.raises(DomainError) as caught:
        services.order_dispatch(
            actor=staff, order=order, assignees=[AssigneeInput(handler="external", unit_id=w.partnerB.pk)]
        )
    assert code_of(caught) == "assignee_outside"
    with pytest.raises(DomainError) as caught:
        services.order_dispatch(
            actor=staff, order=order, assignees=[AssigneeInput(handler="grid_worker", user_id=w.staff_c.pk)]
        )
    assert code_of(caught) == "assignee_outside"


def test_an_assigned_grid_worker_from_another_grid_sees_and_handles_it(w: SimpleNamespace) -> None:
    order = file_order(w)  # building bA1, grid A1
    worker2 = a(w.grid_worker_a2)
    assert order not in selectors.visible(worker2)
    with pytest.raises(NotFound):
        selectors.order_get(worker2, order.pk)
    services.order_accept(actor=a(w.staff_a), order=order)
    services.order_dispatch(
        actor=a(w.staff_a), order=order, assignees=[AssigneeInput(handler="grid_worker", user_id=w.grid_worker_a2.pk)]
    )
    assert selectors.order_get(worker2, order.pk) == order
    assert list(selectors.my_tasks(worker2)) == [order]
    services.order_start(actor=worker2, order=order)
    # a worker neither in scope nor assigned cannot touch it
    other = file_order(w)
    with pytest.raises(NotFound):
        services.order_note(actor=worker2, order=other, note="x")


def test_scope_of_each_role(w: SimpleNamespace) -> None:
    mine = file_order(w)
    in_a2 = services.order_create(
        actor=a(w.staff_a),
        community=w.A,
        data=OrderInput(category="environment", description="垃圾堆放", building_id=w.bA2.pk),
        channel="hotline",
    ).order
    seen = {name: set(selectors.visible(a(getattr(w, name))).values_list("pk", flat=True)) for name in w.users}
    both = {mine.pk, in_a2.pk}
    assert seen["staff_a"] == both and seen["street_admin"] == both and seen["auditor_a"] == both
    assert (
        seen["grid_worker_a1"] == {mine.pk} and seen["steward_a1"] == {mine.pk} and seen["grid_chief_a1"] == {mine.pk}
    )
    assert seen["grid_worker_a2"] == {in_a2.pk}
    assert seen["resident_a1"] == {mine.pk}
    assert seen["staff_b"] == seen["staff_c"] == seen["merchant_op_a"] == set()
    with pytest.raises(NotFound):
        selectors.order_get(a(w.staff_b), mine.pk)
    # the grid chief triages in the grid; a steward only handles
    services.order_accept(actor=a(w.grid_chief_a1), order=mine)
    with pytest.raises(DomainError) as caught:
        services.order_hold(actor=a(w.steward_a1), order=mine, reason="x")
    assert caught.value.status == 403


def test_internal_notes_stay_off_the_residents_timeline(w: SimpleNamespace) -> None:
    order = file_order(w)
    services.order_note(actor=a(w.staff_a), order=order, note="物业经理电话 139…", public=False)
    services.order_note(actor=a(w.staff_a), order=order, note="已联系物业，明天上门", public=True, photos=[jpeg()])
    resident_view = [e.note for e in selectors.timeline(a(w.resident_a1), order)]
    staff_view = [e.note for e in selectors.timeline(a(w.staff_a), order)]
    assert "物业经理电话 139…" in staff_view and "物业经理电话 139…" not in resident_view
    assert "已联系物业，明天上门" in resident_view
    assert order.photos.count() == 1


def test_hold_pauses_the_clock(w: SimpleNamespace) -> None:
    order = file_order(w)
    staff = a(w.staff_a)
    services.order_accept(actor=staff, order=order)
    due = WorkOrder.objects.get(pk=order.pk).due_at
    services.order_hold(actor=staff, order=order, reason="等待配件")
    WorkOrder.objects.filter(pk=order.pk).update(held_at=timezone.now() - timedelta(days=3))
    resumed = services.order_resume(actor=staff, order=order)
    assert resumed.status == Status.ACCEPTED
    assert abs((resumed.due_at - due) - timedelta(days=3)) < timedelta(minutes=1)
    with pytest.raises(DomainError) as caught:
        services.order_hold(actor=staff, order=order, reason=" ")
    assert code_of(caught) == "reason_required"


def test_grading_red_moves_the_deadline(w: SimpleNamespace) -> None:
    order = file_order(w)  # 噪音扰民: 15 days, red in 3
    services.order_grade(actor=a(w.staff_a), order=order, severity="red")
    order.refresh_from_db()
    received = timezone.localtime(order.received_at).date()
    assert timezone.localtime(order.due_at).date() == received + timedelta(days=3)
    with pytest.raises(DomainError):
        services.order_grade(actor=a(w.staff_a), order=order, severity="purple")


def test_sweep_escalates_overdue_orders_once(w: SimpleNamespace) -> None:
    late = file_order(w)
    on_time = file_order(w)
    WorkOrder.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=1))
    first = services.orders_sweep()
    again = services.orders_sweep()
    assert first.escalated == [late.number] and again.escalated == [] and again.already == 1
    late.refresh_from_db()
    assert late.escalated_at is not None and late.status == Status.RECEIVED
    assert late.events.filter(action="escalate").count() == 1
    assert list(selectors.escalated_in(a(w.street_admin), w.S.communities.all())) == [late]
    assert on_time.pk not in selectors.board(a(w.staff_a), w.A, selectors.Board(overdue=True)).values_list(
        "pk", flat=True
    )


def test_duplicates_merge_into_one(w: SimpleNamespace) -> None:
    first, duplicate = file_order(w), file_order(w, user=w.staff_a)
    merged = services.order_merge(actor=a(w.staff_a), order=duplicate, into=first)
    assert merged.status == Status.MERGED and merged.merged_into_id == first.pk
    with pytest.raises(DomainError) as caught:
        services.order_merge(actor=a(w.staff_a), order=first, into=first)
    assert code_of(caught) == "merge_self"
    assert selectors.figures(WorkOrder.objects.filter(community=w.A)).received == 1


def test_the_reporter_may_withdraw_before_dispatch(w: SimpleNamespace) -> None:
    order = file_order(w)
    assert services.order_cancel(actor=a(w.resident_a1), order=order, reason="已自行解决").status == Status.CANCELLED


def test_crediting_the_volunteer_who_solved_it(w: SimpleNamespace) -> None:
    from linli.points.models import ClaimStatus
    from linli.points.testing import make_catalogue

    make_catalogue(w)
    order = carry_to_resolved(w, file_order(w))
    first = services.order_credit(actor=a(w.staff_a), order=order, person=w.pA2, rule_id=w.mediation.pk)
    again = services.order_credit(actor=a(w.staff_a), order=order, person=w.pA2, rule_id=w.mediation.pk)
    assert first.claim.pk == again.claim.pk and again.replayed
    assert first.claim.status == ClaimStatus.VERIFIED and first.claim.ref_type == "work_order"
    assert order.events.filter(action="credit").count() == 1
    open_order = file_order(w)
    with pytest.raises(DomainError) as caught:
        services.order_credit(actor=a(w.staff_a), order=open_order, person=w.pA2, rule_id=w.mediation.pk)
    assert code_of(caught) == "order_status"


def test_figures_per_community(w: SimpleNamespace) -> None:
    done = carry_to_resolved(w, file_order(w))
    services.order_rate(actor=a(w.resident_a1), order=done, rating=5)
    file_order(w)
    f = selectors.figures(WorkOrder.objects.filter(community=w.A))
    assert (f.received, f.completed, f.completion_rate, f.satisfaction_rate) == (2, 1, 50.0, 100.0)
    assert f.mean_hours_to_close is not None and f.mean_hours_to_close < 1


def test_a_naive_time_received_is_read_as_local_time(w: SimpleNamespace) -> None:
    from datetime import datetime

    naive = datetime(2026, 11, 2, 9, 30)  # what a spreadsheet cell or a script gives
    order = services.order_create(
        actor=a(w.staff_a),
        community=w.A,
        data=OrderInput(category="other", description="来电反映", received_at=naive),
        channel="hotline",
    ).order
    local = timezone.localtime(order.received_at)
    assert (local.date().isoformat(), local.hour, local.minute) == ("2026-11-02", 9, 30)


def test_an_oversized_photo_is_refused_and_nothing_is_filed(w: SimpleNamespace, settings: object) -> None:
    settings.LINLI_PHOTO_MAX_BYTES = 1024  # type: ignore[attr-defined]
    big = io.BytesIO()
    Image.effect_noise((300, 300), 80).convert("RGB").save(big, "JPEG", quality=95)
    assert big.tell() > 1024
    big.seek(0)
    with pytest.raises(DomainError) as caught:
        services.order_create(
            actor=a(w.resident_a1),
            community=w.A,
            data=OrderInput(category="other", description="楼道灯坏了", building_id=w.bA1.pk),
            channel="qr",
            photos=[big],
        )
    assert code_of(caught) == "photo_too_large" and caught.value.field == "photo"
    assert not WorkOrder.objects.exists()
