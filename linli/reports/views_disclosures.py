"""The staff page of the monthly disclosure: the last twelve closed months of a community, what was published, and
the buttons to publish a month or correct a published one (a new revision with a reason).

Who: "report.view" reads (staff, grid workers of the community, the auditor); "report.publish" (staff) publishes.
Thin views: parse, one service or selector call, render. Refusals of the service (month_not_over, reason_required...)
are shown translated in the page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.common.errors import DomainError
from linli.org import pages
from linli.org.access import Actor, can, require
from linli.org.context_processors import get_actor
from linli.org.models import Community
from linli.reports import domain, selectors, services
from linli.reports.forms import CorrectForm, PublishForm
from linli.reports.models import Disclosure

MONTHS = 12


@dataclass(frozen=True)
class MonthRow:
    month: date
    label: str  # "2026-10"
    current: Disclosure | None
    earlier: list[Disclosure]
    publish_form: PublishForm | CorrectForm


def _rows(actor: Actor, community: Community, wanted: dict[str, PublishForm | CorrectForm]) -> list[MonthRow]:
    published: dict[date, list[Disclosure]] = {}
    for d in selectors.disclosures(actor, community):
        published.setdefault(d.month, []).append(d)
    last = selectors.last_closed_month()
    rows = []
    for i in range(MONTHS):
        month = domain.add_months(last, -i)
        label = f"{month:%Y-%m}"
        all_of = published.get(month, [])
        current = next((d for d in all_of if d.replaced_at is None), None)
        form = wanted.get(label) or (
            CorrectForm(initial={"month": label}) if current else PublishForm(initial={"month": label})
        )
        rows.append(MonthRow(month, label, current, [d for d in all_of if d is not current], form))
    return rows


def _page(
    request: HttpRequest,
    actor: Actor,
    community: Community,
    *,
    error: DomainError | None = None,
    wanted: dict[str, PublishForm | CorrectForm] | None = None,
) -> HttpResponse:
    selectors.require_community(actor, community)
    context: dict[str, Any] = {
        "community": community,
        "communities": selectors.communities(actor),
        "rows": _rows(actor, community, wanted or {}),
        "can_publish": can(actor, "report.publish", community),
        "error": error,
    }
    return render(request, "reports/disclosures.html", context, status=error.status if error else 200)


def _home(community: Community) -> str:
    return f"{reverse('reports:disclosures')}?community={community.pk}"


@login_required
def disclosures(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    return _page(request, actor, pages.community_of(request, actor))


@login_required
@require_POST
def disclosure_publish(request: HttpRequest) -> HttpResponse:
    """POST month (+ reason to correct a published one) and the form's key."""
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    selectors.require_community(actor, community)
    require(actor, "report.publish", community)
    correcting = bool(request.POST.get("correct"))
    form: PublishForm | CorrectForm = CorrectForm(request.POST) if correcting else PublishForm(request.POST)
    label = request.POST.get("month", "")[:7]
    if not form.is_valid():
        error = services.ReasonRequired() if "reason" in form.errors else services.MonthInvalid()
        return _page(request, actor, community, error=error, wanted={label: form})
    d = form.cleaned_data
    try:
        published = services.disclosure_publish(
            actor=actor,
            community=community,
            month=services.month_from_text(d["month"]),
            idempotency_key=pages.form_key(request, d["idempotency_key"]),
            reason=d.get("reason", ""),
        )
    except DomainError as error:
        if error.status in {403, 404}:
            raise
        return _page(request, actor, community, error=error, wanted={label: form})
    disclosure = published.disclosure
    if published.created:
        messages.success(
            request,
            _("%(month)s published (revision %(revision)s).")
            % {"month": f"{disclosure.month:%Y-%m}", "revision": disclosure.revision},
        )
    else:
        messages.info(request, _("This month was already published; nothing was published twice."))
    return redirect(_home(community))
