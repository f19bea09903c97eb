"""The council over JSON: a meeting from plan to closing report with a resolution chased, done and rated; the roof
repair vote of SEEDS 003 from draft to verified result with exact numbers as strings; bad input of every kind answered
with a code (never a 500, nothing half-written); and ten copies of one owner's ballot sent at once over real HTTP."""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from django.db import connection
from django.test import Client
from django.utils import timezone

from linli.common.testing import client_for
from linli.council.models import (
    Attendance,
    Ballot,
    Evaluation,
    Meeting,
    MeetingStatus,
    OwnersVote,
    Resolution,
    ResolutionStatus,
    VoteStatus,
)
from linli.council.testing import add_roof_units, make_council, make_vote
from linli.ledger.tests.test_concurrency import assert_real_database, real_db  # noqa: F401
from linli.market.tests.test_http_concurrency import _post, _race, live_root, live_url  # noqa: F401
from linli.org.models import ApiToken
from linli.org.services import token_hash

API = "/api/v1"


def call(client: Client, method: str, path: str, body: Any = None, key: str | None = None, raw: Any = None) -> Any:
    kwargs: dict[str, Any] = {"headers": {"Idempotency-Key": key} if key else {}}
    if raw is not None:
        kwargs |= {"data": raw, "content_type": "application/json"}
    elif body is not None:
        kwargs |= {"data": json.dumps(body), "content_type": "application/json"}
    return getattr(client, method.lower())(API + path, **kwargs)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content[:400]
    return response.json() if response.content else None


