"""Every change the council makes: meetings and their agenda, resolutions and their chasing, owners' votes.

Each service is one whole state change in one transaction, with its audit record. Rows that two people may change
at once (a meeting's number, a resolution, a vote and its ballots) are locked first, so the second click sees the
first one's result.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.common.errors import Forbidden, Invalid
from linli.common.models import audit
from linli.common.text import clean_text
from linli.council import domain
from linli.council.errors import (
    BadCheckinCode,
    BallotAlreadyCast,
    CheckinRefused,
    EvaluationRefused,
    MeetingStatusRefused,
    NotOnRoll,
    ResolutionStatusRefused,
    RollIncomplete,
    TooEarlyToClose,
    VoteStatusRefused,
    VotingClosed,
)
from linli.council.models import (
    OPEN_RESOLUTION,
    AgendaItem,
    Attendance,
    Ballot,
    BallotChannel,
    CheckinVia,
    Choice,
    DisputeKind,
    EntryKind,
    Evaluation,
    Invitation,
    Matter,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    OwnersVote,
    PartyKind,
    Resolution,
    ResolutionEntry,
    ResolutionStatus,
    RollEntry,
    RollOwner,
    RollUnit,
    SeriesKind,
    VoteStatus,
)
from linli.ledger.errors import IdempotencyKeyReused
from linli.orders.models import Severity, WorkOrder
from linli.org.access import Actor, can, require
from linli.org.models import Building, Community, Compound, Grid, Household, HouseholdMember, PartnerUnit, Person

CHECKIN_OPENS = timedelta(hours=2)


def _user(actor: Actor | None) -> Any:
    user = actor.user if actor is not None else None
    return user if getattr(user, "pk", None) else None


def _person(actor: Actor) -> Person:
    """The resident acting for themselves (checking in, rating, voting)."""
    if not actor.person_id:
        raise Forbidden()
    return Person.objects.get(pk=actor.person_id)


def _choice(value: str, choices: list[str], field_name: str) -> str:
    if value not in choices:
        raise Invalid(_("Choose one of the options offered."), code="invalid_choice", field=field_name)
    return value


def _same_community(community_id: int, obj: Any, field_name: str) -> None:
    if obj is not None and obj.community_id != community_id:
        raise Invalid(_("That belongs to another community."), code="other_community", field=field_name)


def _reason(value: str | None) -> str:
    return clean_text(value, field_name="reason", max_length=200, required=True)


# --- series and meetings --------------------------------------------------------------------------------------------
@transaction.atomic
def series_save(
    *,
    actor: Actor,
    community: Community,
    name: str,
    kind: str = SeriesKind.EVENING_TALK,
    description: str = "",
    numbered_from: int = 1,
    is_active: bool = True,
    series: MeetingSeries | None = None,
) -> MeetingSeries:
    """Create or edit a series. `numbered_from` lets the platform continue the paper register's numbering."""
    require(actor, "council.manage", community)
    name = clean_text(name, field_name="name", max_length=60, required=True)
    if not 1 <= numbered_from <= 100000:
        raise Invalid(_("The first number must be between 1 and 100000."), field="numbered_from")
    if series is None:
        series = MeetingSeries(community=community)
    elif series.community_id != community.pk:
        raise Invalid(_("That belongs to another community."), code="other_community", field="series")
    series.name, series.kind = name, _choice(kind, SeriesKind.values, "kind")
    series.description = clean_text(description, field_name="description", max_length=300)
    series.numbered_from, series.is_active = numbered_from, is_active
    try:
        with transaction.atomic():
            series.save()
    except IntegrityError:
        raise Invalid(_("A series with this name already exists."), code="series_exists", field="name") from None
    audit(actor=actor, action="council.series_save", obj=series, community_id=community.pk, name=name)
    return series


@dataclass(frozen=True)
class MeetingData:
    title: str
    starts_at: datetime
    place: str
    host: str
    grid: Grid | None = None
    compound: Compound | None = None
    building: Building | None = None


def _place(community_id: int, data: MeetingData) -> dict[str, Any]:
    for name in ("grid", "compound", "building"):
        _same_community(community_id, getattr(data, name), name)
    grid = data.grid
    if grid is None and data.building is not None:
        grid = data.building.grid
    if grid is None and data.compound is not None:
        grid = data.compound.grid
    return {
        "title": clean_text(data.title, field_name="title", max_length=120, required=True),
        "starts_at": data.starts_at,
        "place": clean_text(data.place, field_name="place", max_length=120, required=True),
        "host": clean_text(data.host, field_name="host", max_length=60, required=True),
        "grid": grid,
        "compound": data.compound,
        "building": data.building,
    }


def _may_run(actor: Actor, community: Community, grid: Grid | None) -> None:
    """Staff run every meeting of their community; grid workers the meetings held in their grid."""
    require(actor, "council.manage", grid if grid is not None else community)


@dataclass(frozen=True)
class Planned:
    meeting: Meeting
    replayed: bool  # True: the key was used before, and this is the meeting it planned then


