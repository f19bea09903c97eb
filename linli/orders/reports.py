"""Work-order figures (issue 6 item 7) grouped by month, grid, category, colour, channel, and by community for the
street office: received, completed, completion rate, satisfaction rate, mean and p90 hours to close, overdue.

The arithmetic is `domain.figures`, the same as `selectors.figures` for one set. Counting rules:
- A request counts in the month it was received (the period filters on the time received, local time); merged
  duplicates and cancelled requests are not counted at all.
- Completed = resolved or closed now; overdue = still open now and past its deadline.
- Satisfaction is over the rated requests (4 or 5 stars satisfied); the hours to close run from received to closed.
Each table is one aggregate query for the counts, one for the ratings by star, and one row per closed request for the
durations (p90 needs the values); no query per group or per request.
Who sees what: `scoped(actor, "order.stats", …)`: staff and auditors their community, a grid chief their grids,
the street admin the street.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.orders import domain, selectors
from linli.orders.models import DONE_STATUSES, OPEN_STATUSES, Category, Channel, Severity, Status, WorkOrder
from linli.orders.services import tz
from linli.org.access import Actor, scoped
from linli.org.models import Community, Grid, Street

MAX_MONTHS = 36
NOT_COUNTED = (Status.MERGED, Status.CANCELLED)


@dataclass(frozen=True)
class Period:
    """Whole months, first to last (both included)."""

    first: date  # the first day of the first month
    last: date  # the first day of the last month

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=tz())

    @property
    def end(self) -> datetime:  # exclusive: the first moment of the month after the last
        return datetime.combine(add_months(self.last, 1), time.min, tzinfo=tz())

    def months(self) -> list[date]:
        out, month = [], self.first
        while month <= self.last:
            out.append(month)
            month = add_months(month, 1)
        return out


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def default_period(today: date | None = None, months: int = 6) -> Period:
    """The last `months` months, this one included."""
    this = (today or timezone.localdate()).replace(day=1)
    return Period(add_months(this, -(months - 1)), this)


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    figures: domain.Figures


EMPTY = domain.figures(received=0, completed=0, ratings=[], hours_to_close=[], overdue=0)


def _key(value: Any) -> str:
    if isinstance(value, datetime):  # a month from TruncMonth
        value = (timezone.localtime(value, tz()) if timezone.is_aware(value) else value).date()
    if isinstance(value, date):
        return value.strftime("%Y-%m")
    return "" if value is None else str(value)


def grouped(qs: QuerySet[WorkOrder], by: Any, *, now: datetime | None = None) -> dict[str, domain.Figures]:
    """Figures of `qs` for each value of `by` (a field name or an expression), keyed by that value as text."""
    now = now or timezone.now()
    counted = qs.exclude(status__in=NOT_COUNTED).annotate(g=F(by) if isinstance(by, str) else by).order_by()
    counts = counted.values("g").annotate(
        received=Count("pk"),
        completed=Count("pk", filter=Q(status__in=DONE_STATUSES)),
        overdue=Count("pk", filter=Q(status__in=OPEN_STATUSES, due_at__lt=now)),
    )
    ratings: dict[str, list[int]] = defaultdict(list)
    for row in counted.filter(rating__isnull=False).values("g", "rating").annotate(n=Count("pk")):
        ratings[_key(row["g"])] += [int(row["rating"] or 0)] * row["n"]
    hours: dict[str, list[float]] = defaultdict(list)
    for g, received, closed in counted.filter(closed_at__isnull=False).values_list("g", "received_at", "closed_at"):
        if closed is not None:  # filtered above; the check is for the type checker
            hours[_key(g)].append((closed - received).total_seconds() / 3600)
    return {
        _key(row["g"]): domain.figures(
            received=row["received"],
            completed=row["completed"],
            ratings=ratings[_key(row["g"])],
            hours_to_close=hours[_key(row["g"])],
            overdue=row["overdue"],
        )
        for row in counts
    }


def _rows(figures: dict[str, domain.Figures], labels: Iterable[tuple[str, str]], *, keep_empty: bool) -> list[Row]:
    """Rows in the order of `labels`, then any value not labelled (e.g. a category from before a rename)."""
    rows, seen = [], set()
    for key, label in labels:
        seen.add(key)
        if key in figures or keep_empty:
            rows.append(Row(key, label, figures.get(key, EMPTY)))
    rows += [Row(k, k or "—", f) for k, f in figures.items() if k not in seen]
    return rows


def in_period(qs: QuerySet[WorkOrder], period: Period) -> QuerySet[WorkOrder]:
    return qs.filter(received_at__gte=period.start, received_at__lt=period.end)


def stats_orders(actor: Actor, community: Community) -> QuerySet[WorkOrder]:
    """The requests of `community` whose figures the actor may read."""
    return scoped(actor, "order.stats", WorkOrder.objects.filter(community=community))


@dataclass(frozen=True)
class CommunityStats:
    community: Community
    period: Period
    total: domain.Figures
    by_month: list[Row]
    by_grid: list[Row]
    by_category: list[Row]
    by_severity: list[Row]
    by_channel: list[Row]


def community_stats(
    actor: Actor, community: Community, period: Period, *, now: datetime | None = None
) -> CommunityStats:
    now = now or timezone.now()
    qs = in_period(stats_orders(actor, community), period)
    table: Callable[[Any], dict[str, domain.Figures]] = lambda by: grouped(qs, by, now=now)  # noqa: E731
    grids = Grid.objects.filter(community=community).order_by("number", "pk")
    categories = Category.objects.filter(community=community).order_by("position", "pk")
    return CommunityStats(
        community=community,
        period=period,
        total=selectors.figures(qs, now=now),
        by_month=_rows(
            table(TruncMonth("received_at", tzinfo=tz())),
            [(m.strftime("%Y-%m"), m.strftime("%Y-%m")) for m in period.months()],
            keep_empty=True,
        ),
        by_grid=_rows(
            table("grid_id"),
            [*((str(g.pk), g.name) for g in grids), ("", _("no grid"))],
            keep_empty=False,
        ),
        by_category=_rows(table("category_id"), [(str(c.pk), c.name) for c in categories], keep_empty=False),
        by_severity=_rows(
            table("severity"), [*((s.value, str(s.label)) for s in Severity), ("", _("not graded"))], keep_empty=False
        ),
        by_channel=_rows(table("channel"), [(c.value, str(c.label)) for c in Channel], keep_empty=False),
    )


@dataclass(frozen=True)
class StreetStats:
    street: Street
    period: Period
    total: domain.Figures
    by_community: list[Row]


def street_stats(actor: Actor, street: Street, period: Period, *, now: datetime | None = None) -> StreetStats:
    """The street office's view: its communities side by side (every one, also those without requests)."""
    now = now or timezone.now()
    qs = in_period(scoped(actor, "order.stats", WorkOrder.objects.filter(community__street=street)), period)
    communities = Community.objects.filter(street=street).order_by("pk")
    return StreetStats(
        street=street,
        period=period,
        total=selectors.figures(qs, now=now),
        by_community=_rows(
            grouped(qs, "community_id", now=now), [(str(c.pk), c.name) for c in communities], keep_empty=True
        ),
    )
