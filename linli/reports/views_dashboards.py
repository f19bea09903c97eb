"""Dashboard pages: what the actor may open (/reports/), a community's dashboard, a grid's, and the street's roll-up
of every community side by side (with its .xlsx). Thin views: parse the input (a bad month or metric is a 400 page
with a translated message), one selector call inside `replica_reads()` (reports may read a replica), render.
Permissions are the selectors' own (report.view on the Community, Grid or Street)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from linli.common.errors import Invalid, NotFound
from linli.org.access import Actor, can, require_any, works_in
from linli.org.context_processors import get_actor
from linli.org.models import Community, Grid, Street
from linli.reports import charts, dashboards, domain, export, selectors, services
from linli.reports.router import replica_reads


class MonthInFuture(Invalid):
    code = "month_in_future"
    default_message = gettext_lazy("That month has not begun yet.")


class MetricInvalid(Invalid):
    code = "metric_invalid"
    default_message = gettext_lazy("There is no such figure to rank by.")


def _get(model: type[Model], pk: int) -> Any:
    found = model._default_manager.filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    require_any(actor, "report.view")
    with replica_reads():
        streets = list(selectors.streets(actor))
        communities = selectors.communities(actor)
        grid_ids = {i for grant in actor.grants if grant.level == "grid" for i in grant.ids}
        grids = [
            g for g in Grid.objects.filter(id__in=grid_ids).select_related("community") if can(actor, "report.view", g)
        ]
    return render(
        request,
        "reports/dashboard_home.html",
        {"streets": streets, "communities": communities, "grids": grids},
    )


@login_required
@require_GET
def community(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    with replica_reads():
        found: Community = _get(Community, pk)
        board = selectors.community_dashboard(actor, found)
        grids = list(Grid.objects.filter(community=found).order_by("number", "name"))
        street = found.street if can(actor, "report.view", Street(id=found.street_id)) else None
    month = board.last_closed or board.latest
    may_open = [g for g in grids if can(actor, "report.view", g)]
    return render(
        request,
        "reports/dashboard_community.html",
        {
            "community": found,
            "board": board,
            "page": dashboards.community_page(board),
            "grid_month": charts.month_label(month["month"], with_year=True),
            "grid_rows": dashboards.grid_rows(month, grids, lambda g: g in may_open),
            "grid_total": month,
            "street": street,
            "may_publish": can(actor, "report.publish", found),
        },
    )


@login_required
@require_GET
def grid(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    with replica_reads():
        found: Grid = _get(Grid, pk)
        board = selectors.grid_dashboard(actor, found)
        community_ok = works_in(actor, "report.view", found.community)
        children = list(found.children.order_by("number", "name"))
    running = bool(board.months) and board.months[-1] == f"{selectors.current_month():%Y-%m}"
    page, table = dashboards.grid_page(board, running=running)
    return render(
        request,
        "reports/dashboard_grid.html",
        {"grid": found, "page": page, "table": table, "community_ok": community_ok, "children": children},
    )


def _street_input(request: HttpRequest) -> tuple[date | None, str]:
    text = request.GET.get("month", "").strip()
    month = services.month_from_text(text) if text else None
    if month is not None and month > selectors.current_month():
        raise MonthInFuture(field="month")
    metric = request.GET.get("metric", "").strip() or "volunteers"
    if metric not in selectors.STREET_METRICS:
        raise MetricInvalid(field="metric")
    return month, metric


def _rollup(request: HttpRequest, pk: int) -> tuple[Actor, selectors.StreetRollup]:
    actor = get_actor(request)
    month, metric = _street_input(request)
    with replica_reads():
        found: Street = _get(Street, pk)
        rollup = selectors.street_rollup(actor, found, month=month, metric=metric)
    return actor, rollup


@login_required
@require_GET
def street(request: HttpRequest, pk: int) -> HttpResponse:
    if request.GET.get("format") == "xlsx":
        return street_xlsx(request, pk)
    _actor, rollup = _rollup(request, pk)
    names = dashboards.labels()
    this = selectors.current_month()
    months = [domain.add_months(this, -i) for i in range(0, 13)]
    if rollup.month not in months:
        months.append(rollup.month)  # an older month asked for by hand stays selected
    return render(
        request,
        "reports/dashboard_street.html",
        {
            "street": rollup.street,
            "rollup": rollup,
            "month_text": f"{rollup.month:%Y-%m}",
            "month_label": charts.month_label(f"{rollup.month:%Y-%m}", with_year=True),
            "months": [(f"{m:%Y-%m}", charts.month_label(f"{m:%Y-%m}", with_year=True)) for m in months],
            "columns": [(key, names[key]) for key in dashboards.STREET_COLUMNS],
            "metric_label": names[rollup.metric],
            "rows": [(row, dashboards.street_cells(row.values)) for row in rollup.rows],
            "totals": dashboards.street_cells(rollup.totals),
            "chart": dashboards.street_chart(rollup),
        },
    )


@login_required
@require_GET
def street_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    _actor, rollup = _rollup(request, pk)
    response = HttpResponse(export.street_xlsx(rollup), content_type=export.XLSX)
    response["Content-Disposition"] = f'attachment; filename="{export.street_filename(rollup)}"'
    response["Cache-Control"] = "no-store"
    return response
