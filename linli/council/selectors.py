"""What the council shows: meetings, their agenda and attendance, resolutions and the overdue ones, the echo wall,
the figures by kind and colour, owners' votes and their tally. Every read takes the actor and filters by scope.

Council business is the community's open business: everyone who works or lives in a community reads its meetings and
resolutions (`works_in`); running a meeting is limited to staff and the grid it is held in.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Avg, Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from linli.common.errors import Forbidden, NotFound
from linli.council import domain
from linli.council.models import (
    OPEN_RESOLUTION,
    AgendaItem,
    Attendance,
    Ballot,
    DisputeKind,
    Evaluation,
    Invitation,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    OwnersVote,
    Resolution,
    ResolutionEntry,
    ResolutionStatus,
    RollEntry,
    RollOwner,
    VoteStatus,
)
from linli.orders.models import Severity
from linli.org.access import Actor, Scope, can, register_model, require, scoped, works_in
from linli.org.models import Building, Community, Grid


# --- where council rows sit ------------------------------------------------------------------------------------------
def _meeting_scope(meeting: Meeting) -> Scope:
    street_id = Community.objects.filter(pk=meeting.community_id).values_list("street_id", flat=True).first()
    return Scope(
        community_id=meeting.community_id,
        street_id=street_id,
        grid_ids=frozenset({meeting.grid_id}) if meeting.grid_id else frozenset(),
    )


def _resolution_scope(resolution: Resolution) -> Scope:
    return _meeting_scope(resolution.item.meeting)


def _vote_scope(vote: OwnersVote) -> Scope:
    buildings = (
        Building.objects.filter(pk=vote.building_id)
        if vote.building_id
        else Building.objects.filter(compound_id=vote.compound_id or 0)
    )
    places = list(buildings.values_list("id", "grid_id"))
    street_id = Community.objects.filter(pk=vote.community_id).values_list("street_id", flat=True).first()
    return Scope(
        community_id=vote.community_id,
        street_id=street_id,
        grid_ids=frozenset(g for _, g in places),
        building_ids=frozenset(b for b, _ in places),
    )


def _vote_in(building_filter: str) -> Any:
    def rule(ids: frozenset[int]) -> Q:
        buildings = Building.objects.filter(**{building_filter: ids})
        return Q(building_id__in=buildings.values("id")) | Q(
            compound_id__in=buildings.filter(compound__isnull=False).values("compound_id")
        )

    return rule


def register_scope() -> None:
    register_model(
        Meeting,
        scope=_meeting_scope,
        paths={
            "street": "community__street_id",
            "community": "community_id",
            "grid": "grid_id",
            "building": None,
            "merchant": None,
        },
    )
    register_model(
        Resolution,
        scope=_resolution_scope,
        paths={
            "street": "community__street_id",
            "community": "community_id",
            "grid": "item__meeting__grid_id",
            "building": None,
            "merchant": None,
        },
    )
    register_model(
        OwnersVote,
        scope=_vote_scope,
        paths={
            "street": "community__street_id",
            "community": "community_id",
            "grid": _vote_in("grid_id__in"),
            "building": _vote_in("id__in"),
            "merchant": None,
        },
    )


def may_view(actor: Actor, community: Community) -> bool:
    return works_in(actor, "council.view", community)


def _require_view(actor: Actor, community: Community) -> None:
    if not may_view(actor, community):
        raise NotFound()


def may_run(actor: Actor, meeting: Meeting) -> bool:
    place: Grid | Community = meeting.grid if meeting.grid is not None else meeting.community
    return can(actor, "council.manage", place)


# --- meetings ------------------------------------------------------------------------------------------------------
def series_of(actor: Actor, community: Community) -> QuerySet[MeetingSeries]:
    _require_view(actor, community)
    return MeetingSeries.objects.filter(community=community).annotate(
        held=Count("meetings", filter=Q(meetings__status__in=[MeetingStatus.HELD, MeetingStatus.CLOSED]))
    )


def meetings(
    actor: Actor,
    community: Community,
    *,
    series: MeetingSeries | None = None,
    status: str = "",
    q: str = "",
    upcoming: bool = False,
) -> QuerySet[Meeting]:
    _require_view(actor, community)
    qs = Meeting.objects.filter(community=community).select_related("series", "grid", "compound", "building")
    if series is not None:
        qs = qs.filter(series=series)
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(place__icontains=q) | Q(items__title__icontains=q)).distinct()
    if upcoming:
        since = timezone.now() - timedelta(hours=6)
        qs = qs.filter(status=MeetingStatus.PLANNED, starts_at__gte=since).order_by("starts_at", "id")
    return qs.annotate(item_count=Count("items", distinct=True), attendance_count=Count("attendance", distinct=True))


def get_meeting(actor: Actor, pk: Any) -> Meeting:
    meeting = (
        Meeting.objects.select_related("series", "community", "grid", "compound", "building").filter(pk=pk).first()
    )
    if meeting is None or not may_view(actor, meeting.community):
        raise NotFound()
    return meeting


def meeting_detail(actor: Actor, meeting: Meeting) -> dict[str, Any]:
    """Everything the meeting page shows, in few queries: invitations, attendance, agenda with resolutions."""
    _require_view(actor, meeting.community)
    items = list(
        meeting.items.select_related("work_order").prefetch_related(
            Prefetch("resolutions", queryset=Resolution.objects.select_related("supervisor", "owner_user"))
        )
    )
    return {
        "meeting": meeting,
        "invitations": list(meeting.invitations.select_related("person", "partner")),
        "attendance": list(meeting.attendance.select_related("person")),
        "items": items,
        "may_run": may_run(actor, meeting),
        "votes": list(OwnersVote.objects.filter(item__meeting=meeting).order_by("id")),
    }


def meeting_by_code(code: str) -> Meeting:
    """The meeting whose QR code was scanned (the code alone finds it: it is a secret on the wall)."""
    meeting = Meeting.objects.select_related("series", "community").filter(checkin_code=code).first() if code else None
    if meeting is None:
        raise NotFound()
    return meeting


def get_invitation(actor: Actor, pk: Any) -> Invitation:
    invitation = Invitation.objects.select_related("meeting__community", "meeting__grid").filter(pk=pk).first()
    if invitation is None or not may_view(actor, invitation.meeting.community):
        raise NotFound()
    return invitation


def get_attendance(actor: Actor, pk: Any) -> Attendance:
    attendance = Attendance.objects.select_related("meeting__community", "meeting__grid").filter(pk=pk).first()
    if attendance is None or not may_view(actor, attendance.meeting.community):
        raise NotFound()
    return attendance


def my_attendance(actor: Actor, meeting: Meeting) -> Attendance | None:
    """The resident's own sign-in at `meeting` (the check-in page says "already signed in at 19:02")."""
    if not actor.person_id:
        return None
    return Attendance.objects.filter(meeting=meeting, person_id=actor.person_id).first()


