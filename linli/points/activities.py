"""Activities (志愿活动): creating them once or as a series, signing up with a waiting list, QR check-in and
check-out, attendance marked by the organiser, and turning attendance into claims. One function per whole state
change, keyword-only, atomic, audited, permission-checked here.

Who: community staff ("activity.manage") create, change, cancel and close activities. The activity's organiser (a
user, often a team leader) runs its console: marks attendance and closes it. Stewards and grid workers mark the
people of their buildings and grids ("activity.mark"). Residents sign up, cancel and scan ("activity.join", only
for themselves).

Concurrency: every change to who holds a place locks the activity row first (SELECT ... FOR UPDATE on PostgreSQL;
SQLite's BEGIN IMMEDIATE serialises writers), then counts, so capacity is never exceeded and the waiting list moves
up in order.

QR codes: the URL carries a token signed with django.core.signing over (activity id, kind) with the activity's own
`secret` in the salt. A printed code for one activity cannot be turned into another's or into the other kind, and a
new secret voids every printed code. A code works from an hour before the start to two hours after the end.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.common.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from linli.common.models import audit
from linli.org.access import ANONYMOUS, Actor, actor_for, can, require
from linli.org.models import Community, Grid, Person, Team, User
from linli.points import domain, services
from linli.points import domain_activities as rules_
from linli.points.models import (
    Activity,
    ActivitySeries,
    ActivityStatus,
    Attendance,
    Claim,
    ClaimStatus,
    Rule,
    Signup,
    SignupStatus,
)

SECRET_BYTES = 24  # 32 URL-safe characters
MAX_AHEAD = timedelta(days=366)
MAX_BEHIND = timedelta(days=services.MAX_AGE_DAYS)  # an activity older than a claim may be is for the paper archive
MAX_LENGTH = timedelta(minutes=services.MAX_MINUTES)
MAX_CAPACITY = 10_000
CHECK_IN, CHECK_OUT = "in", "out"
KINDS = (CHECK_IN, CHECK_OUT)
QR_SALT = "linli.points.activity-qr:"


# --- refusals ---------------------------------------------------------------------------------------------------------
class QrInvalid(Invalid):
    code = "qr_invalid"
    default_message = gettext_lazy("This QR code is not valid for this activity. Please scan the code on the poster.")


class QrExpired(Invalid):
    code = "qr_expired"
    default_message = gettext_lazy("This QR code has expired: it works until two hours after the activity ends.")


class QrNotYetValid(Invalid):
    code = "qr_not_yet_valid"
    default_message = gettext_lazy("Too early: the QR code works from one hour before the activity starts.")


class CheckoutBeforeCheckin(Conflict):
    code = "checkout_before_checkin"
    default_message = gettext_lazy("Please check in first (scan the check-in code), then check out when you leave.")


class ActivityState(Conflict):
    code = "activity_status"
    default_message = gettext_lazy("This activity has been cancelled or closed; the page may be out of date.")


class NotAResident(Forbidden):
    code = "not_a_resident"
    default_message = gettext_lazy("Only residents of this community can sign up and check in here.")


# --- helpers ----------------------------------------------------------------------------------------------------------
def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def _locked(activity: Activity) -> Activity:
    """Re-read the activity under a row lock: every change of places, attendance and status queues here."""
    try:
        return Activity.objects.select_for_update().select_related("rule", "community").get(pk=activity.pk)
    except Activity.DoesNotExist:
        raise NotFound() from None


def is_organiser(actor: Actor, activity: Activity) -> bool:
    return activity.organiser_id is not None and activity.organiser_id == getattr(actor.user, "pk", None)


def may_run(actor: Actor, activity: Activity) -> bool:
    """The organiser's console and closing: the organiser, and staff of the community."""
    return is_organiser(actor, activity) or can(actor, "activity.manage", activity.community)


def may_console(actor: Actor, activity: Activity) -> bool:
    """Who sees the console (sign-ups, attendance): those who run it, and grid workers of the activity's grid."""
    if may_run(actor, activity):
        return True
    return activity.grid is not None and can(actor, "activity.mark", activity.grid)


