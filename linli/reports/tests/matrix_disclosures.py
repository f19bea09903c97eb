"""Page permission rows for the monthly disclosure (see linli/common/tests/matrix.py).

Staff page: readers of reports in A (its staff and the street admin, the auditor, A's grid chiefs and workers);
publishing: A's staff and the street admin. The published notice, its PDF and its workbook are public.
"""

from __future__ import annotations

from types import SimpleNamespace

from linli.common.tests.matrix import A1_GRID, A_STAFF, EVERYONE, Page, in_a
from linli.reports import selectors, services
from linli.reports.models import Disclosure

REPORT_READERS_A = A_STAFF | A1_GRID | {"grid_worker_a2", "auditor_a"}


def _last_closed(w: SimpleNamespace) -> str:
    return f"{selectors.last_closed_month():%Y-%m}"


def published(w: SimpleNamespace) -> list[str]:
    """A's last closed month, published from the console."""
    month = selectors.last_closed_month()
    if not Disclosure.objects.filter(community=w.A, month=month).exists():
        services.disclosure_publish(actor=None, community=w.A, month=month, idempotency_key="page-matrix")
    return [w.A.code, f"{month:%Y-%m}"]


PAGES: list[Page] = [
    Page("reports:disclosures", REPORT_READERS_A, query=in_a),
    Page(
        "reports:disclosure_publish",
        A_STAFF,
        method="POST",
        data=lambda w: {"community": w.A.pk, "month": _last_closed(w), "idempotency_key": "page-matrix-publish"},
        unchanged=lambda w: not Disclosure.objects.exists(),
    ),
    Page("reports:public_list", EVERYONE, args=lambda w: [w.A.code], public=True),
    Page("reports:public_notice", EVERYONE, args=published, public=True),
    Page("reports:public_pdf", EVERYONE, args=published, public=True),
    Page("reports:public_xlsx", EVERYONE, args=published, public=True),
]
