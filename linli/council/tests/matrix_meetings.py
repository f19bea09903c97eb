"""Page permission rows for the meeting pages (see linli/common/tests/matrix.py).

Readers (council.view in A): A's staff and the street admin, every grid role of A, the steward, the auditor and A's
resident; the merchant and other communities' staff are refused. The meetings of make_council are held in compound
兴庆小区, grid A1: they are run by A's staff and A1's grid chief and worker (grid worker A2 only reads them). Planning
a meeting is open to every grid role of A (the service then refuses a grid that is not theirs); the series are the
staff's. Only a resident signs in by the QR code.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from django.utils import timezone

from linli.common.tests.matrix import A1_GRID, A_READERS, A_STAFF, Page, in_a
from linli.council import services
from linli.council.models import Attendance, Invitation, Meeting, MeetingSeries, MeetingStatus
from linli.council.testing import make_council
from linli.org.access import actor_for

VIEWERS = A_READERS | {"resident_a1"}
RUNNERS = A_STAFF | A1_GRID
PLANNERS = RUNNERS | {"grid_worker_a2"}


def _council(w: SimpleNamespace) -> SimpleNamespace:
    """make_council's held meeting (with minutes, so it can close), a planned one with an invited lawyer, and a guest
    signed in at the held one."""
    if not hasattr(w, "council"):
        w.council = c = make_council(w)
        staff = actor_for(w.staff_a)
        services.meeting_minutes(actor=staff, meeting=c.meeting, minutes="一、楼道漏水：物业一周内换管。")
        c.planned = services.meeting_create(
            actor=staff,
            series=c.series,
            data=services.MeetingData(
                title="停车难",
                starts_at=timezone.now() + timedelta(days=3),
                place="兴庆小区议事亭",
                host="社区工作者甲",
                compound=w.cpA,
            ),
        )
        c.invitation = services.meeting_invite(actor=staff, meeting=c.planned, kind="lawyer", name="社区律师刘律师")
        c.guest = services.attendance_record(actor=staff, meeting=c.meeting, name="物业经理", kind="property")
    return w.council


def _held(w: SimpleNamespace) -> list[Any]:
    return [_council(w).meeting.pk]


def _planned(w: SimpleNamespace) -> list[Any]:
    return [_council(w).planned.pk]


def _item(w: SimpleNamespace) -> list[Any]:
    return [_council(w).item.pk]


def _status(w: SimpleNamespace, status: str) -> bool:
    return Meeting.objects.get(pk=_council(w).planned.pk).status == status


def _meeting_data(w: SimpleNamespace, title: str = "矩阵会议") -> dict[str, Any]:
    return {
        "title": title,
        "day": (timezone.localdate() + timedelta(days=5)).isoformat(),
        "time": "19:00",
        "place": "兴庆小区议事亭",
        "host": "社区工作者甲",
        "compound": w.cpA.pk,
    }


def _new_meeting(w: SimpleNamespace) -> dict[str, Any]:
    return {**_meeting_data(w), "series": _council(w).series.pk, "idempotency_key": "matrix-1"}


def _item_data(w: SimpleNamespace) -> dict[str, Any]:
    _council(w)
    return {"item-title": "矩阵议题", "item-kind": "compound", "item-severity": "blue"}


def _resolution_data(w: SimpleNamespace) -> dict[str, Any]:
    prefix = f"res{_council(w).item.pk}"
    return {
        f"{prefix}-text": "矩阵决议",
        f"{prefix}-owner": "网格员一",
        f"{prefix}-due_on": (timezone.localdate() + timedelta(days=10)).isoformat(),
    }


PAGES: list[Page] = [
    Page("council:meetings", VIEWERS, query=in_a),
    Page("council:series", A_STAFF, query=in_a),
    Page(
        "council:series",
        A_STAFF,
        method="POST",
        query=in_a,
        data=lambda w: {"name": "矩阵议事会", "kind": "consultation", "numbered_from": 1, "is_active": "on"},
        unchanged=lambda w: not MeetingSeries.objects.filter(name="矩阵议事会").exists(),
    ),
    Page("council:meeting_new", PLANNERS, query=in_a),
    Page(
        "council:meeting_new",
        RUNNERS,
        method="POST",
        query=in_a,
        data=_new_meeting,
        unchanged=lambda w: not Meeting.objects.filter(title="矩阵会议").exists(),
    ),
    Page("council:meeting", VIEWERS, args=_held),
    Page("council:meeting", VIEWERS, args=_planned),
    Page("council:meeting_edit", RUNNERS, args=_held),
    Page(
        "council:meeting_edit",
        RUNNERS,
        method="POST",
        args=_planned,
        data=lambda w: _meeting_data(w, "矩阵改名"),
        unchanged=lambda w: not Meeting.objects.filter(title="矩阵改名").exists(),
    ),
    Page(
        "council:meeting_invite",
        RUNNERS,
        method="POST",
        args=_planned,
        data=lambda w: {"inv-kind": "partner", "inv-partner": w.partnerA.pk},
        unchanged=lambda w: not Invitation.objects.filter(partner=w.partnerA).exists(),
    ),
    Page(
        "council:invitation_remove",
        RUNNERS,
        method="POST",
        args=lambda w: [_council(w).invitation.pk],
        unchanged=lambda w: Invitation.objects.filter(pk=_council(w).invitation.pk).exists(),
    ),
    Page(
        "council:attendance_add",
        RUNNERS,
        method="POST",
        args=_held,
        data=lambda w: {"att-name": "矩阵来宾", "att-kind": "lawyer"},
        unchanged=lambda w: not Attendance.objects.filter(name="矩阵来宾").exists(),
    ),
    Page(
        "council:attendance_remove",
        RUNNERS,
        method="POST",
        args=lambda w: [_council(w).guest.pk],
        unchanged=lambda w: Attendance.objects.filter(pk=_council(w).guest.pk).exists(),
    ),
    Page(
        "council:agenda_add",
        RUNNERS,
        method="POST",
        args=_held,
        data=_item_data,
        unchanged=lambda w: not _council(w).meeting.items.filter(title="矩阵议题").exists(),
    ),
    Page("council:agenda_edit", RUNNERS, args=_item),
    Page(
        "council:agenda_edit",
        RUNNERS,
        method="POST",
        args=_item,
        data=_item_data,
        unchanged=lambda w: not _council(w).meeting.items.filter(title="矩阵议题").exists(),
    ),
    Page(
        "council:meeting_hold",
        RUNNERS,
        method="POST",
        args=_planned,
        unchanged=lambda w: _status(w, MeetingStatus.PLANNED),
    ),
    Page(
        "council:meeting_minutes",
        RUNNERS,
        method="POST",
        args=_held,
        data=lambda w: {"minutes": "矩阵纪要"},
        unchanged=lambda w: Meeting.objects.get(pk=_council(w).meeting.pk).minutes != "矩阵纪要",
    ),
    Page(
        "council:meeting_close",
        RUNNERS,
        method="POST",
        args=_held,
        data=lambda w: {"report": "矩阵总结"},
        unchanged=lambda w: Meeting.objects.get(pk=_council(w).meeting.pk).status == MeetingStatus.HELD,
    ),
    Page(
        "council:meeting_cancel",
        RUNNERS,
        method="POST",
        args=_planned,
        data=lambda w: {"reason": "下雨"},
        unchanged=lambda w: _status(w, MeetingStatus.PLANNED),
    ),
    Page("council:resolution_new", RUNNERS, args=_item),
    Page(
        "council:resolution_new",
        RUNNERS,
        method="POST",
        args=_item,
        data=_resolution_data,
        unchanged=lambda w: not _council(w).item.resolutions.filter(text="矩阵决议").exists(),
    ),
    Page("council:meeting_qr", RUNNERS, args=_held),
    Page("council:meeting_print", PLANNERS, args=_held),
    Page("council:checkin", VIEWERS, args=lambda w: [_council(w).meeting.checkin_code]),
    Page(
        "council:checkin",
        frozenset({"resident_a1"}),
        method="POST",
        args=lambda w: [_council(w).meeting.checkin_code],
        unchanged=lambda w: not Attendance.objects.filter(person=w.pA1).exists(),
    ),
]
