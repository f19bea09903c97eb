"""Roster pages: download the template, upload a filled roster (import), download the roster (export).

Thin: parse the request, call one service in `linli.org.roster`, render. Every refusal is a DomainError: the
middleware turns Forbidden/NotFound into 403/404 pages; an import that fails shows its errors on the page.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from linli.common.errors import Forbidden, Invalid, NotFound
from linli.org import roster
from linli.org.access import Actor, can, require_any
from linli.org.context_processors import get_actor
from linli.org.models import Building, Community

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _community(request: HttpRequest, actor: Actor) -> tuple[Community | None, list[Community]]:
    """The community asked for (?community= or the form field), else the only one; 404 outside the actor's."""
    communities = roster.roster_communities(actor)
    if not communities:
        raise Forbidden()
    wanted = request.POST.get("community") or request.GET.get("community")
    if wanted:
        chosen = next((c for c in communities if str(c.pk) == str(wanted).strip()), None)
        if chosen is None:
            raise NotFound()
        return chosen, communities
    return (communities[0] if len(communities) == 1 else None), communities


def _error_from(exc: Invalid) -> dict[str, Any]:
    return {
        "message": str(exc.message),
        "code": exc.code,
        "errors": exc.details.get("errors", []),
        "error_count": exc.details.get("error_count", len(exc.details.get("errors", []))),
    }


@login_required
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community, communities = _community(request, actor)
    context: dict[str, Any] = {"community": community, "communities": communities, "columns": roster.COLUMNS,
                               "max_rows": settings.LINLI_IMPORT_MAX_ROWS,
                               "max_mb": roster.MAX_UPLOAD_BYTES // (1024 * 1024)}
    status = 200
    if community is not None:
        context["can_import"] = can(actor, "roster.import", community)
        context["can_export"] = can(actor, "roster.export", community)
        context["buildings"] = Building.objects.filter(community=community).select_related("compound")
    if request.method == "POST":
        if community is None:
            raise NotFound()
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise Invalid(_("Choose the roster file to upload."), code="file_missing", field="file")
            if upload.size is not None and upload.size > roster.MAX_UPLOAD_BYTES:
                raise Invalid(_("The file is larger than %(mb)d MB. Split it into several files.")
                              % {"mb": context["max_mb"]}, code="file_too_large", field="file")
            context["result"] = roster.roster_import(
                actor=actor, community=community, upload_name=upload.name or "", data=upload.read(),
                dry_run=bool(request.POST.get("check")),
            )
            context["upload_name"] = upload.name
        except Invalid as exc:
            context["error"] = _error_from(exc)
            status = 400
    return render(request, "org/roster.html", context, status=status)


@login_required
@require_GET
def template_xlsx(request: HttpRequest) -> HttpResponse:
    require_any(get_actor(request), "roster.import")
    return _attachment(roster.template_xlsx(), XLSX, "roster-template.xlsx")


@login_required
@require_GET
def template_csv(request: HttpRequest) -> HttpResponse:
    require_any(get_actor(request), "roster.import")
    return _attachment(roster.template_csv(), "text/csv; charset=utf-8", "roster-template.csv")


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community, _communities = _community(request, actor)
    if community is None:
        raise Invalid(_("Choose a community first."), code="community_required")
    content = roster.roster_export(actor=actor, community=community)
    return _attachment(content, XLSX, roster.export_filename(community))