@transaction.atomic
def meeting_plan(*, actor: Actor, series: MeetingSeries, data: MeetingData, idempotency_key: str = "") -> Planned:
    """Plan the next session of a series; it takes the series' next number (a retried request gets the first)."""
    key = clean_text(idempotency_key, field_name="idempotency_key", max_length=120)
    fields = _place(series.community_id, data)
    asked = (series.pk, fields["title"], fields["starts_at"], fields["place"], fields["host"])

    def replay() -> Meeting | None:
        done = Meeting.objects.filter(community_id=series.community_id, request_key=key).first() if key else None
        # the same key with another meeting is a client's mistake, not a retry: answering with the first meeting
        # would hide it (compared with the meeting as it is now, like a work order's retry)
        if done is not None and (done.series_id, done.title, done.starts_at, done.place, done.host) != asked:
            raise IdempotencyKeyReused()
        return done

    if (done := replay()) is not None:
        return Planned(done, replayed=True)
    _may_run(actor, series.community, fields["grid"])
    if not series.is_active:
        raise Invalid(_("This series is no longer active."), code="series_inactive", field="series")
    # the series row is the counter: its lock makes concurrent plans take consecutive numbers, and a retry sent
    # at the same moment as the first request waits here, then finds the meeting it planned (no duplicate key)
    MeetingSeries.objects.select_for_update().filter(pk=series.pk).values_list("pk", flat=True).get()
    if (done := replay()) is not None:
        return Planned(done, replayed=True)
    MeetingSeries.objects.filter(pk=series.pk).update(last_number=F("last_number") + 1)
    last, first = MeetingSeries.objects.filter(pk=series.pk).values_list("last_number", "numbered_from").get()
    meeting = Meeting.objects.create(
        community_id=series.community_id,
        series=series,
        number=first + last - 1,
        checkin_code=secrets.token_urlsafe(12),
        created_by=_user(actor),
        request_key=key,
        **fields,
    )
    audit(actor=actor, action="council.meeting_create", obj=meeting, community_id=meeting.community_id)
    return Planned(meeting, replayed=False)


def meeting_create(*, actor: Actor, series: MeetingSeries, data: MeetingData, idempotency_key: str = "") -> Meeting:
    """meeting_plan, for callers that need not know whether the key was used before."""
    return meeting_plan(actor=actor, series=series, data=data, idempotency_key=idempotency_key).meeting


def _locked_meeting(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update(of=("self",)).select_related("series", "community").get(pk=meeting.pk)


def _require_meeting(actor: Actor, meeting: Meeting) -> None:
    _may_run(actor, meeting.community, meeting.grid)


def _open_meeting(meeting: Meeting, *allowed: str) -> None:
    if meeting.status not in (allowed or (MeetingStatus.PLANNED, MeetingStatus.HELD)):
        raise MeetingStatusRefused()


@transaction.atomic
def meeting_update(*, actor: Actor, meeting: Meeting, data: MeetingData) -> Meeting:
    meeting = _locked_meeting(meeting)
    _require_meeting(actor, meeting)
    _open_meeting(meeting)
    fields = _place(meeting.community_id, data)
    _may_run(actor, meeting.community, fields["grid"])
    for name, value in fields.items():
        setattr(meeting, name, value)
    meeting.save()
    audit(actor=actor, action="council.meeting_update", obj=meeting, community_id=meeting.community_id)
    return meeting


@transaction.atomic
def meeting_invite(
    *,
    actor: Actor,
    meeting: Meeting,
    kind: str,
    name: str = "",
    person: Person | None = None,
    partner: PartnerUnit | None = None,
    note: str = "",
) -> Invitation:
    """Invite a resident, a partner unit or someone by name (the community lawyer, the property company)."""
    meeting = _locked_meeting(meeting)
    _require_meeting(actor, meeting)
    _open_meeting(meeting, MeetingStatus.PLANNED)
    kind = _choice(kind, PartyKind.values, "kind")
    _same_community(meeting.community_id, person, "person")
    _same_community(meeting.community_id, partner, "partner")
    if person is not None:
        name = name or person.name
    elif partner is not None:
        name, kind = name or partner.name, PartyKind.PARTNER
    name = clean_text(name, field_name="name", max_length=100, required=True)
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                community_id=meeting.community_id,
                meeting=meeting,
                kind=kind,
                name=name,
                person=person,
                partner=partner,
                note=clean_text(note, field_name="note", max_length=200),
            )
    except IntegrityError:
        raise Invalid(_("Already invited."), code="already_invited") from None
    audit(actor=actor, action="council.invite", obj=meeting, community_id=meeting.community_id, name=name, kind=kind)
    return invitation


@transaction.atomic
def invitation_remove(*, actor: Actor, invitation: Invitation) -> None:
    meeting = _locked_meeting(invitation.meeting)
    _require_meeting(actor, meeting)
    _open_meeting(meeting, MeetingStatus.PLANNED)
    audit(actor=actor, action="council.uninvite", obj=meeting, community_id=meeting.community_id, name=invitation.name)
    invitation.delete()


