"""Leaderboards (积分排行榜) per community and per grid, for this month, this year and all time.

What counts: points of *approved* claims (the points that were posted to the ledger), summed per person. The period
is judged by `decided_at`, the moment a claim was approved and posted, not by the day of service: the board then
agrees with the passbooks and with the monthly disclosure (每月公布一次积分累计), and a month's board never changes
after the month is over because of a late approval. Periods start at local midnight (settings.TIME_ZONE).
Donation points and manual awards are not earned through the rules, so they are not on the board.

Ranks are competition ranks (1, 2, 2, 4): people with the same points share a rank; among them the order is by name.
A grid's board counts the people living in the grid and its micro-grids (someone with flats in two grids is on
both). Moved-out people (inactive) are left off.

Names: masked (张*和) unless the caller reveals them; `reveal_for(actor)` reveals exactly the people the actor may
read (staff all of their community, a grid worker the people of their grids, a resident themself). Public pages
reveal nobody.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.common.errors import Invalid, NotFound
from linli.org.access import Actor, grid_with_descendants, scoped
from linli.org.domain import mask_name
from linli.org.models import Community, Grid, HouseholdMember, Person
from linli.points.models import Claim

TOP = 20
PERIODS: dict[str, Any] = {"month": _("This month"), "year": _("This year"), "all": _("All time")}


def period_start(period: str, today: date | None = None) -> datetime | None:
    """The first moment of the period (aware, local midnight), None for all time."""
    if period not in PERIODS:
        raise Invalid(_("Choose this month, this year or all time."), code="period_invalid", field="period")
    if period == "all":
        return None
    today = today or timezone.localdate()
    first = today.replace(day=1) if period == "month" else today.replace(month=1, day=1)
    return timezone.make_aware(datetime.combine(first, time.min))


@dataclass(frozen=True)
class Row:
    rank: int
    person_id: int | None  # only when the name is revealed
    name: str
    points: int
    me: bool = False


@dataclass(frozen=True)
class Board:
    community: Community
    grid: Grid | None
    period: str
    since: datetime | None
    rows: list[Row]
    me: Row | None  # the signed-in resident's own line, also when outside the top
    people: int  # how many people earned points in the period

    @property
    def period_label(self) -> str:
        return str(PERIODS[self.period])


def grid_of(community: Community, pk: Any) -> Grid | None:
    """A grid of this community by id ('' or None: the whole community); anything else is 404."""
    if pk in (None, ""):
        return None
    try:
        return Grid.objects.get(pk=int(pk), community=community)
    except (Grid.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound() from None


def _approved(community: Community, grid: Grid | None, since: datetime | None) -> QuerySet[Claim]:
    qs = Claim.objects.standing().filter(community=community, person__is_active=True)
    if since is not None:
        qs = qs.filter(decided_at__gte=since)
    if grid is not None:
        people = HouseholdMember.objects.filter(
            household__building__grid_id__in=grid_with_descendants([grid.pk])
        ).values("person_id")
        qs = qs.filter(person_id__in=people)
    return qs


def reveal_for(actor: Actor, community: Community) -> Callable[[Iterable[int]], set[int]]:
    """Which of the given people the actor may see by name."""

    def reveal(ids: Iterable[int]) -> set[int]:
        wanted = set(ids)
        if not wanted or not actor.is_authenticated:
            return set()
        qs = Person.objects.filter(community=community, pk__in=wanted)
        return set(scoped(actor, "person.view", qs).values_list("pk", flat=True))

    return reveal


def _nobody(ids: Iterable[int]) -> set[int]:
    return set()


def leaderboard(
    *,
    community: Community,
    period: str = "month",
    grid: Grid | None = None,
    me: int | None = None,
    reveal: Callable[[Iterable[int]], set[int]] = _nobody,
    limit: int = TOP,
    today: date | None = None,
) -> Board:
    """The top `limit` earners and, when `me` (a person id) earned points in the period, their own line."""
    if grid is not None and grid.community_id != community.pk:
        raise NotFound()
    since = period_start(period, today)
    totals = _approved(community, grid, since).values("person_id").annotate(total=Sum("points"))
    top = list(totals.order_by("-total", "person__name", "person_id")[:limit])
    # never .first() here: its implicit ORDER BY id would split the per-person groups
    mine = next(iter(totals.filter(person_id=me).order_by("person_id")[:1]), None) if me else None
    ids: set[int] = {t["person_id"] for t in top} | ({me} if mine and me else set())
    names = dict(Person.objects.filter(pk__in=ids).values_list("pk", "name"))
    shown = reveal(ids)

    def row(person_id: int, points: int, rank: int) -> Row:
        name = names.get(person_id, "")
        visible = person_id in shown
        return Row(
            rank=rank,
            person_id=person_id if visible else None,
            name=name if visible else mask_name(name),
            points=points,
            me=person_id == me,
        )

    rows: list[Row] = []
    for index, t in enumerate(top):
        rank = rows[-1].rank if rows and rows[-1].points == t["total"] else index + 1
        rows.append(row(t["person_id"], int(t["total"]), rank))
    my_row = None
    if mine is not None:
        my_row = next((r for r in rows if r.me), None)
        if my_row is None:
            ahead = totals.filter(total__gt=mine["total"]).count()
            my_row = row(me or 0, int(mine["total"]), ahead + 1)
    return Board(
        community=community,
        grid=grid,
        period=period,
        since=since,
        rows=rows,
        me=my_row,
        people=totals.count(),
    )
