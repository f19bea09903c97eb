"""The council over JSON (tag "council"): meeting series, meetings with their invitations, attendance (the QR check-in
on the wall), agenda, minutes and closing report; resolutions with their timeline, chasing (监督岗), public replies
(回音壁) and ratings (评议台); the public echo wall; the figures by kind and colour (SEEDS 002); owners' votes counted
as Civil Code art. 278 counts them (SEEDS 003): the roll check, opening (the roll frozen), ballots on the phone or
recorded from paper, voiding, closing (the result frozen) and the recount.

Idempotency: POST /council/meetings honours an optional `Idempotency-Key` (kept apart per user): the first request
answers 201, a retry with the same key 200 with the meeting first planned. An owner's ballot answers 201 when counted
and 200 when the same choice is sent again (a retry, a double tap); another choice is 409 ballot_already_cast (staff
void a wrong ballot first). A check-in or a staff sign-in of someone already signed in answers 200 with the first.
The other steps check the state they start from and refuse a repeat with 409 (meeting_status, resolution_status,
vote_status).

Who (linli.org.access): "council.view" reads meetings and resolutions (everyone who lives or works in the community);
"council.manage" runs a meeting (staff; grid roles for meetings held in their grid); progress and replies come from
whoever runs it, the resolution's owner or its supervisor; "resolution.supervise" names supervisors, moves due dates,
drops and reopens (staff, grid chief); "meeting.checkin" and "resolution.evaluate" are residents'; "council.report"
reads the figures. Votes: "vote.view" (staff, grid roles, stewards, the auditor in their area; owners the votes they
are on the roll of), "vote.manage" (staff), "vote.record" (staff, grid roles), "vote.cast" (an owner on the roll).
Objects outside the caller's scope are 404. Residents' names are masked for those who do not run the meeting, and the
echo wall (GET /council/echo-wall, no sign-in) shows no personal data at all.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime
from typing import Any, TypeVar

import pydantic
from django.db.models import Avg, Count
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import ValidationError

from linli.common.api import Id, IdempotencyKey, actor, idempotency_key, paginate, responses
from linli.common.errors import Invalid, NotFound
from linli.council import domain, selectors, services
from linli.council.models import (
    AgendaItem,
    Attendance,
    Ballot,
    Evaluation,
    Invitation,
    Meeting,
    MeetingSeries,
    OwnersVote,
    Resolution,
    ResolutionEntry,
    RollEntry,
    VoteStatus,
)
from linli.council.schemas import (
    AttendanceIn,
    AttendanceOut,
    BallotIn,
    BallotOut,
    CheckinIn,
    CommunityIn,
    DueIn,
    EchoWallIn,
    EvaluationIn,
    EvaluationOut,
    FiguresIn,
    FiguresOut,
    HoldIn,
    InvitationIn,
    InvitationOut,
    ItemFieldsIn,
    ItemIn,
    ItemOut,
    MeetingDetailOut,
    MeetingFieldsIn,
    MeetingFilterIn,
    MeetingIn,
    MeetingsOut,
    MinutesIn,
    MyBallotIn,
    ProgressIn,
    ReasonIn,
    ReportIn,
    ResolutionDetailOut,
    ResolutionFilterIn,
    ResolutionIn,
    ResolutionsOut,
    RollCheckOut,
    RollEntryOut,
    SeriesFieldsIn,
    SeriesIn,
    SeriesOut,
    SupervisorIn,
    TextIn,
    VerifyOut,
    VoteDetailOut,
    VoteFieldsIn,
    VoteFilterIn,
    VoteIn,
    VotesOut,
    WallOut,
)
from linli.orders.models import WorkOrder
from linli.org import selectors as org_selectors
from linli.org.access import PERMISSIONS, Actor, can
from linli.org.domain import mask_name
from linli.org.models import Building, Community, Compound, Grid, PartnerUnit, Person, User

router = Router(tags=["council"])

_key = idempotency_key  # the handlers' `idempotency_key` parameter (the header) shadows the name
S = TypeVar("S", bound=pydantic.BaseModel)

# Datetimes outside these years are typos; far-off ones would overflow when converted to UTC (a 500 otherwise).
_YEARS = (1970, 2999)


# --- input ------------------------------------------------------------------------------------------------------------


def _community(act: Actor, pk: int) -> Community:
    return org_selectors.get_visible(act, Community, pk)


def _in(model: type[Any], pk: int | None, field: str) -> Any:
    """A referenced row by id (None stays None); an unknown id is a 400 on that field, not a 404 of the operation.
    The services then check that it lies in the meeting's or vote's community."""
    if pk is None:
        return None
    found = model._default_manager.filter(pk=pk).first()
    if found is None:
        raise Invalid(_("That is not in this community."), code="other_community", field=field)
    return found


def _when(value: datetime, field: str) -> datetime:
    if not _YEARS[0] <= value.year <= _YEARS[1]:
        raise Invalid(_("That date is out of range."), code="invalid_input", field=field)
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _not_null(fields: dict[str, Any], nullable: set[str]) -> None:
    for name, value in fields.items():
        if value is None and name not in nullable:
            raise Invalid(_("This field cannot be left empty."), code="invalid_input", field=name)


def _optional_body(request: HttpRequest, schema: type[S]) -> S:
    """A JSON body whose fields all have defaults: it may be left out altogether (or be an HTML form)."""
    data: Any
    if (request.content_type or "").startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        data = {k: v for k, v in request.POST.items() if v != ""}
    else:
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise Invalid(_("The request body is not valid JSON."), code="invalid_json") from None
    if not isinstance(data, dict):
        raise Invalid(_("The request body must be a JSON object."), code="invalid_input")
    try:
        return schema.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(
            [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors(include_url=False)]
        ) from None


def _optional_spec(schema: type[pydantic.BaseModel]) -> dict[str, Any]:
    return {"requestBody": {"required": False, "content": {"application/json": {"schema": schema.model_json_schema()}}}}


def _series(act: Actor, pk: int) -> MeetingSeries:
    series = MeetingSeries.objects.select_related("community").filter(pk=pk).first()
    if series is None or not selectors.may_view(act, series.community):
        raise NotFound()
    return series


def _meeting_data(fields: dict[str, Any], base: Meeting | None) -> services.MeetingData:
    """MeetingData from what was sent, on top of the meeting as it is (PATCH)."""
    _not_null(fields, {"grid_id", "compound_id", "building_id"})
    current: dict[str, Any] = {}
    if base is not None:
        current = {n: getattr(base, n) for n in ("title", "starts_at", "place", "host", "grid", "compound", "building")}
        if ("compound_id" in fields or "building_id" in fields) and "grid_id" not in fields:
            current["grid"] = None  # a new place decides the grid again (services derive it from the place)
    for name in ("title", "place", "host"):
        if name in fields:
            current[name] = fields[name]
    if "starts_at" in fields:
        current["starts_at"] = _when(fields["starts_at"], "starts_at")
    for name, model in (("grid", Grid), ("compound", Compound), ("building", Building)):
        if f"{name}_id" in fields:
            current[name] = _in(model, fields[f"{name}_id"], f"{name}_id")
    return services.MeetingData(**current)


def _item_data(fields: dict[str, Any], base: AgendaItem | None) -> services.ItemData:
    _not_null(fields, {"work_order_id"})
    current: dict[str, Any] = {}
    if base is not None:
        current = {n: getattr(base, n) for n in ("title", "kind", "severity", "description", "work_order")}
    for name in ("title", "kind", "severity", "description"):
        if name in fields:
            current[name] = fields[name]
    if "work_order_id" in fields:
        current["work_order"] = _in(WorkOrder, fields["work_order_id"], "work_order_id")
    return services.ItemData(**current)


def _vote_data(fields: dict[str, Any], base: OwnersVote | None) -> services.VoteData:
    _not_null(fields, {"building_id", "compound_id", "item_id"})
    current: dict[str, Any] = {}
    if base is not None:
        current = {
            n: getattr(base, n) for n in ("title", "proposal", "matter", "closes_at", "building", "compound", "item")
        }
        # one place: naming a building moves the vote off its compound, and the other way round
        if "building_id" in fields and "compound_id" not in fields:
            current["compound"] = None
        if "compound_id" in fields and "building_id" not in fields:
            current["building"] = None
    for name in ("title", "proposal", "matter"):
        if name in fields:
            current[name] = fields[name]
    if "closes_at" in fields:
        current["closes_at"] = _when(fields["closes_at"], "closes_at")
    for name, model in (("building", Building), ("compound", Compound), ("item", AgendaItem)):
        if f"{name}_id" in fields:
            current[name] = _in(model, fields[f"{name}_id"], f"{name}_id")
    return services.VoteData(**current)


def _works_here(act: Actor, community: Community) -> bool:
    """Someone who works in the community (not only lives there): they read the whole timeline of a resolution."""
    allowed = PERMISSIONS["council.view"]
    return any(
        g.role in allowed and (g.community_id == community.pk or (g.level == "street" and community.street_id in g.ids))
        for g in act.grants
    )


# --- output -----------------------------------------------------------------------------------------------------------


def _name(user: Any) -> str:
    return (getattr(user, "name", "") or "") if user is not None else ""


def _series_out(s: MeetingSeries) -> dict[str, Any]:
    return {
        "id": s.pk,
        "community_id": s.community_id,
        "name": s.name,
        "kind": s.kind,
        "kind_label": str(s.get_kind_display()),
        "description": s.description,
        "numbered_from": s.numbered_from,
        "last_number": s.last_number,
        "is_active": s.is_active,
        "held": getattr(s, "held", None),
    }


def _meeting_out(m: Meeting) -> dict[str, Any]:
    return {
        "id": m.pk,
        "community_id": m.community_id,
        "series_id": m.series_id,
        "series_name": m.series.name,
        "number": m.number,
        "title": m.title,
        "starts_at": m.starts_at,
        "place": m.place,
        "host": m.host,
        "grid_id": m.grid_id,
        "compound_id": m.compound_id,
        "building_id": m.building_id,
        "status": m.status,
        "status_label": str(m.get_status_display()),
        "held_at": m.held_at,
        "closed_at": m.closed_at,
        "cancel_reason": m.cancel_reason,
        "created_at": m.created_at,
    }


def _resolution_out(r: Resolution, ratings: tuple[float | None, int] | None = None) -> dict[str, Any]:
    avg, count = ratings if ratings is not None else (getattr(r, "rating_avg", None), getattr(r, "rating_count", 0))
    return {
        "id": r.pk,
        "community_id": r.community_id,
        "meeting_id": r.item.meeting_id,
        "item_id": r.item_id,
        "item_title": r.item.title,
        "kind": r.item.kind,
        "severity": r.item.severity,
        "text": r.text,
        "owner": r.owner,
        "owner_user_id": r.owner_user_id,
        "owner_user_name": _name(r.owner_user),
        "supervisor_id": r.supervisor_id,
        "supervisor_name": _name(r.supervisor),
        "due_on": r.due_on,
        "overdue": domain.is_overdue(r.status, r.due_on, timezone.localdate()),
        "status": r.status,
        "status_label": str(r.get_status_display()),
        "progress": r.progress,
        "done_at": r.done_at,
        "last_chased_at": r.last_chased_at,
        "on_echo_wall": r.on_echo_wall,
        "rating_avg": round(float(avg), 1) if avg is not None else None,
        "rating_count": count or 0,
    }


def _entry_out(e: ResolutionEntry) -> dict[str, Any]:
    return {
        "id": e.pk,
        "kind": e.kind,
        "kind_label": str(e.get_kind_display()),
        "text": e.text,
        "progress": e.progress,
        "public": e.public,
        "actor_name": _name(e.actor),
        "at": e.at,
    }


def _evaluation_out(e: Evaluation) -> dict[str, Any]:
    return {"resolution_id": e.resolution_id, "rating": e.rating, "comment": e.comment, "at": e.at}


def _resolution_detail(act: Actor, pk: int) -> dict[str, Any]:
    r = selectors.get_resolution(act, pk)
    community = r.item.meeting.community
    found = selectors.evaluations_of(r)
    mine = selectors.my_evaluation(act, r)
    return {
        **_resolution_out(r, (found["average"], found["count"])),
        "timeline": [_entry_out(e) for e in selectors.timeline(act, r, public_only=not _works_here(act, community))],
        "my_evaluation": _evaluation_out(mine) if mine is not None else None,
    }


def _meeting_detail(act: Actor, pk: int) -> dict[str, Any]:
    meeting = selectors.get_meeting(act, pk)
    found = selectors.meeting_detail(act, meeting)
    runs = bool(found["may_run"])
    ratings = {
        row["resolution_id"]: (row["avg"], row["n"])
        for row in Evaluation.objects.filter(resolution__item__meeting=meeting)
        .values("resolution_id")
        .annotate(avg=Avg("rating"), n=Count("id"))
        .order_by()
    }

    def shown(name: str, person_id: int | None) -> str:
        # who runs the meeting reads names in full; a resident reads their own
        return name if runs or (person_id is not None and person_id == act.person_id) else mask_name(name)

    items = []
    for item in found["items"]:
        for r in item.resolutions.all():
            r.item = item  # the item is at hand: no query per resolution
        items.append(
            {
                "id": item.pk,
                "meeting_id": item.meeting_id,
                "position": item.position,
                "title": item.title,
                "description": item.description,
                "work_order_id": item.work_order_id,
                "kind": item.kind,
                "kind_label": str(item.get_kind_display()),
                "severity": item.severity,
                "severity_label": str(item.get_severity_display()),
                "solved_at": item.solved_at,
                "resolutions": [_resolution_out(r, ratings.get(r.pk, (None, 0))) for r in item.resolutions.all()],
            }
        )
    return {
        **_meeting_out(meeting),
        "minutes": meeting.minutes,
        "report": meeting.report,
        "may_run": runs,
        "checkin_code": meeting.checkin_code if runs else None,
        "invitations": [
            {
                "id": i.pk,
                "kind": i.kind,
                "kind_label": str(i.get_kind_display()),
                "name": shown(i.name, i.person_id) if i.person_id else i.name,
                "person_id": i.person_id,
                "partner_id": i.partner_id,
                "note": i.note if runs else "",
            }
            for i in found["invitations"]
        ],
        "attendance": [_attendance_out(a, reveal=runs or a.person_id == act.person_id) for a in found["attendance"]],
        "items": items,
        "vote_ids": [v.pk for v in found["votes"]],
    }


def _attendance_out(a: Attendance, *, reveal: bool) -> dict[str, Any]:
    return {
        "id": a.pk,
        "person_id": a.person_id if reveal else None,
        "name": a.name if reveal else mask_name(a.name),
        "kind": a.kind,
        "kind_label": str(a.get_kind_display()),
        "via": a.via,
        "at": a.at,
    }


def _invitation_out(i: Invitation) -> dict[str, Any]:
    return {
        "id": i.pk,
        "kind": i.kind,
        "kind_label": str(i.get_kind_display()),
        "name": i.name,
        "person_id": i.person_id,
        "partner_id": i.partner_id,
        "note": i.note,
    }


def _item_out(item: AgendaItem) -> dict[str, Any]:
    resolutions = list(item.resolutions.select_related("supervisor", "owner_user"))
    for r in resolutions:
        r.item = item
    return {
        "id": item.pk,
        "meeting_id": item.meeting_id,
        "position": item.position,
        "title": item.title,
        "description": item.description,
        "work_order_id": item.work_order_id,
        "kind": item.kind,
        "kind_label": str(item.get_kind_display()),
        "severity": item.severity,
        "severity_label": str(item.get_severity_display()),
        "solved_at": item.solved_at,
        "resolutions": [_resolution_out(r, (None, 0)) for r in resolutions],
    }


def _area(value: Any) -> str:
    return f"{value:.2f}"


def _vote_out(v: OwnersVote) -> dict[str, Any]:
    place = v.building or v.compound
    return {
        "id": v.pk,
        "community_id": v.community_id,
        "title": v.title,
        "proposal": v.proposal,
        "matter": v.matter,
        "matter_label": str(v.get_matter_display()),
        "special": v.matter in domain.SPECIAL_MATTERS,
        "building_id": v.building_id,
        "compound_id": v.compound_id,
        "place_name": place.name if place is not None else "",
        "item_id": v.item_id,
        "status": v.status,
        "status_label": str(v.get_status_display()),
        "closes_at": v.closes_at,
        "opened_at": v.opened_at,
        "closed_at": v.closed_at,
        "cancel_reason": v.cancel_reason,
        "total_area": _area(v.total_area) if v.total_area is not None else None,
        "total_owners": v.total_owners,
        "passed": v.passed,
        "digest": v.digest,
    }


def _ballot_out(b: Ballot, position: int) -> dict[str, Any]:
    return {
        "id": b.pk,
        "vote_id": b.vote_id,
        "entry_id": b.entry_id,
        "position": position,
        "choice": b.choice,
        "choice_label": str(b.get_choice_display()),
        "channel": b.channel,
        "channel_label": str(b.get_channel_display()),
        "at": b.at,
        "voided_at": b.voided_at,
        "void_reason": b.void_reason,
    }


def _tally_out(act: Actor, vote: OwnersVote) -> dict[str, Any] | None:
    """The frozen result once closed (everyone who sees the vote); the count so far only for those who run it."""
    if vote.status == VoteStatus.CLOSED and vote.result:
        return {**vote.result, "final": True}
    if vote.status == VoteStatus.OPEN and can(act, "vote.view", vote):
        found = selectors.live_tally(act, vote)
        if found is not None:
            return {**found.as_dict(), "basis": found.basis, "final": False}
    return None


def _vote_detail(act: Actor, pk: int) -> dict[str, Any]:
    vote = selectors.get_vote(act, pk)
    entry = selectors.my_entry(act, vote)
    mine = None
    if entry is not None:
        ballot = selectors.my_ballot(act, vote)
        mine = {
            "id": entry.pk,
            "position": entry.position,
            "label": entry.label,
            "area": _area(entry.area),
            "ballot": _ballot_out(ballot, entry.position) if ballot is not None else None,
        }
    return {**_vote_out(vote), "tally": _tally_out(act, vote), "my_entry": mine}


# --- series -----------------------------------------------------------------------------------------------------------


@router.get("/council/series", response=responses({200: list[SeriesOut]}), summary="The meeting series of a community")
def list_series(request: HttpRequest, filters: Query[CommunityIn]) -> list[dict[str, Any]]:
    act = actor(request)
    return [_series_out(s) for s in selectors.series_of(act, _community(act, filters.community))]


@router.post(
    "/council/series",
    response=responses({201: SeriesOut}),
    summary="Start a series (府西夜话); numbered_from continues the paper register's numbering (staff)",
)
def create_series(request: HttpRequest, payload: SeriesIn) -> Status[Any]:
    act = actor(request)
    fields = payload.model_dump(exclude_unset=True, exclude={"community_id"})
    _not_null(fields, set())
    series = services.series_save(actor=act, community=_community(act, payload.community_id), **fields)
    return Status(201, _series_out(series))


@router.patch(
    "/council/series/{series_id}",
    response=responses({200: SeriesOut}),
    summary="Rename a series, change its numbering or retire it (only the fields sent)",
)
def update_series(request: HttpRequest, series_id: Id, payload: SeriesFieldsIn) -> dict[str, Any]:
    act = actor(request)
    series = _series(act, series_id)
    fields = payload.model_dump(exclude_unset=True)
    _not_null(fields, set())
    current = {n: getattr(series, n) for n in ("name", "kind", "description", "numbered_from", "is_active")}
    saved = services.series_save(actor=act, community=series.community, series=series, **(current | fields))
    return _series_out(saved)


# --- meetings ---------------------------------------------------------------------------------------------------------


@router.get("/council/meetings", response=responses({200: MeetingsOut}), summary="The meetings of a community")
def list_meetings(request: HttpRequest, filters: Query[MeetingFilterIn]) -> dict[str, Any]:
    act = actor(request)
    community = _community(act, filters.community)
    series = _series(act, filters.series) if filters.series is not None else None
    qs = selectors.meetings(
        act, community, series=series, status=filters.status or "", q=filters.q.strip(), upcoming=filters.upcoming
    )
    found = paginate(qs, filters)
    return {"count": found["count"], "items": [_meeting_out(m) for m in found["items"]]}


@router.post(
    "/council/meetings",
    response=responses({200: MeetingDetailOut, 201: MeetingDetailOut}),
    summary=(
        "Plan the next session of a series (201); with an Idempotency-Key, a retry answers 200 with the meeting "
        "first planned, and the same key with another meeting 409 idempotency_key_reused"
    ),
)
def create_meeting(request: HttpRequest, payload: MeetingIn, idempotency_key: IdempotencyKey = None) -> Status[Any]:
    act = actor(request)
    # a digest keeps any header of 1..100 characters (with the user's prefix) within the column
    key = "api:" + hashlib.sha256(_key(request, idempotency_key).encode()).hexdigest()[:40] if idempotency_key else ""
    series = _series(act, payload.series_id)
    data = _meeting_data(payload.model_dump(exclude_unset=True, exclude={"series_id"}), None)
    planned = services.meeting_plan(actor=act, series=series, data=data, idempotency_key=key)
    return Status(200 if planned.replayed else 201, _meeting_detail(act, planned.meeting.pk))


@router.get(
    "/council/meetings/{meeting_id}",
    response=responses({200: MeetingDetailOut}),
    summary="One meeting: invitations, attendance, the agenda with its resolutions (names masked but for who runs it)",
)
def get_meeting(request: HttpRequest, meeting_id: Id) -> dict[str, Any]:
    return _meeting_detail(actor(request), meeting_id)


@router.patch(
    "/council/meetings/{meeting_id}",
    response=responses({200: MeetingDetailOut}),
    summary="Change a planned or held meeting's title, time or place (only the fields sent)",
)
def update_meeting(request: HttpRequest, meeting_id: Id, payload: MeetingFieldsIn) -> dict[str, Any]:
    act = actor(request)
    meeting = selectors.get_meeting(act, meeting_id)
    services.meeting_update(
        actor=act, meeting=meeting, data=_meeting_data(payload.model_dump(exclude_unset=True), meeting)
    )
    return _meeting_detail(act, meeting_id)


@router.post(
    "/council/meetings/{meeting_id}/invitations",
    response=responses({201: InvitationOut}),
    summary="Invite a resident, a partner unit or someone by name (the lawyer) to a planned meeting",
)
def invite(request: HttpRequest, meeting_id: Id, payload: InvitationIn) -> Status[Any]:
    act = actor(request)
    meeting = selectors.get_meeting(act, meeting_id)
    invitation = services.meeting_invite(
        actor=act,
        meeting=meeting,
        kind=payload.kind,
        name=payload.name,
        person=_in(Person, payload.person_id, "person_id"),
        partner=_in(PartnerUnit, payload.partner_id, "partner_id"),
        note=payload.note,
    )
    return Status(201, _invitation_out(invitation))


@router.delete(
    "/council/invitations/{invitation_id}", response=responses({204: None}), summary="Take back an invitation"
)
def uninvite(request: HttpRequest, invitation_id: Id) -> Status[None]:
    act = actor(request)
    invitation = Invitation.objects.filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound()
    invitation.meeting = selectors.get_meeting(act, invitation.meeting_id)  # 404 outside the caller's scope
    services.invitation_remove(actor=act, invitation=invitation)
    return Status(204, None)


@router.post(
    "/council/meetings/{meeting_id}/attendance",
    response=responses({200: AttendanceOut, 201: AttendanceOut}),
    summary="Sign in a resident without a phone (person_id), or a guest by name (201; 200 when already signed in)",
)
def record_attendance(request: HttpRequest, meeting_id: Id, payload: AttendanceIn) -> Status[Any]:
    act = actor(request)
    meeting = selectors.get_meeting(act, meeting_id)
    started = timezone.now()
    attendance = services.attendance_record(
        actor=act,
        meeting=meeting,
        person=_in(Person, payload.person_id, "person_id"),
        name=payload.name,
        kind=payload.kind,
    )
    return Status(200 if attendance.at < started else 201, _attendance_out(attendance, reveal=True))


@router.delete("/council/attendance/{attendance_id}", response=responses({204: None}), summary="Strike a wrong sign-in")
def remove_attendance(request: HttpRequest, attendance_id: Id) -> Status[None]:
    act = actor(request)
    attendance = Attendance.objects.filter(pk=attendance_id).first()
    if attendance is None:
        raise NotFound()
    attendance.meeting = selectors.get_meeting(act, attendance.meeting_id)  # 404 outside the caller's scope
    services.attendance_remove(actor=act, attendance=attendance)
    return Status(204, None)


@router.post(
    "/council/meetings/{meeting_id}/checkin",
    response=responses({200: AttendanceOut, 201: AttendanceOut}),
    summary="A resident scanned the QR code on the wall (201; 200 when already signed in)",
)
def checkin(request: HttpRequest, meeting_id: Id, payload: CheckinIn) -> Status[Any]:
    act = actor(request)
    meeting = selectors.get_meeting(act, meeting_id)
    started = timezone.now()
    attendance = services.meeting_checkin(actor=act, meeting=meeting, code=payload.code)
    return Status(200 if attendance.at < started else 201, _attendance_out(attendance, reveal=True))


@router.post(
    "/council/meetings/{meeting_id}/items",
    response=responses({201: ItemOut}),
    summary="Lay a problem on the table: a work order brought to the meeting, or a new topic (kind and colour)",
)
def add_item(request: HttpRequest, meeting_id: Id, payload: ItemIn) -> Status[Any]:
    act = actor(request)
    meeting = selectors.get_meeting(act, meeting_id)
    item = services.agenda_add(actor=act, meeting=meeting, data=_item_data(payload.model_dump(), None))
    return Status(201, _item_out(item))


@router.patch(
    "/council/items/{item_id}",
    response=responses({200: ItemOut}),
    summary="Change an agenda item (only the fields sent) while its meeting is planned or held",
)
def update_item(request: HttpRequest, item_id: Id, payload: ItemFieldsIn) -> dict[str, Any]:
    act = actor(request)
    item = selectors.get_item(act, item_id)
    updated = services.agenda_update(
        actor=act, item=item, data=_item_data(payload.model_dump(exclude_unset=True), item)
    )
    return _item_out(updated)


@router.post(
    "/council/meetings/{meeting_id}/hold",
    response=responses({200: MeetingDetailOut}),
    summary="The meeting took place (planned → held); the minutes may come now or later",
    openapi_extra=_optional_spec(HoldIn),
)
def hold_meeting(request: HttpRequest, meeting_id: Id) -> dict[str, Any]:
    act = actor(request)
    payload = _optional_body(request, HoldIn)
    services.meeting_hold(actor=act, meeting=selectors.get_meeting(act, meeting_id), minutes=payload.minutes)
    return _meeting_detail(act, meeting_id)


@router.put(
    "/council/meetings/{meeting_id}/minutes",
    response=responses({200: MeetingDetailOut}),
    summary="Write or correct the minutes of a held meeting",
)
def write_minutes(request: HttpRequest, meeting_id: Id, payload: MinutesIn) -> dict[str, Any]:
    act = actor(request)
    services.meeting_minutes(actor=act, meeting=selectors.get_meeting(act, meeting_id), minutes=payload.minutes)
    return _meeting_detail(act, meeting_id)


@router.post(
    "/council/meetings/{meeting_id}/close",
    response=responses({200: MeetingDetailOut}),
    summary="Close a held meeting with its report (needs the minutes); its resolutions go on being chased",
)
def close_meeting(request: HttpRequest, meeting_id: Id, payload: ReportIn) -> dict[str, Any]:
    act = actor(request)
    services.meeting_close(actor=act, meeting=selectors.get_meeting(act, meeting_id), report=payload.report)
    return _meeting_detail(act, meeting_id)


@router.post(
    "/council/meetings/{meeting_id}/cancel",
    response=responses({200: MeetingDetailOut}),
    summary="Call off a planned meeting, with the reason",
)
def cancel_meeting(request: HttpRequest, meeting_id: Id, payload: ReasonIn) -> dict[str, Any]:
    act = actor(request)
    services.meeting_cancel(actor=act, meeting=selectors.get_meeting(act, meeting_id), reason=payload.reason)
    return _meeting_detail(act, meeting_id)


# --- resolutions ------------------------------------------------------------------------------------------------------


@router.post(
    "/council/items/{item_id}/resolutions",
    response=responses({201: ResolutionDetailOut}),
    summary="Record a measure agreed at the table: who carries it out by when, who chases it (监督岗)",
)
def create_resolution(request: HttpRequest, item_id: Id, payload: ResolutionIn) -> Status[Any]:
    act = actor(request)
    item = selectors.get_item(act, item_id)
    resolution = services.resolution_create(
        actor=act,
        item=item,
        text=payload.text,
        owner=payload.owner,
        due_on=payload.due_on,
        owner_user=_in(User, payload.owner_user_id, "owner_user_id"),
        supervisor=_in(User, payload.supervisor_id, "supervisor_id"),
        on_echo_wall=payload.on_echo_wall,
    )
    return Status(201, _resolution_detail(act, resolution.pk))


@router.get(
    "/council/resolutions",
    response=responses({200: ResolutionsOut}),
    summary="The resolution board of a community, soonest due first (status=open: to do and in progress)",
)
def list_resolutions(request: HttpRequest, filters: Query[ResolutionFilterIn]) -> dict[str, Any]:
    act = actor(request)
    qs = selectors.resolutions(
        act,
        _community(act, filters.community),
        status=filters.status or "",
        overdue=filters.overdue,
        mine=filters.mine,
        kind=filters.kind or "",
        severity=filters.severity or "",
        q=filters.q.strip(),
    )
    found = paginate(qs, filters)
    return {"count": found["count"], "items": [_resolution_out(r) for r in found["items"]]}


@router.get(
    "/council/resolutions/{resolution_id}",
    response=responses({200: ResolutionDetailOut}),
    summary="One resolution with its timeline (the chasing only for those who work in the community)",
)
def get_resolution(request: HttpRequest, resolution_id: Id) -> dict[str, Any]:
    return _resolution_detail(actor(request), resolution_id)


def _step(request: HttpRequest, resolution_id: int, act_on: Any) -> dict[str, Any]:
    act = actor(request)
    act_on(act, selectors.get_resolution(act, resolution_id))
    return _resolution_detail(act, resolution_id)


@router.post(
    "/council/resolutions/{resolution_id}/progress",
    response=responses({200: ResolutionDetailOut}),
    summary="Report progress (0..99 %) with what was done; public: shown on the echo wall",
)
def report_progress(request: HttpRequest, resolution_id: Id, payload: ProgressIn) -> dict[str, Any]:
    return _step(
        request,
        resolution_id,
        lambda act, r: services.resolution_progress(
            actor=act, resolution=r, progress=payload.progress, text=payload.text, public=payload.public
        ),
    )


@router.post(
    "/council/resolutions/{resolution_id}/done",
    response=responses({200: ResolutionDetailOut}),
    summary="Report it done (100 %), saying what was done; residents may then rate it",
)
def report_done(request: HttpRequest, resolution_id: Id, payload: TextIn) -> dict[str, Any]:
    return _step(
        request, resolution_id, lambda act, r: services.resolution_done(actor=act, resolution=r, text=payload.text)
    )


@router.post(
    "/council/resolutions/{resolution_id}/chase",
    response=responses({200: ResolutionDetailOut}),
    summary="The supervisor presses for progress (on the record, not public)",
)
def chase(request: HttpRequest, resolution_id: Id, payload: TextIn) -> dict[str, Any]:
    return _step(
        request, resolution_id, lambda act, r: services.resolution_chase(actor=act, resolution=r, text=payload.text)
    )


@router.post(
    "/council/resolutions/{resolution_id}/reply",
    response=responses({200: ResolutionDetailOut}),
    summary="A public reply on the echo wall (回音壁)",
)
def reply(request: HttpRequest, resolution_id: Id, payload: TextIn) -> dict[str, Any]:
    return _step(
        request, resolution_id, lambda act, r: services.resolution_reply(actor=act, resolution=r, text=payload.text)
    )


@router.post(
    "/council/resolutions/{resolution_id}/supervisor",
    response=responses({200: ResolutionDetailOut}),
    summary="Name the supervisor (监督岗), or nobody with null",
)
def set_supervisor(request: HttpRequest, resolution_id: Id, payload: SupervisorIn) -> dict[str, Any]:
    return _step(
        request,
        resolution_id,
        lambda act, r: services.resolution_supervise(
            actor=act, resolution=r, supervisor=_in(User, payload.user_id, "user_id")
        ),
    )


@router.post(
    "/council/resolutions/{resolution_id}/due",
    response=responses({200: ResolutionDetailOut}),
    summary="Move the due date, with the reason (shown in public)",
)
def set_due(request: HttpRequest, resolution_id: Id, payload: DueIn) -> dict[str, Any]:
    return _step(
        request,
        resolution_id,
        lambda act, r: services.resolution_set_due(
            actor=act, resolution=r, due_on=payload.due_on, reason=payload.reason
        ),
    )


@router.post(
    "/council/resolutions/{resolution_id}/drop",
    response=responses({200: ResolutionDetailOut}),
    summary="Drop a resolution that will not be carried out, with the reason",
)
def drop(request: HttpRequest, resolution_id: Id, payload: ReasonIn) -> dict[str, Any]:
    return _step(
        request, resolution_id, lambda act, r: services.resolution_drop(actor=act, resolution=r, reason=payload.reason)
    )


@router.post(
    "/council/resolutions/{resolution_id}/reopen",
    response=responses({200: ResolutionDetailOut}),
    summary="Done too early (the leak is back): back to work, the problem unsolved again",
)
def reopen(request: HttpRequest, resolution_id: Id, payload: ReasonIn) -> dict[str, Any]:
    return _step(
        request,
        resolution_id,
        lambda act, r: services.resolution_reopen(actor=act, resolution=r, reason=payload.reason),
    )


@router.put(
    "/council/resolutions/{resolution_id}/evaluation",
    response=responses({200: EvaluationOut}),
    summary="A resident rates a done resolution (评议台, 1..5 stars); rating again replaces the earlier verdict",
)
def evaluate(request: HttpRequest, resolution_id: Id, payload: EvaluationIn) -> dict[str, Any]:
    act = actor(request)
    resolution = selectors.get_resolution(act, resolution_id)
    given = services.evaluation_give(actor=act, resolution=resolution, rating=payload.rating, comment=payload.comment)
    return _evaluation_out(given)


# --- the echo wall and the figures ------------------------------------------------------------------------------------


@router.get(
    "/council/echo-wall",
    response=responses({200: WallOut}),
    auth=None,
    summary="The echo wall (回音壁) of a community by its code, for anyone: what was agreed, how far, the replies",
)
def echo_wall(request: HttpRequest, filters: Query[EchoWallIn]) -> dict[str, Any]:
    community = Community.objects.filter(code=filters.community).first()
    if community is None:
        raise NotFound()
    found = paginate(selectors.echo_wall(community), filters)
    today = timezone.localdate()
    items = []
    for r in found["items"]:
        meeting = r.item.meeting
        items.append(
            {
                "id": r.pk,
                "meeting": _("%(series)s, session %(number)d")
                % {"series": meeting.series.name, "number": meeting.number},
                "problem": r.item.title,
                "kind": r.item.kind,
                "severity": r.item.severity,
                "text": r.text,
                "owner": r.owner,  # as the meeting wrote it (a unit, a company): no login, no supervisor
                "due_on": r.due_on,
                "overdue": domain.is_overdue(r.status, r.due_on, today),
                "status": r.status,
                "status_label": str(r.get_status_display()),
                "progress": r.progress,
                "done_at": r.done_at,
                "rating_avg": round(float(r.rating_avg), 1) if r.rating_avg is not None else None,
                "rating_count": r.rating_count,
                "entries": [
                    {
                        "kind": e.kind,
                        "kind_label": str(e.get_kind_display()),
                        "text": e.text,
                        "progress": e.progress,
                        "at": e.at,
                    }
                    for e in r.entries.all()
                ],
            }
        )
    return {"community": community.name, "count": found["count"], "items": items}


@router.get(
    "/council/figures",
    response=responses({200: FiguresOut}),
    summary="Sessions held, problems laid out and solved, by kind and colour (SEEDS 002: 269 / 196 = 70 + 79 + 47)",
)
def get_figures(request: HttpRequest, filters: Query[FiguresIn]) -> dict[str, Any]:
    act = actor(request)
    if filters.start and filters.end and filters.start > filters.end:
        raise Invalid(_("The start date lies after the end date."), code="date_range", field="start")
    community = _community(act, filters.community)
    found = selectors.figures(act, community, start=filters.start, end=filters.end)
    return {"community_id": community.pk, "start": filters.start, "end": filters.end, **dataclasses.asdict(found)}


# --- owners' votes ----------------------------------------------------------------------------------------------------


@router.get(
    "/council/votes",
    response=responses({200: VotesOut}),
    summary="Owners' votes of a community: those of the caller's area, or (owners) those they are on the roll of",
)
def list_votes(request: HttpRequest, filters: Query[VoteFilterIn]) -> dict[str, Any]:
    act = actor(request)
    found = paginate(selectors.votes(act, _community(act, filters.community), status=filters.status or ""), filters)
    return {"count": found["count"], "items": [_vote_out(v) for v in found["items"]]}


@router.post(
    "/council/votes",
    response=responses({201: VoteDetailOut}),
    summary="Prepare an owners' vote on one building or one compound (staff); it opens once the roll is complete",
)
def create_vote(request: HttpRequest, payload: VoteIn) -> Status[Any]:
    act = actor(request)
    community = _community(act, payload.community_id)
    data = _vote_data(payload.model_dump(exclude={"community_id"}), None)
    vote = services.vote_create(actor=act, community=community, data=data)
    return Status(201, _vote_detail(act, vote.pk))


@router.get(
    "/council/votes/{vote_id}",
    response=responses({200: VoteDetailOut}),
    summary="One vote with the count so far (who runs it) or its frozen result, and the caller's own line",
)
def get_vote(request: HttpRequest, vote_id: Id) -> dict[str, Any]:
    return _vote_detail(actor(request), vote_id)


@router.patch(
    "/council/votes/{vote_id}",
    response=responses({200: VoteDetailOut}),
    summary="Change a vote being prepared (only the fields sent); once open its question stays as announced",
)
def update_vote(request: HttpRequest, vote_id: Id, payload: VoteFieldsIn) -> dict[str, Any]:
    act = actor(request)
    vote = selectors.get_vote(act, vote_id)
    services.vote_update(actor=act, vote=vote, data=_vote_data(payload.model_dump(exclude_unset=True), vote))
    return _vote_detail(act, vote_id)


@router.get(
    "/council/votes/{vote_id}/roll-check",
    response=responses({200: RollCheckOut}),
    summary="The roll if frozen now: owners as the law counts them, and the units that keep it from opening",
)
def roll_check(request: HttpRequest, vote_id: Id) -> dict[str, Any]:
    act = actor(request)
    found = selectors.roll_check(act, selectors.get_vote(act, vote_id))
    return {
        "complete": found.complete,
        "total_area": _area(found.total_area),
        "total_owners": len(found.voters),
        "voters": [
            {
                "label": v.units[0].label if not v.is_developer else _("the developer"),
                "area": _area(v.area),
                "units": len(v.units),
                "owners": len(v.owner_ids),
                "is_developer": v.is_developer,
            }
            for v in found.voters
        ],
        "missing_area": [u.label for u in found.missing_area],
        "missing_owner": [u.label for u in found.missing_owner],
    }


@router.post(
    "/council/votes/{vote_id}/open",
    response=responses({200: VoteDetailOut}),
    summary="Freeze the roll and take ballots (409 roll_incomplete, with the units to fix, when it is not complete)",
)
def open_vote(request: HttpRequest, vote_id: Id) -> dict[str, Any]:
    act = actor(request)
    services.vote_open(actor=act, vote=selectors.get_vote(act, vote_id))
    return _vote_detail(act, vote_id)


@router.get(
    "/council/votes/{vote_id}/roll",
    response=responses({200: list[RollEntryOut]}),
    summary="The frozen roll with each owner's counted ballot (names in full for those who record ballots)",
)
def get_roll(request: HttpRequest, vote_id: Id) -> list[dict[str, Any]]:
    act = actor(request)
    vote = selectors.get_vote(act, vote_id)
    entries = list(selectors.roll(act, vote))
    reveal = can(act, "vote.record", vote.place)
    out = []
    for e in entries:
        counted = next(iter(e.ballots.all()), None)
        out.append(
            {
                "id": e.pk,
                "position": e.position,
                "label": e.label,
                "names": e.names if reveal else "、".join(mask_name(n) for n in e.names.split("、") if n),
                "area": _area(e.area),
                "is_developer": e.is_developer,
                "has_ballot": counted is not None,
                "ballot": _ballot_out(counted, e.position) if counted is not None else None,
            }
        )
    return out


@router.post(
    "/council/votes/{vote_id}/ballots",
    response=responses({201: BallotOut, 200: BallotOut}),
    summary="Record a paper ballot or a show of hands for one owner on the roll (201; 200 when the same was counted)",
)
def record_ballot(request: HttpRequest, vote_id: Id, payload: BallotIn) -> Status[Any]:
    act = actor(request)
    vote = selectors.get_vote(act, vote_id)
    entry = RollEntry.objects.filter(pk=payload.entry_id, vote=vote).first()
    if entry is None:
        raise Invalid(_("That owner is not on this vote's roll."), code="not_on_roll", field="entry_id")
    now = timezone.now()
    ballot = services.ballot_record(
        actor=act, vote=vote, entry=entry, choice=payload.choice, channel=payload.channel, now=now
    )
    return Status(201 if ballot.at == now else 200, _ballot_out(ballot, entry.position))


@router.post(
    "/council/votes/{vote_id}/my-ballot",
    response=responses({201: BallotOut, 200: BallotOut}),
    summary=(
        "An owner votes on the phone for everything they hold (201); the same choice again answers 200 with it, "
        "another choice 409 ballot_already_cast"
    ),
)
def cast_ballot(request: HttpRequest, vote_id: Id, payload: MyBallotIn) -> Status[Any]:
    act = actor(request)
    vote = selectors.get_vote(act, vote_id)
    now = timezone.now()
    ballot = services.ballot_cast(actor=act, vote=vote, choice=payload.choice, now=now)
    position = RollEntry.objects.filter(pk=ballot.entry_id).values_list("position", flat=True).get()
    return Status(201 if ballot.at == now else 200, _ballot_out(ballot, position))


@router.post(
    "/council/ballots/{ballot_id}/void",
    response=responses({200: BallotOut}),
    summary="Void a wrong ballot (kept, with the reason) so the owner's ballot can be recorded again (staff)",
)
def void_ballot(request: HttpRequest, ballot_id: Id, payload: ReasonIn) -> dict[str, Any]:
    act = actor(request)
    ballot = Ballot.objects.select_related("entry").filter(pk=ballot_id).first()
    if ballot is None:
        raise NotFound()
    ballot.vote = selectors.get_vote(act, ballot.vote_id)  # 404 outside the caller's scope
    voided = services.ballot_void(actor=act, ballot=ballot, reason=payload.reason)
    return _ballot_out(voided, ballot.entry.position)


@router.post(
    "/council/votes/{vote_id}/close",
    response=responses({200: VoteDetailOut}),
    summary="Count and freeze the result (before the announced time only when every owner has voted)",
)
def close_vote(request: HttpRequest, vote_id: Id) -> dict[str, Any]:
    act = actor(request)
    services.vote_close(actor=act, vote=selectors.get_vote(act, vote_id))
    return _vote_detail(act, vote_id)


@router.post(
    "/council/votes/{vote_id}/cancel",
    response=responses({200: VoteDetailOut}),
    summary="Call off a vote being prepared or open, with the reason",
)
def cancel_vote(request: HttpRequest, vote_id: Id, payload: ReasonIn) -> dict[str, Any]:
    act = actor(request)
    services.vote_cancel(actor=act, vote=selectors.get_vote(act, vote_id), reason=payload.reason)
    return _vote_detail(act, vote_id)


@router.get(
    "/council/votes/{vote_id}/verify",
    response=responses({200: VerifyOut}),
    summary="Recount a closed vote from its stored roll and ballots: the digest and every frozen number must agree",
)
def verify_vote(request: HttpRequest, vote_id: Id) -> dict[str, Any]:
    vote = selectors.get_vote(actor(request), vote_id)
    found = services.vote_verify(vote)
    return {"ok": found.ok, "problems": found.problems, "digest": vote.digest}
