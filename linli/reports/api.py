"""The reports over JSON (tag "reports"): a community's figures month by month, the dashboards' series, the street
roll-up, and the monthly disclosure (每月公示) — its list, publishing it, and the published notice for anyone.

Who (linli.org.access): "report.view" reads figures, dashboards and the list of disclosures (staff, grid roles, the
auditor; the street roll-up needs a street-level grant: the street admin); "report.publish" publishes or corrects a
month (staff). Objects outside the caller's scope are 404. The published notice (GET /reports/public/{code}/{month})
needs no sign-in, like the council's echo wall: it carries only what hangs on the notice board (masked names).

Idempotency: POST /reports/communities/{id}/disclosures requires an `Idempotency-Key` header (kept apart per user):
the first request answers 201 with the new disclosure; the same key again 200 with that same disclosure; the same key
for another month 409 idempotency_key_reused. Publishing a month already published (another key, no reason) answers
200 with the current disclosure; with a reason it is published again as the next revision (201).

Reads go through `replica_reads()` (linli/reports/router.py): on a server with a streaming replica they read there.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Status

from linli.common.api import Id, IdempotencyKey, PageIn, actor, idempotency_key, paginate, responses
from linli.common.errors import Invalid, NotFound
from linli.ledger.models import Seal
from linli.org.access import require
from linli.org.models import Community, Grid, Street
from linli.reports import selectors, services
from linli.reports.models import Disclosure
from linli.reports.router import replica_reads
from linli.reports.schemas import (
    CommunityDashboardOut,
    DisclosureOut,
    DisclosuresOut,
    GridDashboardOut,
    MonthsIn,
    MonthsOut,
    PublicDisclosureOut,
    PublicIn,
    PublishIn,
    RollupIn,
    RollupOut,
)

router = Router(tags=["reports"])

_key = idempotency_key  # the handler's `idempotency_key` parameter (the header) shadows the name


class MonthRangeInvalid(Invalid):
    code = "month_range_invalid"
    default_message = _("The first month comes after the last one.")


class MonthInFuture(Invalid):
    code = "month_in_future"
    default_message = _("That month has not begun yet.")


class MetricInvalid(Invalid):
    code = "metric_invalid"
    default_message = _("There is no such figure to rank by.")


# --- input ------------------------------------------------------------------------------------------------------------


def _get(model: type[Any], pk: int) -> Any:
    found = model._default_manager.filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def _month(text: str, field: str) -> date | None:
    """ "" -> None; otherwise the month, or 400 month_invalid naming the field."""
    if not text.strip():
        return None
    try:
        return services.month_from_text(text)
    except services.MonthInvalid as exc:
        exc.field = field
        raise


# --- output -----------------------------------------------------------------------------------------------------------


def public_url(community_code: str, month: date, revision: int | None = None) -> str:
    """The notice's public page (linli/reports/urls_public.py): /disclosure/<code>/<YYYY-MM>/."""
    url = reverse("reports:public_notice", kwargs={"code": community_code, "month": f"{month:%Y-%m}"})
    return f"{url}?revision={revision}" if revision else url


def _seal(seal: Seal) -> dict[str, Any]:
    return {
        "month": seal.month,
        "root": seal.merkle_root,
        "transfers": seal.transfer_count,
        "first_transfer_id": seal.first_transfer_id,
        "last_transfer_id": seal.last_transfer_id,
        "sealed_at": seal.sealed_at,
    }


def _disclosure(d: Disclosure) -> dict[str, Any]:
    current = d.replaced_at is None
    return {
        "id": d.pk,
        "community_id": d.community_id,
        "month": f"{d.month:%Y-%m}",
        "revision": d.revision,
        "current": current,
        "published_at": d.published_at,
        "published_by": d.published_by.name if d.published_by else None,
        "reason": d.reason,
        "replaced_at": d.replaced_at,
        "digest": d.digest,
        "seal": _seal(d.seal),
        "public_url": public_url(d.community.code, d.month, None if current else d.revision),
    }


# --- figures and dashboards -------------------------------------------------------------------------------------------


@router.get(
    "/reports/communities/{community_id}/months",
    response=responses({200: MonthsOut}),
    summary="A community's figures month by month (closed months as stored, the running month live); at most 36",
)
def community_months(request: HttpRequest, community_id: Id, filters: Query[MonthsIn]) -> dict[str, Any]:
    act = actor(request)
    community = _get(Community, community_id)
    selectors.require_community(act, community)
    since, until = _month(filters.since, "since"), _month(filters.until, "until")
    if since and until and since > until:
        raise MonthRangeInvalid(field="since")
    with replica_reads():
        # the community's history bounds what can be asked (first entry .. running month, at most 36 months)
        months = [
            m
            for m in selectors.history(community.pk)
            if (since is None or m >= since) and (until is None or m <= until)
        ]
        data = selectors.month_figures(community.pk, months)
    return {"community_id": community.pk, "months": [m["month"] for m in data], "figures": data}


def _series(series: selectors.Series) -> dict[str, Any]:
    return {"months": series.months, "values": series.values}