def workers_of(actor: Actor, community: Community) -> QuerySet[Any]:
    """The logins who work in `community` as staff or grid roles: whom a resolution may name as its owner or its
    supervisor (services._staff_user accepts exactly people working there)."""
    _require_view(actor, community)
    from linli.org.models import Role, RoleAssignment, User

    holders = RoleAssignment.objects.filter(
        Q(role=Role.COMMUNITY_STAFF, community=community)
        | Q(role__in=[Role.GRID_CHIEF, Role.GRID_WORKER], grid__community=community)
    )
    return User.objects.filter(is_active=True, pk__in=holders.values("user_id")).order_by("name", "id")


def get_item(actor: Actor, pk: Any) -> AgendaItem:
    item = (
        AgendaItem.objects.select_related("meeting__community", "meeting__series", "work_order").filter(pk=pk).first()
    )
    if item is None or not may_view(actor, item.meeting.community):
        raise NotFound()
    return item


# --- resolutions ---------------------------------------------------------------------------------------------------
def resolutions(
    actor: Actor,
    community: Community,
    *,
    status: str = "",
    overdue: bool = False,
    mine: bool = False,
    kind: str = "",
    severity: str = "",
    q: str = "",
    today: date | None = None,
) -> QuerySet[Resolution]:
    """The resolution board. `overdue`: open and past the due date; `mine`: the actor carries it out or chases it."""
    _require_view(actor, community)
    today = today or timezone.localdate()
    qs = Resolution.objects.filter(community=community).select_related(
        "item__meeting__series", "supervisor", "owner_user"
    )
    if status == "open":
        qs = qs.filter(status__in=OPEN_RESOLUTION)
    elif status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(status__in=OPEN_RESOLUTION, due_on__lt=today)
    if mine:
        uid = getattr(actor.user, "pk", None)
        qs = qs.filter(Q(owner_user_id=uid) | Q(supervisor_id=uid))
    if kind:
        qs = qs.filter(item__kind=kind)
    if severity:
        qs = qs.filter(item__severity=severity)
    if q:
        qs = qs.filter(Q(text__icontains=q) | Q(owner__icontains=q) | Q(item__title__icontains=q))
    return qs.annotate(rating_avg=Avg("evaluations__rating"), rating_count=Count("evaluations")).order_by(
        "due_on", "id"
    )


