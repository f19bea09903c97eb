"""The resolution pages at work: the board and its overdue list, progress and done by the owner, chasing by the
supervisor, the figures counting a solved problem by kind and colour, the public echo wall without names, the
evaluation desk."""

from __future__ import annotations

import io
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from linli.common.testing import client_for
from linli.council import services
from linli.council.models import AgendaItem, Evaluation, Resolution, ResolutionStatus
from linli.council.testing import make_council
from linli.org.access import actor_for
from linli.org.models import User

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def c(world: SimpleNamespace) -> SimpleNamespace:
    return make_council(world)


def _add(w: SimpleNamespace, c: SimpleNamespace, text: str, due_on: date, *, on_echo_wall: bool = True) -> Resolution:
    return services.resolution_create(
        actor=actor_for(w.staff_a), item=c.item, text=text, owner="社区居委会", due_on=due_on, on_echo_wall=on_echo_wall
    )


def _url(name: str, *args: object) -> str:
    return reverse(f"council:{name}", args=list(args))


# --- the board -------------------------------------------------------------------------------------------------------
def test_overdue_filter_lists_only_late_open_resolutions(world: SimpleNamespace, c: SimpleNamespace) -> None:
    yesterday = TODAY() - timedelta(days=1)  # the meeting was yesterday: the earliest due date it allows
    _add(world, c, "清理楼道杂物", yesterday)
    late_done = _add(world, c, "更换单元门锁", yesterday)
    services.resolution_done(actor=actor_for(world.staff_a), resolution=late_done, text="已更换")
    client = client_for(world.staff_a)

    html = client.get(_url("resolutions"), {"community": world.A.pk, "overdue": "1"}).content.decode()
    assert "清理楼道杂物" in html
    assert "更换单元门锁" not in html  # late, but done
    assert "物业一周内更换漏水管道" not in html  # open, due in a week
    assert 'class="rs-row-late"' in html and '<strong class="rs-late" data-testid="due">' in html

    # the open tab (the default) lists both open ones; the done tab only the done one
    html = client.get(_url("resolutions"), {"community": world.A.pk}).content.decode()
    assert "清理楼道杂物" in html and "物业一周内更换漏水管道" in html and "更换单元门锁" not in html
    html = client.get(_url("resolutions"), {"community": world.A.pk, "status": "done"}).content.decode()
    assert "更换单元门锁" in html and "清理楼道杂物" not in html


def test_board_filters_mine_kind_colour_search(world: SimpleNamespace, c: SimpleNamespace) -> None:
    _add(world, c, "清理楼道杂物", TODAY() + timedelta(days=3))  # nobody's in particular
    client = client_for(world.grid_worker_a1)
    html = client.get(_url("resolutions"), {"community": world.A.pk, "mine": "on"}).content.decode()
    assert "物业一周内更换漏水管道" in html and "清理楼道杂物" not in html
    html = client.get(_url("resolutions"), {"community": world.A.pk, "kind": "external"}).content.decode()
    assert "物业一周内更换漏水管道" not in html
    html = client.get(
        _url("resolutions"), {"community": world.A.pk, "severity": "yellow", "q": "杂物"}
    ).content.decode()
    assert "清理楼道杂物" in html and "物业一周内更换漏水管道" not in html
    # a nonsense filter value is a bad choice, shown as the default board, never a 500
    assert client.get(_url("resolutions"), {"community": world.A.pk, "kind": "x" * 300}).status_code == 200


