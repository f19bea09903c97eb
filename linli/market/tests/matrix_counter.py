"""Page permission rows for the staff counter (see linli/common/tests/matrix.py).

The counter of community A: its staff and the street admin, and A's grid chiefs and workers (community-level pages).
A resident's till, receipt-side actions and returns: only those who may serve that resident — grid_worker_a1 serves
pA1 (grid A1), grid_worker_a2 does not. A merchant's till: staff only. The receipt is read by whoever may read the
redemption (also the auditor and the resident who paid).
"""

from __future__ import annotations

from types import SimpleNamespace

from linli.common.tests.matrix import A1_GRID, A_STAFF, Page, in_a
from linli.market.models import Product, Redemption, RedemptionStatus
from linli.market.testing import buy, give_points, make_market

COUNTER_A = A_STAFF | A1_GRID | {"grid_worker_a2"}
SERVES_PA1 = A_STAFF | A1_GRID


def market(w: SimpleNamespace) -> SimpleNamespace:
    """make_market once per world (rows call their helpers more than once)."""
    if not hasattr(w, "rice"):
        make_market(w)
        give_points(w, w.pA1, 200)
    return w


def bought(w: SimpleNamespace) -> Redemption:
    """A counter exchange of pA1 (one bag of rice), the same one however often it is asked for."""
    market(w)
    return buy(w, w.pA1, (w.rice, 1), key="matrix-counter-bought")


def reserved(w: SimpleNamespace) -> Redemption:
    """A phone reservation of pA1 (two bottles of soy sauce), waiting to be picked up."""
    market(w)
    return buy(w, w.pA1, (w.soy, 2), channel="phone", key="matrix-counter-reserved")


def _still_reserved(w: SimpleNamespace) -> bool:
    return Redemption.objects.filter(status=RedemptionStatus.RESERVED).count() == 1


def _rice_left(w: SimpleNamespace) -> bool:
    return Product.objects.get(pk=w.rice.pk).stock == 19


PAGES: list[Page] = [
    Page("market:counter", COUNTER_A, query=in_a),
    Page("market:counter_till", SERVES_PA1, args=lambda w: [market(w).pA1.pk]),
    Page("market:counter_till_merchant", A_STAFF, args=lambda w: [market(w).mA.pk]),
    Page("market:counter_pickup", COUNTER_A, query=lambda w: f"{in_a(w)}&q={reserved(w).number}"),
    Page("market:counter_history", COUNTER_A, query=in_a),
    Page(
        "market:receipt",
        SERVES_PA1 | {"auditor_a", "resident_a1"},
        args=lambda w: [bought(w).pk],
    ),
    Page(
        "market:counter_hand_over",
        SERVES_PA1,
        method="POST",
        args=lambda w: [reserved(w).pk],
        unchanged=_still_reserved,
    ),
    Page(
        "market:counter_cancel",
        SERVES_PA1,
        method="POST",
        args=lambda w: [reserved(w).pk],
        data=lambda w: {"reason": "不要了"},
        unchanged=_still_reserved,
    ),
    Page("market:counter_return", SERVES_PA1, args=lambda w: [bought(w).pk]),
]