def get_resolution(actor: Actor, pk: Any) -> Resolution:
    resolution = (
        Resolution.objects.select_related(
            "item__meeting__community", "item__meeting__series", "item__meeting__grid", "supervisor", "owner_user"
        )
        .filter(pk=pk)
        .first()
    )
    if resolution is None or not may_view(actor, resolution.item.meeting.community):
        raise NotFound()
    return resolution


def timeline(actor: Actor, resolution: Resolution, *, public_only: bool = False) -> QuerySet[ResolutionEntry]:
    _require_view(actor, resolution.item.meeting.community)
    qs = resolution.entries.select_related("actor")
    return qs.filter(public=True) if public_only else qs


def evaluations_of(resolution: Resolution) -> dict[str, Any]:
    rows = list(resolution.evaluations.values_list("rating", flat=True))
    return {"count": len(rows), "average": domain.average(rows), "stars": Counter(rows)}


def my_evaluation(actor: Actor, resolution: Resolution) -> Evaluation | None:
    if not actor.person_id:
        return None
    return Evaluation.objects.filter(resolution=resolution, person_id=actor.person_id).first()


def evaluation_desk(actor: Actor, community: Community) -> tuple[list[Resolution], list[tuple[Resolution, Evaluation]]]:
    """A resident's evaluation desk (评议台): the done resolutions shown to the community (echo wall) that they have
    not rated yet, newest first; then those they rated, with their verdict."""
    _require_view(actor, community)
    done = list(
        resolutions(actor, community, status=ResolutionStatus.DONE)
        .filter(on_echo_wall=True)
        .order_by("-done_at", "-id")[:200]
    )
    mine = {
        e.resolution_id: e
        for e in Evaluation.objects.filter(person_id=actor.person_id or 0, resolution__in=[r.pk for r in done])
    }
    waiting = [r for r in done if r.pk not in mine]
    rated = sorted(((r, mine[r.pk]) for r in done if r.pk in mine), key=lambda pair: pair[1].at, reverse=True)
    return waiting, rated


# --- the echo wall (回音壁) and the evaluation desk (评议台), public --------------------------------------------------
def echo_wall(community: Community) -> QuerySet[Resolution]:
    """Resolutions shown in public with their public timeline: what was agreed, who does it, how far, the replies.
    No personal data: owners are named as the meeting wrote them (a unit, a role), supervisors not at all."""
    return (
        Resolution.objects.filter(community=community, on_echo_wall=True)
        .exclude(status=ResolutionStatus.DROPPED)
        .select_related("item__meeting__series")
        .prefetch_related(Prefetch("entries", queryset=ResolutionEntry.objects.filter(public=True)))
        .annotate(rating_avg=Avg("evaluations__rating"), rating_count=Count("evaluations"))
        .order_by("-updated_at", "-id")
    )


