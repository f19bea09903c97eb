"""Pages of the rules catalogue (积分规则 / 打分标准) and the leaderboards.

Staff (rule.manage): the editor (areas, rules, versions with what changed, retire), starting from a seed template,
and the .xlsx export and import. Everyone, without signing in: the published catalogue and the leaderboard of a
community (names masked). People who work in the community (claim.view): the leaderboard with the names they may see.
Thin views: parse, one service or selector call, render.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.common.errors import DomainError, Invalid, NotFound
from linli.common.views import attempt
from linli.org import pages
from linli.org.access import Actor, can, require
from linli.org.context_processors import get_actor
from linli.org.models import Community, Grid
from linli.points import catalogue, leaderboards, selectors, services
from linli.points.forms_rules import AreaForm, ImportForm, LeaderboardForm, RuleForm, TemplateForm
from linli.points.models import Rule, RuleArea

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _managed(request: HttpRequest) -> tuple[Actor, Community]:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    require(actor, "rule.manage", community)
    return actor, community


def _rules_url(community: Community) -> str:
    return f"{reverse('points:rules')}?community={community.pk}"


def _rule(actor: Actor, pk: int) -> Rule:
    rule = Rule.objects.select_related("community", "area", "current").filter(pk=pk).first()
    if rule is None:
        raise NotFound()
    require(actor, "rule.manage", rule.community)
    return rule


def _area(actor: Actor, pk: int) -> RuleArea:
    area = RuleArea.objects.select_related("community").filter(pk=pk).first()
    if area is None:
        raise NotFound()
    require(actor, "rule.manage", area.community)
    return area


# --- the editor -----------------------------------------------------------------------------------------------------
@login_required
@require_GET
def rules(request: HttpRequest) -> HttpResponse:
    actor, community = _managed(request)
    all_rules = list(selectors.rules(community, include_retired=True))
    for r in all_rules:
        r.recorders_text = catalogue.describe(r.current, "recorders")  # type: ignore[attr-defined,arg-type]
    areas = [(area, [r for r in all_rules if r.area_id == area.pk]) for area in selectors.areas(community)]
    return render(
        request,
        "points/rules.html",
        {
            **pages.picker(actor, community),
            "areas": areas,
            "rule_count": sum(1 for r in all_rules if not r.retired),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def area_create(request: HttpRequest) -> HttpResponse:
    actor, community = _managed(request)
    form = AreaForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        area = attempt(
            form,
            lambda: services.area_create(
                actor=actor, community=community, name=d["name"], position=d.get("position") or 0
            ),
        )
        if area is not None:
            messages.success(request, _("Area “%(name)s” added.") % {"name": area.name})
            return redirect(_rules_url(community))
    return render(request, "points/rule_area_form.html", {"community": community, "form": form, "area": None})


@login_required
@require_http_methods(["GET", "POST"])
def area_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    area = _area(actor, pk)
    form = AreaForm(request.POST or None, initial={"name": area.name, "position": area.position})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        saved = attempt(
            form,
            lambda: services.area_update(actor=actor, area=area, name=d["name"], position=d.get("position") or 0),
        )
        if saved is not None:
            messages.success(request, _("Area saved."))
            return redirect(_rules_url(area.community))
    return render(request, "points/rule_area_form.html", {"community": area.community, "form": form, "area": area})


@login_required
@require_http_methods(["GET", "POST"])
def rule_create(request: HttpRequest) -> HttpResponse:
    actor, community = _managed(request)
    areas = list(selectors.areas(community))
    if not areas:
        messages.warning(request, _("Add an area first: every rule belongs to one."))
        return redirect(f"{reverse('points:area_create')}?community={community.pk}")
    initial = {"area": pages.positive_int(request.GET.get("area"))}
    form = RuleForm(request.POST or None, areas=areas, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        area = next(a for a in areas if a.pk == d["area"])
        rule = attempt(
            form,
            lambda: services.rule_create(
                actor=actor, area=area, code=d["code"], data=form.rule_data(), position=d.get("position") or 0
            ),
        )
        if rule is not None:
            messages.success(request, _("Rule “%(name)s” added.") % {"name": rule})
            return redirect(_rules_url(community))
    return render(request, "points/rule_form.html", {"community": community, "form": form, "rule": None})


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    rule = _rule(actor, pk)
    areas = list(selectors.areas(rule.community))
    form = RuleForm(request.POST or None, areas=areas, editing=True, initial=RuleForm.initial_for(rule))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        area = next(a for a in areas if a.pk == d["area"])
        before = rule.current_id
        saved = attempt(
            form,
            lambda: services.rule_update(
                actor=actor, rule=rule, data=form.rule_data(), area=area, position=d.get("position")
            ),
        )
        if saved is not None:
            if saved.current_id != before:
                assert saved.current is not None
                messages.success(
                    request,
                    _("Saved as version %(n)s. Claims made before keep the version they were made under.")
                    % {"n": saved.current.number},
                )
            else:
                messages.info(request, _("Saved. The rule's content did not change, so no new version was made."))
            return redirect("points:rule_edit", pk=rule.pk)
    return render(
        request,
        "points/rule_form.html",
        {"community": rule.community, "form": form, "rule": rule, "history": catalogue.version_history(rule)},
    )


@login_required
@require_POST
def rule_retire(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    rule = _rule(actor, pk)
    retired = request.POST.get("retired", "1") != "0"
    services.rule_retire(actor=actor, rule=rule, retired=retired)
    if retired:
        messages.success(request, _("“%(name)s” is retired: it takes no new claims.") % {"name": rule})
    else:
        messages.success(request, _("“%(name)s” takes claims again.") % {"name": rule})
    if request.POST.get("next") == "edit":
        return redirect("points:rule_edit", pk=rule.pk)
    return redirect(_rules_url(rule.community))


# --- templates, export and import -----------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def catalogue_templates(request: HttpRequest) -> HttpResponse:
    actor, community = _managed(request)
    form = TemplateForm(request.POST if request.method == "POST" else None)
    chosen = catalogue.TEMPLATES.get(request.POST.get("template") or request.GET.get("template") or "")
    status = 200
    if request.method == "POST":
        if form.is_valid():
            result = catalogue.catalogue_from_template(
                actor=actor, community=community, template=form.cleaned_data["template"]
            )
            if result.created:
                messages.success(
                    request,
                    _("%(n)d rules added from the template.") % {"n": len(result.created)},
                )
            if result.skipped:
                messages.info(
                    request,
                    _("%(n)d rules were already there and were left as they are: %(codes)s")
                    % {"n": len(result.skipped), "codes": ", ".join(result.skipped)},
                )
            return redirect(_rules_url(community))
        status = 400
    return render(
        request,
        "points/catalogue_templates.html",
        {
            **pages.picker(actor, community),
            "templates": list(catalogue.TEMPLATES.values()),
            "chosen": chosen,
            "preview": catalogue.template_preview(community, chosen) if chosen else [],
            "form": form,
        },
        status=status,
    )


def _error_from(exc: DomainError) -> dict[str, Any]:
    return {
        "message": str(exc.message),
        "code": exc.code,
        "errors": exc.details.get("errors", []),
        "error_count": exc.details.get("error_count", 0),
    }


@login_required
@require_http_methods(["GET", "POST"])
def catalogue_import(request: HttpRequest) -> HttpResponse:
    actor, community = _managed(request)
    context: dict[str, Any] = {
        **pages.picker(actor, community),
        "columns": catalogue.COLUMNS,
        "max_mb": catalogue.MAX_UPLOAD_BYTES // 2**20,
    }
    status = 200
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        try:
            if not form.is_valid():
                raise Invalid(_("Choose the catalogue file to upload."), code="file_missing", field="file")
            upload = form.cleaned_data["file"]
            if upload.size is not None and upload.size > catalogue.MAX_UPLOAD_BYTES:
                raise Invalid(
                    _("The file is larger than %(mb)d MB.") % {"mb": context["max_mb"]},
                    code="file_too_large",
                    field="file",
                )
            context["result"] = catalogue.catalogue_import(
                actor=actor,
                community=community,
                upload_name=upload.name or "",
                data=upload.read(),
                dry_run=bool(form.cleaned_data.get("check")),
            )
            context["upload_name"] = upload.name
        except DomainError as exc:  # also a 409 when someone added the same code meanwhile
            context["error"] = _error_from(exc)
            status = exc.status
    return render(request, "points/catalogue_import.html", context, status=status)


@login_required
@require_GET
def catalogue_export(request: HttpRequest) -> HttpResponse:
    actor, community = _managed(request)
    response = HttpResponse(catalogue.catalogue_export(actor=actor, community=community), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{catalogue.export_filename(community)}"'
    response["Cache-Control"] = "no-store"
    return response


# --- published pages (no login) -------------------------------------------------------------------------------------
def _published(code: str) -> Community:
    community = Community.objects.filter(code=code).first()
    if community is None:
        raise NotFound()
    return community


@require_GET
def catalogue_public(request: HttpRequest, code: str) -> HttpResponse:
    community = _published(code)
    today = timezone.localdate()
    shown = [
        r
        for r in selectors.rules(community)
        if r.current is not None and (r.current.valid_until is None or r.current.valid_until >= today)
    ]
    areas = [(a, [r for r in shown if r.area_id == a.pk]) for a in selectors.areas(community)]
    return render(
        request,
        "points/catalogue_public.html",
        {"community": community, "areas": [(a, rs) for a, rs in areas if rs], "today": today},
    )


def _board_context(request: HttpRequest, community: Community) -> dict[str, Any]:
    """The period and grid asked for (unknown values: this month, whole community; a grid of another community: 404)."""
    form = LeaderboardForm(request.GET)
    form.is_valid()  # keeps the fields that are valid in cleaned_data
    period = form.cleaned_data.get("period") or "month"
    grid = leaderboards.grid_of(community, form.cleaned_data.get("grid"))
    return {
        "community": community,
        "period": period,
        "grid": grid,
        "grids": Grid.objects.filter(community=community).order_by("number", "name"),
        "periods": leaderboards.PERIODS,
    }


@require_GET
def leaderboard_public(request: HttpRequest, code: str) -> HttpResponse:
    community = _published(code)
    context = _board_context(request, community)
    actor = get_actor(request)
    me = actor.person_id if actor.person_community_id == community.pk else None
    context["board"] = leaderboards.leaderboard(
        community=community, period=context["period"], grid=context["grid"], me=me
    )
    context["public"] = True
    return render(request, "points/leaderboard_public.html", context)


@login_required
@require_GET
def leaderboard(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    require(actor, "claim.view", community)
    context = _board_context(request, community)
    context["board"] = leaderboards.leaderboard(
        community=community,
        period=context["period"],
        grid=context["grid"],
        me=actor.person_id,
        reveal=leaderboards.reveal_for(actor, community),
    )
    context.update(pages.picker(actor, community))
    context["can_manage"] = can(actor, "rule.manage", community)
    return render(request, "points/leaderboard.html", context)
