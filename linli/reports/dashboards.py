"""What the dashboard pages draw: selector results (linli.reports.selectors) turned into tiles, SVG charts and the
tables that repeat each chart's numbers. Pure presentation: no database, no permission decisions."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from linli.org.models import Grid
from linli.reports import charts
from linli.reports.selectors import (
    COMMUNITY_METRICS,
    STREET_METRICS,
    CommunityDashboard,
    GridDashboard,
    Series,
    StreetRollup,
    grid_rollup,
)

Value = int | float | None


@dataclass(frozen=True)
class Table:
    head: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Chart:
    key: str  # stable id for tests and anchors
    title: str
    svg: SafeString
    table: Table
    note: str = ""


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    value: str  # the last closed month
    running: str  # the running month so far
    unit: str = ""


@dataclass
class Page:
    tiles: list[Tile] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


def labels() -> dict[str, str]:
    """Names of the figures, shared by tiles, legends, tables and the street's metric picker."""
    return {
        "residents": _("Residents"),
        "volunteers": _("Volunteers"),
        "volunteer_share": _("Volunteer share"),
        "earned": _("Points earned"),
        "spent": _("Points spent"),
        "circulation": _("Points in circulation"),
        "orders_received": _("Work orders received"),
        "received": _("Work orders received"),
        "orders_completed": _("Work orders completed"),
        "completed": _("Work orders completed"),
        "completion_rate": _("Completion rate"),
        "on_time_rate": _("On-time rate"),
        "satisfaction_rate": _("Satisfaction rate"),
        "meetings": _("Meetings held"),
        "redemptions": _("Redemptions"),
    }


RATES = frozenset({"volunteer_share", "completion_rate", "on_time_rate", "satisfaction_rate"})


def unit_of(metric: str) -> str:
    return "%" if metric in RATES else ""


def month_row_label(month: str, *, running: bool) -> str:
    text = charts.month_label(month, with_year=True)
    return _("%(month)s (so far)") % {"month": text} if running else text


def month_table(
    months: Sequence[str], series: Mapping[str, Sequence[Value]], *, unit: str = "", running: bool
) -> Table:
    """One row per month (the running one, last, marked "so far"), one column per series: the chart's numbers."""
    rows = [
        [month_row_label(m, running=running and i == len(months) - 1)]
        + [charts.fmt(list(values)[i] if i < len(values) else None, unit) for values in series.values()]
        for i, m in enumerate(months)
    ]
    return Table(head=[_("Month"), *series.keys()], rows=rows)


@dataclass(frozen=True)
class Months:
    """The x axis of a dashboard: its months, and whether the last one is still running."""

    labels: list[str]
    running: bool

    def table(self, series: Mapping[str, Sequence[Value]], unit: str = "") -> Table:
        return month_table(self.labels, series, unit=unit, running=self.running)

    def line(self, key: str, title: str, series: dict[str, list[Value]], note: str = "", **kw: Any) -> Chart:
        unit = kw.get("unit", "")
        return Chart(
            key, title, charts.line_chart(self.labels, series, title=title, **kw), self.table(series, unit), note
        )

    def bars(self, key: str, title: str, series: dict[str, list[Value]], *, stacked: bool = False, **kw: Any) -> Chart:
        draw = charts.stacked_bar if stacked else charts.bar_chart
        return Chart(key, title, draw(self.labels, series, title=title, **kw), self.table(series))


def _named(series: Series, keys: Sequence[str]) -> dict[str, list[Value]]:
    names = labels()
    return {names[k]: list(series.values[k]) for k in keys}


# --- the community --------------------------------------------------------------------------------------------------

TILE_METRICS = (
    "volunteers",
    "earned",
    "spent",
    "circulation",
    "orders_received",
    "orders_completed",
    "completion_rate",
    "on_time_rate",
    "satisfaction_rate",
    "meetings",
)

STATUS_ORDER = (
    "received",
    "accepted",
    "dispatched",
    "in_progress",
    "on_hold",
    "reopened",
    "resolved",
    "closed",
    "merged",
    "cancelled",
)


# Not the three severity colours (they mean blue/yellow/red grading): open states warm, finished ones green/slate.
STATUS_COLOURS = {
    "received": "#6a1b9a",
    "accepted": "#00838f",
    "dispatched": "#4e342e",
    "in_progress": "#b45309",
    "on_hold": "#8a8a8a",
    "reopened": "#ad1457",
    "resolved": "#2e7d32",
    "closed": "#37474f",
    "merged": "#b0bec5",
    "cancelled": "#cfd8dc",
}


def status_labels() -> dict[str, str]:
    return {
        "received": pgettext("work order", "received"),
        "accepted": pgettext("work order", "accepted"),
        "dispatched": pgettext("work order", "dispatched"),
        "in_progress": pgettext("work order", "in progress"),
        "on_hold": pgettext("work order", "on hold"),
        "reopened": pgettext("work order", "reopened"),
        "resolved": pgettext("work order", "resolved"),
        "closed": pgettext("work order", "closed"),
        "merged": pgettext("work order", "merged"),
        "cancelled": pgettext("work order", "cancelled"),
    }


def colour_labels() -> dict[str, str]:
    return {"blue": _("Blue"), "yellow": _("Yellow"), "red": _("Red"), "": _("Not graded")}


def _pick(month: Mapping[str, Any] | None, metric: str) -> Value:
    return None if month is None else COMMUNITY_METRICS[metric](month)