# --- figures ---------------------------------------------------------------------------------------------------------
@dataclass
class Figures:
    sessions: int
    problems: int
    solved: int
    by_kind: dict[str, int]  # solved problems by dispute kind (SEEDS 002: 70 / 79 / 47)
    by_colour: dict[str, int]  # solved problems by colour
    grid: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> colour -> all problems
    resolutions: int = 0
    done: int = 0
    done_on_time: int = 0
    overdue: int = 0
    rating_avg: float | None = None
    rating_count: int = 0


def figures(
    actor: Actor, community: Community, *, start: date | None = None, end: date | None = None, today: date | None = None
) -> Figures:
    """ "269 sessions, 196 problems solved: 70 / 79 / 47" straight from the data. Sessions are meetings held between
    start and end; problems are their agenda items."""
    if not works_in(actor, "council.report", community):
        raise NotFound() if not may_view(actor, community) else Forbidden()
    today = today or timezone.localdate()
    held = Meeting.objects.filter(community=community, status__in=[MeetingStatus.HELD, MeetingStatus.CLOSED])
    if start is not None:
        held = held.filter(starts_at__date__gte=start)
    if end is not None:
        held = held.filter(starts_at__date__lte=end)
    items = AgendaItem.objects.filter(meeting__in=held.values("id"))
    grid: dict[str, dict[str, int]] = {k: dict.fromkeys(Severity.values, 0) for k in DisputeKind.values}
    for kind, colour, n in items.values_list("kind", "severity").annotate(n=Count("id")).order_by():
        grid[kind][colour] = n
    solved = items.filter(solved_at__isnull=False)
    by_kind = dict.fromkeys(DisputeKind.values, 0) | dict(solved.values_list("kind").annotate(n=Count("id")).order_by())
    by_colour = dict.fromkeys(Severity.values, 0) | dict(
        solved.values_list("severity").annotate(n=Count("id")).order_by()
    )
    res = Resolution.objects.filter(item__in=items.values("id"))
    done = res.filter(status=ResolutionStatus.DONE)
    ratings = Evaluation.objects.filter(resolution__in=res.values("id")).aggregate(avg=Avg("rating"), n=Count("id"))
    return Figures(
        sessions=held.count(),
        problems=items.count(),
        solved=solved.count(),
        by_kind=by_kind,
        by_colour=by_colour,
        grid=grid,
        resolutions=res.exclude(status=ResolutionStatus.DROPPED).count(),
        done=done.count(),
        done_on_time=sum(1 for at, due in done.values_list("done_at", "due_on") if timezone.localdate(at) <= due),
        overdue=res.filter(status__in=OPEN_RESOLUTION, due_on__lt=today).count(),
        rating_avg=round(ratings["avg"], 1) if ratings["avg"] is not None else None,
        rating_count=ratings["n"],
    )


# --- owners' votes ----------------------------------------------------------------------------------------------------
def _on_roll(person_id: int | None) -> Q:
    return (
        Q(pk__in=RollOwner.objects.filter(person_id=person_id).values("entry__vote_id")) if person_id else Q(pk__in=[])
    )


def votes(actor: Actor, community: Community, *, status: str = "") -> QuerySet[OwnersVote]:
    """Staff and grid roles see the votes of their area; an owner the votes they are on the roll of."""
    qs = scoped(actor, "vote.view", OwnersVote.objects.filter(community=community))
    if actor.person_id and actor.person_community_id == community.pk:
        qs = qs | OwnersVote.objects.filter(community=community).filter(_on_roll(actor.person_id))
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("building", "compound").annotate(
        ballot_count=Count("ballots", filter=Q(ballots__voided_at__isnull=True), distinct=True)
    )


def may_see_vote(actor: Actor, vote: OwnersVote) -> bool:
    return can(actor, "vote.view", vote) or (
        actor.person_id is not None and RollOwner.objects.filter(entry__vote=vote, person_id=actor.person_id).exists()
    )


def get_vote(actor: Actor, pk: Any) -> OwnersVote:
    vote = OwnersVote.objects.select_related("community", "building", "compound", "item__meeting").filter(pk=pk).first()
    if vote is None or not may_see_vote(actor, vote):
        raise NotFound()
    return vote