def _own_person(actor: Actor, activity: Activity) -> Person:
    """The acting resident's own person in the activity's community."""
    if actor.person_id is None:
        raise NotAResident()
    if actor.person_community_id != activity.community_id:
        raise NotFound()
    return Person.objects.get(pk=actor.person_id)


def _require_open(activity: Activity) -> None:
    if activity.status == ActivityStatus.CANCELLED:
        raise ActivityState(_("This activity has been cancelled."), code="activity_cancelled")
    if activity.status == ActivityStatus.CLOSED:
        raise ActivityState(
            _("This activity is closed: its attendance has been turned into claims."), code="activity_closed"
        )


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def _active_signups(activity: Activity) -> tuple[int, int]:
    confirmed = waiting = 0
    for status in Signup.objects.filter(activity=activity).values_list("status", flat=True):
        if status == SignupStatus.CONFIRMED:
            confirmed += 1
        elif status == SignupStatus.WAITING:
            waiting += 1
    return confirmed, waiting


def _promote(activity: Activity, actor: Actor) -> list[Signup]:
    """Move the first waiting people up into free places, in the order they signed up."""
    confirmed, waiting = _active_signups(activity)
    room = rules_.places_to_fill(activity.capacity, confirmed, waiting)
    if room <= 0:
        return []
    moved = list(
        Signup.objects.filter(activity=activity, status=SignupStatus.WAITING).order_by("created_at", "id")[:room]
    )
    for signup in moved:
        signup.status = SignupStatus.CONFIRMED
        signup.save(update_fields=["status"])
        audit(
            actor=actor,
            action="points.signup_promote",
            obj=signup,
            community_id=signup.community_id,
            activity=activity.pk,
            person=signup.person_id,
        )
    return moved


# --- what an activity is ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ActivityData:
    """An activity as a form or an API body gives it (ids are checked against the community here)."""

    title: str
    place: str
    starts_at: datetime
    ends_at: datetime
    rule_id: int
    capacity: int | None = None
    description: str = ""
    team_id: int | None = None
    grid_id: int | None = None
    organiser_phone: str = ""  # a login's phone number; "" leaves it without an organiser


@dataclass(frozen=True)
class _Clean:
    title: str
    place: str
    description: str
    capacity: int | None
    rule: Rule
    team: Team | None
    grid: Grid | None
    organiser: User | None


def _text(value: str, limit: int, message: str, code: str, field_: str, required: bool = True) -> str:
    value = (value or "").strip()
    if (required and not value) or len(value) > limit:
        raise Invalid(message, code=code, field=field_)
    return value


def _rule_in_force(community: Community, rule_id: int, day: date, field_: str = "rule_id") -> Rule:
    rule = Rule.objects.filter(pk=rule_id, community=community).select_related("current").first()
    if rule is None:
        raise Invalid(_("Choose a points rule of this community."), code="rule_invalid", field=field_)
    version = rule.current
    if rule.retired or version is None or not domain.in_force(version.valid_from, version.valid_until, day):
        raise Invalid(
            _("This points rule is not in force on the day of the activity."), code="rule_not_in_force", field=field_
        )
    return rule


def _organiser(community: Community, phone: str) -> User | None:
    phone = (phone or "").strip()
    if not phone:
        return None
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is not None:
        ids = actor_for(user).community_ids() or set()
        if community.pk in ids:
            return user
    raise Invalid(
        _("No login with this phone number lives or works in this community."),
        code="organiser_invalid",
        field="organiser_phone",
    )


