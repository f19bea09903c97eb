"""Pages of the market's figures and the merchants' settlements, and their .xlsx downloads. Thin views: parse the
period (a bad one is a 400 page with a translated message), one `reports` call, render. Permissions are the
selectors' own (market.report on the community, settlement.view on the merchant or the community)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from linli.common.errors import Forbidden, NotFound
from linli.market import export, reports
from linli.org import pages
from linli.org.access import Actor, can, require_any
from linli.org.context_processors import get_actor
from linli.org.models import Community, Merchant
from linli.points import merchant_service


def _months(request: HttpRequest) -> reports.Months:
    g = request.GET
    return reports.months_asked(year=g.get("year", ""), since=g.get("since", ""), until=g.get("until", ""))


def _days(request: HttpRequest) -> reports.Days:
    return reports.days_asked(since=request.GET.get("since", ""), until=request.GET.get("until", ""))


def _figures(request: HttpRequest) -> tuple[Actor, reports.Figures]:
    actor = get_actor(request)
    require_any(actor, "market.report")
    community = pages.community_of(request, actor)
    return actor, reports.market_figures(actor, community, _months(request))


@login_required
@require_GET
def market_reports(request: HttpRequest) -> HttpResponse:
    actor, figures = _figures(request)
    this_year = figures.period.last.year
    return render(
        request,
        "market/rep_reports.html",
        {
            **pages.picker(actor, figures.community),
            "f": figures,
            "years": list(range(this_year - 2, this_year + 1)),
            "may_settle": reports.settles_community(actor, figures.community),
        },
    )


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=export.XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def reports_export(request: HttpRequest) -> HttpResponse:
    _actor, figures = _figures(request)
    return _xlsx(export.figures_xlsx(figures), export.figures_filename(figures))


def _settlement_target(request: HttpRequest, actor: Actor) -> tuple[Community, Merchant | None]:
    """?merchant=<id>: that shop (settlement.view on it, checked by the selector); otherwise the community's summary
    for those who may settle the whole community, or the operator's own shop."""
    require_any(actor, "settlement.view")
    wanted = request.GET.get("merchant")
    if wanted:
        pk = pages.positive_int(wanted)
        merchant = Merchant.objects.select_related("community").filter(pk=pk).first() if pk else None
        if merchant is None:
            raise NotFound()
        return merchant.community, merchant
    if request.GET.get("community"):
        return pages.community_of(request, actor), None
    own = reports.settlement_merchants(actor).select_related("community").first()
    if own is not None:
        return own.community, own
    community = pages.community_of(request, actor)
    if not reports.settles_community(actor, community):
        raise Forbidden()
    return community, None


@login_required
@require_GET
def settlement(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community, merchant = _settlement_target(request, actor)
    period = _days(request)
    context: dict[str, Any] = {**pages.picker(actor, community), "period": period}
    if merchant is None:
        context["summary"] = reports.settlement_summary(actor, community, period)
    else:
        context["s"] = reports.settlement(actor, merchant, period)
        context["may_summary"] = reports.settles_community(actor, community)
        if can(actor, "merchant_service.view", merchant):  # the shop's own points, for its operator and the committee
            services = merchant_service.merchant_services(actor, merchant)
            context["earnings"] = services.filter(occurred_on__gte=period.first, occurred_on__lte=period.last)
            context["shop_balance"] = merchant_service.merchant_balance(actor, merchant)
    return render(request, "market/rep_settlement.html", context)


@login_required
@require_GET
def settlement_export(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community, merchant = _settlement_target(request, actor)
    period = _days(request)
    if merchant is None:
        rows = reports.settlement_summary(actor, community, period)
        return _xlsx(export.summary_xlsx(rows, period), export.settlement_filename(community.code, period))
    found = reports.settlement(actor, merchant, period)
    return _xlsx(export.settlement_xlsx(found), export.settlement_filename(f"m{merchant.pk}", period))