def _attend(meeting: Meeting, *, person: Person | None, name: str, kind: str, via: str, actor: Actor) -> Attendance:
    if person is not None:
        existing = Attendance.objects.filter(meeting=meeting, person=person).first()
        if existing is not None:
            return existing  # a second scan, or staff signing in someone who already scanned: one attendance
    attendance = Attendance.objects.create(
        community_id=meeting.community_id,
        meeting=meeting,
        person=person,
        name=name,
        kind=kind,
        via=via,
        recorded_by=_user(actor),
    )
    audit(actor=actor, action="council.attend", obj=meeting, community_id=meeting.community_id, name=name, via=via)
    return attendance


@transaction.atomic
def meeting_checkin(*, actor: Actor, meeting: Meeting, code: str, now: datetime | None = None) -> Attendance:
    """A resident scans the QR code on the wall: signed in once, however often they scan."""
    meeting = _locked_meeting(meeting)
    require(actor, "meeting.checkin", meeting.community)
    if not secrets.compare_digest(str(code or ""), meeting.checkin_code):
        raise BadCheckinCode(field="code")
    now = now or timezone.now()
    if meeting.status not in (MeetingStatus.PLANNED, MeetingStatus.HELD) or now < meeting.starts_at - CHECKIN_OPENS:
        raise CheckinRefused()
    person = _person(actor)
    return _attend(meeting, person=person, name=person.name, kind=PartyKind.RESIDENT, via=CheckinVia.QR, actor=actor)


@transaction.atomic
def attendance_record(
    *, actor: Actor, meeting: Meeting, person: Person | None = None, name: str = "", kind: str = PartyKind.RESIDENT
) -> Attendance:
    """Staff sign in someone without a phone, or a guest (the lawyer, the property manager) by name."""
    meeting = _locked_meeting(meeting)
    _require_meeting(actor, meeting)
    _open_meeting(meeting)
    _same_community(meeting.community_id, person, "person")
    name = clean_text(name or (person.name if person else ""), field_name="name", max_length=100, required=True)
    kind = _choice(kind, PartyKind.values, "kind")
    return _attend(meeting, person=person, name=name, kind=kind, via=CheckinVia.STAFF, actor=actor)


@transaction.atomic
def attendance_remove(*, actor: Actor, attendance: Attendance) -> None:
    meeting = _locked_meeting(attendance.meeting)
    _require_meeting(actor, meeting)
    _open_meeting(meeting)
    audit(actor=actor, action="council.unattend", obj=meeting, community_id=meeting.community_id, name=attendance.name)
    attendance.delete()


@dataclass(frozen=True)
class ItemData:
    title: str
    kind: str
    severity: str
    description: str = ""
    work_order: WorkOrder | None = None


def _item_fields(community_id: int, data: ItemData) -> dict[str, Any]:
    _same_community(community_id, data.work_order, "work_order")
    title = data.title or (data.work_order.title if data.work_order is not None else "")
    return {
        "title": clean_text(title, field_name="title", max_length=120, required=True),
        "description": clean_text(data.description, field_name="description", max_length=4000),
        "kind": _choice(data.kind, DisputeKind.values, "kind"),
        "severity": _choice(data.severity, Severity.values, "severity"),
        "work_order": data.work_order,
    }