def _clean_common(community: Community, data: ActivityData | SeriesData, *, day: date) -> _Clean:
    """What an activity and a recurring series share (title, place, places, rule, team, grid, organiser), checked."""
    title, place, description, capacity = data.title, data.place, data.description, data.capacity
    rule_id, team_id, grid_id, organiser_phone = data.rule_id, data.team_id, data.grid_id, data.organiser_phone
    title = _text(title, 100, _("An activity needs a title of 1 to 100 characters."), "title_invalid", "title")
    place = _text(place, 120, _("Say where it takes place (at most 120 characters)."), "place_invalid", "place")
    description = _text(
        description,
        2000,
        _("The description is too long (2000 characters at most)."),
        "description_too_long",
        "description",
        required=False,
    )
    if capacity is not None and not 0 < capacity <= MAX_CAPACITY:
        raise Invalid(
            _("Places must be a whole number from 1 to 10000, or empty for no limit."),
            code="capacity_invalid",
            field="capacity",
        )
    team = None
    if team_id is not None:
        team = Team.objects.filter(pk=team_id, community=community).first()
        if team is None:
            raise Invalid(_("Choose a team of this community."), code="team_invalid", field="team_id")
    grid = None
    if grid_id is not None:
        grid = Grid.objects.filter(pk=grid_id, community=community).first()
        if grid is None:
            raise Invalid(_("Choose a grid of this community."), code="grid_invalid", field="grid_id")
    return _Clean(
        title,
        place,
        description,
        capacity,
        _rule_in_force(community, rule_id, day),
        team,
        grid,
        _organiser(community, organiser_phone),
    )