@router.get(
    "/reports/communities/{community_id}/dashboard",
    response=responses({200: CommunityDashboardOut}),
    summary="A community's dashboard: one value per month for each figure, the running and the last closed month",
)
def community_dashboard(request: HttpRequest, community_id: Id) -> dict[str, Any]:
    act = actor(request)
    community = _get(Community, community_id)
    with replica_reads():
        board = selectors.community_dashboard(act, community)
    return {
        "community_id": community.pk,
        "community": community.name,
        "months": board.series.months,
        "series": _series(board.series),
        "latest": board.latest,
        "last_closed": board.last_closed,
    }


@router.get(
    "/reports/grids/{grid_id}/dashboard",
    response=responses({200: GridDashboardOut}),
    summary="A grid's dashboard (with its micro-grids): volunteers, points earned, orders, meetings per month",
)
def grid_dashboard(request: HttpRequest, grid_id: Id) -> dict[str, Any]:
    act = actor(request)
    grid = _get(Grid, grid_id)
    with replica_reads():
        board = selectors.grid_dashboard(act, grid)
    return {
        "grid_id": grid.pk,
        "grid": grid.name,
        "community_id": grid.community_id,
        "months": board.months,
        "rows": board.rows,
        "series": _series(board.series),
    }


@router.get(
    "/reports/streets/{street_id}/rollup",
    response=responses({200: RollupOut}),
    summary="Every community of a street side by side for one month (default: the last closed), ranked by a figure",
)
def street_rollup(request: HttpRequest, street_id: Id, filters: Query[RollupIn]) -> dict[str, Any]:
    act = actor(request)
    street = _get(Street, street_id)
    selectors.require_street(act, street)
    month = _month(filters.month, "month")
    if month is not None and month > selectors.current_month():
        raise MonthInFuture(field="month")
    metric = filters.metric.strip() or "volunteers"
    if metric not in selectors.STREET_METRICS:
        raise MetricInvalid(field="metric")
    with replica_reads():
        rollup = selectors.street_rollup(act, street, month=month, metric=metric)
    return {
        "street_id": street.pk,
        "street": street.name,
        "month": f"{rollup.month:%Y-%m}",
        "metric": rollup.metric,
        "metrics": list(selectors.STREET_METRICS),
        "rows": [
            {
                "community_id": row.community.pk,
                "community": row.community.name,
                "code": row.community.code,
                "rank": row.rank,
                "values": row.values,
            }
            for row in rollup.rows
        ],
        "totals": rollup.totals,
    }


# --- the monthly disclosure -------------------------------------------------------------------------------------------


@router.get(
    "/reports/communities/{community_id}/disclosures",
    response=responses({200: DisclosuresOut}),
    summary="A community's published disclosures, newest month first (earlier revisions too, marked replaced)",
)
def community_disclosures(request: HttpRequest, community_id: Id, page: Query[PageIn]) -> dict[str, Any]:
    act = actor(request)
    community = _get(Community, community_id)
    found = paginate(selectors.disclosures(act, community).select_related("community"), page)
    return {"count": found["count"], "items": [_disclosure(d) for d in found["items"]]}


@router.post(
    "/reports/communities/{community_id}/disclosures",
    response=responses({200: DisclosureOut, 201: DisclosureOut}),
    summary=(
        "Publish a month that has ended: seal its ledger entries and freeze its figures (201); a retry with the same "
        "Idempotency-Key, or a month already published, answers 200; with a reason, a correction as the next revision"
    ),
)
def publish_disclosure(
    request: HttpRequest, community_id: Id, payload: PublishIn, idempotency_key: IdempotencyKey = None
) -> Status[Any]:
    act = actor(request)
    community = _get(Community, community_id)
    require(act, "report.publish", community, hide=True)  # outsiders learn nothing, not even about a missing key
    # a digest keeps any header of 1..100 characters (with the user's prefix) within the column
    key = "api:" + hashlib.sha256(_key(request, idempotency_key).encode()).hexdigest()[:40]
    month = _month(payload.month, "month")
    if month is None:
        raise services.MonthInvalid(field="month")
    published = services.disclosure_publish(
        actor=act, community=community, month=month, idempotency_key=key, reason=payload.reason
    )
    disclosure = Disclosure.objects.select_related("community", "seal", "published_by").get(pk=published.disclosure.pk)
    return Status(201 if published.created else 200, _disclosure(disclosure))


@router.get(
    "/reports/public/{community_code}/{month}",
    response=responses({200: PublicDisclosureOut}),
    auth=None,
    summary="A published monthly disclosure for anyone (no sign-in): the frozen figures, their digest, the ledger seal",
)
def public_disclosure(
    request: HttpRequest, community_code: str, month: str, filters: Query[PublicIn]
) -> dict[str, Any]:
    if len(community_code) > 64 or len(month) > 16:
        raise NotFound()
    d = selectors.public_disclosure(community_code, month, filters.revision)
    current = d.replaced_at is None
    return {
        "community": d.community.name,
        "community_code": d.community.code,
        "month": f"{d.month:%Y-%m}",
        "revision": d.revision,
        "current": current,
        "published_at": d.published_at,
        "reason": d.reason,
        "replaced_at": d.replaced_at,
        "digest": d.digest,
        "seal": _seal(d.seal),
        "figures": d.figures,
        "public_url": public_url(d.community.code, d.month, None if current else d.revision),
    }
