"""Reads of activities, sign-ups and attendance, filtered by what the actor may see.

Activities are published to the whole community ("points.view": residents, workers, merchants of it); who signed up
and who attended is for those who run the activity (linli.points.activities.may_console) and each resident's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from linli.common.errors import NotFound
from linli.org.access import Actor, can, can_see, require
from linli.org.models import Community, Person
from linli.points.activities import may_console
from linli.points.models import Activity, ActivitySeries, ActivityStatus, Attendance, Signup, SignupStatus


def _activities() -> QuerySet[Activity]:
    return Activity.objects.select_related("rule__current", "team", "grid", "organiser", "series", "community")


def with_counts(qs: QuerySet[Activity]) -> QuerySet[Activity]:
    return qs.annotate(
        n_confirmed=Count("signups", filter=Q(signups__status=SignupStatus.CONFIRMED), distinct=True),
        n_waiting=Count("signups", filter=Q(signups__status=SignupStatus.WAITING), distinct=True),
    )


def upcoming(actor: Actor, community: Community, *, now: datetime | None = None) -> QuerySet[Activity]:
    """Open activities not yet over, soonest first: what residents may sign up for."""
    require(actor, "points.view", community, hide=True)
    moment = now or timezone.now()
    qs = _activities().filter(community=community, status=ActivityStatus.OPEN, ends_at__gt=moment)
    return with_counts(qs).order_by("starts_at", "id")


@dataclass(frozen=True)
class ActivityFilter:
    when: str = "upcoming"  # upcoming | past | all
    status: str = ""
    q: str = ""


def staff_list(actor: Actor, community: Community, f: ActivityFilter | None = None) -> QuerySet[Activity]:
    """Every activity of the community, for its staff."""
    require(actor, "activity.manage", community)
    return listed(actor, community, f)


def listed(actor: Actor, community: Community, f: ActivityFilter | None = None) -> QuerySet[Activity]:
    """Activities of the community, past and cancelled ones too: published to everyone of it ("points.view")."""
    require(actor, "points.view", community, hide=True)
    f = f or ActivityFilter()
    qs = _activities().filter(community=community)
    now = timezone.now()
    if f.when == "upcoming":
        qs = qs.filter(ends_at__gt=now).order_by("starts_at", "id")
    elif f.when == "past":
        qs = qs.filter(ends_at__lte=now).order_by("-starts_at", "-id")
    else:
        qs = qs.order_by("-starts_at", "-id")
    if f.status in ActivityStatus.values:
        qs = qs.filter(status=f.status)
    if f.q:
        qs = qs.filter(Q(title__icontains=f.q) | Q(place__icontains=f.q))
    return with_counts(qs)


def activity_get(actor: Actor, pk: Any) -> Activity:
    """One activity the actor may see (published to its community), else 404."""
    try:
        activity = with_counts(_activities()).get(pk=int(pk))
    except (Activity.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound() from None
    require(actor, "points.view", activity.community, hide=True)
    return activity


def activity_for_console(actor: Actor, pk: Any) -> Activity:
    """An activity whose console the actor may use: 404 for outsiders, 403 for readers of the community."""
    activity = activity_get(actor, pk)
    if not may_console(actor, activity):
        from linli.common.errors import Forbidden

        raise Forbidden()
    return activity


def organised_by(actor: Actor) -> QuerySet[Activity]:
    """Open activities the actor organises (their console links), soonest first."""
    user_id = getattr(actor.user, "pk", None)
    if user_id is None:
        return Activity.objects.none()
    return _activities().filter(organiser_id=user_id, status=ActivityStatus.OPEN).order_by("starts_at", "id")


def signup_of(activity: Activity, person_id: int | None) -> Signup | None:
    if person_id is None:
        return None
    return Signup.objects.filter(activity=activity, person_id=person_id).first()


def attendance_of(activity: Activity, person_id: int | None) -> Attendance | None:
    if person_id is None:
        return None
    return Attendance.objects.filter(activity=activity, person_id=person_id).first()


def my_signups(actor: Actor, *, now: datetime | None = None) -> QuerySet[Signup]:
    """The acting resident's own places and waiting-list entries for activities not yet over."""
    if actor.person_id is None:
        return Signup.objects.none()
    moment = now or timezone.now()
    return (
        Signup.objects.filter(person_id=actor.person_id, activity__ends_at__gt=moment)
        .exclude(status=SignupStatus.CANCELLED)
        .select_related("activity")
        .order_by("activity__starts_at", "id")
    )


def waiting_position(signup: Signup) -> int:
    """1 for the first person waiting."""
    ahead = Signup.objects.filter(activity_id=signup.activity_id, status=SignupStatus.WAITING).filter(
        Q(created_at__lt=signup.created_at) | Q(created_at=signup.created_at, id__lt=signup.id)
    )
    return ahead.count() + 1


def signups(actor: Actor, activity: Activity) -> QuerySet[Signup]:
    """Everyone signed up or waiting, in order (the console only)."""
    if not may_console(actor, activity):
        return Signup.objects.none()
    return (
        Signup.objects.filter(activity=activity)
        .exclude(status=SignupStatus.CANCELLED)
        .select_related("person")
        .order_by("-status", "created_at", "id")  # "waiting" sorts after "confirmed" when reversed
    )


def attendance(actor: Actor, activity: Activity) -> QuerySet[Attendance]:
    if not may_console(actor, activity):
        return Attendance.objects.none()
    return (
        Attendance.objects.filter(activity=activity)
        .select_related("person", "marked_by")
        .order_by("checked_in_at", "id")
    )


def markable_person(actor: Actor, activity: Activity, pk: Any) -> Person:
    """A person the console may mark: anyone signed up for or attending this activity (their names are on the
    console already), or anyone else of its community the actor may see; else 404."""
    try:
        person = Person.objects.get(pk=int(pk), community_id=activity.community_id)
    except (Person.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound() from None
    listed = (
        Signup.objects.filter(activity=activity, person=person).exists()
        or Attendance.objects.filter(activity=activity, person=person).exists()
    )
    if not (listed and may_console(actor, activity)) and not can_see(actor, person):
        raise NotFound()
    return person


def series_list(actor: Actor, community: Community) -> QuerySet[ActivitySeries]:
    require(actor, "activity.manage", community)
    return (
        ActivitySeries.objects.filter(community=community)
        .select_related("rule__current")
        .annotate(n_items=Count("items"))
        .order_by("ended", "-id")
    )


def series_get(actor: Actor, pk: Any) -> ActivitySeries:
    try:
        series = ActivitySeries.objects.select_related("rule__current", "community", "team", "grid").get(pk=int(pk))
    except (ActivitySeries.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound() from None
    if not can(actor, "points.view", series.community):
        raise NotFound()
    require(actor, "activity.manage", series.community)
    return series


def series_items(series: ActivitySeries) -> QuerySet[Activity]:
    return with_counts(Activity.objects.filter(series=series)).order_by("starts_at", "id")