def _clean_times(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise Invalid(_("Give the time with its time zone."), code="time_invalid", field="starts_at")
    if ends_at <= starts_at:
        raise Invalid(_("The end must be after the start."), code="time_order", field="ends_at")
    if ends_at - starts_at > MAX_LENGTH:
        raise Invalid(_("An activity lasts at most 24 hours."), code="time_too_long", field="ends_at")
    if starts_at > now + MAX_AHEAD or starts_at < now - MAX_BEHIND:
        raise Invalid(_("The start must be within a year from today."), code="time_out_of_range", field="starts_at")


def _apply(activity: Activity, clean: _Clean) -> None:
    activity.title, activity.place, activity.description = clean.title, clean.place, clean.description
    activity.capacity, activity.rule, activity.team, activity.grid = clean.capacity, clean.rule, clean.team, clean.grid
    activity.organiser = clean.organiser


@transaction.atomic
def activity_create(*, actor: Actor, community: Community, data: ActivityData, now: datetime | None = None) -> Activity:
    require(actor, "activity.manage", community)
    _clean_times(data.starts_at, data.ends_at, _now(now))
    clean = _clean_common(community, data, day=timezone.localdate(data.starts_at))
    activity = Activity(community=community, starts_at=data.starts_at, ends_at=data.ends_at, secret=new_secret())
    _apply(activity, clean)
    activity.save()
    audit(
        actor=actor,
        action="points.activity_create",
        obj=activity,
        community_id=community.pk,
        title=activity.title,
        starts_at=activity.starts_at.isoformat(),
        rule=activity.rule_id,
        capacity=activity.capacity,
    )
    return activity


@transaction.atomic
def activity_update(*, actor: Actor, activity: Activity, data: ActivityData, now: datetime | None = None) -> Activity:
    """Change an open activity. Fewer places than people already confirmed is refused; more places move the
    waiting list up at once."""
    activity = _locked(activity)
    require(actor, "activity.manage", activity.community)
    _require_open(activity)
    _clean_times(data.starts_at, data.ends_at, _now(now))
    clean = _clean_common(activity.community, data, day=timezone.localdate(data.starts_at))
    confirmed, _waiting = _active_signups(activity)
    if clean.capacity is not None and clean.capacity < confirmed:
        raise Invalid(
            _("%(n)s people already have a place: the places cannot be fewer.") % {"n": confirmed},
            code="capacity_too_small",
            field="capacity",
        )
    _apply(activity, clean)
    activity.starts_at, activity.ends_at = data.starts_at, data.ends_at
    activity.save()
    promoted = _promote(activity, actor)
    audit(
        actor=actor,
        action="points.activity_update",
        obj=activity,
        community_id=activity.community_id,
        title=activity.title,
        starts_at=activity.starts_at.isoformat(),
        capacity=activity.capacity,
        promoted=[s.person_id for s in promoted],
    )
    return activity


@transaction.atomic
def activity_cancel(*, actor: Actor, activity: Activity, reason: str = "") -> Activity:
    """Call an activity off. Its sign-ups stay, so everyone who signed up sees it is cancelled. Again: no change."""
    activity = _locked(activity)
    require(actor, "activity.manage", activity.community)
    if activity.status == ActivityStatus.CANCELLED:
        return activity
    if activity.status == ActivityStatus.CLOSED:
        raise ActivityState(_("A closed activity cannot be cancelled: its claims exist."), code="activity_closed")
    activity.status = ActivityStatus.CANCELLED
    activity.save(update_fields=["status", "updated_at"])
    audit(
        actor=actor,
        action="points.activity_cancel",
        obj=activity,
        community_id=activity.community_id,
        reason=(reason or "").strip()[:200],
    )
    return activity


@transaction.atomic
def activity_new_codes(*, actor: Actor, activity: Activity) -> Activity:
    """A new secret: every QR code printed so far stops working (a photo of the poster went round)."""
    activity = _locked(activity)
    if not may_run(actor, activity):
        require(actor, "activity.manage", activity.community)
    _require_open(activity)
    activity.secret = new_secret()
    activity.save(update_fields=["secret", "updated_at"])
    audit(actor=actor, action="points.activity_new_codes", obj=activity, community_id=activity.community_id)
    return activity


# --- recurring activities ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SeriesData:
    title: str
    place: str
    rule_id: int
    repeat: str  # domain_activities.Repeat
    start_time: time
    end_time: time
    first_date: date
    weekday: int | None = None  # 0 = Monday
    nth: int | None = None  # 1..4, -1 = the last
    day: int | None = None  # 1..28
    last_date: date | None = None
    capacity: int | None = None
    description: str = ""
    team_id: int | None = None
    grid_id: int | None = None
    organiser_phone: str = ""


@dataclass
class SeriesResult:
    series: ActivitySeries
    created: list[Activity] = field(default_factory=list)
    skipped: list[tuple[date, str]] = field(default_factory=list)  # a date left out, and why


@transaction.atomic
def activity_series_create(
    *, actor: Actor, community: Community, data: SeriesData, today: date | None = None
) -> SeriesResult:
    """A recurring activity and its occurrences for the next three months."""
    require(actor, "activity.manage", community)
    today = today or timezone.localdate()
    try:
        rrule = rules_.build_rrule(data.repeat, weekday=data.weekday, nth=data.nth, day=data.day)
    except ValueError as exc:
        raise Invalid(
            _("Choose how it repeats: the weekday, which one in the month, or the day of the month."),
            code="repeat_invalid",
            field=str(exc) if str(exc) in {"weekday", "nth", "day"} else "repeat",
        ) from None
    if data.end_time <= data.start_time:
        raise Invalid(_("The end must be after the start."), code="time_order", field="end_time")
    if data.first_date < today or data.first_date > today + MAX_AHEAD:
        raise Invalid(
            _("The first day must be between today and a year from now."), code="date_invalid", field="first_date"
        )
    if data.last_date is not None and data.last_date < data.first_date:
        raise Invalid(_("“Until” is before the first day."), code="date_invalid", field="last_date")
    clean = _clean_common(community, data, day=data.first_date)
    series = ActivitySeries.objects.create(
        community=community,
        title=clean.title,
        rrule=rrule,
        start_time=data.start_time,
        end_time=data.end_time,
        first_date=data.first_date,
        last_date=data.last_date,
        place=clean.place,
        description=clean.description,
        capacity=clean.capacity,
        rule=clean.rule,
        team=clean.team,
        grid=clean.grid,
        organiser=clean.organiser,
    )
    audit(
        actor=actor,
        action="points.series_create",
        obj=series,
        community_id=community.pk,
        rrule=rrule,
        title=series.title,
    )
    result = _extend(series, actor, today)
    if not result.created and not result.skipped:
        raise Invalid(_("This repeats on no day in the next three months."), code="series_empty", field="first_date")
    return result


def _extend(series: ActivitySeries, actor: Actor, today: date) -> SeriesResult:
    result = SeriesResult(series)
    if series.ended:
        return result
    tz = timezone.get_current_timezone()
    have = {timezone.localdate(start, tz) for start in series.items.values_list("starts_at", flat=True)}
    dates = rules_.occurrence_dates(
        series.rrule,
        first=series.first_date,
        last=series.last_date,
        since=today,
        until=today + timedelta(days=rules_.HORIZON_DAYS),
    )
    for day in dates:
        if day in have:
            continue
        version = series.rule.current if series.rule is not None else None
        if (
            series.rule is None
            or series.rule.retired
            or version is None
            or not domain.in_force(version.valid_from, version.valid_until, day)
        ):
            result.skipped.append((day, "rule_not_in_force"))
            continue
        starts = timezone.make_aware(datetime.combine(day, series.start_time), tz)
        activity = Activity.objects.create(
            community_id=series.community_id,
            team=series.team,
            grid=series.grid,
            title=series.title,
            description=series.description,
            place=series.place,
            starts_at=starts,
            ends_at=timezone.make_aware(datetime.combine(day, series.end_time), tz),
            capacity=series.capacity,
            rule=series.rule,
            series=series,
            organiser=series.organiser,
            secret=new_secret(),
        )
        result.created.append(activity)
    if result.created:
        audit(
            actor=actor,
            action="points.series_extend",
            obj=series,
            community_id=series.community_id,
            created=[a.pk for a in result.created],
        )
    return result


@transaction.atomic
def activity_series_extend(
    *, series: ActivitySeries, actor: Actor | None = None, today: date | None = None
) -> SeriesResult:
    """Generate the occurrences of the next three months that do not exist yet. Run it as often as you like (the
    daily `linli points extend-series`, or the button on the series page): dates already generated, even cancelled
    ones, are never made again. `actor` None is the system (the scheduled command)."""
    series = ActivitySeries.objects.select_for_update(of=("self",)).select_related("rule__current").get(pk=series.pk)
    if actor is not None:
        require(actor, "activity.manage", series.community)
    return _extend(series, actor or ANONYMOUS, today or timezone.localdate())


def series_extend_all(*, today: date | None = None) -> list[SeriesResult]:
    """Every running series, each in its own transaction (one broken series does not stop the others)."""
    results = []
    for series in ActivitySeries.objects.filter(ended=False).order_by("id"):
        results.append(activity_series_extend(series=series, today=today))
    return results


@dataclass
class SeriesEnded:
    series: ActivitySeries
    cancelled: list[Activity]
    kept: list[Activity]  # future occurrences people have signed up for: staff decide about those one by one


@transaction.atomic
def activity_series_end(*, actor: Actor, series: ActivitySeries, now: datetime | None = None) -> SeriesEnded:
    """Stop a series: nothing more is generated and its future occurrences nobody signed up for are cancelled."""
    series = ActivitySeries.objects.select_for_update().get(pk=series.pk)
    require(actor, "activity.manage", series.community)
    moment = _now(now)
    if not series.ended:
        series.ended = True
        today = timezone.localdate(moment)
        series.last_date = today if series.last_date is None else min(series.last_date, today)
        series.save(update_fields=["ended", "last_date", "updated_at"])
    cancelled, kept = [], []
    future = Activity.objects.select_for_update().filter(
        series=series, status=ActivityStatus.OPEN, starts_at__gt=moment
    )
    for activity in future.order_by("starts_at"):
        taken = Signup.objects.filter(activity=activity).exclude(status=SignupStatus.CANCELLED).exists()
        if taken:
            kept.append(activity)
            continue
        activity.status = ActivityStatus.CANCELLED
        activity.save(update_fields=["status", "updated_at"])
        cancelled.append(activity)
    audit(
        actor=actor,
        action="points.series_end",
        obj=series,
        community_id=series.community_id,
        cancelled=[a.pk for a in cancelled],
        kept=[a.pk for a in kept],
    )
    return SeriesEnded(series, cancelled, kept)


# --- signing up -------------------------------------------------------------------------------------------------------
def _may_sign_up_for(actor: Actor, person: Person) -> None:
    """The resident themself, or staff for an elder without a phone."""
    if not (can(actor, "activity.join", person) or can(actor, "activity.manage", person)):
        require(actor, "activity.join", person, hide=True)


@transaction.atomic
def signup_create(*, actor: Actor, activity: Activity, person: Person, now: datetime | None = None) -> Signup:
    """A place while places remain, else the waiting list in order. Signing up again changes nothing; after a
    cancellation it puts the person at the end of the queue."""
    if person.community_id != activity.community_id:
        raise NotFound()
    _may_sign_up_for(actor, person)
    activity = _locked(activity)
    _require_open(activity)
    if not person.is_active:
        raise Invalid(_("This person is no longer active."), code="person_inactive")
    moment = _now(now)
    if moment >= activity.ends_at:
        raise ActivityState(_("This activity is over."), code="activity_over")
    signup = Signup.objects.filter(activity=activity, person=person).first()
    if signup is not None and signup.status != SignupStatus.CANCELLED:
        return signup
    confirmed, waiting = _active_signups(activity)
    status = rules_.signup_status(activity.capacity, confirmed, waiting)
    if signup is None:
        signup = Signup.objects.create(
            community_id=activity.community_id, activity=activity, person=person, status=status, created_at=moment
        )
    else:
        signup.status, signup.created_at = status, moment
        signup.save(update_fields=["status", "created_at"])
    audit(
        actor=actor,
        action="points.signup_create",
        obj=signup,
        community_id=signup.community_id,
        activity=activity.pk,
        person=person.pk,
        status=status,
    )
    return signup


@dataclass
class Cancelled:
    signup: Signup
    promoted: list[Signup]


@transaction.atomic
def signup_cancel(*, actor: Actor, activity: Activity, person: Person) -> Cancelled:
    """Give up a place (or leave the waiting list); the first person waiting moves up. Again: no change."""
    if person.community_id != activity.community_id:
        raise NotFound()
    _may_sign_up_for(actor, person)
    activity = _locked(activity)
    signup = Signup.objects.filter(activity=activity, person=person).first()
    if signup is None:
        raise NotFound(_("You have not signed up for this activity."), code="signup_not_found")
    if signup.status == SignupStatus.CANCELLED:
        return Cancelled(signup, [])
    _require_open(activity)
    was = signup.status
    signup.status = SignupStatus.CANCELLED
    signup.save(update_fields=["status"])
    audit(
        actor=actor,
        action="points.signup_cancel",
        obj=signup,
        community_id=signup.community_id,
        activity=activity.pk,
        person=person.pk,
        was=was,
    )
    promoted = _promote(activity, actor) if was == SignupStatus.CONFIRMED else []
    return Cancelled(signup, promoted)


# --- QR codes and attendance ------------------------------------------------------------------------------------------
def qr_token(activity: Activity, kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(kind)
    return signing.dumps({"a": activity.pk, "k": kind}, salt=QR_SALT + activity.secret, compress=False)


def qr_check(activity: Activity, kind: str, token: str, now: datetime | None = None) -> None:
    """Raise QrInvalid for a forged, foreign or wrong-kind token, QrNotYetValid / QrExpired outside its window."""
    token = (token or "").strip()
    if not token or len(token) > 200 or kind not in KINDS:
        raise QrInvalid()
    try:
        payload = signing.loads(token, salt=QR_SALT + activity.secret)
    except signing.BadSignature:
        raise QrInvalid() from None
    if not isinstance(payload, dict) or payload.get("a") != activity.pk or payload.get("k") != kind:
        raise QrInvalid()
    state = rules_.qr_state(_now(now), activity.starts_at, activity.ends_at)
    if state == "early":
        raise QrNotYetValid()
    if state == "expired":
        raise QrExpired()


@dataclass
class Scanned:
    attendance: Attendance
    changed: bool  # False when the scan repeated one already recorded


@transaction.atomic
def attendance_check_in(*, actor: Actor, activity: Activity, token: str, now: datetime | None = None) -> Scanned:
    """The resident scanned the check-in code and confirmed. Twice is the same as once."""
    person = _own_person(actor, activity)
    require(actor, "activity.join", person, hide=True)
    moment = _now(now)
    qr_check(activity, CHECK_IN, token, moment)
    activity = _locked(activity)
    _require_open(activity)
    found = Attendance.objects.filter(activity=activity, person=person).first()
    if found is not None:
        return Scanned(found, False)
    attendance = Attendance.objects.create(
        community_id=activity.community_id, activity=activity, person=person, checked_in_at=moment
    )
    audit(
        actor=actor,
        action="points.check_in",
        obj=attendance,
        community_id=activity.community_id,
        activity=activity.pk,
        person=person.pk,
    )
    return Scanned(attendance, True)


@transaction.atomic
def attendance_check_out(*, actor: Actor, activity: Activity, token: str, now: datetime | None = None) -> Scanned:
    """The resident scanned the check-out code. The first check-out counts; scanning again changes nothing."""
    person = _own_person(actor, activity)
    require(actor, "activity.join", person, hide=True)
    moment = _now(now)
    qr_check(activity, CHECK_OUT, token, moment)
    activity = _locked(activity)
    _require_open(activity)
    attendance = Attendance.objects.filter(activity=activity, person=person).first()
    if attendance is None:
        raise CheckoutBeforeCheckin()
    if attendance.checked_out_at is not None:
        return Scanned(attendance, False)
    attendance.checked_out_at = max(moment, attendance.checked_in_at)
    attendance.save(update_fields=["checked_out_at"])
    audit(
        actor=actor,
        action="points.check_out",
        obj=attendance,
        community_id=activity.community_id,
        activity=activity.pk,
        person=person.pk,
    )
    return Scanned(attendance, True)


def _may_mark(actor: Actor, activity: Activity, person: Person) -> None:
    if person.community_id != activity.community_id:
        raise NotFound()
    if may_run(actor, activity):
        return
    require(actor, "activity.mark", person)


@transaction.atomic
def attendance_mark(
    *,
    actor: Actor,
    activity: Activity,
    person: Person,
    present: bool = True,
    checked_in_at: datetime | None = None,
    checked_out_at: datetime | None = None,
    now: datetime | None = None,
) -> Attendance | None:
    """The organiser (or a steward or grid worker for their people) marks someone without a phone present, with
    times (the activity's own by default), or absent (the attendance is removed). Nobody marks themself."""
    _may_mark(actor, activity, person)
    if actor.person_id is not None and actor.person_id == person.pk:
        raise Forbidden(
            _("Nobody marks their own attendance: scan the QR code, or ask the organiser."), code="own_attendance"
        )
    activity = _locked(activity)
    _require_open(activity)
    opens, closes = rules_.qr_window(activity.starts_at, activity.ends_at)
    if _now(now) < opens:
        raise ActivityState(_("Attendance can be marked from one hour before the start."), code="activity_not_started")
    found = Attendance.objects.filter(activity=activity, person=person).first()
    if not present:
        if found is not None:
            audit(
                actor=actor,
                action="points.attendance_absent",
                obj=found,
                community_id=activity.community_id,
                activity=activity.pk,
                person=person.pk,
                checked_in_at=found.checked_in_at.isoformat(),
                checked_out_at=found.checked_out_at.isoformat() if found.checked_out_at else None,
            )
            found.delete()
        return None
    start = checked_in_at or (found.checked_in_at if found else activity.starts_at)
    end = checked_out_at or activity.ends_at
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise Invalid(_("Give the time with its time zone."), code="time_invalid", field="checked_in_at")
    if not opens <= start < end <= closes:
        raise Invalid(
            _(
                "The times must lie within the activity (from an hour before to two hours after), "
                "and leaving must come after arriving."
            ),
            code="attendance_times",
            field="checked_out_at",
        )
    if not person.is_active:
        raise Invalid(_("This person is no longer active."), code="person_inactive")
    user = actor.user if getattr(actor.user, "pk", None) else None
    if found is None:
        found = Attendance.objects.create(
            community_id=activity.community_id,
            activity=activity,
            person=person,
            checked_in_at=start,
            checked_out_at=end,
            marked_by=user,
        )
    else:
        found.checked_in_at, found.checked_out_at, found.marked_by = start, end, user
        found.save(update_fields=["checked_in_at", "checked_out_at", "marked_by"])
    audit(
        actor=actor,
        action="points.attendance_mark",
        obj=found,
        community_id=activity.community_id,
        activity=activity.pk,
        person=person.pk,
        checked_in_at=start.isoformat(),
        checked_out_at=end.isoformat(),
    )
    return found


# --- attendance into claims ------------------------------------------------------------------------------------------
@dataclass
class Skipped:
    person: Person
    code: str
    reason: str


@dataclass
class Closed:
    activity: Activity
    created: int = 0  # new claims
    approved: int = 0  # claims approved (posted) in this run
    already: int = 0  # claims made by an earlier run
    left_verified: list[Claim] = field(default_factory=list)  # waiting for someone else's approval
    skipped: list[Skipped] = field(default_factory=list)


def claim_key(activity: Activity, person_id: int) -> str:
    return f"activity:{activity.pk}:{person_id}"


@transaction.atomic
def activity_close(*, actor: Actor, activity: Activity, approve: bool = True, now: datetime | None = None) -> Closed:
    """Turn every attendance with a check-out (or marked by the organiser) into a claim: the attendance is the
    evidence, so the claims arrive verified. When the actor may approve, they are approved and posted in the same
    action — except the actor's own, which is left for someone else. Running it again creates nothing new (each
    claim's idempotency key is the activity and the person) and approves what was left over, if it may."""
    activity = _locked(activity)
    if not may_run(actor, activity):
        require(actor, "activity.manage", activity.community)
    if activity.status == ActivityStatus.CANCELLED:
        raise ActivityState(_("This activity has been cancelled."), code="activity_cancelled")
    if _now(now) < activity.ends_at:
        raise ActivityState(
            _("Attendance can be turned into claims once the activity is over."), code="activity_not_over"
        )
    result = Closed(activity)
    day = timezone.localdate(activity.starts_at)
    attendances = Attendance.objects.filter(activity=activity).select_related("person").order_by("checked_in_at", "id")
    for attendance in attendances:
        person = attendance.person
        if attendance.checked_out_at is None:
            result.skipped.append(Skipped(person, "no_check_out", _("checked in but never checked out")))
            continue
        minutes = domain.service_minutes(
            attendance.checked_in_at, attendance.checked_out_at, activity.starts_at, activity.ends_at
        )
        data = services.ClaimInput(
            occurred_on=day, minutes=min(minutes, services.MAX_MINUTES) or None, note=activity.title[:300]
        )
        try:
            submitted = services.claim_submit(
                actor=actor,
                person=person,
                rule=activity.rule,
                data=data,
                idempotency_key=claim_key(activity, person.pk),
                activity=activity,
            )
        except DomainError as error:
            result.skipped.append(Skipped(person, error.code, str(error.message)))
            continue
        claim = submitted.claim
        if submitted.replayed:
            result.already += 1
        else:
            result.created += 1
            if claim.status == ClaimStatus.APPROVED:  # a rule without an approval step posts at once
                result.approved += 1
        if claim.status != ClaimStatus.VERIFIED and not (
            claim.status == ClaimStatus.SUBMITTED and not domain.needs_verification(claim.rule_version.steps)
        ):
            continue
        if not approve or not can(actor, "claim.approve", person):
            result.left_verified.append(claim)
            continue
        if actor.person_id == person.pk:
            result.left_verified.append(claim)  # nobody approves their own claim
            continue
        try:
            services.claim_approve(actor=actor, claim=claim)
        except DomainError as error:
            result.skipped.append(Skipped(person, error.code, str(error.message)))
            continue
        result.approved += 1
    if activity.status != ActivityStatus.CLOSED:
        activity.status = ActivityStatus.CLOSED
        activity.save(update_fields=["status", "updated_at"])
    audit(
        actor=actor,
        action="points.activity_close",
        obj=activity,
        community_id=activity.community_id,
        created=result.created,
        approved=result.approved,
        already=result.already,
        left=[c.pk for c in result.left_verified],
        skipped={s.person.pk: s.code for s in result.skipped},
    )
    return result


def close_summary(result: Closed) -> dict[str, Any]:
    """The result as plain data (API body, audit, page message)."""
    return {
        "activity_id": result.activity.pk,
        "created": result.created,
        "approved": result.approved,
        "already": result.already,
        "left_verified": [{"claim_id": c.pk, "person_id": c.person_id} for c in result.left_verified],
        "skipped": [{"person_id": s.person.pk, "code": s.code, "reason": s.reason} for s in result.skipped],
    }