def refused(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content[:400]
    body = response.json()
    assert body["code"] == code, body
    assert body["message"]
    return body


# --- a meeting from plan to report ------------------------------------------------------------------------------------


def test_meeting_resolution_done_and_rated_over_the_api(world: SimpleNamespace) -> None:
    w = world
    staff, resident = client_for(w.staff_a), client_for(w.resident_a1)
    worker, chief = client_for(w.grid_worker_a1), client_for(w.grid_chief_a1)

    series = ok(
        call(staff, "POST", "/council/series", {"community_id": w.A.pk, "name": "府西夜话", "numbered_from": 270}), 201
    )
    assert series["kind"] == "evening_talk" and series["last_number"] == 0
    refused(call(staff, "POST", "/council/series", {"community_id": w.A.pk, "name": "府西夜话"}), 400, "series_exists")
    assert [s["name"] for s in ok(call(resident, "GET", f"/council/series?community={w.A.pk}"))] == ["府西夜话"]

    plan = {
        "series_id": series["id"],
        "title": "楼道堆物和停车",
        "starts_at": (timezone.now() + timedelta(hours=1)).isoformat(),
        "place": "兴庆小区议事亭",
        "host": "社区书记",
        "compound_id": w.cpA.pk,
    }
    first = ok(call(staff, "POST", "/council/meetings", plan, key="plan-270"), 201)
    again = ok(call(staff, "POST", "/council/meetings", plan, key="plan-270"), 200)
    assert first["id"] == again["id"] and first["number"] == 270
    refused(
        call(staff, "POST", "/council/meetings", plan | {"title": "另一次"}, key="plan-270"),
        409,
        "idempotency_key_reused",
    )
    assert first["grid_id"] == w.A1.pk  # the compound's grid runs it
    assert Meeting.objects.count() == 1
    second = ok(call(staff, "POST", "/council/meetings", plan | {"title": "另一次"}), 201)  # no key: a new session
    assert second["number"] == 271
    mid = first["id"]
    code = first["checkin_code"]
    assert code

    ok(call(staff, "POST", f"/council/meetings/{mid}/invitations", {"kind": "lawyer", "name": "社区律师张明"}), 201)
    ok(call(staff, "POST", f"/council/meetings/{mid}/invitations", {"person_id": w.pA2.pk}), 201)
    refused(
        call(staff, "POST", f"/council/meetings/{mid}/invitations", {"person_id": w.pA2.pk}), 400, "already_invited"
    )
    ok(call(staff, "POST", f"/council/meetings/{mid}/attendance", {"person_id": w.pA2.pk}), 201)
    ok(call(staff, "POST", f"/council/meetings/{mid}/attendance", {"person_id": w.pA2.pk}), 200)
    ok(call(staff, "POST", f"/council/meetings/{mid}/attendance", {"name": "物业经理", "kind": "property"}), 201)
    refused(call(resident, "POST", f"/council/meetings/{mid}/checkin", {"code": "wrong"}), 400, "checkin_code_invalid")
    ok(call(resident, "POST", f"/council/meetings/{mid}/checkin", {"code": code}), 201)
    ok(call(resident, "POST", f"/council/meetings/{mid}/checkin", {"code": code}), 200)
    assert Attendance.objects.filter(meeting_id=mid).count() == 3

    # a resident reads the meeting: others' names masked, their own in full, no check-in secret
    seen = ok(call(resident, "GET", f"/council/meetings/{mid}"))
    assert seen["checkin_code"] is None and seen["may_run"] is False
    names = {a["name"] for a in seen["attendance"]}
    assert names == {"李*华", "物**理", "王秀英"}, names
    assert {i["name"] for i in seen["invitations"]} == {"社区律师张明", "李*华"}
    assert ok(call(staff, "GET", f"/council/meetings/{mid}"))["attendance"][0]["name"] == "李建华"

    item = ok(
        call(
            staff,
            "POST",
            f"/council/meetings/{mid}/items",
            {"title": "楼道堆物", "kind": "compound", "severity": "blue"},
        ),
        201,
    )
    assert item["position"] == 1 and item["resolutions"] == []
    item = ok(call(staff, "PATCH", f"/council/items/{item['id']}", {"severity": "yellow"}))
    assert item["severity"] == "yellow" and item["title"] == "楼道堆物"

    refused(call(staff, "POST", f"/council/items/{item['id']}/resolutions", _resolution(w)), 409, "meeting_status")
    held = ok(call(staff, "POST", f"/council/meetings/{mid}/hold"))
    assert held["status"] == "held"
    refused(call(staff, "POST", f"/council/meetings/{mid}/hold"), 409, "meeting_status")
    refused(call(staff, "POST", f"/council/meetings/{mid}/close", {"report": "完"}), 400, "minutes_required")
    ok(call(staff, "PUT", f"/council/meetings/{mid}/minutes", {"minutes": "议定：物业三日内清理堆物。"}))

    res = ok(call(staff, "POST", f"/council/items/{item['id']}/resolutions", _resolution(w)), 201)
    rid = res["id"]
    assert res["supervisor_name"] == "网格长" and res["status"] == "open"

    refused(
        call(resident, "POST", f"/council/resolutions/{rid}/progress", {"progress": 10, "text": "x"}), 403, "forbidden"
    )
    refused(
        call(worker, "POST", f"/council/resolutions/{rid}/progress", {"progress": 100, "text": "x"}), 400, "invalid"
    )
    res = ok(call(worker, "POST", f"/council/resolutions/{rid}/progress", {"progress": 40, "text": "清走一半"}))
    assert res["status"] == "in_progress" and res["progress"] == 40
    ok(call(chief, "POST", f"/council/resolutions/{rid}/chase", {"text": "周五前务必清完"}))
    ok(call(worker, "POST", f"/council/resolutions/{rid}/reply", {"text": "周五清完"}))

    # the chase is on the record for those who work here, not for residents
    staff_kinds = [e["kind"] for e in ok(call(staff, "GET", f"/council/resolutions/{rid}"))["timeline"]]
    resident_kinds = [e["kind"] for e in ok(call(resident, "GET", f"/council/resolutions/{rid}"))["timeline"]]
    assert "chase" in staff_kinds and "chase" not in resident_kinds and "reply" in resident_kinds

    refused(call(resident, "PUT", f"/council/resolutions/{rid}/evaluation", {"rating": 5}), 409, "evaluation_not_open")
    done = ok(call(worker, "POST", f"/council/resolutions/{rid}/done", {"text": "堆物已清"}))
    assert done["status"] == "done" and done["progress"] == 100
    refused(call(worker, "POST", f"/council/resolutions/{rid}/done", {"text": "again"}), 409, "resolution_status")

    refused(call(resident, "PUT", f"/council/resolutions/{rid}/evaluation", {"rating": 6}), 400, "rating_invalid")
    ok(call(resident, "PUT", f"/council/resolutions/{rid}/evaluation", {"rating": 5, "comment": "很快"}))
    rated = ok(call(resident, "PUT", f"/council/resolutions/{rid}/evaluation", {"rating": 4}))
    assert rated["rating"] == 4
    assert Evaluation.objects.filter(resolution_id=rid).count() == 1
    detail = ok(call(resident, "GET", f"/council/resolutions/{rid}"))
    assert detail["rating_avg"] == 4.0 and detail["my_evaluation"]["rating"] == 4

    closed = ok(call(staff, "POST", f"/council/meetings/{mid}/close", {"report": "堆物清理完毕，居民满意。"}))
    assert closed["status"] == "closed"
    assert closed["items"][0]["solved_at"] is not None
    assert closed["items"][0]["resolutions"][0]["rating_count"] == 1

    listed = ok(call(resident, "GET", f"/council/resolutions?community={w.A.pk}&status=done"))
    assert [r["id"] for r in listed["items"]] == [rid]
    assert ok(call(worker, "GET", f"/council/resolutions?community={w.A.pk}&mine=true"))["count"] == 1
    assert ok(call(resident, "GET", f"/council/resolutions?community={w.A.pk}&status=open"))["count"] == 0
    meetings = ok(call(resident, "GET", f"/council/meetings?community={w.A.pk}&status=closed"))
    assert [m["id"] for m in meetings["items"]] == [mid]

    figures = ok(call(staff, "GET", f"/council/figures?community={w.A.pk}"))
    assert figures["sessions"] == 1 and figures["problems"] == 1 and figures["solved"] == 1
    assert figures["by_kind"] == {"family": 0, "compound": 1, "external": 0}
    assert figures["grid"]["compound"]["yellow"] == 1 and figures["rating_avg"] == 4.0
    refused(call(resident, "GET", f"/council/figures?community={w.A.pk}"), 403, "forbidden")

    # the echo wall: anyone, no sign-in, no login or supervisor named
    wall = ok(call(Client(), "GET", f"/council/echo-wall?community={w.A.code}"))
    assert wall["count"] == 1
    shown = wall["items"][0]
    assert shown["text"] == "物业三日内清理楼道堆物" and shown["status"] == "done" and shown["rating_count"] == 1
    text = json.dumps(wall, ensure_ascii=False)
    assert "网格长" not in text and "网格员一" not in text and "王秀英" not in text
    assert {e["kind"] for e in shown["entries"]} >= {"reply", "done"} and "chase" not in text
    refused(call(Client(), "GET", "/council/echo-wall?community=nowhere"), 404, "not_found")


def _resolution(w: SimpleNamespace) -> dict[str, Any]:
    return {
        "text": "物业三日内清理楼道堆物",
        "owner": "物业公司",
        "due_on": (timezone.localdate() + timedelta(days=3)).isoformat(),
        "owner_user_id": w.grid_worker_a1.pk,
        "supervisor_id": w.grid_chief_a1.pk,
    }


def test_supervision_due_drop_and_reopen(world: SimpleNamespace) -> None:
    w = world
    c = make_council(w)
    staff, chief, worker = client_for(w.staff_a), client_for(w.grid_chief_a1), client_for(w.grid_worker_a1)
    rid = c.resolution.pk
    refused(call(worker, "POST", f"/council/resolutions/{rid}/supervisor", {"user_id": None}), 403, "forbidden")
    assert ok(call(chief, "POST", f"/council/resolutions/{rid}/supervisor", {"user_id": None}))["supervisor_id"] is None
    refused(
        call(chief, "POST", f"/council/resolutions/{rid}/supervisor", {"user_id": w.staff_b.pk}), 400, "other_community"
    )
    ok(call(chief, "POST", f"/council/resolutions/{rid}/supervisor", {"user_id": w.grid_chief_a1.pk}))
    later = (timezone.localdate() + timedelta(days=30)).isoformat()
    res = ok(call(chief, "POST", f"/council/resolutions/{rid}/due", {"due_on": later, "reason": "等配件"}))
    assert res["due_on"] == later
    ok(call(worker, "POST", f"/council/resolutions/{rid}/done", {"text": "换好了"}))
    res = ok(call(chief, "POST", f"/council/resolutions/{rid}/reopen", {"reason": "又漏了"}))
    assert res["status"] == "in_progress" and res["progress"] == 90
    res = ok(call(staff, "POST", f"/council/resolutions/{rid}/drop", {"reason": "改由业委会处理"}))
    assert res["status"] == "dropped"
    refused(call(staff, "POST", f"/council/resolutions/{rid}/drop", {"reason": "x"}), 409, "resolution_status")
    assert ok(call(Client(), "GET", f"/council/echo-wall?community={w.A.code}"))["count"] == 0  # dropped: off the wall


def test_planned_meeting_is_changed_invitations_removed_then_cancelled(world: SimpleNamespace) -> None:
    w = world
    c = make_council(w)
    staff = client_for(w.staff_a)
    plan = {
        "series_id": c.series.pk,
        "title": "加装电梯",
        "starts_at": (timezone.now() + timedelta(days=3)).isoformat(),
        "place": "社区会议室",
        "host": "社区书记",
    }
    m = ok(call(staff, "POST", "/council/meetings", plan), 201)
    assert m["grid_id"] is None and m["number"] == 270
    m = ok(call(staff, "PATCH", f"/council/meetings/{m['id']}", {"building_id": w.bA2.pk, "place": "2号楼下"}))
    assert m["grid_id"] == w.A2.pk and m["place"] == "2号楼下" and m["title"] == "加装电梯"
    refused(call(staff, "PATCH", f"/council/meetings/{m['id']}", {"title": None}), 400, "invalid_input")
    inv = ok(call(staff, "POST", f"/council/meetings/{m['id']}/invitations", {"partner_id": w.partnerA.pk}), 201)
    assert inv["kind"] == "partner" and inv["name"] == "莲湖供电所"
    assert ok(call(staff, "DELETE", f"/council/invitations/{inv['id']}"), 204) is None
    att = ok(call(staff, "POST", f"/council/meetings/{m['id']}/attendance", {"name": "电梯公司"}), 201)
    ok(call(staff, "DELETE", f"/council/attendance/{att['id']}"), 204)
    refused(call(staff, "DELETE", f"/council/attendance/{att['id']}"), 404, "not_found")
    # grid worker A1 does not run a meeting held in grid A2; B's staff do not see it at all
    refused(
        call(client_for(w.grid_worker_a1), "POST", f"/council/meetings/{m['id']}/cancel", {"reason": "x"}),
        403,
        "forbidden",
    )
    refused(call(client_for(w.staff_b), "GET", f"/council/meetings/{m['id']}"), 404, "not_found")
    refused(call(staff, "POST", f"/council/meetings/{m['id']}/cancel", {"reason": ""}), 400, "required")
    done = ok(call(staff, "POST", f"/council/meetings/{m['id']}/cancel", {"reason": "天气原因"}))
    assert done["status"] == "cancelled" and done["cancel_reason"] == "天气原因"
    series = ok(call(staff, "PATCH", f"/council/series/{c.series.pk}", {"is_active": False}))
    assert series["is_active"] is False and series["name"] == "兴庆夜话"
    refused(call(staff, "POST", "/council/meetings", plan), 400, "series_inactive")


# --- the roof repair vote ---------------------------------------------------------------------------------------------


def test_roof_vote_from_draft_to_verified_result(world: SimpleNamespace) -> None:
    w = world
    staff, owner, chief = client_for(w.staff_a), client_for(w.resident_a1), client_for(w.grid_chief_a1)
    closes = (timezone.now() + timedelta(days=10)).isoformat()
    draft = {
        "community_id": w.A.pk,
        "title": "1号楼屋面防水维修",
        "proposal": "屋面整体防水维修，太阳能热水器临时拆除。",
        "matter": "rebuild",
        "closes_at": closes,
        "building_id": w.bA1.pk,
    }
    refused(call(staff, "POST", "/council/votes", draft | {"compound_id": w.cpA.pk}), 400, "vote_place")
    vote = ok(call(staff, "POST", "/council/votes", draft), 201)
    vid = vote["id"]
    assert vote["status"] == "draft" and vote["special"] is True and vote["tally"] is None

    check = ok(call(staff, "GET", f"/council/votes/{vid}/roll-check"))
    assert check["complete"] is True and check["total_owners"] == 1  # only 王秀英's 101 so far
    add_roof_units(w)
    check = ok(call(staff, "GET", f"/council/votes/{vid}/roll-check"))
    assert check["complete"] is True and check["total_owners"] == 9 and check["total_area"] == "959.50"
    developer = [v for v in check["voters"] if v["is_developer"]]
    assert [(v["area"], v["units"], v["owners"]) for v in developer] == [("216.50", 2, 0)]
    assert [v["area"] for v in check["voters"] if "402" in v["label"] or "502" in v["label"]] == ["176.40"]
    assert ok(call(staff, "PATCH", f"/council/votes/{vid}", {"title": "1号楼屋面维修"}))["title"] == "1号楼屋面维修"
    refused(call(owner, "GET", f"/council/votes/{vid}"), 404, "not_found")  # not on a roll yet

    opened = ok(call(staff, "POST", f"/council/votes/{vid}/open"))
    assert opened["status"] == "open" and opened["total_area"] == "959.50" and opened["total_owners"] == 9
    refused(call(staff, "PATCH", f"/council/votes/{vid}", {"title": "改"}), 409, "vote_status")

    # the owner on the phone: 201, the same again 200, another choice 409
    mine = ok(call(owner, "POST", f"/council/votes/{vid}/my-ballot", {"choice": "agree"}), 201)
    assert ok(call(owner, "POST", f"/council/votes/{vid}/my-ballot", {"choice": "agree"}), 200)["id"] == mine["id"]
    refused(call(owner, "POST", f"/council/votes/{vid}/my-ballot", {"choice": "disagree"}), 409, "ballot_already_cast")
    seen = ok(call(owner, "GET", f"/council/votes/{vid}"))
    assert seen["my_entry"]["area"] == "75.50" and seen["my_entry"]["ballot"]["choice"] == "agree"
    assert seen["tally"] is None  # owners see the result, not the count so far
    refused(call(owner, "GET", f"/council/votes/{vid}/roll"), 403, "forbidden")
    refused(call(owner, "POST", f"/council/votes/{vid}/close"), 403, "forbidden")

    roll = ok(call(chief, "GET", f"/council/votes/{vid}/roll"))
    assert len(roll) == 9 and sum(e["has_ballot"] for e in roll) == 1
    assert "王秀英" in {e["names"] for e in roll}
    masked = ok(call(client_for(w.steward_a1), "GET", f"/council/votes/{vid}/roll"))
    assert "王秀英" not in {e["names"] for e in masked} and "王*英" in {e["names"] for e in masked}

    live = ok(call(staff, "GET", f"/council/votes/{vid}"))["tally"]
    assert live["final"] is False and live["agree_area"] == {"exact": "151/2", "m2": "75.50"}

    refused(call(staff, "POST", f"/council/votes/{vid}/close"), 409, "vote_still_running")
    wrong = None
    for e in roll:
        if e["has_ballot"]:
            continue
        choice = "disagree" if "301" in e["label"] else "abstain" if e["is_developer"] else "agree"
        if "102" in e["label"]:
            wrong = ok(
                call(chief, "POST", f"/council/votes/{vid}/ballots", {"entry_id": e["id"], "choice": "disagree"}), 201
            )
            refused(
                call(chief, "POST", f"/council/votes/{vid}/ballots", {"entry_id": e["id"], "choice": choice}),
                409,
                "ballot_already_cast",
            )
            refused(call(chief, "POST", f"/council/ballots/{wrong['id']}/void", {"reason": "录错"}), 403, "forbidden")
            voided = ok(call(staff, "POST", f"/council/ballots/{wrong['id']}/void", {"reason": "录错了"}))
            assert voided["voided_at"] is not None
        got = call(
            chief, "POST", f"/council/votes/{vid}/ballots", {"entry_id": e["id"], "choice": choice, "channel": "paper"}
        )
        assert ok(got, 201)["choice"] == choice
    assert wrong is not None
    again = call(chief, "POST", f"/council/votes/{vid}/ballots", {"entry_id": roll[0]["id"], "choice": "agree"})
    assert again.status_code == 200  # the counted ballot, again

    closed = ok(call(staff, "POST", f"/council/votes/{vid}/close"))
    assert closed["status"] == "closed"
    t = closed["tally"]
    assert t["final"] is True
    assert t["total_area"] == {"exact": "1919/2", "m2": "959.50"} and t["total_owners"] == 9
    assert t["part_owners"] == 9 and t["part_area"]["m2"] == "959.50"
    assert t["disagree_area"] == {"exact": "151/2", "m2": "75.50"} and t["disagree_owners"] == 1
    assert t["abstain_area"]["m2"] == "216.50" and t["abstain_owners"] == 1
    assert t["agree_owners"] == 7 and t["agree_area"]["m2"] == "667.50" and t["agree_area"]["exact"] == "1335/2"
    assert t["agree_area_share"] == {"exact": "1335/1919", "percent": "69.57"}
    assert t["threshold"] == {"quorum": "2/3", "majority": "3/4", "strict": False}
    # 7 of 9 owners agree (77.78 %) but only 69.57 % of the area: a rebuild needs three quarters of both
    assert t["majority_owners"] is True and t["majority_area"] is False and t["passed"] is False
    assert closed["passed"] is False and len(closed["digest"]) == 64
    assert len(t["basis"]) == 3 and all(isinstance(b, str) and b for b in t["basis"])
    assert ok(call(owner, "GET", f"/council/votes/{vid}"))["tally"]["passed"] is False  # the result for owners too

    verified = ok(call(owner, "GET", f"/council/votes/{vid}/verify"))
    assert verified == {"ok": True, "problems": [], "digest": closed["digest"]}
    refused(call(owner, "POST", f"/council/votes/{vid}/my-ballot", {"choice": "agree"}), 409, "vote_status")
    listed = ok(call(owner, "GET", f"/council/votes?community={w.A.pk}"))
    assert [v["id"] for v in listed["items"]] == [vid]
    assert ok(call(client_for(w.staff_b), "GET", f"/council/votes?community={w.B.pk}"))["count"] == 0


def test_vote_roll_incomplete_and_cancel(world: SimpleNamespace) -> None:
    w = world
    add_roof_units(w)
    w.hA1.floor_area = None
    w.hA1.save()
    vote = make_vote(w, open_it=False)
    staff = client_for(w.staff_a)
    body = refused(call(staff, "POST", f"/council/votes/{vote.pk}/open"), 409, "roll_incomplete")
    assert body["details"]["missing_area"] == ["1号楼 1单元101"]
    check = ok(call(staff, "GET", f"/council/votes/{vote.pk}/roll-check"))
    assert check["complete"] is False and check["missing_area"] == ["1号楼 1单元101"]
    assert OwnersVote.objects.get(pk=vote.pk).status == VoteStatus.DRAFT
    cancelled = ok(call(staff, "POST", f"/council/votes/{vote.pk}/cancel", {"reason": "面积待核"}))
    assert cancelled["status"] == "cancelled"
    assert ok(call(staff, "GET", f"/council/votes/{vote.pk}/verify"))["ok"] is False


# --- bad input --------------------------------------------------------------------------------------------------------


def test_bad_input_is_a_coded_refusal_never_a_500(world: SimpleNamespace) -> None:
    w = world
    c = make_council(w)
    add_roof_units(w)
    vote = make_vote(w)
    staff = client_for(w.staff_a)
    mid, iid, rid, vid = c.meeting.pk, c.item.pk, c.resolution.pk, vote.pk
    big = 2**63
    cases: list[tuple[str, str, Any]] = [
        ("GET", f"/council/meetings/{big}", None),
        ("GET", f"/council/meetings/{big - 1}", None),
        ("GET", "/council/meetings/-1", None),
        ("GET", "/council/meetings/abc", None),
        ("GET", f"/council/meetings?community={big}", None),
        ("GET", f"/council/meetings?community={w.A.pk}&q=%00x", None),
        ("GET", f"/council/meetings?community={w.A.pk}&status=nonsense", None),
        ("GET", f"/council/meetings?community={w.A.pk}&limit=100000", None),
        ("GET", f"/council/figures?community={w.A.pk}&start=2026-02-30", None),
        ("GET", f"/council/figures?community={w.A.pk}&start=2026-03-01&end=2026-02-01", None),
        ("GET", "/council/echo-wall?community=%00", None),
        ("GET", f"/council/resolutions?community={w.A.pk}&overdue=maybe", None),
        ("POST", "/council/series", {"community_id": w.A.pk, "name": "x\x00y"}),
        ("POST", "/council/series", {"community_id": w.A.pk, "name": "新", "numbered_from": big}),
        ("POST", "/council/series", {"community_id": w.A.pk, "name": "新", "numbered_from": 10**7}),
        ("POST", "/council/series", {"community_id": w.A.pk, "name": ["list"]}),
        (
            "POST",
            "/council/meetings",
            {"series_id": c.series.pk, "title": "t", "starts_at": "2026-02-30T10:00:00", "place": "p", "host": "h"},
        ),
        (
            "POST",
            "/council/meetings",
            {
                "series_id": c.series.pk,
                "title": "t",
                "starts_at": "0001-01-01T00:00:00+08:00",
                "place": "p",
                "host": "h",
            },
        ),
        (
            "POST",
            "/council/meetings",
            {
                "series_id": c.series.pk,
                "title": "t",
                "starts_at": "9999-12-31T23:59:59-08:00",
                "place": "p",
                "host": "h",
            },
        ),
        (
            "POST",
            "/council/meetings",
            {"series_id": c.series.pk, "title": "t", "starts_at": 12, "place": "p", "host": "h", "grid_id": big},
        ),
        (
            "POST",
            "/council/meetings",
            {
                "series_id": c.series.pk,
                "title": "t",
                "starts_at": timezone.now().isoformat(),
                "place": "p",
                "host": "h",
                "grid_id": w.B1.pk,
            },
        ),
        (
            "POST",
            "/council/meetings",
            {
                "series_id": c.series.pk,
                "title": "t",
                "starts_at": timezone.now().isoformat(),
                "place": "p",
                "host": "h",
                "building_id": 999999,
            },
        ),
        ("PATCH", f"/council/meetings/{mid}", {"starts_at": None}),
        ("POST", f"/council/meetings/{mid}/items", {"title": "t", "kind": "war", "severity": "blue"}),
        (
            "POST",
            f"/council/meetings/{mid}/items",
            {"title": "t", "kind": "family", "severity": "blue", "work_order_id": 999999},
        ),
        ("POST", f"/council/meetings/{mid}/items", {"kind": "family", "severity": "blue"}),
        ("POST", f"/council/meetings/{mid}/hold", None),
        ("POST", f"/council/meetings/{mid}/invitations", {"kind": "lawyer", "name": "律师"}),
        ("POST", f"/council/meetings/{mid}/attendance", {"person_id": w.pB1.pk}),
        ("POST", f"/council/meetings/{mid}/attendance", {}),
        ("POST", f"/council/meetings/{mid}/checkin", {"code": "x"}),
        ("PUT", f"/council/meetings/{mid}/minutes", {"minutes": "x" * 20001}),
        ("PUT", f"/council/meetings/{mid}/minutes", "[1, 2]"),
        ("POST", f"/council/items/{iid}/resolutions", {"text": "t", "owner": "o", "due_on": "2026-02-30"}),
        ("POST", f"/council/items/{iid}/resolutions", {"text": "t", "owner": "o", "due_on": "2000-01-01"}),
        (
            "POST",
            f"/council/items/{iid}/resolutions",
            {"text": "t", "owner": "o", "due_on": "2099-01-01", "supervisor_id": w.staff_b.pk},
        ),
        ("POST", f"/council/resolutions/{rid}/progress", {"progress": big, "text": "x"}),
        ("POST", f"/council/resolutions/{rid}/progress", {"progress": -1, "text": "x"}),
        ("POST", f"/council/resolutions/{rid}/progress", {"progress": "half", "text": "x"}),
        ("POST", f"/council/resolutions/{rid}/progress", {"progress": 10, "text": ""}),
        ("POST", f"/council/resolutions/{rid}/due", {"due_on": "2026-13-01", "reason": "x"}),
        ("POST", f"/council/resolutions/{rid}/supervisor", {}),
        ("POST", f"/council/resolutions/{rid}/supervisor", {"user_id": big}),
        ("PUT", f"/council/resolutions/{rid}/evaluation", {"rating": 5}),
        (
            "POST",
            "/council/votes",
            {
                "community_id": w.A.pk,
                "title": "t",
                "proposal": "p",
                "matter": "war",
                "closes_at": "2030-01-01T00:00:00",
                "building_id": w.bA1.pk,
            },
        ),
        (
            "POST",
            "/council/votes",
            {
                "community_id": w.A.pk,
                "title": "t",
                "proposal": "p",
                "matter": "rules",
                "closes_at": "2030-01-01T00:00:00",
            },
        ),
        (
            "POST",
            "/council/votes",
            {
                "community_id": w.A.pk,
                "title": "t",
                "proposal": "p",
                "matter": "rules",
                "closes_at": "2030-01-01T00:00:00",
                "building_id": w.bB1.pk,
            },
        ),
        ("POST", f"/council/votes/{vid}/ballots", {"entry_id": big - 1, "choice": "agree"}),
        ("POST", f"/council/votes/{vid}/ballots", {"entry_id": 1, "choice": "maybe"}),
        (
            "POST",
            f"/council/votes/{vid}/ballots",
            {"entry_id": vote.roll.get(position=1).pk, "choice": "agree", "channel": "phone"},
        ),
        ("POST", f"/council/votes/{vid}/my-ballot", {"choice": "agree"}),
        ("POST", f"/council/votes/{vid}/open", None),
        ("POST", f"/council/votes/{vid}/cancel", {"reason": "\x00"}),
        ("POST", f"/council/ballots/{big}/void", {"reason": "x"}),
        ("POST", f"/council/ballots/{big - 1}/void", {"reason": "x"}),
    ]
    before = (Meeting.objects.count(), Resolution.objects.count(), Ballot.objects.count(), OwnersVote.objects.count())
    problems = []
    for method, path, body in cases:
        raw = body if isinstance(body, str) else None
        response = call(staff, method, path, None if raw else body, raw=raw)
        payload = response.json() if response.content else {}
        if response.status_code not in (400, 403, 404, 409) or not payload.get("code"):
            problems.append(f"{method} {path} {body!r:.80}: {response.status_code} {response.content[:200]!r}")
    assert not problems, "\n".join(problems)
    after = (Meeting.objects.count(), Resolution.objects.count(), Ballot.objects.count(), OwnersVote.objects.count())
    assert before == after
    assert Resolution.objects.get(pk=rid).status == ResolutionStatus.OPEN
    assert Meeting.objects.get(pk=mid).status == MeetingStatus.HELD
    raw = call(staff, "POST", "/council/series", raw=b"{not json")
    refused(raw, 400, "invalid_json")
    refused(call(staff, "POST", f"/council/meetings/{mid}/hold", raw=b"{nope"), 400, "invalid_json")


# --- concurrency ------------------------------------------------------------------------------------------------------


def test_ten_copies_of_one_owners_ballot_count_once(live_url: str) -> None:  # noqa: F811
    """Ten taps on "agree" reach the server at once, each in its own thread and connection: one ballot is counted
    (201), the nine others answer 200 with that same ballot."""
    assert_real_database()
    from linli.common.testing import make_world

    w = make_world()
    add_roof_units(w)
    vote = make_vote(w)
    key = "lnl_council_race_" + "x" * 24
    ApiToken.objects.create(user=w.resident_a1, name="手机", prefix=key[:12], key_hash=token_hash(key))
    connection.close()  # the server's threads and the test's own reads use separate connections from here on

    answers = _race(
        10, lambda i: _post(f"{live_url}/council/votes/{vote.pk}/my-ballot", key, f"tap-{i}", {"choice": "agree"})
    )

    statuses = sorted(status for status, _body in answers)
    assert statuses == [200] * 9 + [201], answers[:3]
    assert len({b["id"] for _status, b in answers}) == 1
    assert Ballot.objects.filter(vote=vote).count() == 1
    assert Ballot.objects.filter(vote=vote, voided_at__isnull=True, cast_by=w.pA1, choice="agree").count() == 1


def test_ten_copies_of_one_meeting_plan_make_one_session(live_url: str) -> None:  # noqa: F811
    """A double-tapped "plan" with one Idempotency-Key, ten times at once: one meeting, one session number used."""
    assert_real_database()
    from linli.common.testing import make_world

    w = make_world()
    c = make_council(w)
    key = "lnl_council_plan_" + "y" * 24
    ApiToken.objects.create(user=w.staff_a, name="平板", prefix=key[:12], key_hash=token_hash(key))
    body = {
        "series_id": c.series.pk,
        "title": "停车难",
        "starts_at": (timezone.now() + timedelta(days=5)).isoformat(),
        "place": "兴庆小区议事亭",
        "host": "社区书记",
    }
    connection.close()

    answers = _race(10, lambda _i: _post(f"{live_url}/council/meetings", key, "plan-once", body))

    statuses = sorted(status for status, _body in answers)
    assert statuses == [200] * 9 + [201], [a for a in answers if a[0] not in (200, 201)][:3]
    assert len({b["id"] for _status, b in answers}) == 1
    assert Meeting.objects.filter(series=c.series).count() == 2  # make_council's and this one
    series = type(c.series).objects.get(pk=c.series.pk)
    assert series.last_number == 2  # no number lost to a retry
