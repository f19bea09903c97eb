"""Who may call each points-market API operation (merged by tests/test_api_permissions.py).

Everything sits in community A: the shelf of linli.market.testing.make_market (rice, soy, the haircut voucher of A's
caring merchant mA) and the resident pA1 (grid A1, building bA1), who has points. Each user's request runs in a
savepoint that is rolled back, so each builds the shelf and the redemption it needs afresh.

Readers of the shelf and its settings: everyone who lives or works in A (the merchant's operator and the resident
too). Changing items, stock and settings: A's staff and the street admin. The stock book: staff, grid roles and the
auditor; counting it: staff and grid roles. Serving pA1 at the counter (and handing over, taking returns): staff and
A1's grid chief and worker. Reading pA1's redemptions: those plus the auditor and pA1. Cancelling a reservation:
those who serve it and pA1. Vouchers of mA: staff, the auditor, mA's operator and the holder read them; only staff and
mA's operator find one by its code and use it.
"""

from __future__ import annotations

from typing import Any

from linli.ledger import cards
from linli.market import services
from linli.market.models import Product, Redemption, Stocktake, Voucher
from linli.market.testing import buy, give_points, make_market
from linli.org.access import actor_for
from linli.org.tests.test_api_permissions import EVERYONE, IN_COMMUNITY_A, Op, Request, allow

STAFF_A = allow("street_admin", "staff_a")
STOCK_VIEW = allow("street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1", "grid_worker_a2", "auditor_a")
STOCK_COUNT = allow("street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1", "grid_worker_a2")
COUNTER_A1 = allow("street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1")
READ_PA1 = allow("street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1", "auditor_a", "resident_a1")
CANCEL_PA1 = allow("street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1", "resident_a1")
# lists of redemptions: whoever reads some redemption in A (each sees only their own scope's)
LIST_A = allow(
    "street_admin",
    "staff_a",
    "grid_chief_a1",
    "grid_worker_a1",
    "grid_worker_a2",
    "auditor_a",
    "merchant_op_a",
    "resident_a1",
)
VOUCHERS_MA = allow("street_admin", "staff_a", "auditor_a", "merchant_op_a", "resident_a1")
USE_MA = allow("street_admin", "staff_a", "merchant_op_a")

MATRIX: dict[Op, dict[str, bool]] = {
    ("GET", "/market/products"): IN_COMMUNITY_A,  # ?community=A: the shelf
    ("GET", "/market/products/{product_id}"): IN_COMMUNITY_A,
    ("POST", "/market/products"): STAFF_A,
    ("PATCH", "/market/products/{product_id}"): STAFF_A,
    ("POST", "/market/products/{product_id}/receipts"): STAFF_A,
    ("POST", "/market/products/{product_id}/adjustments"): STAFF_A,
    ("GET", "/market/products/{product_id}/movements"): STOCK_VIEW,
    ("GET", "/market/low-stock"): STOCK_VIEW,  # ?community=A
    ("GET", "/market/stocktakes"): STOCK_VIEW,  # ?community=A
    ("POST", "/market/stocktakes"): STOCK_COUNT,
    ("GET", "/market/stocktakes/{stocktake_id}"): STOCK_VIEW,
    ("POST", "/market/stocktakes/{stocktake_id}/counts"): STOCK_COUNT,
    ("POST", "/market/stocktakes/{stocktake_id}/close"): STOCK_COUNT,
    ("POST", "/market/stocktakes/{stocktake_id}/cancel"): STOCK_COUNT,
    ("GET", "/market/me"): EVERYONE,  # each their own (an empty page for a login without a resident)
    ("POST", "/market/redemptions"): COUNTER_A1,  # pA1 at the counter, by card
    ("GET", "/market/redemptions"): LIST_A,  # ?community=A
    ("GET", "/market/redemptions/{redemption_id}"): READ_PA1,
    ("POST", "/market/redemptions/{redemption_id}/hand-over"): COUNTER_A1,  # pA1's phone reservation
    ("POST", "/market/redemptions/{redemption_id}/cancel"): CANCEL_PA1,
    ("POST", "/market/redemptions/{redemption_id}/return"): COUNTER_A1,
    ("GET", "/market/vouchers"): VOUCHERS_MA,  # ?merchant=mA
    ("GET", "/market/vouchers/lookup"): USE_MA,
    ("POST", "/market/vouchers/{voucher_id}/use"): USE_MA,
    ("GET", "/market/settings"): IN_COMMUNITY_A,  # ?community=A
    ("PUT", "/market/settings"): STAFF_A,
}


def _market(w: Any) -> Any:
    # each user's request runs in a savepoint that is rolled back: the shelf may be gone again
    if not Product.objects.filter(community=w.A).exists():
        make_market(w)
        give_points(w, w.pA1, 200)
    return w


def _stocktake(w: Any) -> Stocktake:
    return services.stocktake_start(actor=actor_for(_market(w).staff_a), community=w.A)


