"""Page permission rows for the catalogue and stock pages (see linli/common/tests/matrix.py).

Readers (stock.view in A): A's staff and the street admin, the grid chiefs and workers of A (they count the shelf),
the auditor. Counters (stock.count): the same without the auditor. Writers of products, groups, settings, receipts and
adjustments: A's staff and the street admin. Steward, merchant, resident and other communities' staff are refused.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from linli.common.tests.matrix import A1_GRID, A_STAFF, Page, in_a
from linli.market import services
from linli.market.models import ChoiceGroup, MarketSettings, Product, StockMovement, Stocktake, StocktakeStatus
from linli.market.testing import make_market
from linli.org.access import actor_for

STOCK_READERS = A_STAFF | A1_GRID | {"grid_worker_a2", "auditor_a"}
COUNTERS = A_STAFF | A1_GRID | {"grid_worker_a2"}


def _market(w: SimpleNamespace) -> SimpleNamespace:
    if not hasattr(w, "soy"):
        make_market(w)
    return w


def _soy(w: SimpleNamespace) -> list[Any]:
    return [_market(w).soy.pk]


def _open_count(w: SimpleNamespace) -> Stocktake:
    _market(w)
    found = Stocktake.objects.filter(community=w.A, status=StocktakeStatus.OPEN).first()
    return found or services.stocktake_start(actor=actor_for(w.staff_a), community=w.A)


def _soy_untouched(w: SimpleNamespace) -> bool:
    return Product.objects.get(pk=w.soy.pk).stock == 50 and not StockMovement.objects.filter(kind="adjustment").exists()


def _new_item(w: SimpleNamespace) -> dict[str, Any]:
    _market(w)
    return {
        "kind": "goods",
        "name": "矩阵挂面",
        "price": 4,
        "stock": 5,
        "low_stock_at": 0,
        "limit_period": "month",
        "position": 0,
        "tracks_stock": "on",
        "is_active": "on",
        "request_key": "matrix-new-item",
    }


def _edited_soy(w: SimpleNamespace) -> dict[str, Any]:
    data = _new_item(w)
    data.pop("stock")
    return {**data, "name": "矩阵酱油"}


PAGES: list[Page] = [
    Page("market:products", STOCK_READERS, query=in_a),
    Page("market:products", STOCK_READERS, query=lambda w: f"community={w.A.id}&format=xlsx&low=on"),
    Page("market:product_new", A_STAFF, query=in_a),
    Page(
        "market:product_new",
        A_STAFF,
        method="POST",
        query=in_a,
        data=_new_item,
        unchanged=lambda w: not Product.objects.filter(name="矩阵挂面").exists(),
    ),
    Page("market:product_edit", A_STAFF, args=_soy),
    Page(
        "market:product_edit",
        A_STAFF,
        method="POST",
        args=_soy,
        data=_edited_soy,
        unchanged=lambda w: Product.objects.get(pk=w.soy.pk).name == "酱油",
    ),
    Page("market:choice_groups", STOCK_READERS, query=in_a),
    Page(
        "market:choice_groups",
        A_STAFF,
        method="POST",
        query=in_a,
        data=lambda w: {"name": "主食二选一"},
        unchanged=lambda w: not ChoiceGroup.objects.exists(),
    ),
    Page("market:product_stock", STOCK_READERS, args=_soy),
    Page(
        "market:product_stock",
        A_STAFF,
        method="POST",
        args=_soy,
        data=lambda w: {"op": "adjust", "adjust-change": "-2", "adjust-reason": "摔破"},
        unchanged=_soy_untouched,
    ),
    Page("market:stocktakes", STOCK_READERS, query=in_a),
    Page(
        "market:stocktakes",
        COUNTERS,
        method="POST",
        query=in_a,
        data=lambda w: {"note": "月底清点"},
        unchanged=lambda w: not Stocktake.objects.exists(),
    ),
    Page("market:stocktake", STOCK_READERS, args=lambda w: [_open_count(w).pk]),
    Page(
        "market:stocktake",
        COUNTERS,
        method="POST",
        args=lambda w: [_open_count(w).pk],
        data=lambda w: {"op": "save", f"count_{w.soy.pk}": "48"},
        unchanged=lambda w: not Stocktake.objects.get().lines.filter(counted__isnull=False).exists(),
    ),
    Page("market:stocktake_export", STOCK_READERS, args=lambda w: [_open_count(w).pk]),
    Page("market:settings", A_STAFF, query=in_a),
    Page(
        "market:settings",
        A_STAFF,
        method="POST",
        query=in_a,
        data=lambda w: {"reservation_days": 3, "voucher_days": 10, "counter_note": "周一至周五 9-17点"},
        unchanged=lambda w: not MarketSettings.objects.filter(reservation_days=3).exists(),
    ),
]
