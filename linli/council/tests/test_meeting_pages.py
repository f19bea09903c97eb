"""The meeting pages as staff, grid workers and residents use them: planning (one meeting per submit, numbering from
the paper register), who may plan where, invitations, the QR check-in, the steps held → minutes → closed, masked
names, an agenda item brought from a work order, resolutions, the list and the printed minutes."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.common.testing import client_for
from linli.council import services
from linli.council.models import Attendance, Invitation, Meeting, MeetingStatus
from linli.council.testing import make_council
from linli.orders.testing import file_order, make_orders
from linli.org.access import actor_for

NEW = reverse("council:meeting_new")
LIST = reverse("council:meetings")


def text(response: Any) -> str:
    return str(response.content.decode())


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    world.council = make_council(world)
    return world


def _planned(w: SimpleNamespace, days: int = 3, title: str = "停车难") -> Meeting:
    return services.meeting_create(
        actor=actor_for(w.staff_a),
        series=w.council.series,
        data=services.MeetingData(
            title=title,
            starts_at=timezone.now() + timedelta(days=days),
            place="兴庆小区议事亭",
            host="社区工作者甲",
            compound=w.cpA,
        ),
    )


def _form(w: SimpleNamespace, **extra: Any) -> dict[str, Any]:
    return {
        "series": w.council.series.pk,
        "title": "楼道堆物",
        "day": (timezone.localdate() + timedelta(days=2)).isoformat(),
        "time": "19:30",
        "place": "兴庆小区议事亭",
        "host": "社区工作者甲",
        "compound": w.cpA.pk,
        "idempotency_key": "k-1",
        **extra,
    }


def _url(name: str, *args: Any) -> str:
    return reverse(f"council:{name}", args=args)


# --- planning ---------------------------------------------------------------------------------------------------------
def test_a_double_submit_plans_one_meeting_and_numbering_continues(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    first = staff.post(f"{NEW}?community={w.A.pk}", _form(w))
    second = staff.post(f"{NEW}?community={w.A.pk}", _form(w))
    made = Meeting.objects.get(title="楼道堆物")
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == _url("meeting", made.pk)
    assert made.number == 270  # make_council's session was 269 (numbered from 269)
    local = timezone.localtime(made.starts_at)
    assert (local.hour, local.minute, made.grid_id) == (19, 30, w.A1.pk)  # the compound's grid
    staff.post(f"{NEW}?community={w.A.pk}", _form(w, idempotency_key="k-2", title="下一期"))
    assert Meeting.objects.get(title="下一期").number == 271
    page = text(staff.get(_url("meeting", made.pk)))
    assert "兴庆夜话" in page and "270" in page and "楼道堆物" in page


def test_the_same_key_from_another_login_is_another_meeting(w: SimpleNamespace) -> None:
    client_for(w.staff_a).post(f"{NEW}?community={w.A.pk}", _form(w))
    client_for(w.grid_worker_a1).post(f"{NEW}?community={w.A.pk}", _form(w))
    assert Meeting.objects.filter(title="楼道堆物").count() == 2


def test_grid_worker_a2_plans_in_grid_a2_but_not_in_grid_a1(w: SimpleNamespace) -> None:
    a2 = client_for(w.grid_worker_a2)
    refused = a2.post(f"{NEW}?community={w.A.pk}", _form(w))
    assert refused.status_code == 403
    assert 'class="error-box"' in text(refused) and "楼道堆物" in text(refused)  # inline, the form kept
    assert not Meeting.objects.filter(title="楼道堆物").exists()
    ok = a2.post(f"{NEW}?community={w.A.pk}", _form(w, compound="", building=w.bA2.pk, idempotency_key="k-3"))
    assert ok.status_code == 302
    assert Meeting.objects.get(title="楼道堆物").grid_id == w.A2.pk


def test_bad_input_is_a_400_on_the_form(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    missing = staff.post(f"{NEW}?community={w.A.pk}", _form(w, day="", time="25:99"))
    assert missing.status_code == 400 and 'class="errorlist"' in text(missing)
    other = staff.post(f"{NEW}?community={w.A.pk}", _form(w, compound="", building=w.bB1.pk))
    assert other.status_code == 400  # a building of community B is not among the choices
    assert staff.post(f"{NEW}?community={w.A.pk}", _form(w, series="x")).status_code == 400
    assert not Meeting.objects.filter(title="楼道堆物").exists()


def test_series_are_created_edited_and_named_once(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    url = f"{_url('series')}?community={w.A.pk}"
    data = {"name": "议事协商会", "kind": "consultation", "numbered_from": 12, "is_active": "on"}
    assert staff.post(url, data).status_code == 302
    dup = staff.post(url, data)
    assert dup.status_code == 400 and "error" in text(dup)
    s = w.council.series
    edit = staff.post(url, {"series": s.pk, "name": "兴庆夜话", "kind": "evening_talk", "numbered_from": 269})
    assert edit.status_code == 302
    s.refresh_from_db()
    assert s.is_active is False
    staff.get(url)  # the saved message is shown
    new_form = text(staff.get(f"{NEW}?community={w.A.pk}"))
    options = new_form.split('name="series"')[1].split("</select>")[0]
    assert "兴庆夜话" not in options and "议事协商会" in options  # an inactive series cannot be planned


# --- the list ---------------------------------------------------------------------------------------------------------
def test_the_list_shows_upcoming_first_and_filters(w: SimpleNamespace) -> None:
    soon = _planned(w, days=2, title="快到的会")
    later = _planned(w, days=9, title="更晚的会")
    page = text(client_for(w.resident_a1).get(f"{LIST}?community={w.A.pk}"))
    upcoming = page.split('data-testid="upcoming"')[1].split('data-testid="past"')[0]
    assert upcoming.index("快到的会") < upcoming.index("更晚的会")
    assert "楼道漏水和停车" in page.split('data-testid="past"')[1]
    assert "New meeting" not in page and "council:series" not in page
    held = text(client_for(w.staff_a).get(f"{LIST}?community={w.A.pk}&status=held"))
    assert "楼道漏水和停车" in held and soon.title not in held and later.title not in held
    found = text(client_for(w.staff_a).get(f"{LIST}?community={w.A.pk}&q=更晚"))
    assert later.title in found and soon.title not in found
    assert client_for(w.staff_b).get(f"{LIST}?community={w.A.pk}").status_code == 404


# --- invitations and attendance ---------------------------------------------------------------------------------------
def test_invite_the_lawyer_a_partner_unit_and_a_resident(w: SimpleNamespace) -> None:
    meeting = _planned(w)
    staff = client_for(w.staff_a)
    url = _url("meeting_invite", meeting.pk)
    assert staff.post(url, {"inv-kind": "lawyer", "inv-name": "社区律师刘律师"}).status_code == 302
    assert staff.post(url, {"inv-kind": "other", "inv-partner": w.partnerA.pk}).status_code == 302
    assert staff.post(url, {"inv-kind": "resident", "inv-person": "13800000001"}).status_code == 302
    kinds = dict(Invitation.objects.filter(meeting=meeting).values_list("name", "kind"))
    assert kinds == {"社区律师刘律师": "lawyer", "莲湖供电所": "partner", "王秀英": "resident"}
    again = staff.post(url, {"inv-kind": "other", "inv-partner": w.partnerA.pk})
    assert again.status_code == 400 and "error" in text(again)
    both = staff.post(url, {"inv-kind": "lawyer", "inv-name": "甲", "inv-partner": w.partnerA.pk})
    assert both.status_code == 400
    nobody = staff.post(url, {"inv-kind": "resident", "inv-person": "查无此人"})
    assert nobody.status_code == 400 and Invitation.objects.filter(meeting=meeting).count() == 3
    page = text(staff.get(_url("meeting", meeting.pk)))
    assert "社区律师刘律师" in page and "莲湖供电所" in page and "王秀英" in page
    lawyer = Invitation.objects.get(kind="lawyer")
    assert staff.post(_url("invitation_remove", lawyer.pk)).status_code == 302
    assert not Invitation.objects.filter(pk=lawyer.pk).exists()
    assert client_for(w.grid_worker_a2).post(url, {"inv-kind": "lawyer", "inv-name": "乙"}).status_code == 403


def test_staff_sign_in_a_resident_and_a_guest_and_names_are_masked_for_residents(w: SimpleNamespace) -> None:
    meeting = w.council.meeting
    staff = client_for(w.staff_a)
    url = _url("attendance_add", meeting.pk)
    assert staff.post(url, {"att-person": "李建华", "att-kind": "other"}).status_code == 302
    assert staff.post(url, {"att-name": "兴庆物业经理", "att-kind": "property"}).status_code == 302
    assert staff.post(url, {"att-person": "李建华"}).status_code == 302  # once per resident
    assert Attendance.objects.filter(meeting=meeting).count() == 2
    assert Attendance.objects.get(person=w.pA2).kind == "resident"
    assert staff.post(url, {}).status_code == 400
    as_staff = text(staff.get(_url("meeting", meeting.pk)))
    assert "李建华" in as_staff and "兴庆物业经理" in as_staff
    for viewer in (w.resident_a1, w.steward_a1, w.auditor_a):
        seen = text(client_for(viewer).get(_url("meeting", meeting.pk)))
        assert "李*华" in seen and "李建华" not in seen, viewer
        assert "兴庆物业经理" in seen  # a guest named by role is no resident
        assert _url("attendance_add", meeting.pk) not in seen  # no forms for readers
    guest = Attendance.objects.get(name="兴庆物业经理")
    assert staff.post(_url("attendance_remove", guest.pk)).status_code == 302
    assert not Attendance.objects.filter(pk=guest.pk).exists()


# --- the QR code and the check-in -------------------------------------------------------------------------------------
def test_qr_page_and_check_in_twice_gives_one_attendance(w: SimpleNamespace) -> None:
    meeting = w.council.meeting  # held since yesterday: check-in is open
    qr = text(client_for(w.grid_worker_a1).get(_url("meeting_qr", meeting.pk)))
    checkin = _url("checkin", meeting.checkin_code)
    assert "<svg" in qr and f"http://testserver{checkin}" in qr and meeting.title in qr
    resident = client_for(w.resident_a1)
    before = resident.get(checkin)
    assert before.status_code == 200 and 'data-testid="checkin-confirm"' in text(before)
    first = resident.post(checkin)
    assert first.status_code == 200 and 'data-testid="checkin-done"' in text(first)
    at = timezone.localtime(Attendance.objects.get(person=w.pA1).at).strftime("%H:%M")
    assert at in text(first)
    second = resident.post(checkin)
    assert 'data-testid="checkin-done"' in text(second) and 'data-testid="checkin-already"' in text(second)
    assert 'data-testid="checkin-already"' not in text(first)
    assert Attendance.objects.filter(meeting=meeting, person=w.pA1).count() == 1
    rescan = text(resident.get(checkin))
    assert 'data-testid="checkin-confirm"' not in rescan and 'data-testid="checkin-done"' in rescan
    attendee = Attendance.objects.get(person=w.pA1)
    assert (attendee.via, attendee.kind) == ("qr", "resident")
    assert "王秀英" in text(client_for(w.staff_a).get(_url("meeting", meeting.pk)))


def test_check_in_anonymous_goes_to_login_and_back(w: SimpleNamespace) -> None:
    checkin = _url("checkin", w.council.meeting.checkin_code)
    response = client_for(None).get(checkin)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert "next=" in response["Location"] and w.council.meeting.checkin_code in response["Location"]


def test_a_wrong_code_says_so_plainly(w: SimpleNamespace) -> None:
    response = client_for(w.resident_a1).get(_url("checkin", "not-the-code"))
    assert response.status_code == 400
    assert 'data-code="checkin_code_invalid"' in text(response)
    assert client_for(w.resident_a1).post(_url("checkin", "not-the-code")).status_code == 400
    assert not Attendance.objects.filter(person=w.pA1).exists()


def test_too_early_and_after_the_close_no_check_in(w: SimpleNamespace) -> None:
    early = _planned(w, days=3)
    url = _url("checkin", early.checkin_code)
    resident = client_for(w.resident_a1)
    page = text(resident.get(url))
    assert 'data-code="checkin_refused"' in page and 'data-testid="checkin-confirm"' not in page
    refused = resident.post(url)
    assert refused.status_code == 409 and 'data-code="checkin_refused"' in text(refused)
    staff = actor_for(w.staff_a)
    services.meeting_minutes(actor=staff, meeting=w.council.meeting, minutes="纪要")
    services.meeting_close(actor=staff, meeting=w.council.meeting, report="总结")
    closed = resident.post(_url("checkin", w.council.meeting.checkin_code))
    assert closed.status_code == 409
    assert not Attendance.objects.filter(person=w.pA1).exists()


def test_staff_and_other_communities_do_not_check_in_by_qr(w: SimpleNamespace) -> None:
    url = _url("checkin", w.council.meeting.checkin_code)
    staff_page = client_for(w.staff_a).get(url)
    assert staff_page.status_code == 200 and 'data-testid="checkin-staff"' in text(staff_page)
    assert client_for(w.staff_a).post(url).status_code == 403
    assert client_for(w.staff_b).get(url).status_code == 404


# --- steps ------------------------------------------------------------------------------------------------------------
def test_hold_then_minutes_then_close_and_print(w: SimpleNamespace) -> None:
    meeting = _planned(w, days=0)
    staff = client_for(w.grid_chief_a1)
    assert staff.post(_url("meeting_minutes", meeting.pk), {"minutes": "太早"}).status_code == 409  # not held yet
    assert staff.post(_url("meeting_hold", meeting.pk), {}).status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.HELD and meeting.held_at is not None
    no_minutes = staff.post(_url("meeting_close", meeting.pk), {"report": "总结"})
    assert no_minutes.status_code == 400 and 'id="act-close" open' in text(no_minutes)
    assert staff.post(_url("meeting_close", meeting.pk), {"report": ""}).status_code == 400
    assert staff.post(_url("meeting_minutes", meeting.pk), {"minutes": "一、停车：划线。"}).status_code == 302
    assert staff.post(_url("meeting_close", meeting.pk), {"report": "共议一事，已落实。"}).status_code == 302
    meeting.refresh_from_db()
    assert (meeting.status, meeting.minutes, meeting.report) == (
        MeetingStatus.CLOSED,
        "一、停车：划线。",
        "共议一事，已落实。",
    )
    again = staff.post(_url("meeting_close", meeting.pk), {"report": "再来"})
    assert again.status_code == 409
    services.attendance_record(actor=actor_for(w.staff_a), meeting=w.council.meeting, name="刘律师", kind="lawyer")
    printed = text(staff.get(_url("meeting_print", meeting.pk)))
    assert "一、停车：划线。" in printed and "共议一事，已落实。" in printed
    held = text(client_for(w.staff_a).get(_url("meeting_print", w.council.meeting.pk)))
    assert "刘律师" in held and "物业一周内更换漏水管道" in held and "3楼楼道漏水" in held
    assert client_for(w.auditor_a).get(_url("meeting_print", meeting.pk)).status_code == 403


def test_cancel_needs_a_reason(w: SimpleNamespace) -> None:
    meeting = _planned(w)
    staff = client_for(w.staff_a)
    assert staff.post(_url("meeting_cancel", meeting.pk), {"reason": ""}).status_code == 400
    assert staff.post(_url("meeting_cancel", meeting.pk), {"reason": "暴雨"}).status_code == 302
    meeting.refresh_from_db()
    assert (meeting.status, meeting.cancel_reason) == (MeetingStatus.CANCELLED, "暴雨")
    assert "暴雨" in text(client_for(w.resident_a1).get(_url("meeting", meeting.pk)))


def test_edit_the_meeting(w: SimpleNamespace) -> None:
    meeting = _planned(w)
    staff = client_for(w.staff_a)
    form = text(staff.get(_url("meeting_edit", meeting.pk)))
    assert 'value="停车难"' in form
    data = {k: v for k, v in _form(w, title="停车难（改期）").items() if k not in ("series", "idempotency_key")}
    assert staff.post(_url("meeting_edit", meeting.pk), data).status_code == 302
    meeting.refresh_from_db()
    assert meeting.title == "停车难（改期）" and meeting.number == 270


# --- the agenda and resolutions ---------------------------------------------------------------------------------------
def test_an_agenda_item_from_a_work_order(w: SimpleNamespace) -> None:
    make_orders(w)
    order = file_order(w)
    meeting = w.council.meeting
    staff = client_for(w.staff_a)
    found = text(staff.get(f"{_url('meeting', meeting.pk)}?order_q={order.number}"))
    assert re.search(rf'<option value="{order.pk}">{order.number}', found)
    response = staff.post(
        _url("agenda_add", meeting.pk),
        {"item-work_order": order.pk, "item-title": "", "item-kind": "compound", "item-severity": "red"},
    )
    assert response.status_code == 302
    item = meeting.items.get(work_order=order)
    assert (item.title, item.kind, item.severity, item.position) == (order.title, "compound", "red", 2)
    page = text(staff.get(_url("meeting", meeting.pk)))
    assert reverse("orders:detail", args=[order.pk]) in page and "order-sev-red" in page
    assert reverse("orders:detail", args=[order.pk]) not in text(
        client_for(w.grid_worker_a2).get(_url("meeting", meeting.pk))  # the order is in grid A1
    )
    empty = staff.post(_url("agenda_add", meeting.pk), {"item-kind": "compound", "item-severity": "red"})
    assert empty.status_code == 400 and 'id="act-agenda" open' in text(empty)
    foreign = staff.post(
        _url("agenda_add", meeting.pk), {"item-work_order": 999999, "item-kind": "family", "item-severity": "blue"}
    )
    assert foreign.status_code == 400 and meeting.items.count() == 2


def test_edit_an_agenda_item(w: SimpleNamespace) -> None:
    item = w.council.item
    staff = client_for(w.grid_worker_a1)
    assert "3楼楼道漏水" in text(staff.get(_url("agenda_edit", item.pk)))
    data = {"item-title": "3楼楼道漏水（复查）", "item-kind": "compound", "item-severity": "red"}
    assert staff.post(_url("agenda_edit", item.pk), data).status_code == 302
    item.refresh_from_db()
    assert (item.title, item.kind, item.severity) == ("3楼楼道漏水（复查）", "compound", "red")


def test_record_a_resolution_with_owner_and_supervisor(w: SimpleNamespace) -> None:
    item = w.council.item
    staff = client_for(w.staff_a)
    page = text(staff.get(_url("meeting", w.council.meeting.pk)))
    assert "网格员一" in page and f'name="res{item.pk}-supervisor"' in page
    assert "王秀英" not in page.split(f'name="res{item.pk}-supervisor"')[1].split("</select>")[0]  # residents aren't
    due = (timezone.localdate() + timedelta(days=14)).isoformat()
    data = {
        f"res{item.pk}-text": "物业清理楼道堆物",
        f"res{item.pk}-owner": "兴庆物业",
        f"res{item.pk}-due_on": due,
        f"res{item.pk}-owner_user": w.grid_worker_a1.pk,
        f"res{item.pk}-supervisor": w.grid_chief_a1.pk,
        f"res{item.pk}-on_echo_wall": "on",
    }
    assert staff.post(_url("resolution_new", item.pk), data).status_code == 302
    made = item.resolutions.get(text="物业清理楼道堆物")
    assert (made.owner_user_id, made.supervisor_id, made.on_echo_wall) == (
        w.grid_worker_a1.pk,
        w.grid_chief_a1.pk,
        True,
    )
    shown = text(client_for(w.resident_a1).get(_url("meeting", w.council.meeting.pk)))
    assert "物业清理楼道堆物" in shown and reverse("council:resolution", args=[made.pk]) in shown
    outsider = {**data, f"res{item.pk}-supervisor": w.staff_b.pk}
    assert staff.post(_url("resolution_new", item.pk), outsider).status_code == 400
    early = {**data, f"res{item.pk}-due_on": "2000-01-01"}
    bad = staff.post(_url("resolution_new", item.pk), early)
    assert bad.status_code == 400 and item.resolutions.count() == 2