def _reservation(w: Any) -> Redemption:
    return buy(_market(w), w.pA1, (w.rice, 1), channel="phone")


def _bought(w: Any) -> Redemption:
    return buy(_market(w), w.pA1, (w.rice, 2))


def _voucher(w: Any) -> Voucher:
    return Voucher.objects.get(line__redemption=buy(_market(w), w.pA1, (w.haircut, 1), channel="phone"))


def _use(voucher: Voucher) -> tuple[str, Any]:
    return f"/market/vouchers/{voucher.pk}/use", {"code": voucher.code}


def _card(w: Any) -> str:
    return cards.payload(cards.card_issue(actor=actor_for(_market(w).staff_a), person=w.pA1))


def _return(w: Any) -> tuple[str, Any]:
    redemption = _bought(w)
    line = redemption.lines.get()
    return f"/market/redemptions/{redemption.pk}/return", {
        "lines": [{"line_id": line.pk, "quantity": 1}],
        "reason": "破袋",
    }


def _lookup(w: Any) -> tuple[str, Any]:
    return f"/market/vouchers/lookup?code={_voucher(w).code}", None


REQUESTS: dict[Op, Request] = {
    ("GET", "/market/products"): lambda w: (f"/market/products?community={_market(w).A.pk}", None),
    ("GET", "/market/products/{product_id}"): lambda w: (f"/market/products/{_market(w).rice.pk}", None),
    ("POST", "/market/products"): lambda w: ("/market/products", {"community_id": w.A.pk, "name": "挂面", "price": 4}),
    ("PATCH", "/market/products/{product_id}"): lambda w: (f"/market/products/{_market(w).rice.pk}", {"price": 16}),
    ("POST", "/market/products/{product_id}/receipts"): lambda w: (
        f"/market/products/{_market(w).rice.pk}/receipts",
        {"quantity": 10, "reason": "采购"},
    ),
    ("POST", "/market/products/{product_id}/adjustments"): lambda w: (
        f"/market/products/{_market(w).rice.pk}/adjustments",
        {"change": -1, "reason": "破袋"},
    ),
    ("GET", "/market/products/{product_id}/movements"): lambda w: (
        f"/market/products/{_market(w).rice.pk}/movements",
        None,
    ),
    ("GET", "/market/low-stock"): lambda w: (f"/market/low-stock?community={_market(w).A.pk}", None),
    ("GET", "/market/stocktakes"): lambda w: (f"/market/stocktakes?community={_stocktake(w).community_id}", None),
    ("POST", "/market/stocktakes"): lambda w: ("/market/stocktakes", {"community_id": _market(w).A.pk}),
    ("GET", "/market/stocktakes/{stocktake_id}"): lambda w: (f"/market/stocktakes/{_stocktake(w).pk}", None),
    ("POST", "/market/stocktakes/{stocktake_id}/counts"): lambda w: (
        f"/market/stocktakes/{_stocktake(w).pk}/counts",
        {"counts": [{"product_id": w.rice.pk, "counted": 19}]},
    ),
    ("POST", "/market/stocktakes/{stocktake_id}/close"): lambda w: (
        f"/market/stocktakes/{_stocktake(w).pk}/close",
        None,
    ),
    ("POST", "/market/stocktakes/{stocktake_id}/cancel"): lambda w: (
        f"/market/stocktakes/{_stocktake(w).pk}/cancel",
        None,
    ),
    ("GET", "/market/me"): lambda w: ("/market/me", None),
    ("POST", "/market/redemptions"): lambda w: (
        "/market/redemptions",
        {"payer": {"card": _card(w)}, "channel": "counter", "lines": [{"product_id": w.rice.pk, "quantity": 1}]},
    ),
    ("GET", "/market/redemptions"): lambda w: (f"/market/redemptions?community={_bought(w).community_id}", None),
    ("GET", "/market/redemptions/{redemption_id}"): lambda w: (f"/market/redemptions/{_bought(w).pk}", None),
    ("POST", "/market/redemptions/{redemption_id}/hand-over"): lambda w: (
        f"/market/redemptions/{_reservation(w).pk}/hand-over",
        None,
    ),
    ("POST", "/market/redemptions/{redemption_id}/cancel"): lambda w: (
        f"/market/redemptions/{_reservation(w).pk}/cancel",
        {"reason": "不要了"},
    ),
    ("POST", "/market/redemptions/{redemption_id}/return"): _return,
    ("GET", "/market/vouchers"): lambda w: (f"/market/vouchers?merchant={_voucher(w).merchant_id}", None),
    ("GET", "/market/vouchers/lookup"): _lookup,
    ("POST", "/market/vouchers/{voucher_id}/use"): lambda w: _use(_voucher(w)),
    ("GET", "/market/settings"): lambda w: (f"/market/settings?community={_market(w).A.pk}", None),
    ("PUT", "/market/settings"): lambda w: (
        "/market/settings",
        {"community_id": _market(w).A.pk, "reservation_days": 3, "voucher_days": 60},
    ),
}