def test_export_is_the_filtered_board(world: SimpleNamespace, c: SimpleNamespace) -> None:
    _add(world, c, "清理楼道杂物", TODAY() - timedelta(days=1))
    response = client_for(world.auditor_a).get(_url("resolutions_export"), {"community": world.A.pk, "overdue": "1"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2  # the header and the one late resolution
    assert rows[1][0] == "兴庆夜话 269" and rows[1][5] == "清理楼道杂物" and rows[1][11] == 1


# --- one resolution --------------------------------------------------------------------------------------------------
def test_owner_reports_progress_then_done_and_the_problem_counts_as_solved(
    world: SimpleNamespace, c: SimpleNamespace
) -> None:
    owner = client_for(world.grid_worker_a1)
    r = c.resolution
    response = owner.post(_url("resolution_progress", r.pk), {"progress": "50", "text": "管材已采购", "public": "on"})
    assert response.status_code == 302
    r.refresh_from_db()
    assert (r.progress, r.status) == (50, ResolutionStatus.IN_PROGRESS)
    # 100 % is not a progress value: the form refuses it inline, nothing changes
    response = owner.post(_url("resolution_progress", r.pk), {"progress": "100", "text": "好了"})
    assert response.status_code == 400 and "管材已采购" in response.content.decode()
    assert Resolution.objects.get(pk=r.pk).progress == 50
    # an empty text is refused too
    assert owner.post(_url("resolution_done", r.pk), {"text": "  "}).status_code == 400
    assert owner.post(_url("resolution_done", r.pk), {"text": "管道已更换，不再渗水"}).status_code == 302
    r.refresh_from_db()
    assert r.status == ResolutionStatus.DONE and r.progress == 100
    assert AgendaItem.objects.get(pk=c.item.pk).solved_at is not None
    # done twice: 409 inline, not a 500
    response = owner.post(_url("resolution_done", r.pk), {"text": "again"})
    assert response.status_code == 409

    f = client_for(world.staff_a).get(_url("figures"), {"community": world.A.pk})
    assert f.status_code == 200
    figures = f.context["f"]
    assert (figures.sessions, figures.problems, figures.solved) == (1, 1, 1)
    assert figures.by_kind == {"family": 1, "compound": 0, "external": 0}
    assert figures.by_colour == {"blue": 0, "yellow": 1, "red": 0}
    html = f.content.decode()
    headline = html.split('data-testid="headline"', 1)[1].split("</p>", 1)[0]
    assert headline.count('<span class="stat">1</span>') == 3  # 1 session, 1 problem, 1 solved (in any language)

    # reopened: the problem is not solved any more, and the figures say so
    response = client_for(world.grid_chief_a1).post(_url("resolution_reopen", r.pk), {"reason": "又开始渗水"})
    assert response.status_code == 302
    assert AgendaItem.objects.get(pk=c.item.pk).solved_at is None
    figures = client_for(world.staff_a).get(_url("figures"), {"community": world.A.pk}).context["f"]
    assert figures.solved == 0 and figures.by_kind["family"] == 0


def test_chase_by_the_supervisor_and_refused_to_a_stranger(world: SimpleNamespace, c: SimpleNamespace) -> None:
    r = c.resolution
    response = client_for(world.grid_chief_a1).post(_url("resolution_chase", r.pk), {"text": "请周五前给个进度"})
    assert response.status_code == 302
    r.refresh_from_db()
    assert r.last_chased_at is not None
    assert r.entries.filter(kind="chase", public=False, text="请周五前给个进度").count() == 1

    stranger = client_for(world.grid_worker_a2)  # works in the community, but not this grid or resolution
    assert stranger.post(_url("resolution_chase", r.pk), {"text": "催一下"}).status_code == 403
    assert stranger.post(_url("resolution_progress", r.pk), {"progress": "10", "text": "x"}).status_code == 403
    assert r.entries.filter(kind="chase").count() == 1
    # the resident reads the resolution, but not the internal chase, nor the supervisor's name
    html = client_for(world.resident_a1).get(_url("resolution", r.pk)).content.decode()
    assert "物业一周内更换漏水管道" in html
    assert "请周五前给个进度" not in html and world.grid_chief_a1.name not in html
    # staff see both
    html = client_for(world.staff_a).get(_url("resolution", r.pk)).content.decode()
    assert "请周五前给个进度" in html and world.grid_chief_a1.name in html


def test_supervisor_due_date_and_drop(world: SimpleNamespace, c: SimpleNamespace) -> None:
    r = c.resolution
    chief = client_for(world.grid_chief_a1)
    assert chief.post(_url("resolution_supervise", r.pk), {"supervisor": world.staff_a.pk}).status_code == 302
    assert Resolution.objects.get(pk=r.pk).supervisor_id == world.staff_a.pk
    # someone who does not work in the community is not offered, and refused
    outsider = User.objects.create_user(phone="13700000099", password="x", name="外人")
    response = chief.post(_url("resolution_supervise", r.pk), {"supervisor": outsider.pk})
    assert response.status_code == 400
    assert Resolution.objects.get(pk=r.pk).supervisor_id == world.staff_a.pk
    new_due = TODAY() + timedelta(days=30)
    response = chief.post(_url("resolution_due", r.pk), {"due_on": new_due.isoformat(), "reason": "等管材"})
    assert response.status_code == 302 and Resolution.objects.get(pk=r.pk).due_on == new_due
    assert chief.post(_url("resolution_due", r.pk), {"due_on": "not a date", "reason": "x"}).status_code == 400
    assert chief.post(_url("resolution_drop", r.pk), {"reason": ""}).status_code == 400
    assert chief.post(_url("resolution_drop", r.pk), {"reason": "业主自行解决"}).status_code == 302
    assert Resolution.objects.get(pk=r.pk).status == ResolutionStatus.DROPPED
    # dropped: chasing is not at that step any more (409 inline)
    assert chief.post(_url("resolution_chase", r.pk), {"text": "催"}).status_code == 409


# --- the echo wall ---------------------------------------------------------------------------------------------------
def test_echo_wall_shows_public_entries_only_and_no_names(world: SimpleNamespace, c: SimpleNamespace) -> None:
    r = c.resolution
    services.resolution_chase(actor=actor_for(world.grid_chief_a1), resolution=r, text="内部催办：物业经理电话不接")
    services.resolution_progress(actor=actor_for(world.grid_worker_a1), resolution=r, progress=40, text="已进场施工")
    services.resolution_progress(
        actor=actor_for(world.grid_worker_a1), resolution=r, progress=60, text="内部：费用待定", public=False
    )
    services.resolution_reply(actor=actor_for(world.grid_worker_a1), resolution=r, text="有事请打13812345678找王秀英")
    hidden = _add(world, c, "家庭纠纷调解方案", TODAY() + timedelta(days=3), on_echo_wall=False)

    response = client_for(None).get(_url("echo_wall", world.A.code))
    assert response.status_code == 200
    html = response.content.decode()
    assert "物业一周内更换漏水管道" in html and "物业公司维修班" in html and "已进场施工" in html
    assert "内部催办" not in html and "内部：费用待定" not in html  # chases and internal progress stay inside
    assert hidden.text not in html
    for name in (world.grid_chief_a1.name, world.grid_worker_a1.name, world.staff_a.name):
        assert name not in html  # no supervisor, no actor
    assert "13812345678" not in html  # phones in a public reply are hidden
    assert reverse("orders:echo_wall", args=[world.A.code]) in html
    # an unknown community is a 404
    assert client_for(None).get(_url("echo_wall", "nowhere")).status_code == 404


# --- the evaluation desk ---------------------------------------------------------------------------------------------
def test_evaluation_only_when_done_and_rerating_replaces(world: SimpleNamespace, c: SimpleNamespace) -> None:
    r = c.resolution
    resident = client_for(world.resident_a1)
    page = resident.get(_url("evaluate", r.pk))
    assert page.status_code == 200 and 'data-testid="not-open"' in page.content.decode()
    response = resident.post(_url("evaluate", r.pk), {"rating": "5"})
    assert response.status_code == 409 and not Evaluation.objects.exists()

    services.resolution_done(actor=actor_for(world.grid_worker_a1), resolution=r, text="管道已更换")
    desk = resident.get(_url("evaluation_desk"))
    assert [x.pk for x in desk.context["waiting"]] == [r.pk] and desk.context["rated"] == []
    assert resident.post(_url("evaluate", r.pk), {"rating": "9"}).status_code == 400
    assert resident.post(_url("evaluate", r.pk), {"rating": "4", "comment": "还行"}).status_code == 302
    assert resident.post(_url("evaluate", r.pk), {"rating": "5", "comment": "很好"}).status_code == 302
    assert list(Evaluation.objects.values_list("rating", "comment")) == [(5, "很好")]
    desk = resident.get(_url("evaluation_desk"))
    assert desk.context["waiting"] == [] and [x.pk for x, _e in desk.context["rated"]] == [r.pk]
    html = resident.get(_url("evaluate", r.pk)).content.decode()
    assert 'data-testid="mine"' in html and "5 ★" in html
    # the rating shows on the board and on the echo wall
    assert "5.0" in client_for(None).get(_url("echo_wall", world.A.code)).content.decode()


def test_a_resident_of_another_community_cannot_rate(world: SimpleNamespace, c: SimpleNamespace) -> None:
    services.resolution_done(actor=actor_for(world.staff_a), resolution=c.resolution, text="已完成")
    user_b = User.objects.create_user(phone="13800000003", password="x", name="赵德明")
    world.pB1.user = user_b
    world.pB1.save()
    client = client_for(user_b)
    assert client.get(_url("evaluate", c.resolution.pk)).status_code == 404
    assert client.post(_url("evaluate", c.resolution.pk), {"rating": "1"}).status_code == 404
    assert not Evaluation.objects.exists()
    # their own desk is empty: A's resolutions are not theirs to rate
    desk = client.get(_url("evaluation_desk"))
    assert desk.status_code == 200 and desk.context["waiting"] == []


def test_figures_period_and_bad_dates(world: SimpleNamespace, c: SimpleNamespace) -> None:
    client = client_for(world.auditor_a)
    later = TODAY() + timedelta(days=400)
    response = client.get(_url("figures"), {"community": world.A.pk, "start": later.isoformat()})
    assert response.status_code == 200 and response.context["f"].sessions == 0
    bad = client.get(_url("figures"), {"community": world.A.pk, "start": "2026-05-01", "end": "2026-01-01"})
    assert bad.status_code == 400 and 'data-testid="error"' in bad.content.decode()
    assert client.get(_url("figures"), {"community": world.A.pk, "start": "garbage"}).status_code == 400
