"""What the report pages read, with the permission checks. Dashboards read stored months (`CommunityMonth`), computing
and storing a closed month the first time anyone asks for it; the running month is always counted live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeGuard

from django.db.models import QuerySet
from django.utils import timezone

from linli.common.errors import Forbidden, NotFound
from linli.ledger.models import Transfer
from linli.org.access import Actor, can, grid_with_descendants, works_in
from linli.org.models import Community, Grid, Street
from linli.reports import domain, figures, services
from linli.reports.models import CommunityMonth, Disclosure
from linli.reports.router import read_db

MAX_MONTHS = 36  # the longest history a dashboard draws


# --- who may read what ----------------------------------------------------------------------------------------------


def require_community(actor: Actor, community: Community) -> None:
    if not works_in(actor, "report.view", community):
        raise Forbidden() if can(actor, "org.view", community) else NotFound()


def require_grid(actor: Actor, grid: Grid) -> None:
    if not can(actor, "report.view", grid):
        raise NotFound()


def require_street(actor: Actor, street: Street) -> None:
    if not can(actor, "report.view", street):
        raise NotFound()


def streets(actor: Actor) -> QuerySet[Street]:
    """The streets whose roll-up this actor may read (street-level grants)."""
    ids = {g for grant in actor.grants if grant.level == "street" for g in grant.ids}
    return Street.objects.filter(id__in=[i for i in ids if can(actor, "report.view", Street(id=i))]).order_by("name")


def communities(actor: Actor) -> list[Community]:
    """The communities whose dashboards this actor may read."""
    ids = actor.community_ids()
    qs = Community.objects.select_related("street").order_by("name")
    if ids is not None:
        qs = qs.filter(id__in=ids)
    return [c for c in qs if works_in(actor, "report.view", c)]


# --- months ---------------------------------------------------------------------------------------------------------


def current_month(now: datetime | None = None) -> date:
    return domain.first_of_month(timezone.localdate(now or timezone.now()))


def last_closed_month(now: datetime | None = None) -> date:
    return domain.add_months(current_month(now), -1)


def first_month(community_id: int) -> date | None:
    """The month of the community's first ledger entry (what "from 30 to 300" counts from)."""
    first = (
        Transfer.objects.using(read_db())
        .filter(community_id=community_id)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return domain.first_of_month(timezone.localdate(first)) if first else None


def history(community_id: int, *, now: datetime | None = None, limit: int = MAX_MONTHS) -> list[date]:
    """The months a dashboard draws: from the first entry (at most `limit` months back) to the running month."""
    this = current_month(now)
    first = first_month(community_id) or this
    return domain.months_between(max(first, domain.add_months(this, -(limit - 1))), this)


def month_figures(community_id: int, months: list[date], *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Figures of each month, oldest first: stored when closed (computed and stored on first use), live otherwise."""
    now = now or timezone.now()
    db = read_db()
    stored = {
        row.month: row.figures
        for row in CommunityMonth.objects.using(db).filter(community_id=community_id, month__in=months)
    }
    out: list[dict[str, Any]] = []
    previous_end: int | None = None
    for month in sorted(months):
        data = stored.get(month)
        if not _usable(data):
            if services.month_is_over(month, now):
                data = services.month_store(community_id, month, db=db, now=now).figures
            else:
                data = figures.month_figures(community_id, month, circulation_start=previous_end, db=db, now=now)
        previous_end = data["points"]["circulation_end"]
        out.append(data)
    return out


def _usable(stored: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
    """A stored month is read as it is unless its shape is older or it was stored while the month still ran."""
    return stored is not None and stored.get("version") == figures.VERSION and bool(stored.get("complete", True))


# --- dashboards -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    months: list[str]  # "2026-10"
    values: dict[str, list[float | int | None]]  # metric -> one value per month


def series(months: list[dict[str, Any]], metrics: dict[str, Any]) -> Series:
    """metrics: name -> function(month figures) -> number."""
    return Series(
        months=[m["month"] for m in months],
        values={name: [pick(m) for m in months] for name, pick in metrics.items()},
    )


COMMUNITY_METRICS: dict[str, Any] = {
    "volunteers": lambda m: m["volunteers"],
    "earned": lambda m: m["points"]["earned"],
    "spent": lambda m: m["points"]["spent"],
    "circulation": lambda m: m["points"]["circulation_end"],
    "orders_received": lambda m: m["orders"]["received"],
    "orders_completed": lambda m: m["orders"]["completed"],
    "completion_rate": lambda m: m["orders"]["completion_rate"],
    "on_time_rate": lambda m: m["orders"]["on_time_rate"],
    "satisfaction_rate": lambda m: m["orders"]["satisfaction_rate"],
    "meetings": lambda m: m["council"]["meetings"],
    "redemptions": lambda m: m["market"]["redemptions"],
}


@dataclass(frozen=True)
class CommunityDashboard:
    community: Community
    months: list[dict[str, Any]]
    series: Series
    latest: dict[str, Any]  # the running month
    last_closed: dict[str, Any] | None


def community_dashboard(actor: Actor, community: Community, *, now: datetime | None = None) -> CommunityDashboard:
    require_community(actor, community)
    months = month_figures(community.pk, history(community.pk, now=now), now=now)
    return CommunityDashboard(
        community=community,
        months=months,
        series=series(months, COMMUNITY_METRICS),
        latest=months[-1],
        last_closed=months[-2] if len(months) > 1 else None,
    )


def grid_rollup(month: dict[str, Any], grid_ids: frozenset[int]) -> dict[str, int]:
    total = {"volunteers": 0, "earned": 0, "received": 0, "completed": 0, "meetings": 0}
    for key, row in month["grids"].items():
        if int(key) in grid_ids:
            for name in total:
                total[name] += int(row.get(name, 0))
    return total


@dataclass(frozen=True)
class GridDashboard:
    grid: Grid
    months: list[str]
    rows: list[dict[str, int]]  # one per month, oldest first
    series: Series


def grid_dashboard(actor: Actor, grid: Grid, *, now: datetime | None = None) -> GridDashboard:
    require_grid(actor, grid)
    ids = grid_with_descendants([grid.pk])
    months = month_figures(grid.community_id, history(grid.community_id, now=now), now=now)
    rows = [grid_rollup(m, ids) for m in months]
    labels = [m["month"] for m in months]
    return GridDashboard(
        grid=grid,
        months=labels,
        rows=rows,
        series=Series(months=labels, values={name: [r[name] for r in rows] for name in rows[0]} if rows else {}),
    )


STREET_METRICS: dict[str, Any] = {
    "residents": lambda m: m["residents"],
    "volunteers": lambda m: m["volunteers"],
    "volunteer_share": lambda m: domain.rate(m["volunteers"], m["residents"]),
    "earned": lambda m: m["points"]["earned"],
    "spent": lambda m: m["points"]["spent"],
    "circulation": lambda m: m["points"]["circulation_end"],
    "orders_received": lambda m: m["orders"]["received"],
    "completion_rate": lambda m: m["orders"]["completion_rate"],
    "satisfaction_rate": lambda m: m["orders"]["satisfaction_rate"],
    "meetings": lambda m: m["council"]["meetings"],
}


@dataclass(frozen=True)
class StreetRow:
    community: Community
    values: dict[str, float | int | None]
    rank: int | None


@dataclass(frozen=True)
class StreetRollup:
    street: Street
    month: date
    metric: str
    rows: list[StreetRow]  # ranked by `metric`, best first
    totals: dict[str, float | int | None]


def street_rollup(
    actor: Actor, street: Street, *, month: date | None = None, metric: str = "volunteers", now: datetime | None = None
) -> StreetRollup:
    """Every community of the street side by side for one month (the last closed month unless asked), ranked.

    Stored months (`CommunityMonth`, kept by `linli report refresh` and by every dashboard that reads a closed month)
    are read as they are; a month not stored yet is counted for the roll-up's columns only (`figures.street_figures`)
    and not stored, so a street office opening a month before the refresh waits seconds, not a minute."""
    require_street(actor, street)
    if metric not in STREET_METRICS:
        metric = "volunteers"
    now = now or timezone.now()
    month = month or last_closed_month(now)
    db = read_db()
    members = list(Community.objects.using(db).filter(street=street).order_by("name"))
    stored = dict(
        CommunityMonth.objects.using(db)
        .filter(community__in=members, month=month)
        .values_list("community_id", "figures")
    )
    values: dict[int, dict[str, Any]] = {}
    for community in members:
        data = stored.get(community.pk)
        if not _usable(data):
            data = figures.street_figures(community.pk, month, db=db, now=now)
        values[community.pk] = {name: pick(data) for name, pick in STREET_METRICS.items()}
    ranked = domain.rank([(c.pk, values[c.pk][metric]) for c in members])
    by_id = {c.pk: c for c in members}
    rows = [StreetRow(by_id[r.key], values[r.key], r.rank) for r in ranked]
    totals: dict[str, float | int | None] = {
        name: sum(int(v[name] or 0) for v in values.values())
        for name in ("residents", "volunteers", "earned", "spent", "circulation", "orders_received", "meetings")
    }
    totals["volunteer_share"] = domain.rate(int(totals["volunteers"] or 0), int(totals["residents"] or 0))
    return StreetRollup(street=street, month=month, metric=metric, rows=rows, totals=totals)


# --- disclosures ----------------------------------------------------------------------------------------------------


def disclosures(actor: Actor, community: Community) -> QuerySet[Disclosure]:
    require_community(actor, community)
    return Disclosure.objects.filter(community=community).select_related("seal", "published_by")


def public_disclosure(community_code: str, month_text: str, revision: int | None = None) -> Disclosure:
    """Anyone may read a published disclosure (no login): it is what hangs on the notice board."""
    month = domain.parse_month(month_text)
    if month is None:
        raise NotFound()
    qs = Disclosure.objects.filter(community__code=community_code, month=month).select_related("community", "seal")
    found = qs.filter(revision=revision).first() if revision else qs.filter(replaced_at__isnull=True).first()
    if found is None:
        raise NotFound()
    return found


def public_disclosures(community_code: str) -> tuple[Community, QuerySet[Disclosure]]:
    community = Community.objects.filter(code=community_code).first()
    if community is None:
        raise NotFound()
    return community, Disclosure.objects.filter(community=community, replaced_at__isnull=True)
