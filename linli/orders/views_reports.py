"""Pages for the figures (community and street), the .xlsx export, the 12345 import, the service catalogue and the
street's holiday calendar. Thin views: parse, one service or selector call, render. Permissions are the services' and
selectors' own (order.stats, order.export, order.import, order.catalogue); a list page only asks `require_any` first.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.common.errors import DomainError, Forbidden, Invalid, NotFound
from linli.common.views import attempt
from linli.orders import domain, export, imports, reports, selectors, services
from linli.orders.catalogue import catalogue_install
from linli.orders.forms_reports import CategoryForm, HolidayForm, ImportForm, PeriodForm
from linli.orders.forms_staff import BoardFilterForm
from linli.orders.models import Category, Holiday
from linli.org import pages
from linli.org import selectors as org_selectors
from linli.org.access import Actor, can, require, require_any
from linli.org.context_processors import get_actor
from linli.org.models import Community, Street

XLSX = export.XLSX


# --- figures --------------------------------------------------------------------------------------------------------
def _shown(figures: domain.Figures) -> dict[str, Any]:
    """Figures as the tables print them: rates in percent, durations in days, "—" where there is nothing to show."""

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value:g}%"

    def days(hours: float | None) -> str:
        return "—" if hours is None else f"{hours / 24:.1f}"

    return {
        "received": figures.received,
        "completed": figures.completed,
        "completion": pct(figures.completion_rate),
        "rated": figures.rated,
        "satisfaction": pct(figures.satisfaction_rate),
        "mean_days": days(figures.mean_hours_to_close),
        "p90_days": days(figures.p90_hours_to_close),
        "overdue": figures.overdue,
    }


def _table(rows: list[reports.Row]) -> list[dict[str, Any]]:
    return [{"key": r.key, "label": r.label, **_shown(r.figures)} for r in rows]


def _period(request: HttpRequest) -> tuple[PeriodForm, reports.Period, int]:
    """The months asked for (a bad month: the default period, the form's errors, status 400)."""
    asked = PeriodForm(request.GET if set(PeriodForm.base_fields) & set(request.GET) else None)
    period = asked.period()
    if asked.is_bound and not asked.is_valid():
        return asked, period, 400
    # show the months in use in the pickers, also when they came from the default
    shown = PeriodForm(initial={"since": period.first.strftime("%Y-%m"), "until": period.last.strftime("%Y-%m")})
    return shown, period, 200


@login_required
@require_GET
def stats(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    require_any(actor, "order.stats")
    community = pages.community_of(request, actor)
    form, period, status = _period(request)
    data = reports.community_stats(actor, community, period)
    return render(
        request,
        "orders/rep_stats.html",
        {
            **pages.picker(actor, community),
            "form": form,
            "period": period,
            "period_until": reports.add_months(period.last, 1) - timedelta(days=1),
            "total": _shown(data.total),
            "tables": [
                (_("By month"), _("Month"), _table(data.by_month)),
                (_("By grid"), _("Grid"), _table(data.by_grid)),
                (_("By category"), _("Category"), _table(data.by_category)),
                (_("By colour"), _("Colour"), _table(data.by_severity)),
                (_("By channel"), _("Channel"), _table(data.by_channel)),
            ],
            "may_export": can(actor, "order.export", community),
            "may_import": can(actor, "order.import", community),
            "may_catalogue": can(actor, "order.catalogue", community),
            "street_id": community.street_id if can(actor, "order.stats", community.street) else None,
        },
        status=status,
    )


def _street_of(request: HttpRequest, actor: Actor, action: str) -> Street:
    """?street=<id>, or the first street the actor holds a street-wide role in; refused outside."""
    wanted = pages.positive_int(request.GET.get("street") or request.POST.get("street"))
    own = [sid for g in actor.grants if g.level == "street" for sid in sorted(g.ids)]
    street = Street.objects.filter(pk=wanted or (own[0] if own else 0)).first()
    if street is None:
        raise NotFound() if wanted else Forbidden()
    require(actor, action, street, hide=True)
    return street


@login_required
@require_GET
def stats_street(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    require_any(actor, "order.stats")
    street = _street_of(request, actor, "order.stats")
    form, period, status = _period(request)
    data = reports.street_stats(actor, street, period)
    return render(
        request,
        "orders/rep_street.html",
        {
            "street": street,
            "form": form,
            "period": period,
            "total": _shown(data.total),
            "rows": _table(data.by_community),
        },
        status=status,
    )


# --- export ---------------------------------------------------------------------------------------------------------
@login_required
@require_GET
def export_xlsx(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    require_any(actor, "order.export")
    community = pages.community_of(request, actor)
    require(actor, "order.export", community)
    form = BoardFilterForm(
        request.GET if set(BoardFilterForm.base_fields) & set(request.GET) else None,
        categories=selectors.categories(community, include_inactive=True),
        grids=org_selectors.grids(actor, community=community),
    )
    if form.is_bound and not form.is_valid():
        raise Invalid(_("The filters are not valid; go back to the board and correct them."), code="filters_invalid")
    response = HttpResponse(export.orders_xlsx(actor, community, form.board()), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{export.filename(community)}"'
    response["Cache-Control"] = "no-store"
    return response


# --- 12345 import ---------------------------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def import_12345(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    require_any(actor, "order.import")
    community = pages.community_of(request, actor)
    require(actor, "order.import", community)
    categories = list(selectors.categories(community))
    form = ImportForm(request.POST or None, request.FILES or None, categories=categories)
    context: dict[str, Any] = {
        **pages.picker(actor, community),
        "form": form,
        "columns": [(label, aliases[0], key in imports.REQUIRED) for key, (label, aliases) in imports.COLUMNS.items()],
        "max_rows": settings.LINLI_IMPORT_MAX_ROWS,
    }
    status = 200
    if request.method == "POST":
        try:
            if not form.is_valid():
                raise Invalid(_("Choose the 12345 order sheet to upload."), code="file_missing", field="file")
            upload = form.cleaned_data["file"]
            if upload.size is not None and upload.size > imports.MAX_UPLOAD_BYTES:
                raise Invalid(_("The file is larger than 10 MB."), code="file_too_large", field="file")
            context["result"] = imports.orders_import(
                actor=actor,
                community=community,
                data=upload.read(),
                fallback_category=form.cleaned_data.get("fallback") or "",
                dry_run=bool(request.POST.get("check")),
            )
            context["upload_name"] = upload.name
        except DomainError as exc:
            context["error"] = {
                "message": str(exc.message),
                "code": exc.code,
                "errors": exc.details.get("errors", []),
                "error_count": exc.details.get("error_count", 0),
            }
            status = exc.status
    return render(request, "orders/imp_12345.html", context, status=status)


@login_required
@require_GET
def import_example(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    require_any(actor, "order.import")
    require(actor, "order.import", pages.community_of(request, actor))
    response = HttpResponse(imports.example_xlsx(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="12345-example.xlsx"'
    return response


# --- the service catalogue ------------------------------------------------------------------------------------------
def _catalogue_community(request: HttpRequest) -> tuple[Actor, Community]:
    actor = get_actor(request)
    require_any(actor, "order.catalogue")
    community = pages.community_of(request, actor)
    require(actor, "order.catalogue", community)
    return actor, community


def _categories_url(community: Community) -> str:
    return f"{reverse('orders:categories')}?community={community.pk}"


@login_required
@require_GET
def categories(request: HttpRequest) -> HttpResponse:
    actor, community = _catalogue_community(request)
    rows = list(selectors.categories(community, include_inactive=True))
    return render(request, "orders/cat_list.html", {**pages.picker(actor, community), "categories": rows})


@login_required
@require_POST
def categories_install(request: HttpRequest) -> HttpResponse:
    actor, community = _catalogue_community(request)
    created = catalogue_install(actor=actor, community=community)
    if created:
        messages.success(request, _("%(n)s default categories added.") % {"n": len(created)})
    else:
        messages.info(request, _("Every default category is already in the catalogue."))
    return redirect(_categories_url(community))


@login_required
@require_http_methods(["GET", "POST"])
def category_new(request: HttpRequest) -> HttpResponse:
    actor, community = _catalogue_community(request)
    form = CategoryForm(request.POST or None, initial={"deadline_days": 15, "is_active": True})
    if request.method == "POST" and form.is_valid():
        saved = attempt(
            form, lambda: services.category_save(actor=actor, community=community, data=form.category_data())
        )
        if saved is not None:
            messages.success(request, _("Category “%(name)s” added.") % {"name": saved.name})
            return redirect(_categories_url(community))
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request, "orders/cat_form.html", {"community": community, "form": form, "category": None}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def category_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    require_any(actor, "order.catalogue")
    category = Category.objects.select_related("community").filter(pk=pk).first()
    if category is None:
        raise NotFound()
    require(actor, "order.catalogue", category.community, hide=True)
    form = CategoryForm(request.POST or None, initial=CategoryForm.initial_for(category))
    if request.method == "POST" and form.is_valid():
        saved = attempt(
            form,
            lambda: services.category_save(
                actor=actor, community=category.community, data=form.category_data(), category=category
            ),
        )
        if saved is not None:
            messages.success(request, _("Category saved. Requests already received keep their deadline."))
            return redirect(_categories_url(category.community))
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request,
        "orders/cat_form.html",
        {"community": category.community, "form": form, "category": category},
        status=status,
    )


# --- the street's holiday calendar ----------------------------------------------------------------------------------
def _calendar_street(request: HttpRequest, actor: Actor) -> tuple[Street, list[Street], bool]:
    """The street whose calendar to show: one where the actor keeps a community's catalogue (staff) or the street's
    (street admin). Only the street admin may change it: `holiday_set` asks order.catalogue on the street itself."""
    require_any(actor, "order.catalogue")
    streets: dict[int, Street] = {}
    for community in org_selectors.communities(actor).select_related("street").order_by("street_id", "pk"):
        if community.street_id not in streets and can(actor, "order.catalogue", community):
            streets[community.street_id] = community.street
    for street in Street.objects.filter(pk__in=[i for g in actor.grants if g.level == "street" for i in g.ids]):
        if can(actor, "order.catalogue", street):
            streets.setdefault(street.pk, street)
    if not streets:
        raise Forbidden()
    wanted = pages.positive_int(request.GET.get("street") or request.POST.get("street"))
    if wanted is not None and wanted not in streets:
        raise NotFound()
    street = streets[wanted] if wanted is not None else next(iter(streets.values()))
    return street, list(streets.values()), can(actor, "order.catalogue", street)


def _holidays_url(street: Street) -> str:
    return f"{reverse('orders:holidays')}?street={street.pk}"


@login_required
@require_http_methods(["GET", "POST"])
def holidays(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    street, streets, editable = _calendar_street(request, actor)
    form = HolidayForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not editable:
            raise Forbidden(_("Only the street office keeps the street's calendar."))
        if form.is_valid():
            d = form.cleaned_data
            saved = attempt(
                form,
                lambda: services.holiday_set(
                    actor=actor, street=street, day=d["day"], name=d["name"], is_workday=d["is_workday"]
                ),
            )
            if saved is not None:
                messages.success(request, _("%(day)s is on the calendar.") % {"day": saved.day.isoformat()})
                return redirect(_holidays_url(street))
        status = 400
    return render(
        request,
        "orders/hol_list.html",
        {
            "street": street,
            "streets": streets,
            "editable": editable,
            "form": form,
            "holidays": Holiday.objects.filter(street=street).order_by("-day"),
        },
        status=status,
    )


@login_required
@require_POST
def holiday_remove(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    require_any(actor, "order.catalogue")
    holiday = Holiday.objects.select_related("street").filter(pk=pk).first()
    if holiday is None:
        raise NotFound()
    require(actor, "order.catalogue", holiday.street, hide=True)
    services.holiday_remove(actor=actor, holiday=holiday)
    messages.success(request, _("%(day)s was taken off the calendar.") % {"day": holiday.day.isoformat()})
    return redirect(_holidays_url(holiday.street))
