"""Page permission rows for activities (see linli/common/tests/matrix.py).

The activity is in community A, organised by grid_worker_a1 (no grid of its own). Everyone of community A reads it;
only the resident pA1 signs up and scans; A's staff and the street admin manage it; the console, attendance, poster
and closing belong to those who run it: staff and the organiser.
"""

from __future__ import annotations

from datetime import time
from types import SimpleNamespace

from django.utils import timezone

from linli.common.tests.matrix import A_ALL, A_STAFF, Page, in_a
from linli.org.access import actor_for
from linli.points import activities
from linli.points.activities import SeriesData
from linli.points.models import Activity, ActivitySeries, ActivityStatus, Attendance, Signup, SignupStatus
from linli.points.testing import make_catalogue
from linli.points.testing_activities import make_activity, past_activity

RUNNERS = A_STAFF | {"grid_worker_a1"}


def _catalogue(w: SimpleNamespace) -> SimpleNamespace:
    if not hasattr(w, "cleanup"):
        make_catalogue(w)
    return w


def activity(w: SimpleNamespace) -> Activity:
    if not hasattr(w, "activity"):
        w.activity = make_activity(_catalogue(w), capacity=10, organiser_phone=w.grid_worker_a1.phone)
    return w.activity


def over(w: SimpleNamespace) -> Activity:
    a = past_activity(_catalogue(w), organiser_phone=w.grid_worker_a1.phone)
    activities.attendance_mark(actor=actor_for(w.staff_a), activity=a, person=w.pA1b)
    return a


def signed_up(w: SimpleNamespace) -> Activity:
    a = activity(w)
    activities.signup_create(actor=actor_for(w.resident_a1), activity=a, person=w.pA1)
    return a


def series(w: SimpleNamespace) -> ActivitySeries:
    if not hasattr(w, "series"):
        w.series = activities.activity_series_create(
            actor=actor_for(w.staff_a),
            community=w.A,
            data=SeriesData(
                title="每月义剪",
                place="社区活动室",
                rule_id=_catalogue(w).haircut.pk,
                repeat="monthly_day",
                day=1,
                start_time=time(9),
                end_time=time(11),
                first_date=timezone.localdate(),
            ),
        ).series
    return w.series


def scan_query(w: SimpleNamespace) -> str:
    return f"t={activities.qr_token(activity(w), 'in')}"


def _open(w: SimpleNamespace) -> bool:
    return not Activity.objects.exclude(status=ActivityStatus.OPEN).exists()


PAGES: list[Page] = [
    Page("points:activities", A_ALL, query=in_a),
    Page("points:activity", A_ALL, args=lambda w: [activity(w).pk]),
    Page(
        "points:activity_signup",
        frozenset({"resident_a1"}),
        method="POST",
        args=lambda w: [activity(w).pk],
        unchanged=lambda w: not Signup.objects.exists(),
    ),
    Page(
        "points:activity_signup_cancel",
        frozenset({"resident_a1"}),
        method="POST",
        args=lambda w: [signed_up(w).pk],
        unchanged=lambda w: Signup.objects.get().status == SignupStatus.CONFIRMED,
    ),
    Page("points:activity_scan", frozenset({"resident_a1"}), args=lambda w: [activity(w).pk, "in"], query=scan_query),
    Page("points:activity_staff", A_STAFF, query=in_a),
    Page("points:activity_create", A_STAFF, query=in_a),
    Page("points:activity_edit", A_STAFF, args=lambda w: [activity(w).pk]),
    Page("points:activity_cancel", A_STAFF, method="POST", args=lambda w: [activity(w).pk], unchanged=_open),
    Page("points:activity_series_create", A_STAFF, query=in_a),
    Page("points:activity_series", A_STAFF, args=lambda w: [series(w).pk]),
    Page(
        "points:activity_series_extend",
        A_STAFF,
        method="POST",
        args=lambda w: [series(w).pk],
        unchanged=lambda w: not ActivitySeries.objects.filter(ended=True).exists(),
    ),
    Page(
        "points:activity_series_end",
        A_STAFF,
        method="POST",
        args=lambda w: [series(w).pk],
        unchanged=lambda w: not ActivitySeries.objects.filter(ended=True).exists() and _open(w),
    ),
    Page("points:activity_console", RUNNERS, args=lambda w: [activity(w).pk]),
    Page(
        "points:activity_mark",
        RUNNERS,
        method="POST",
        args=lambda w: [activity(w).pk],
        data=lambda w: {"person": w.pA1b.pk, "present": "1"},
        unchanged=lambda w: not Attendance.objects.exists(),
    ),
    Page("points:activity_poster", RUNNERS, args=lambda w: [activity(w).pk]),
    Page(
        "points:activity_new_codes",
        RUNNERS,
        method="POST",
        args=lambda w: [activity(w).pk],
        unchanged=lambda w: Activity.objects.get().secret == w.activity.secret,
    ),
    Page(
        "points:activity_close",
        RUNNERS,
        method="POST",
        args=lambda w: [over(w).pk],
        unchanged=_open,
    ),
]
