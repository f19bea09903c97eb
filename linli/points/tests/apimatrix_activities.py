"""API permission rows for activities (merged by tests/test_api_permissions.py).

The activity is in community A, organised by grid_worker_a1. Everyone of community A reads it; only the resident pA1
signs up, cancels and scans (a staff login without a resident record is refused: not_a_resident); A's staff and the
street admin create activities; those who run it (staff and the organiser) read and mark attendance and close it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from linli.org.access import actor_for
from linli.org.tests.test_api_permissions import IN_COMMUNITY_A, STAFF_A, Op, Request, allow
from linli.points import activities
from linli.points.models import Activity, Rule
from linli.points.testing import make_catalogue
from linli.points.testing_activities import make_activity, past_activity

RESIDENT = allow("resident_a1")
RUNNERS = allow("street_admin", "staff_a", "grid_worker_a1")


def _catalogue(w: Any) -> Any:
    # each user's request runs in a savepoint that is rolled back: the rules may be gone again
    if not hasattr(w, "cleanup") or not Rule.objects.filter(pk=w.cleanup.pk).exists():
        make_catalogue(w)
    return w


def activity(w: Any) -> Activity:
    return make_activity(_catalogue(w), capacity=10, organiser_phone=w.grid_worker_a1.phone)


def signed_up(w: Any) -> Activity:
    a = activity(w)
    activities.signup_create(actor=actor_for(w.resident_a1), activity=a, person=w.pA1)
    return a


def checked_in(w: Any) -> Activity:
    a = activity(w)
    activities.attendance_check_in(actor=actor_for(w.resident_a1), activity=a, token=activities.qr_token(a, "in"))
    return a


def over(w: Any) -> Activity:
    a = past_activity(_catalogue(w), organiser_phone=w.grid_worker_a1.phone)
    activities.attendance_mark(actor=actor_for(w.staff_a), activity=a, person=w.pA1b)
    return a


def _new(w: Any) -> dict[str, Any]:
    start = timezone.now() + timedelta(days=2)
    return {
        "community_id": w.A.id,
        "title": "义务理发",
        "place": "活动室",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "rule_id": _catalogue(w).haircut.pk,
        "capacity": 10,
    }


MATRIX: dict[Op, dict[str, bool]] = {
    ("GET", "/activities"): IN_COMMUNITY_A,  # ?community=A
    ("GET", "/activities/{activity_id}"): IN_COMMUNITY_A,
    ("POST", "/activities"): STAFF_A,
    ("POST", "/activities/{activity_id}/signup"): RESIDENT,
    ("POST", "/activities/{activity_id}/signup/cancel"): RESIDENT,
    ("POST", "/activities/{activity_id}/check-in"): RESIDENT,
    ("POST", "/activities/{activity_id}/check-out"): RESIDENT,
    ("GET", "/activities/{activity_id}/attendance"): RUNNERS,
    ("POST", "/activities/{activity_id}/attendance"): RUNNERS,
    ("POST", "/activities/{activity_id}/close"): RUNNERS,
}

REQUESTS: dict[Op, Request] = {
    ("GET", "/activities"): lambda w: (f"/activities?community={w.A.id}", None),
    ("GET", "/activities/{activity_id}"): lambda w: (f"/activities/{activity(w).pk}", None),
    ("POST", "/activities"): lambda w: ("/activities", _new(w)),
    ("POST", "/activities/{activity_id}/signup"): lambda w: (f"/activities/{activity(w).pk}/signup", {}),
    ("POST", "/activities/{activity_id}/signup/cancel"): lambda w: (f"/activities/{signed_up(w).pk}/signup/cancel", {}),
    ("POST", "/activities/{activity_id}/check-in"): lambda w: (
        f"/activities/{(a := activity(w)).pk}/check-in",
        {"token": activities.qr_token(a, "in")},
    ),
    ("POST", "/activities/{activity_id}/check-out"): lambda w: (
        f"/activities/{(a := checked_in(w)).pk}/check-out",
        {"token": activities.qr_token(a, "out")},
    ),
    ("GET", "/activities/{activity_id}/attendance"): lambda w: (f"/activities/{activity(w).pk}/attendance", None),
    ("POST", "/activities/{activity_id}/attendance"): lambda w: (
        f"/activities/{activity(w).pk}/attendance",
        {"person_id": w.pA1b.pk, "present": True},
    ),
    ("POST", "/activities/{activity_id}/close"): lambda w: (f"/activities/{over(w).pk}/close", {"approve": True}),
}
