"""Who may call each council API operation (merged by tests/test_api_permissions.py).

Everything sits in community A: the series 兴庆夜话 of linli.council.testing.make_council with its HELD meeting in
compound 兴庆小区 (grid A1), its agenda item and the resolution carried out by grid worker A1 and supervised by the grid
chief; a PLANNED meeting next to it for the steps only a planned meeting takes; the roof-repair vote on 1号楼 (bA1),
on whose roll 王秀英 (resident_a1) stands. Each user's request runs in a savepoint that is rolled back, so each builds
what it needs afresh.

Readers of meetings and resolutions: everyone who lives or works in A but the merchant's operator (council.view).
Running the meeting (agenda, attendance, minutes, resolutions, their progress): A's staff, the street admin and grid
A1's chief and worker — not grid A2's worker. Chasing: the staff and the named supervisor (the grid chief). Moving
due dates, naming supervisors, dropping, reopening: staff and the grid chief. Check-in and rating: the resident.
Figures: staff, the grid chief and the auditor. Votes on 1号楼: staff, grid A1's roles, the steward of bA1 and the
auditor read them, and the owner on the roll; staff prepare, open, void, close and cancel; staff and grid A1's roles
record paper ballots; only the owner casts their own. The echo wall is public (checked apart: every caller, no sign-in
needed).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from linli.council import services
from linli.council.models import Attendance, Ballot, Invitation, Meeting, OwnersVote, Resolution
from linli.council.testing import add_roof_units, make_council, make_vote
from linli.org.access import actor_for
from linli.org.models import Household
from linli.org.tests.test_api_permissions import EVERYONE, IN_COMMUNITY_A, Op, Request, allow

STAFF_A = allow("street_admin", "staff_a")
# council.view: everyone who lives or works in A, but not the merchant's operator
VIEW_A = allow(
    "street_admin",
    "staff_a",
    "grid_chief_a1",
    "grid_worker_a1",
    "grid_worker_a2",
    "steward_a1",
    "auditor_a",
    "resident_a1",
)
RUN_A1 = allow("street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1")
SUPERVISE_A = allow("street_admin", "staff_a", "grid_chief_a1")
RESIDENT = allow("resident_a1")
REPORT_A = allow("street_admin", "staff_a", "grid_chief_a1", "auditor_a")
# vote.view on 1号楼 (bA1, grid A1)
VOTE_VIEW = allow("street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1", "steward_a1", "auditor_a")
VOTE_SEE = allow("street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1", "steward_a1", "auditor_a", "resident_a1")
RECORD_A1 = allow("street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1")

MATRIX: dict[Op, dict[str, bool]] = {
    ("GET", "/council/series"): VIEW_A,  # ?community=A
    ("POST", "/council/series"): STAFF_A,
    ("PATCH", "/council/series/{series_id}"): STAFF_A,
    ("GET", "/council/meetings"): VIEW_A,  # ?community=A
    ("POST", "/council/meetings"): RUN_A1,  # in compound 兴庆小区 (grid A1)
    ("GET", "/council/meetings/{meeting_id}"): VIEW_A,
    ("PATCH", "/council/meetings/{meeting_id}"): RUN_A1,
    ("POST", "/council/meetings/{meeting_id}/invitations"): RUN_A1,  # the planned meeting
    ("DELETE", "/council/invitations/{invitation_id}"): RUN_A1,
    ("POST", "/council/meetings/{meeting_id}/attendance"): RUN_A1,
    ("DELETE", "/council/attendance/{attendance_id}"): RUN_A1,
    ("POST", "/council/meetings/{meeting_id}/checkin"): RESIDENT,
    ("POST", "/council/meetings/{meeting_id}/items"): RUN_A1,
    ("PATCH", "/council/items/{item_id}"): RUN_A1,
    ("POST", "/council/meetings/{meeting_id}/hold"): RUN_A1,  # the planned meeting
    ("PUT", "/council/meetings/{meeting_id}/minutes"): RUN_A1,
    ("POST", "/council/meetings/{meeting_id}/close"): RUN_A1,
    ("POST", "/council/meetings/{meeting_id}/cancel"): RUN_A1,  # the planned meeting
    ("POST", "/council/items/{item_id}/resolutions"): RUN_A1,
    ("GET", "/council/resolutions"): VIEW_A,  # ?community=A
    ("GET", "/council/resolutions/{resolution_id}"): VIEW_A,
    ("POST", "/council/resolutions/{resolution_id}/progress"): RUN_A1,  # the owner (grid worker A1) too
    ("POST", "/council/resolutions/{resolution_id}/done"): RUN_A1,
    ("POST", "/council/resolutions/{resolution_id}/chase"): SUPERVISE_A,  # the supervisor is the grid chief
    ("POST", "/council/resolutions/{resolution_id}/reply"): RUN_A1,
    ("POST", "/council/resolutions/{resolution_id}/supervisor"): SUPERVISE_A,
    ("POST", "/council/resolutions/{resolution_id}/due"): SUPERVISE_A,
    ("POST", "/council/resolutions/{resolution_id}/drop"): SUPERVISE_A,
    ("POST", "/council/resolutions/{resolution_id}/reopen"): SUPERVISE_A,  # a done resolution
    ("PUT", "/council/resolutions/{resolution_id}/evaluation"): RESIDENT,  # a done resolution
    ("GET", "/council/echo-wall"): EVERYONE,  # public: see PUBLIC in test_api_permissions.py
    ("GET", "/council/figures"): REPORT_A,  # ?community=A
    ("GET", "/council/votes"): IN_COMMUNITY_A,  # ?community=A: a scoped list, empty for those who see none
    ("POST", "/council/votes"): STAFF_A,
    ("GET", "/council/votes/{vote_id}"): VOTE_SEE,  # the open vote: its owner on the roll too
    ("PATCH", "/council/votes/{vote_id}"): STAFF_A,  # a draft
    ("GET", "/council/votes/{vote_id}/roll-check"): VOTE_VIEW,  # a draft
    ("POST", "/council/votes/{vote_id}/open"): STAFF_A,
    ("GET", "/council/votes/{vote_id}/roll"): VOTE_VIEW,
    ("POST", "/council/votes/{vote_id}/ballots"): RECORD_A1,
    ("POST", "/council/votes/{vote_id}/my-ballot"): RESIDENT,
    ("POST", "/council/ballots/{ballot_id}/void"): STAFF_A,
    ("POST", "/council/votes/{vote_id}/close"): STAFF_A,  # its time is up
    ("POST", "/council/votes/{vote_id}/cancel"): STAFF_A,
    ("GET", "/council/votes/{vote_id}/verify"): VOTE_SEE,  # a closed vote
}


def _council(w: Any) -> Any:
    # each user's request runs in a savepoint that is rolled back: the council may be gone again
    if not Meeting.objects.filter(community=w.A).exists():
        c = make_council(w)
        w.series, w.meeting, w.item, w.resolution = c.series, c.meeting, c.item, c.resolution
    return w


def _planned(w: Any) -> Meeting:
    w = _council(w)
    return services.meeting_create(
        actor=actor_for(w.staff_a),
        series=w.series,
        data=services.MeetingData(
            title="加装电梯",
            starts_at=timezone.now() + timedelta(days=2),
            place="1号楼下",
            host="社区书记",
            building=w.bA1,
        ),
    )


def _invitation(w: Any) -> Invitation:
    return services.meeting_invite(actor=actor_for(w.staff_a), meeting=_planned(w), kind="lawyer", name="社区律师")


def _attendance(w: Any) -> Attendance:
    w = _council(w)
    return services.attendance_record(actor=actor_for(w.staff_a), meeting=w.meeting, name="物业经理", kind="property")


def _with_minutes(w: Any) -> Meeting:
    w = _council(w)
    return services.meeting_minutes(actor=actor_for(w.staff_a), meeting=w.meeting, minutes="议定换管。")


def _done(w: Any) -> Resolution:
    w = _council(w)
    return services.resolution_done(actor=actor_for(w.staff_a), resolution=w.resolution, text="换好了")


def _roof(w: Any) -> Any:
    if not Household.objects.filter(building=w.bA1, room="602").exists():
        add_roof_units(w)
    return w


def _draft(w: Any) -> OwnersVote:
    return make_vote(_roof(w), open_it=False)


def _open(w: Any) -> OwnersVote:
    return make_vote(_roof(w))


def _ballot(w: Any) -> Ballot:
    vote = _open(w)
    return services.ballot_record(
        actor=actor_for(w.staff_a), vote=vote, entry=vote.roll.get(position=2), choice="agree"
    )


def _time_up(w: Any) -> OwnersVote:
    vote = _open(w)
    OwnersVote.objects.filter(pk=vote.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    return vote


def _closed(w: Any) -> OwnersVote:
    vote = _time_up(w)
    return services.vote_close(actor=actor_for(w.staff_a), vote=vote)


def _vote_body(w: Any) -> dict[str, Any]:
    return {
        "community_id": w.A.pk,
        "title": "1号楼屋面防水维修",
        "proposal": "屋面整体防水维修。",
        "matter": "rebuild",
        "closes_at": (timezone.now() + timedelta(days=10)).isoformat(),
        "building_id": w.bA1.pk,
    }


REQUESTS: dict[Op, Request] = {
    ("GET", "/council/series"): lambda w: (f"/council/series?community={_council(w).A.pk}", None),
    ("POST", "/council/series"): lambda w: ("/council/series", {"community_id": w.A.pk, "name": "府西夜话"}),
    ("PATCH", "/council/series/{series_id}"): lambda w: (
        f"/council/series/{_council(w).series.pk}",
        {"description": "每月第一个周五晚"},
    ),
    ("GET", "/council/meetings"): lambda w: (f"/council/meetings?community={_council(w).A.pk}", None),
    ("POST", "/council/meetings"): lambda w: (
        "/council/meetings",
        {
            "series_id": _council(w).series.pk,
            "title": "停车难",
            "starts_at": (timezone.now() + timedelta(days=5)).isoformat(),
            "place": "兴庆小区议事亭",
            "host": "网格长",
            "compound_id": w.cpA.pk,
        },
    ),
    ("GET", "/council/meetings/{meeting_id}"): lambda w: (f"/council/meetings/{_council(w).meeting.pk}", None),
    ("PATCH", "/council/meetings/{meeting_id}"): lambda w: (
        f"/council/meetings/{_council(w).meeting.pk}",
        {"title": "楼道漏水"},
    ),
    ("POST", "/council/meetings/{meeting_id}/invitations"): lambda w: (
        f"/council/meetings/{_planned(w).pk}/invitations",
        {"kind": "lawyer", "name": "社区律师"},
    ),
    ("DELETE", "/council/invitations/{invitation_id}"): lambda w: (f"/council/invitations/{_invitation(w).pk}", None),
    ("POST", "/council/meetings/{meeting_id}/attendance"): lambda w: (
        f"/council/meetings/{_council(w).meeting.pk}/attendance",
        {"person_id": w.pA1.pk},
    ),
    ("DELETE", "/council/attendance/{attendance_id}"): lambda w: (f"/council/attendance/{_attendance(w).pk}", None),
    ("POST", "/council/meetings/{meeting_id}/checkin"): lambda w: (
        f"/council/meetings/{_council(w).meeting.pk}/checkin",
        {"code": w.meeting.checkin_code},
    ),
    ("POST", "/council/meetings/{meeting_id}/items"): lambda w: (
        f"/council/meetings/{_council(w).meeting.pk}/items",
        {"title": "停车", "kind": "compound", "severity": "blue"},
    ),
    ("PATCH", "/council/items/{item_id}"): lambda w: (f"/council/items/{_council(w).item.pk}", {"severity": "red"}),
    ("POST", "/council/meetings/{meeting_id}/hold"): lambda w: (f"/council/meetings/{_planned(w).pk}/hold", None),
    ("PUT", "/council/meetings/{meeting_id}/minutes"): lambda w: (
        f"/council/meetings/{_council(w).meeting.pk}/minutes",
        {"minutes": "议定换管。"},
    ),
    ("POST", "/council/meetings/{meeting_id}/close"): lambda w: (
        f"/council/meetings/{_with_minutes(w).pk}/close",
        {"report": "已完成。"},
    ),
    ("POST", "/council/meetings/{meeting_id}/cancel"): lambda w: (
        f"/council/meetings/{_planned(w).pk}/cancel",
        {"reason": "下雨"},
    ),
    ("POST", "/council/items/{item_id}/resolutions"): lambda w: (
        f"/council/items/{_council(w).item.pk}/resolutions",
        {"text": "清理堆物", "owner": "物业", "due_on": (timezone.localdate() + timedelta(days=3)).isoformat()},
    ),
    ("GET", "/council/resolutions"): lambda w: (f"/council/resolutions?community={_council(w).A.pk}", None),
    ("GET", "/council/resolutions/{resolution_id}"): lambda w: (
        f"/council/resolutions/{_council(w).resolution.pk}",
        None,
    ),
    ("POST", "/council/resolutions/{resolution_id}/progress"): lambda w: (
        f"/council/resolutions/{_council(w).resolution.pk}/progress",
        {"progress": 50, "text": "管子到了"},
    ),
    ("POST", "/council/resolutions/{resolution_id}/done"): lambda w: (
        f"/council/resolutions/{_council(w).resolution.pk}/done",
        {"text": "换好了"},
    ),
    ("POST", "/council/resolutions/{resolution_id}/chase"): lambda w: (
        f"/council/resolutions/{_council(w).resolution.pk}/chase",
        {"text": "抓紧"},
    ),
    ("POST", "/council/resolutions/{resolution_id}/reply"): lambda w: (
        f"/council/resolutions/{_council(w).resolution.pk}/reply",
        {"text": "本周完成"},
    ),
    ("POST", "/council/resolutions/{resolution_id}/supervisor"): lambda w: (
        f"/council/resolutions/{_council(w).resolution.pk}/supervisor",
        {"user_id": w.staff_a.pk},
    ),
    ("POST", "/council/resolutions/{resolution_id}/due"): lambda w: (
        f"/council/resolutions/{_council(w).resolution.pk}/due",
        {"due_on": (timezone.localdate() + timedelta(days=30)).isoformat(), "reason": "等配件"},
    ),
    ("POST", "/council/resolutions/{resolution_id}/drop"): lambda w: (
        f"/council/resolutions/{_council(w).resolution.pk}/drop",
        {"reason": "业委会接手"},
    ),
    ("POST", "/council/resolutions/{resolution_id}/reopen"): lambda w: (
        f"/council/resolutions/{_done(w).pk}/reopen",
        {"reason": "又漏了"},
    ),
    ("PUT", "/council/resolutions/{resolution_id}/evaluation"): lambda w: (
        f"/council/resolutions/{_done(w).pk}/evaluation",
        {"rating": 5, "comment": "及时"},
    ),
    ("GET", "/council/echo-wall"): lambda w: (f"/council/echo-wall?community={_council(w).A.code}", None),
    ("GET", "/council/figures"): lambda w: (f"/council/figures?community={_council(w).A.pk}", None),
    ("GET", "/council/votes"): lambda w: (f"/council/votes?community={_open(w).community_id}", None),
    ("POST", "/council/votes"): lambda w: ("/council/votes", _vote_body(_roof(w))),
    ("GET", "/council/votes/{vote_id}"): lambda w: (f"/council/votes/{_open(w).pk}", None),
    ("PATCH", "/council/votes/{vote_id}"): lambda w: (f"/council/votes/{_draft(w).pk}", {"title": "屋面维修"}),
    ("GET", "/council/votes/{vote_id}/roll-check"): lambda w: (f"/council/votes/{_draft(w).pk}/roll-check", None),
    ("POST", "/council/votes/{vote_id}/open"): lambda w: (f"/council/votes/{_draft(w).pk}/open", None),
    ("GET", "/council/votes/{vote_id}/roll"): lambda w: (f"/council/votes/{_open(w).pk}/roll", None),
    ("POST", "/council/votes/{vote_id}/ballots"): lambda w: _record(_open(w)),
    ("POST", "/council/votes/{vote_id}/my-ballot"): lambda w: (
        f"/council/votes/{_open(w).pk}/my-ballot",
        {"choice": "agree"},
    ),
    ("POST", "/council/ballots/{ballot_id}/void"): lambda w: (
        f"/council/ballots/{_ballot(w).pk}/void",
        {"reason": "录错"},
    ),
    ("POST", "/council/votes/{vote_id}/close"): lambda w: (f"/council/votes/{_time_up(w).pk}/close", None),
    ("POST", "/council/votes/{vote_id}/cancel"): lambda w: (
        f"/council/votes/{_open(w).pk}/cancel",
        {"reason": "重新公示"},
    ),
    ("GET", "/council/votes/{vote_id}/verify"): lambda w: (f"/council/votes/{_closed(w).pk}/verify", None),
}


def _record(vote: OwnersVote) -> tuple[str, Any]:
    return f"/council/votes/{vote.pk}/ballots", {"entry_id": vote.roll.get(position=3).pk, "choice": "disagree"}
