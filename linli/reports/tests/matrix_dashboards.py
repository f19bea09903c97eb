"""Page permission rows for the dashboards (see linli/common/tests/matrix.py).

report.view is held by staff, grid roles and auditors. The community's dashboard: A's staff, the street admin, the
auditor, and every grid role of A (`works_in`: a grid worker reads the community their grid belongs to). A grid's
dashboard: the same people — report.view is a ".view" action on a Grid, a community-readable place, so a grid grant
reads every grid of its community (grid worker A2 opens grid A1). The street's roll-up: street admins only. The steward
(no report.view), the merchant's operator and residents are refused; staff of B and C get 404 for A's pages.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from linli.common.tests.matrix import A_STAFF, ANY_STAFF, Page

A_REPORTS = A_STAFF | {"grid_chief_a1", "grid_worker_a1", "grid_worker_a2", "auditor_a"}
REPORT_VIEWERS = ANY_STAFF | A_REPORTS


def community_a(w: SimpleNamespace) -> list[Any]:
    return [w.A.id]


def grid_a1(w: SimpleNamespace) -> list[Any]:
    return [w.A1.id]


def street_s(w: SimpleNamespace) -> list[Any]:
    return [w.S.id]


PAGES: list[Page] = [
    Page("reports:home", REPORT_VIEWERS),
    Page("reports:community", A_REPORTS, args=community_a),
    Page("reports:grid", A_REPORTS, args=grid_a1),
    Page("reports:street", frozenset({"street_admin"}), args=street_s),
    Page("reports:street_xlsx", frozenset({"street_admin"}), args=street_s),
]
