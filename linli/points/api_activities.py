"""Activities over JSON: list and read them, create them (staff), sign up and cancel, check in and out with the
scanned QR token, the attendance list and marking (those who run the activity), and closing it into claims.

Every write is idempotent by nature except creating an activity: signing up twice keeps one place, checking in
twice keeps the first time, and closing twice creates no claim twice (each claim's key is the activity and person).
Refusals are the shared `{code, message}` bodies: qr_invalid / qr_not_yet_valid / qr_expired (400),
checkout_before_checkin, activity_cancelled, activity_closed, activity_over, activity_not_over (409), ...
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from linli.common.api import Id, actor, paginate, responses
from linli.common.errors import Forbidden
from linli.org import selectors as org_selectors
from linli.org.access import Actor
from linli.org.models import Community, Person
from linli.points import activities as services
from linli.points import domain
from linli.points import selectors_activities as reads
from linli.points.activities import ActivityData
from linli.points.models import Activity, Attendance, SignupStatus
from linli.points.schemas_activities import (
    ActivitiesOut,
    ActivityFilterIn,
    ActivityIn,
    ActivityOut,
    AttendanceListOut,
    AttendanceOut,
    CloseIn,
    CloseOut,
    MarkIn,
    MarkOut,
    SignupIn,
    SignupOut,
    TokenIn,
)

router = Router(tags=["points"])


def _activity_out(act: Actor, a: Activity, mine: dict[int, str] | None = None) -> dict[str, Any]:
    confirmed = getattr(a, "n_confirmed", None)
    waiting = getattr(a, "n_waiting", None)
    if confirmed is None or waiting is None:
        a = reads.activity_get(act, a.pk)
        confirmed, waiting = a.n_confirmed, a.n_waiting  # type: ignore[attr-defined]
    if mine is None:
        signup = reads.signup_of(a, act.person_id)
        mine = {a.pk: signup.status} if signup else {}
    version = a.rule.current
    return {
        "id": a.pk,
        "community_id": a.community_id,
        "title": a.title,
        "description": a.description,
        "place": a.place,
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
        "status": a.status,
        "capacity": a.capacity,
        "confirmed": confirmed,
        "waiting": waiting,
        "places_left": None if a.capacity is None else max(0, a.capacity - confirmed),
        "rule_id": a.rule_id,
        "rule_name": version.name if version else str(a.rule),
        "points": version.points if version else 0,
        "unit": version.unit if version else "",
        "team_id": a.team_id,
        "team_name": a.team.name if a.team else None,
        "grid_id": a.grid_id,
        "series_id": a.series_id,
        "organiser_id": a.organiser_id,
        "my_signup": mine.get(a.pk) if mine.get(a.pk) in {SignupStatus.CONFIRMED, SignupStatus.WAITING} else None,
    }


def _attendance_out(activity: Activity, att: Attendance, changed: bool = True) -> dict[str, Any]:
    minutes = None
    if att.checked_out_at is not None:
        minutes = domain.service_minutes(att.checked_in_at, att.checked_out_at, activity.starts_at, activity.ends_at)
    return {
        "activity_id": activity.pk,
        "person_id": att.person_id,
        "person_name": att.person.name,
        "checked_in_at": att.checked_in_at,
        "checked_out_at": att.checked_out_at,
        "minutes": minutes,
        "marked": att.marked_by_id is not None,
        "changed": changed,
    }


def _console(act: Actor, activity_id: int) -> Activity:
    return reads.activity_for_console(act, activity_id)


def _runner(act: Actor, activity_id: int) -> Activity:
    activity = _console(act, activity_id)
    if not services.may_run(act, activity):
        raise Forbidden()
    return activity


@router.get("/activities", response=responses({200: ActivitiesOut}), summary="Activities of a community")
def list_activities(request: HttpRequest, filters: Query[ActivityFilterIn]) -> dict[str, Any]:
    act = actor(request)
    community = org_selectors.get_visible(act, Community, filters.community)
    f = reads.ActivityFilter(when=filters.when, status=filters.status or "")
    page = paginate(reads.listed(act, community, f), filters)
    mine = dict(reads.my_signups(act).values_list("activity_id", "status")) if act.person_id else {}
    return {"count": page["count"], "items": [_activity_out(act, a, mine) for a in page["items"]]}


@router.get("/activities/{activity_id}", response=responses({200: ActivityOut}), summary="One activity")
def get_activity(request: HttpRequest, activity_id: Id) -> dict[str, Any]:
    act = actor(request)
    return _activity_out(act, reads.activity_get(act, activity_id))


@router.post("/activities", response=responses({201: ActivityOut}), summary="Publish an activity (staff)")
def create_activity(request: HttpRequest, payload: ActivityIn) -> Status[Any]:
    act = actor(request)
    community = org_selectors.get_visible(act, Community, payload.community_id)
    data = ActivityData(
        title=payload.title,
        place=payload.place,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        rule_id=payload.rule_id,
        capacity=payload.capacity,
        description=payload.description,
        team_id=payload.team_id,
        grid_id=payload.grid_id,
        organiser_phone=payload.organiser_phone,
    )
    made = services.activity_create(actor=act, community=community, data=data)
    return Status(201, _activity_out(act, made))


def _signup_person(act: Actor, activity: Activity, person_id: int | None) -> Person:
    if person_id is None:
        if act.person_id is None:
            raise services.NotAResident()
        return Person.objects.get(pk=act.person_id)
    return org_selectors.get_visible(act, Person, person_id)


@router.post(
    "/activities/{activity_id}/signup",
    response=responses({200: SignupOut}),
    summary="Sign up: a place while places remain, else the waiting list (signing up again changes nothing)",
)
def signup(request: HttpRequest, activity_id: Id, payload: SignupIn | None = None) -> dict[str, Any]:
    act = actor(request)
    activity = reads.activity_get(act, activity_id)
    person = _signup_person(act, activity, payload.person_id if payload else None)
    made = services.signup_create(actor=act, activity=activity, person=person)
    position = reads.waiting_position(made) if made.status == SignupStatus.WAITING else None
    return {"activity_id": activity.pk, "person_id": person.pk, "status": made.status, "position": position}


@router.post(
    "/activities/{activity_id}/signup/cancel",
    response=responses({200: SignupOut}),
    summary="Give up a place or leave the waiting list; the first person waiting moves up",
)
def signup_cancel(request: HttpRequest, activity_id: Id, payload: SignupIn | None = None) -> dict[str, Any]:
    act = actor(request)
    activity = reads.activity_get(act, activity_id)
    person = _signup_person(act, activity, payload.person_id if payload else None)
    done = services.signup_cancel(actor=act, activity=activity, person=person)
    return {
        "activity_id": activity.pk,
        "person_id": person.pk,
        "status": done.signup.status,
        "promoted_person_ids": [s.person_id for s in done.promoted],
    }


@router.post(
    "/activities/{activity_id}/check-in",
    response=responses({200: AttendanceOut}),
    summary="Check in with the scanned QR token (twice is the same as once)",
)
def check_in(request: HttpRequest, activity_id: Id, payload: TokenIn) -> dict[str, Any]:
    act = actor(request)
    activity = reads.activity_get(act, activity_id)
    done = services.attendance_check_in(actor=act, activity=activity, token=payload.token)
    return _attendance_out(activity, done.attendance, done.changed)


@router.post(
    "/activities/{activity_id}/check-out",
    response=responses({200: AttendanceOut}),
    summary="Check out with the scanned QR token (after checking in; the first check-out counts)",
)
def check_out(request: HttpRequest, activity_id: Id, payload: TokenIn) -> dict[str, Any]:
    act = actor(request)
    activity = reads.activity_get(act, activity_id)
    done = services.attendance_check_out(actor=act, activity=activity, token=payload.token)
    return _attendance_out(activity, done.attendance, done.changed)


@router.get(
    "/activities/{activity_id}/attendance",
    response=responses({200: AttendanceListOut}),
    summary="Who came (those who run the activity)",
)
def list_attendance(request: HttpRequest, activity_id: Id) -> dict[str, Any]:
    act = actor(request)
    activity = _console(act, activity_id)
    rows = list(reads.attendance(act, activity))
    return {"count": len(rows), "items": [_attendance_out(activity, a) for a in rows]}


@router.post(
    "/activities/{activity_id}/attendance",
    response=responses({200: MarkOut}),
    summary="Mark someone present (with times) or absent",
)
def mark_attendance(request: HttpRequest, activity_id: Id, payload: MarkIn) -> dict[str, Any]:
    act = actor(request)
    activity = _console(act, activity_id)
    person = reads.markable_person(act, activity, payload.person_id)
    att = services.attendance_mark(
        actor=act,
        activity=activity,
        person=person,
        present=payload.present,
        checked_in_at=payload.checked_in_at,
        checked_out_at=payload.checked_out_at,
    )
    return {
        "person_id": person.pk,
        "present": att is not None,
        "attendance": _attendance_out(activity, att) if att is not None else None,
    }


@router.post(
    "/activities/{activity_id}/close",
    response=responses({200: CloseOut}),
    summary="Turn attendance into claims (and approve them where the caller may); again creates nothing twice",
)
def close(request: HttpRequest, activity_id: Id, payload: CloseIn | None = None) -> dict[str, Any]:
    act = actor(request)
    activity = _runner(act, activity_id)
    result = services.activity_close(actor=act, activity=activity, approve=payload.approve if payload else True)
    return services.close_summary(result)
