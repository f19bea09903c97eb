"""Test helpers for activities: residents with logins, and an activity around now (on top of make_catalogue)."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

from django.utils import timezone

from linli.org.access import actor_for
from linli.org.models import HouseholdMember, Person, User
from linli.points import activities
from linli.points.activities import ActivityData
from linli.points.models import Activity, Rule


def residents(w: SimpleNamespace, n: int, *, prefix: str = "139") -> list[Person]:
    """n residents of community A (household hA1... alternating hA1/hA2), each with a login (password PASSWORD)."""
    from linli.common.testing import PASSWORD

    people = []
    for i in range(n):
        phone = f"{prefix}{i:08d}"
        user = User.objects.create_user(phone=phone, password=PASSWORD, name=f"居民{i:02d}")
        household = w.hA1 if i % 2 == 0 else w.hA2
        person = Person.objects.create(community=w.A, name=f"居民{i:02d}", phone=phone, birth_year=1955, user=user)
        HouseholdMember.objects.create(community=w.A, household=household, person=person, relation="head")
        people.append(person)
    return people


def make_activity(
    w: SimpleNamespace,
    *,
    rule: Rule | None = None,
    starts_at: datetime | None = None,
    hours: float = 2.0,
    capacity: int | None = None,
    title: str = "楼道大扫除",
    organiser_phone: str = "",
) -> Activity:
    """An activity of community A created by A's staff; by default starting in 30 minutes (QR codes work now)."""
    start = starts_at or timezone.now() + timedelta(minutes=30)
    return activities.activity_create(
        actor=actor_for(w.staff_a),
        community=w.A,
        data=ActivityData(
            title=title,
            place="1号楼门前",
            starts_at=start,
            ends_at=start + timedelta(hours=hours),
            rule_id=(rule or w.cleanup).pk,
            capacity=capacity,
            organiser_phone=organiser_phone,
        ),
    )


def past_activity(w: SimpleNamespace, **kwargs: object) -> Activity:
    """An activity that ended an hour ago, ready to be turned into claims."""
    return make_activity(w, starts_at=timezone.now() - timedelta(hours=4), hours=3, **kwargs)  # type: ignore[arg-type]