@transaction.atomic
def agenda_add(*, actor: Actor, meeting: Meeting, data: ItemData) -> AgendaItem:
    """A problem on the table: a work order brought to the meeting, or a new topic."""
    meeting = _locked_meeting(meeting)
    _require_meeting(actor, meeting)
    _open_meeting(meeting)
    fields = _item_fields(meeting.community_id, data)
    if data.work_order is not None:
        require(actor, "order.view", data.work_order, hide=True)
    position = (meeting.items.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    item = AgendaItem.objects.create(community_id=meeting.community_id, meeting=meeting, position=position, **fields)
    audit(actor=actor, action="council.agenda_add", obj=item, community_id=item.community_id, title=item.title)
    return item


@transaction.atomic
def agenda_update(*, actor: Actor, item: AgendaItem, data: ItemData) -> AgendaItem:
    meeting = _locked_meeting(item.meeting)
    _require_meeting(actor, meeting)
    _open_meeting(meeting)
    if data.work_order is not None and data.work_order.pk != item.work_order_id:
        require(actor, "order.view", data.work_order, hide=True)
    for name, value in _item_fields(meeting.community_id, data).items():
        setattr(item, name, value)
    item.save()
    audit(actor=actor, action="council.agenda_update", obj=item, community_id=item.community_id)
    return item


@transaction.atomic
def meeting_hold(*, actor: Actor, meeting: Meeting, minutes: str = "") -> Meeting:
    """The meeting took place: minutes may follow, resolutions are recorded."""
    meeting = _locked_meeting(meeting)
    _require_meeting(actor, meeting)
    _open_meeting(meeting, MeetingStatus.PLANNED)
    meeting.status, meeting.held_at = MeetingStatus.HELD, timezone.now()
    if minutes:
        meeting.minutes = clean_text(minutes, field_name="minutes", max_length=20000)
    meeting.save(update_fields=["status", "held_at", "minutes", "updated_at"])
    audit(actor=actor, action="council.meeting_hold", obj=meeting, community_id=meeting.community_id)
    return meeting


@transaction.atomic
def meeting_minutes(*, actor: Actor, meeting: Meeting, minutes: str) -> Meeting:
    meeting = _locked_meeting(meeting)
    _require_meeting(actor, meeting)
    _open_meeting(meeting, MeetingStatus.HELD)
    meeting.minutes = clean_text(minutes, field_name="minutes", max_length=20000)
    meeting.save(update_fields=["minutes", "updated_at"])
    audit(actor=actor, action="council.meeting_minutes", obj=meeting, community_id=meeting.community_id)
    return meeting


@transaction.atomic
def meeting_close(*, actor: Actor, meeting: Meeting, report: str) -> Meeting:
    """The closing report (总结) is written: the meeting is done. Its resolutions go on being chased."""
    meeting = _locked_meeting(meeting)
    _require_meeting(actor, meeting)
    _open_meeting(meeting, MeetingStatus.HELD)
    meeting.report = clean_text(report, field_name="report", max_length=8000, required=True)
    if not meeting.minutes:
        raise Invalid(_("Write the minutes before closing the meeting."), code="minutes_required", field="minutes")
    meeting.status, meeting.closed_at = MeetingStatus.CLOSED, timezone.now()
    meeting.save(update_fields=["report", "status", "closed_at", "updated_at"])
    audit(actor=actor, action="council.meeting_close", obj=meeting, community_id=meeting.community_id)
    return meeting


@transaction.atomic
def meeting_cancel(*, actor: Actor, meeting: Meeting, reason: str) -> Meeting:
    meeting = _locked_meeting(meeting)
    _require_meeting(actor, meeting)
    _open_meeting(meeting, MeetingStatus.PLANNED)
    meeting.status, meeting.cancel_reason = MeetingStatus.CANCELLED, _reason(reason)
    meeting.save(update_fields=["status", "cancel_reason", "updated_at"])
    audit(actor=actor, action="council.meeting_cancel", obj=meeting, community_id=meeting.community_id)
    return meeting


# --- resolutions ----------------------------------------------------------------------------------------------------
def _locked_resolution(resolution: Resolution) -> Resolution:
    return (
        Resolution.objects.select_for_update(of=("self",))
        .select_related("item__meeting__community", "item__meeting__grid")
        .get(pk=resolution.pk)
    )


def _entry(
    resolution: Resolution,
    *,
    actor: Actor | None,
    kind: str,
    text: str = "",
    progress: int | None = None,
    public: bool = False,
) -> ResolutionEntry:
    entry = ResolutionEntry.objects.create(
        community_id=resolution.community_id,
        resolution=resolution,
        kind=kind,
        text=text,
        progress=progress,
        public=public,
        actor=_user(actor),
    )
    audit(
        actor=actor,
        action=f"council.resolution_{kind}",
        obj=resolution,
        community_id=resolution.community_id,
        status=resolution.status,
        progress=resolution.progress,
    )
    return entry


def _staff_user(community: Community, user: Any, field_name: str) -> Any:
    """A named owner or supervisor must work in the community (they chase and report through the platform)."""
    if user is None:
        return None
    from linli.org.access import actor_for

    if community.pk not in (actor_for(user).community_ids() or set()):
        raise Invalid(_("That person does not work in this community."), code="other_community", field=field_name)
    return user


def may_report(actor: Actor, resolution: Resolution) -> bool:
    """Who may report progress: whoever runs the meeting, the named owner, the supervisor."""
    uid = getattr(actor.user, "pk", None)
    if uid is not None and uid in (resolution.owner_user_id, resolution.supervisor_id):
        return True
    meeting = resolution.item.meeting
    return can(actor, "council.manage", meeting.grid if meeting.grid is not None else meeting.community)


def _require_report(actor: Actor, resolution: Resolution) -> None:
    if not may_report(actor, resolution):
        raise Forbidden()


def may_supervise(actor: Actor, resolution: Resolution) -> bool:
    """Who may name the supervisor, move the due date, drop or reopen: staff, and the grid chief of the grid the
    meeting was held in (a grid grant never covers the whole community, so the meeting's grid is asked)."""
    meeting = resolution.item.meeting
    return can(actor, "resolution.supervise", meeting.grid if meeting.grid is not None else meeting.community)


def _require_supervise(actor: Actor, resolution: Resolution) -> None:
    if not may_supervise(actor, resolution):
        raise Forbidden()


@transaction.atomic
def resolution_create(
    *,
    actor: Actor,
    item: AgendaItem,
    text: str,
    owner: str,
    due_on: date,
    owner_user: Any = None,
    supervisor: Any = None,
    on_echo_wall: bool = True,
) -> Resolution:
    """A measure agreed at the table: who does it by when; a supervisor (监督岗) chases it."""
    meeting = _locked_meeting(item.meeting)
    _require_meeting(actor, meeting)
    _open_meeting(meeting, MeetingStatus.HELD, MeetingStatus.CLOSED)
    if due_on < meeting.starts_at.date():
        raise Invalid(_("The due date cannot be before the meeting."), code="due_before_meeting", field="due_on")
    resolution = Resolution.objects.create(
        community_id=item.community_id,
        item=item,
        text=clean_text(text, field_name="text", max_length=500, required=True),
        owner=clean_text(owner, field_name="owner", max_length=100, required=True),
        owner_user=_staff_user(meeting.community, owner_user, "owner_user"),
        supervisor=_staff_user(meeting.community, supervisor, "supervisor"),
        due_on=due_on,
        on_echo_wall=on_echo_wall,
    )
    if item.solved_at is not None:  # a new measure reopens the problem
        AgendaItem.objects.filter(pk=item.pk).update(solved_at=None)
    _entry(resolution, actor=actor, kind=EntryKind.PROGRESS, text=resolution.text, progress=0, public=on_echo_wall)
    return resolution


def _require_open(resolution: Resolution) -> None:
    if resolution.status not in OPEN_RESOLUTION:
        raise ResolutionStatusRefused()


@transaction.atomic
def resolution_progress(
    *, actor: Actor, resolution: Resolution, progress: int, text: str, public: bool = True
) -> Resolution:
    """Progress reported (0-99 %); 100 % is reported with resolution_done, which asks what was done."""
    resolution = _locked_resolution(resolution)
    _require_report(actor, resolution)
    _require_open(resolution)
    if not 0 <= progress <= 99:
        raise Invalid(_("Progress is a whole number from 0 to 99; use “done” when it is finished."), field="progress")
    text = clean_text(text, field_name="text", max_length=1000, required=True)
    resolution.progress, resolution.status = progress, domain.status_for_progress(progress)
    resolution.save(update_fields=["progress", "status", "updated_at"])
    _entry(resolution, actor=actor, kind=EntryKind.PROGRESS, text=text, progress=progress, public=public)
    return resolution


def _refresh_item(item_id: int) -> None:
    """The problem counts as solved once it has a done resolution and none still open."""
    rows = list(Resolution.objects.filter(item_id=item_id).values_list("status", "done_at"))
    open_left = any(s in OPEN_RESOLUTION for s, _ in rows)
    done = [at for s, at in rows if s == ResolutionStatus.DONE and at is not None]
    AgendaItem.objects.filter(pk=item_id).update(solved_at=None if open_left or not done else max(done))


@transaction.atomic
def resolution_done(*, actor: Actor, resolution: Resolution, text: str) -> Resolution:
    resolution = _locked_resolution(resolution)
    _require_report(actor, resolution)
    _require_open(resolution)
    text = clean_text(text, field_name="text", max_length=1000, required=True)
    resolution.status, resolution.progress, resolution.done_at = ResolutionStatus.DONE, 100, timezone.now()
    resolution.save(update_fields=["status", "progress", "done_at", "updated_at"])
    _entry(resolution, actor=actor, kind=EntryKind.DONE, text=text, progress=100, public=True)
    _refresh_item(resolution.item_id)
    return resolution


@transaction.atomic
def resolution_chase(*, actor: Actor, resolution: Resolution, text: str) -> Resolution:
    """The supervision post (监督岗) presses for progress; the chase is on the record, not public."""
    resolution = _locked_resolution(resolution)
    uid = getattr(actor.user, "pk", None)
    if uid is None or uid != resolution.supervisor_id:
        _require_supervise(actor, resolution)
    _require_open(resolution)
    resolution.last_chased_at = timezone.now()
    resolution.save(update_fields=["last_chased_at", "updated_at"])
    _entry(
        resolution,
        actor=actor,
        kind=EntryKind.CHASE,
        text=clean_text(text, field_name="text", max_length=1000, required=True),
    )
    return resolution


@transaction.atomic
def resolution_reply(*, actor: Actor, resolution: Resolution, text: str) -> ResolutionEntry:
    """A public reply on the echo wall (回音壁): what residents asked, what is being done."""
    resolution = _locked_resolution(resolution)
    _require_report(actor, resolution)
    return _entry(
        resolution,
        actor=actor,
        kind=EntryKind.REPLY,
        text=clean_text(text, field_name="text", max_length=1000, required=True),
        public=True,
    )


@transaction.atomic
def resolution_supervise(*, actor: Actor, resolution: Resolution, supervisor: Any) -> Resolution:
    resolution = _locked_resolution(resolution)
    _require_supervise(actor, resolution)
    _require_open(resolution)
    resolution.supervisor = _staff_user(resolution.item.meeting.community, supervisor, "supervisor")
    resolution.save(update_fields=["supervisor", "updated_at"])
    name = supervisor.name if supervisor is not None else ""
    _entry(resolution, actor=actor, kind=EntryKind.SUPERVISOR, text=name)
    return resolution


@transaction.atomic
def resolution_set_due(*, actor: Actor, resolution: Resolution, due_on: date, reason: str) -> Resolution:
    resolution = _locked_resolution(resolution)
    _require_supervise(actor, resolution)
    _require_open(resolution)
    reason = _reason(reason)
    old = resolution.due_on
    resolution.due_on = due_on
    resolution.save(update_fields=["due_on", "updated_at"])
    _entry(
        resolution, actor=actor, kind=EntryKind.DUE, text=f"{old:%Y-%m-%d} → {due_on:%Y-%m-%d}: {reason}", public=True
    )
    return resolution


@transaction.atomic
def resolution_drop(*, actor: Actor, resolution: Resolution, reason: str) -> Resolution:
    resolution = _locked_resolution(resolution)
    _require_supervise(actor, resolution)
    _require_open(resolution)
    resolution.status = ResolutionStatus.DROPPED
    resolution.save(update_fields=["status", "updated_at"])
    _entry(resolution, actor=actor, kind=EntryKind.DROP, text=_reason(reason), public=True)
    _refresh_item(resolution.item_id)
    return resolution


@transaction.atomic
def resolution_reopen(*, actor: Actor, resolution: Resolution, reason: str) -> Resolution:
    """Done too early (residents say the leak is back): back to work, the problem unsolved again."""
    resolution = _locked_resolution(resolution)
    _require_supervise(actor, resolution)
    if resolution.status != ResolutionStatus.DONE:
        raise ResolutionStatusRefused()
    resolution.status, resolution.progress, resolution.done_at = ResolutionStatus.IN_PROGRESS, 90, None
    resolution.save(update_fields=["status", "progress", "done_at", "updated_at"])
    _entry(resolution, actor=actor, kind=EntryKind.REOPEN, text=_reason(reason), progress=90, public=True)
    _refresh_item(resolution.item_id)
    return resolution


@transaction.atomic
def evaluation_give(*, actor: Actor, resolution: Resolution, rating: int, comment: str = "") -> Evaluation:
    """The evaluation desk (评议台): a resident of the community rates how a done resolution was carried out. Rating
    again replaces their earlier verdict."""
    resolution = _locked_resolution(resolution)
    require(actor, "resolution.evaluate", resolution.item.meeting.community)
    if resolution.status != ResolutionStatus.DONE:
        raise EvaluationRefused()
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise Invalid(_("Choose from 1 to 5 stars."), code="rating_invalid", field="rating")
    evaluation, _created = Evaluation.objects.update_or_create(
        resolution=resolution,
        person=_person(actor),
        defaults={
            "community_id": resolution.community_id,
            "rating": rating,
            "comment": clean_text(comment, field_name="comment", max_length=500),
            "at": timezone.now(),
        },
    )
    audit(actor=actor, action="council.evaluate", obj=resolution, community_id=resolution.community_id, rating=rating)
    return evaluation


# --- owners' votes --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VoteData:
    title: str
    proposal: str
    matter: str
    closes_at: datetime
    building: Building | None = None
    compound: Compound | None = None
    item: AgendaItem | None = None


def _vote_fields(community: Community, data: VoteData) -> dict[str, Any]:
    if (data.building is None) == (data.compound is None):
        raise Invalid(_("Choose either one building or one compound."), code="vote_place", field="building")
    for name in ("building", "compound", "item"):
        _same_community(community.pk, getattr(data, name), name)
    return {
        "title": clean_text(data.title, field_name="title", max_length=120, required=True),
        "proposal": clean_text(data.proposal, field_name="proposal", max_length=8000, required=True),
        "matter": _choice(data.matter, Matter.values, "matter"),
        "closes_at": data.closes_at,
        "building": data.building,
        "compound": data.compound,
        "item": data.item,
    }


@transaction.atomic
def vote_create(*, actor: Actor, community: Community, data: VoteData) -> OwnersVote:
    require(actor, "vote.manage", community)
    vote = OwnersVote.objects.create(community=community, created_by=_user(actor), **_vote_fields(community, data))
    audit(actor=actor, action="council.vote_create", obj=vote, community_id=community.pk, matter=vote.matter)
    return vote


def _locked_vote(vote: OwnersVote) -> OwnersVote:
    return OwnersVote.objects.select_for_update(of=("self",)).select_related("community").get(pk=vote.pk)


def _vote_status(vote: OwnersVote, *allowed: str) -> None:
    if vote.status not in allowed:
        raise VoteStatusRefused()


@transaction.atomic
def vote_update(*, actor: Actor, vote: OwnersVote, data: VoteData) -> OwnersVote:
    """Only while it is being prepared: once the roll is frozen, the question and its matter stay as announced."""
    vote = _locked_vote(vote)
    require(actor, "vote.manage", vote.community)
    _vote_status(vote, VoteStatus.DRAFT)
    for name, value in _vote_fields(vote.community, data).items():
        setattr(vote, name, value)
    vote.save()
    audit(actor=actor, action="council.vote_update", obj=vote, community_id=vote.community_id, matter=vote.matter)
    return vote


def units_of(vote: OwnersVote) -> list[domain.Unit]:
    """The exclusive units of the vote's building or compound as the household register has them now."""
    households = Household.objects.filter(community_id=vote.community_id).select_related("building")
    households = (
        households.filter(building_id=vote.building_id)
        if vote.building_id
        else households.filter(building__compound_id=vote.compound_id or 0)
    )
    owners: dict[int, set[int]] = {}
    for hid, pid in HouseholdMember.objects.filter(
        household__in=households, is_owner=True, person__is_active=True
    ).values_list("household_id", "person_id"):
        owners.setdefault(hid, set()).add(pid)
    return [
        domain.Unit(
            household_id=h.pk,
            label=f"{h.building.name} {h.unit}{h.room}",
            area=h.floor_area,
            owner_ids=frozenset(owners.get(h.pk, ())),
            developer_held=h.developer_held,
        )
        for h in households
    ]


@transaction.atomic
def vote_open(*, actor: Actor, vote: OwnersVote, now: datetime | None = None) -> OwnersVote:
    """Freeze the roll (owners, their units and areas as registered today) and start taking ballots."""
    vote = _locked_vote(vote)
    require(actor, "vote.manage", vote.community)
    _vote_status(vote, VoteStatus.DRAFT)
    now = now or timezone.now()
    if vote.closes_at <= now:
        raise Invalid(_("The closing time must be in the future."), code="closes_in_past", field="closes_at")
    roll = domain.build_roll(units_of(vote))
    if not roll.complete:
        raise RollIncomplete(
            missing_area=[u.label for u in roll.missing_area],
            missing_owner=[u.label for u in roll.missing_owner],
            empty=not roll.voters,
        )
    names = dict(
        Person.objects.filter(pk__in=set().union(*(v.owner_ids for v in roll.voters))).values_list("pk", "name")
    )
    for position, voter in enumerate(roll.voters, start=1):
        entry = RollEntry.objects.create(
            community_id=vote.community_id,
            vote=vote,
            position=position,
            label=_("the developer (%(n)d units)") % {"n": len(voter.units)}
            if voter.is_developer
            else "、".join(u.label for u in voter.units)[:300],
            names="、".join(names[p] for p in sorted(voter.owner_ids))[:300],
            area=voter.area,
            is_developer=voter.is_developer,
        )
        RollUnit.objects.bulk_create(
            [
                RollUnit(community_id=vote.community_id, entry=entry, household_id=u.household_id, area=u.area or 0)
                for u in voter.units
            ]
        )
        RollOwner.objects.bulk_create(
            [RollOwner(community_id=vote.community_id, entry=entry, person_id=p) for p in sorted(voter.owner_ids)]
        )
    vote.total_area, vote.total_owners = roll.total_area, len(roll.voters)
    vote.status, vote.opened_at = VoteStatus.OPEN, now
    vote.save(update_fields=["total_area", "total_owners", "status", "opened_at", "updated_at"])
    audit(
        actor=actor,
        action="council.vote_open",
        obj=vote,
        community_id=vote.community_id,
        total_area=str(vote.total_area),
        total_owners=vote.total_owners,
    )
    return vote


def _ballot(
    vote: OwnersVote, entry: RollEntry, *, choice: str, channel: str, actor: Actor, person: Person | None, now: datetime
) -> Ballot:
    if vote.status != VoteStatus.OPEN:
        raise VoteStatusRefused()
    if now >= vote.closes_at:
        raise VotingClosed()
    choice = _choice(choice, Choice.values, "choice")
    existing = Ballot.objects.filter(entry=entry, voided_at__isnull=True).first()
    if existing is not None:
        if existing.choice == choice:
            return existing  # the same ballot again (a retry, a double tap): counted once
        raise BallotAlreadyCast()
    ballot = Ballot.objects.create(
        community_id=vote.community_id,
        vote=vote,
        entry=entry,
        choice=choice,
        channel=channel,
        cast_by=person,
        recorded_by=_user(actor),
        at=now,
    )
    audit(
        actor=actor,
        action="council.ballot",
        obj=vote,
        community_id=vote.community_id,
        entry=entry.position,
        channel=channel,
    )
    return ballot


@transaction.atomic
def ballot_cast(*, actor: Actor, vote: OwnersVote, choice: str, now: datetime | None = None) -> Ballot:
    """An owner votes on their phone, for every unit they hold (the roll counts them once)."""
    vote = _locked_vote(vote)
    require(actor, "vote.cast", vote.community)
    person = _person(actor)
    entry = RollEntry.objects.filter(vote=vote, owners__person=person).first()
    if entry is None:
        raise NotOnRoll()
    return _ballot(
        vote, entry, choice=choice, channel=BallotChannel.PHONE, actor=actor, person=person, now=now or timezone.now()
    )


@transaction.atomic
def ballot_record(
    *,
    actor: Actor,
    vote: OwnersVote,
    entry: RollEntry,
    choice: str,
    channel: str = BallotChannel.PAPER,
    now: datetime | None = None,
) -> Ballot:
    """Staff enter a paper ballot, or a show of hands at a meeting, for one owner on the roll."""
    vote = _locked_vote(vote)
    require(actor, "vote.record", vote.place)
    if entry.vote_id != vote.pk:
        raise Invalid(_("That owner is not on this vote's roll."), code="not_on_roll", field="entry")
    channel = _choice(channel, [BallotChannel.PAPER, BallotChannel.MEETING], "channel")
    return _ballot(vote, entry, choice=choice, channel=channel, actor=actor, person=None, now=now or timezone.now())


@transaction.atomic
def ballot_void(*, actor: Actor, ballot: Ballot, reason: str) -> Ballot:
    """A ballot recorded against the wrong owner, or with the wrong choice: voided (kept, with the reason), so the
    owner's ballot can be recorded again. Only while the vote is open."""
    vote = _locked_vote(ballot.vote)
    require(actor, "vote.manage", vote.community)
    _vote_status(vote, VoteStatus.OPEN)
    ballot = Ballot.objects.select_for_update().get(pk=ballot.pk)
    if ballot.voided_at is not None:
        raise VoteStatusRefused(_("This ballot was already voided."))
    ballot.voided_at, ballot.voided_by, ballot.void_reason = timezone.now(), _user(actor), _reason(reason)
    ballot.save(update_fields=["voided_at", "voided_by", "void_reason"])
    audit(
        actor=actor,
        action="council.ballot_void",
        obj=vote,
        community_id=vote.community_id,
        ballot=ballot.pk,
        reason=ballot.void_reason,
    )
    return ballot


def counted_ballots(vote: OwnersVote) -> list[tuple[int, Decimal, str, str]]:
    """(roll position, area, choice, channel) of every counted ballot, in roll order."""
    return [
        (pos, area, choice, channel)
        for pos, area, choice, channel in Ballot.objects.filter(vote=vote, voided_at__isnull=True)
        .order_by("entry__position")
        .values_list("entry__position", "entry__area", "choice", "channel")
    ]


def vote_digest(vote: OwnersVote) -> str:
    """SHA-256 of the frozen roll and the counted ballots in a canonical form: anyone holding the printed digest can
    check the stored record was not changed afterwards."""
    roll = [
        [pos, str(area), dev, sorted(RollUnit.objects.filter(entry_id=eid).values_list("household_id", flat=True))]
        for eid, pos, area, dev in RollEntry.objects.filter(vote=vote)
        .order_by("position")
        .values_list("id", "position", "area", "is_developer")
    ]
    body = {
        "vote": vote.pk,
        "matter": vote.matter,
        "total_area": str(vote.total_area),
        "total_owners": vote.total_owners,
        "roll": roll,
        "ballots": [[pos, choice, channel] for pos, _area, choice, channel in counted_ballots(vote)],
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def tally_of(vote: OwnersVote) -> domain.Tally:
    return domain.tally(
        matter=vote.matter,
        total_area=vote.total_area or Decimal(0),
        total_owners=vote.total_owners or 0,
        ballots=[domain.Cast(area=area, choice=choice) for _pos, area, choice, _ch in counted_ballots(vote)],
    )


@transaction.atomic
def vote_close(*, actor: Actor | None, vote: OwnersVote, now: datetime | None = None) -> OwnersVote:
    """Count and freeze: the tally with every number, the threshold's legal basis and the digest. Before the announced
    time only when every owner on the roll has voted."""
    vote = _locked_vote(vote)
    if actor is not None:
        require(actor, "vote.manage", vote.community)
    _vote_status(vote, VoteStatus.OPEN)
    now = now or timezone.now()
    if now < vote.closes_at and Ballot.objects.filter(vote=vote, voided_at__isnull=True).count() < (
        vote.total_owners or 0
    ):
        raise TooEarlyToClose()
    result = tally_of(vote)
    vote.result = result.as_dict() | {"basis": result.basis, "closed_at": now.isoformat()}
    vote.passed, vote.digest = result.passed, vote_digest(vote)
    vote.status, vote.closed_at, vote.closed_by = VoteStatus.CLOSED, now, _user(actor)
    vote.save(update_fields=["result", "passed", "digest", "status", "closed_at", "closed_by", "updated_at"])
    audit(
        actor=actor,
        action="council.vote_close",
        obj=vote,
        community_id=vote.community_id,
        passed=vote.passed,
        digest=vote.digest,
    )
    return vote


@transaction.atomic
def vote_cancel(*, actor: Actor, vote: OwnersVote, reason: str) -> OwnersVote:
    vote = _locked_vote(vote)
    require(actor, "vote.manage", vote.community)
    _vote_status(vote, VoteStatus.DRAFT, VoteStatus.OPEN)
    vote.status, vote.cancel_reason = VoteStatus.CANCELLED, _reason(reason)
    vote.save(update_fields=["status", "cancel_reason", "updated_at"])
    audit(actor=actor, action="council.vote_cancel", obj=vote, community_id=vote.community_id)
    return vote


@dataclass(frozen=True)
class Verified:
    ok: bool
    problems: list[str]


def vote_verify(vote: OwnersVote) -> Verified:
    """Recount a closed vote from its stored roll and ballots: the digest and every frozen number must agree."""
    problems: list[str] = []
    if vote.status != VoteStatus.CLOSED:
        return Verified(ok=False, problems=["not closed"])
    if vote_digest(vote) != vote.digest:
        problems.append("digest")
    recount = tally_of(vote).as_dict()
    for key, value in recount.items():
        if vote.result.get(key) != value:
            problems.append(key)
    if vote.passed != recount["passed"]:
        problems.append("passed")
    return Verified(ok=not problems, problems=problems)


@dataclass(frozen=True)
class Swept:
    closed: int


def votes_sweep(*, now: datetime | None = None) -> Swept:
    """Close every open vote whose time is up (run by `linli council sweep` from cron)."""
    now = now or timezone.now()
    closed = 0
    for vote in OwnersVote.objects.filter(status=VoteStatus.OPEN, closes_at__lte=now).only("pk"):
        try:
            vote_close(actor=None, vote=vote, now=now)
            closed += 1
        except VoteStatusRefused:
            continue  # closed by staff meanwhile
    return Swept(closed=closed)