def community_page(board: CommunityDashboard) -> Page:
    m = Months(board.series.months, running=board.latest.get("complete") is False)
    names = labels()
    page = Page()
    for key in TILE_METRICS:
        unit = unit_of(key)
        page.tiles.append(
            Tile(
                key=key,
                label=names[key],
                value=charts.fmt(_pick(board.last_closed, key), unit),
                running=charts.fmt(_pick(board.latest, key), unit),
                unit=unit,
            )
        )
    s = board.series
    present = [(month, v) for month, v in zip(m.labels, s.values["volunteers"], strict=True) if v]
    note = ""
    if len(present) > 1:
        (m0, v0), (m1, v1) = present[0], present[-1]
        note = _("Volunteers: %(first)s in %(first_month)s, %(last)s in %(last_month)s.") % {
            "first": v0,
            "first_month": charts.month_label(m0, with_year=True),
            "last": v1,
            "last_month": charts.month_label(m1, with_year=True),
        }
    page.charts.append(m.line("volunteers", _("Volunteers each month"), _named(s, ["volunteers"]), note))
    points = {_("Points awarded"): list(s.values["earned"]), _("Points redeemed"): list(s.values["spent"])}
    page.charts.append(m.bars("points", _("Points issued and redeemed each month"), points))
    page.charts.append(
        m.line("circulation", _("Points in circulation at the end of each month"), _named(s, ["circulation"]))
    )
    statuses = status_labels()
    by_status = _breakdown(board.months, "by_status", STATUS_ORDER, statuses)
    palette = {statuses[k]: colour for k, colour in STATUS_COLOURS.items()}
    page.charts.append(
        m.bars("status", _("Work orders received each month, by status now"), by_status, stacked=True, colours=palette)
    )
    colours = colour_labels()
    by_colour = _breakdown(board.months, "by_colour", ("blue", "yellow", "red", ""), colours, keep_empty=True)
    palette = {colours[k]: charts.SEVERITY_COLOURS[k] for k in colours}
    page.charts.append(
        m.bars("colour", _("Work orders received each month, by colour"), by_colour, stacked=True, colours=palette)
    )
    rates = _named(s, ["completion_rate", "on_time_rate", "satisfaction_rate"])
    page.charts.append(
        m.line(
            "rates",
            _("Completion, on-time and satisfaction rates"),
            rates,
            _("A month with no work orders (or none closed, or none rated) has no rate: the line has a gap."),
            unit="%",
            y_max=100,
        )
    )
    return page


def _breakdown(
    months: Sequence[Mapping[str, Any]],
    part: str,
    order: Sequence[str],
    names: Mapping[str, str],
    *,
    keep_empty: bool = False,
) -> dict[str, list[Value]]:
    """orders.<part> of each month as one series per key that ever occurs (in `order`, unknown keys last)."""
    seen: set[str] = set()
    for m in months:
        seen |= {k for k, v in m["orders"].get(part, {}).items() if v}
    keys = [k for k in order if k in seen or keep_empty] + sorted(seen - set(order))
    return {names.get(k, k): [int(m["orders"].get(part, {}).get(k, 0)) for m in months] for k in keys}


@dataclass(frozen=True)
class GridRow:
    grid: Grid
    values: dict[str, int]  # the grid with its micro-grids
    linked: bool  # the reader may open the grid's dashboard


def grid_rows(month: Mapping[str, Any], grids: Sequence[Grid], may_open: Callable[[Grid], bool]) -> list[GridRow]:
    """One row per grid of the community for one month: what the grid dashboard would show for that month."""
    children: dict[int | None, list[int]] = {}
    for g in grids:
        children.setdefault(g.parent_id, []).append(g.pk)

    def family(pk: int) -> frozenset[int]:
        out, todo = {pk}, [pk]
        while todo:
            for child in children.get(todo.pop(), []):
                if child not in out:
                    out.add(child)
                    todo.append(child)
        return frozenset(out)

    return [GridRow(g, grid_rollup(dict(month), family(g.pk)), may_open(g)) for g in grids]


# --- a grid ---------------------------------------------------------------------------------------------------------

GRID_METRICS = ("volunteers", "earned", "received", "completed", "meetings")


def grid_page(board: GridDashboard, *, running: bool) -> tuple[Page, Table]:
    """Charts and tiles of a grid (with its micro-grids), and the whole month-by-month table."""
    page = Page()
    if not board.months:
        return page, Table(head=[], rows=[])
    m = Months(board.months, running=running)
    names = labels()
    s = board.series
    page.charts.append(m.line("volunteers", _("Volunteers each month"), _named(s, ["volunteers"])))
    page.charts.append(m.bars("earned", _("Points earned each month"), _named(s, ["earned"])))
    orders = _named(s, ["received", "completed"])
    page.charts.append(m.bars("orders", _("Work orders received and completed each month"), orders))
    page.charts.append(m.bars("meetings", _("Meetings held each month"), _named(s, ["meetings"])))
    latest = board.rows[-1]
    closed = board.rows[-2] if len(board.rows) > 1 else None
    for key in GRID_METRICS:
        page.tiles.append(Tile(key, names[key], charts.fmt(closed[key] if closed else None), charts.fmt(latest[key])))
    return page, m.table(_named(s, list(GRID_METRICS)))


# --- the street -----------------------------------------------------------------------------------------------------

STREET_COLUMNS = tuple(STREET_METRICS)


def street_chart(rollup: StreetRollup) -> SafeString:
    names = labels()
    unit = unit_of(rollup.metric)
    title = _("%(metric)s by community, %(month)s") % {
        "metric": names[rollup.metric],
        "month": charts.month_label(f"{rollup.month:%Y-%m}", with_year=True),
    }
    items = [(row.community.name, row.values[rollup.metric]) for row in rollup.rows]
    return charts.hbar(items, title=title, unit=unit, x_max=100 if unit == "%" else None)


def street_cells(values: Mapping[str, Value]) -> list[str]:
    return [charts.fmt(values.get(key), unit_of(key)) for key in STREET_COLUMNS]
