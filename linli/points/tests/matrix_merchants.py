"""Page permission rows for the caring merchants' service points (see linli/common/tests/matrix.py).

merchant.award is staff only: A's staff and the street admin record a service of A's barber mA and read its earnings;
the shop's own operator, the auditor and the grid roles are refused (a shop never awards itself).
"""

from __future__ import annotations

from types import SimpleNamespace

from linli.common.tests.matrix import A_STAFF, Page, in_a
from linli.points.models import MerchantService
from linli.points.testing import make_catalogue


def barber(w: SimpleNamespace) -> str:
    return f"merchant={w.mA.id}"


def service(w: SimpleNamespace) -> dict[str, object]:
    if not hasattr(w, "cleanup"):
        make_catalogue(w)
    return {
        "merchant": w.mA.id,
        "rule": w.cleanup.id,
        "quantity": "2",
        "occurred_on": "2026-01-05",
        "idempotency_key": "matrix-merchant-service",
    }


PAGES: list[Page] = [
    Page("points:merchant_services", A_STAFF, query=barber),
    Page("points:merchant_services", A_STAFF, query=in_a),
    Page(
        "points:merchant_services",
        A_STAFF,
        method="POST",
        query=barber,
        data=service,
        unchanged=lambda w: not MerchantService.objects.exists(),
        ok=frozenset({200, 302}),
    ),
]