def roll_check(actor: Actor, vote: OwnersVote) -> domain.Roll:
    """The roll as it would be frozen now, with the units that keep it from opening."""
    require(actor, "vote.view", vote)
    from linli.council.services import units_of

    return domain.build_roll(units_of(vote))


def roll(actor: Actor, vote: OwnersVote) -> QuerySet[RollEntry]:
    """The frozen roll with each owner's counted ballot (staff see names; owners only their own line)."""
    require(actor, "vote.view", vote)
    counted = Ballot.objects.filter(entry=OuterRef("pk"), voided_at__isnull=True)
    return (
        RollEntry.objects.filter(vote=vote)
        .annotate(has_ballot=Exists(counted))
        .prefetch_related(Prefetch("ballots", queryset=Ballot.objects.filter(voided_at__isnull=True)))
        .order_by("position")
    )


def ballots(actor: Actor, vote: OwnersVote) -> QuerySet[Ballot]:
    require(actor, "vote.view", vote)
    return Ballot.objects.filter(vote=vote).select_related("entry", "cast_by", "recorded_by", "voided_by")


def my_entry(actor: Actor, vote: OwnersVote) -> RollEntry | None:
    if not actor.person_id:
        return None
    return RollEntry.objects.filter(vote=vote, owners__person_id=actor.person_id).first()


def my_ballot(actor: Actor, vote: OwnersVote) -> Ballot | None:
    entry = my_entry(actor, vote)
    return Ballot.objects.filter(entry=entry, voided_at__isnull=True).first() if entry is not None else None


def my_open_votes(actor: Actor) -> QuerySet[OwnersVote]:
    """The open votes an owner is on the roll of: the resident's home shows them first."""
    if not actor.person_id:
        return OwnersVote.objects.none()
    return OwnersVote.objects.filter(_on_roll(actor.person_id), status=VoteStatus.OPEN).order_by("closes_at")


def live_tally(actor: Actor, vote: OwnersVote) -> domain.Tally | None:
    """The count so far (staff), or the frozen one once closed."""
    require(actor, "vote.view", vote)
    if vote.status not in (VoteStatus.OPEN, VoteStatus.CLOSED):
        return None
    from linli.council.services import tally_of

    return tally_of(vote)


def my_votes(actor: Actor) -> QuerySet[OwnersVote]:
    """Every vote (open, closed) an owner is on the roll of, open ones first: the resident's "my votes" page."""
    if not actor.person_id:
        return OwnersVote.objects.none()
    return (
        OwnersVote.objects.filter(_on_roll(actor.person_id), status__in=[VoteStatus.OPEN, VoteStatus.CLOSED])
        .select_related("building", "compound")
        .order_by("-status", "closes_at", "-id")  # "open" sorts after "closed": descending puts open votes first
    )


def may_read_notice(actor: Actor, vote: OwnersVote) -> bool:
    """The public notice (公告) of a closed vote is posted on the board: everyone who lives or works in the community
    may read it, as may whoever may see the vote."""
    return may_see_vote(actor, vote) or (vote.status == VoteStatus.CLOSED and may_view(actor, vote.community))


def get_vote_notice(actor: Actor, pk: Any) -> OwnersVote:
    """A vote whose public notice the actor may read (may_read_notice), or 404."""
    vote = OwnersVote.objects.select_related("community", "building", "compound").filter(pk=pk).first()
    if vote is None or not may_read_notice(actor, vote):
        raise NotFound()
    return vote


def notice_rows(actor: Actor, vote: OwnersVote) -> list[tuple[int, str, Any, str]]:
    """(position, rooms, area, counted choice or "") of every owner on the frozen roll — no names: it is public."""
    if not may_read_notice(actor, vote):
        raise NotFound()
    choices = dict(Ballot.objects.filter(vote=vote, voided_at__isnull=True).values_list("entry_id", "choice"))
    return [
        (e.position, e.label, e.area, choices.get(e.pk, ""))
        for e in RollEntry.objects.filter(vote=vote).order_by("position").only("id", "position", "label", "area")
    ]
