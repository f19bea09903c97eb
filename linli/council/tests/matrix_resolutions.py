"""Page permission rows for the council's resolution pages (see linli/common/tests/matrix.py).

The board, its export and the figures are for people who work in the community (the figures: staff, the grid chief,
the auditor); one resolution is read by everyone who lives or works there. Progress, done and replies are for whoever
runs the meeting, the named owner and the supervisor; chasing for the supervisor and staff; the supervisor, due
date, drop and reopen for staff and the grid chief of the meeting's grid. Residents rate on the evaluation desk;
the echo wall is public.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from django.utils import timezone

from linli.common.tests.matrix import A1_GRID, A_READERS, A_STAFF, EVERYONE, Page, in_a
from linli.council import services
from linli.council.models import Evaluation, Resolution, ResolutionStatus
from linli.council.testing import make_council
from linli.org.access import actor_for

RUNNERS = A_STAFF | A1_GRID  # run the meeting in grid A1, carry it out (grid_worker_a1) or supervise it (chief)
SUPERVISE = A_STAFF | {"grid_chief_a1"}
REPORT = A_STAFF | {"grid_chief_a1", "auditor_a"}
RESIDENT = frozenset({"resident_a1"})


def resolution(w: SimpleNamespace) -> Resolution:
    found = Resolution.objects.filter(community=w.A).order_by("id").first()
    return found if found is not None else make_council(w).resolution


def done_resolution(w: SimpleNamespace) -> Resolution:
    r = resolution(w)
    if r.status != ResolutionStatus.DONE:
        services.resolution_done(actor=actor_for(w.staff_a), resolution=r, text="管道已更换")
        r.refresh_from_db()
    return r


def _pk(w: SimpleNamespace) -> list[Any]:
    return [resolution(w).pk]


def _done_pk(w: SimpleNamespace) -> list[Any]:
    return [done_resolution(w).pk]


def _status_is(status: str) -> Any:
    def check(w: SimpleNamespace) -> bool:
        return resolution(w).status == status

    return check


def _entries(n: int) -> Any:
    def check(w: SimpleNamespace) -> bool:
        return resolution(w).entries.count() == n

    return check


def _supervisor_unchanged(w: SimpleNamespace) -> bool:
    return resolution(w).supervisor_id == w.grid_chief_a1.pk


def _due_unchanged(w: SimpleNamespace) -> bool:
    return resolution(w).due_on == timezone.localdate() + timedelta(days=7)


def _no_rating(w: SimpleNamespace) -> bool:
    return not Evaluation.objects.exists()


PAGES: list[Page] = [
    Page("council:resolutions", A_READERS, query=in_a),
    Page("council:resolutions", A_READERS, query=lambda w: f"{in_a(w)}&overdue=1"),
    Page("council:resolutions_export", A_READERS, query=in_a),
    Page("council:resolution", A_READERS | RESIDENT, args=_pk),
    Page(
        "council:resolution_progress",
        RUNNERS,
        args=_pk,
        method="POST",
        data=lambda w: {"progress": "50", "text": "材料已到", "public": "on"},
        unchanged=_entries(1),
    ),
    Page(
        "council:resolution_done",
        RUNNERS,
        args=_pk,
        method="POST",
        data=lambda w: {"text": "管道已更换"},
        unchanged=_status_is(ResolutionStatus.OPEN),
    ),
    Page(
        "council:resolution_chase",
        SUPERVISE,
        args=_pk,
        method="POST",
        data=lambda w: {"text": "请本周内完成"},
        unchanged=_entries(1),
    ),
    Page(
        "council:resolution_reply",
        RUNNERS,
        args=_pk,
        method="POST",
        data=lambda w: {"text": "已联系物业"},
        unchanged=_entries(1),
    ),
    Page(
        "council:resolution_supervise",
        SUPERVISE,
        args=_pk,
        method="POST",
        data=lambda w: {"supervisor": str(w.staff_a.pk)},
        unchanged=_supervisor_unchanged,
    ),
    Page(
        "council:resolution_due",
        SUPERVISE,
        args=_pk,
        method="POST",
        data=lambda w: {"due_on": (timezone.localdate() + timedelta(days=20)).isoformat(), "reason": "等材料"},
        unchanged=_due_unchanged,
    ),
    Page(
        "council:resolution_drop",
        SUPERVISE,
        args=_pk,
        method="POST",
        data=lambda w: {"reason": "业主自行解决"},
        unchanged=_status_is(ResolutionStatus.OPEN),
    ),
    Page(
        "council:resolution_reopen",
        SUPERVISE,
        args=_done_pk,
        method="POST",
        data=lambda w: {"reason": "又漏了"},
        unchanged=_status_is(ResolutionStatus.DONE),
    ),
    Page("council:evaluate", RESIDENT, args=_done_pk),
    Page(
        "council:evaluate",
        RESIDENT,
        args=_done_pk,
        method="POST",
        data=lambda w: {"rating": "4", "comment": "不错"},
        unchanged=_no_rating,
    ),
    Page("council:evaluation_desk", RESIDENT),
    Page("council:echo_wall", EVERYONE, args=lambda w: [w.A.code], public=True),
    Page("council:figures", REPORT, query=in_a),
]
