"""The market's figures and the merchants' settlements as JSON under /api/v1/market/reports/ (tag "points market").

The same numbers as the pages (linli/market/reports.py), with the same permissions: market.report on the community
for the figures; settlement.view on the merchant for one shop's settlement (staff, the auditor, the shop's operator)
and over the whole community for the summary. Holders are masked. Registered in linli/api.py.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from linli.common.api import Id, InputSchema, actor, responses
from linli.common.errors import NotFound
from linli.market import reports
from linli.org import selectors as org_selectors
from linli.org.access import require_any
from linli.org.models import Community, Merchant

router = Router(tags=["points market"])


class FiguresIn(InputSchema):
    community: Id
    year: str = Field("", max_length=4, description="a calendar year, e.g. 2026 (instead of since/until)")
    since: str = Field("", max_length=7, description="first month, YYYY-MM (default: eleven months before until)")
    until: str = Field("", max_length=7, description="last month, YYYY-MM (default: this month)")


class CellOut(Schema):
    units: int
    points: int


class ItemOut(Schema):
    product_id: int
    name: str
    category: str
    kind: str
    units: int
    points: int
    months: list[CellOut]


class UsedOut(Schema):
    label: str
    count: int
    points: int


class StockOut(Schema):
    product_id: int
    name: str
    unit: str
    stock: int
    price: int
    value: int
    is_low: bool


class FiguresOut(Schema):
    community_id: int
    months: list[str] = Field(description="YYYY-MM, the columns of every item's `months`")
    items: list[ItemOut]
    month_totals: list[CellOut]
    redemptions: int
    items_redeemed: int
    goods_redeemed: int
    points_spent: int
    services_used: int
    services_by_product: list[UsedOut]
    services_by_category: list[UsedOut]
    top_by_units: list[ItemOut]
    top_by_points: list[ItemOut]
    stock: list[StockOut]
    stock_units: int
    stock_value: int
    market_balance: int = Field(description="points spent in the market for good (the ledger's market account)")
    vouchers_balance: int = Field(description="points held by vouchers not yet used (the ledger's vouchers account)")
    open_vouchers: int


class PeriodIn(InputSchema):
    since: str = Field("", max_length=10, description="first day, YYYY-MM-DD (default: the first of until's month)")
    until: str = Field("", max_length=10, description="last day, YYYY-MM-DD (default: today)")


class SettlementIn(PeriodIn):
    merchant: Id


class SummaryIn(PeriodIn):
    community: Id


class TallyOut(Schema):
    count: int
    points: int


class UsedVoucherOut(Schema):
    used_at: datetime
    code: str
    service: str
    points: int
    holder: str


class SettlementOut(Schema):
    merchant_id: int
    merchant: str
    since: date
    until: date
    used: list[UsedVoucherOut]
    used_total: TallyOut
    issued: TallyOut
    expired: TallyOut
    cancelled: TallyOut


class SummaryRowOut(Schema):
    merchant_id: int
    merchant: str
    used: TallyOut
    issued: TallyOut
    expired: TallyOut
    open: TallyOut


class SummaryOut(Schema):
    community_id: int
    since: date
    until: date
    merchants: list[SummaryRowOut]


def _item(row: reports.ItemRow) -> dict[str, Any]:
    return {
        "product_id": row.product_id,
        "name": row.name,
        "category": row.category,
        "kind": row.kind,
        "units": row.units,
        "points": row.points,
        "months": [c.__dict__ for c in row.cells],
    }


def _tally(t: reports.Tally) -> dict[str, int]:
    return {"count": t.count, "points": t.points}


@router.get(
    "/market/reports/figures",
    response=responses({200: FiguresOut}),
    summary="Redemptions by item and month, top items, services used, stock on hand and its value, the ledger view",
)
def market_figures(request: HttpRequest, filters: Query[FiguresIn]) -> dict[str, Any]:
    act = actor(request)
    require_any(act, "market.report")
    community = org_selectors.get_visible(act, Community, filters.community)
    period = reports.months_asked(year=filters.year, since=filters.since, until=filters.until)
    f = reports.market_figures(act, community, period)
    return {
        "community_id": community.pk,
        "months": [m.strftime("%Y-%m") for m in f.months],
        "items": [_item(r) for r in f.items],
        "month_totals": [c.__dict__ for c in f.month_totals],
        "redemptions": f.redemptions,
        "items_redeemed": f.items_redeemed,
        "goods_redeemed": f.goods_redeemed,
        "points_spent": f.points_spent,
        "services_used": f.services_used,
        "services_by_product": [u.__dict__ for u in f.used_by_product],
        "services_by_category": [u.__dict__ for u in f.used_by_category],
        "top_by_units": [_item(r) for r in f.top_by_units],
        "top_by_points": [_item(r) for r in f.top_by_points],
        "stock": [s.__dict__ for s in f.stock],
        "stock_units": f.stock_units,
        "stock_value": f.stock_value,
        "market_balance": f.market_balance,
        "vouchers_balance": f.vouchers_balance,
        "open_vouchers": f.open_vouchers,
    }


@router.get(
    "/market/reports/settlement",
    response=responses({200: SettlementOut}),
    summary="One caring merchant's settlement: vouchers used in the period (holders masked), issued, expired",
)
def merchant_settlement(request: HttpRequest, filters: Query[SettlementIn]) -> dict[str, Any]:
    act = actor(request)
    require_any(act, "settlement.view")
    merchant = Merchant.objects.filter(pk=filters.merchant).first()
    if merchant is None:
        raise NotFound()
    period = reports.days_asked(since=filters.since, until=filters.until)
    s = reports.settlement(act, merchant, period)
    return {
        "merchant_id": merchant.pk,
        "merchant": merchant.name,
        "since": period.first,
        "until": period.last,
        "used": [v.__dict__ for v in s.used],
        "used_total": _tally(s.used_total),
        "issued": _tally(s.issued),
        "expired": _tally(s.expired),
        "cancelled": _tally(s.cancelled),
    }


@router.get(
    "/market/reports/settlements",
    response=responses({200: SummaryOut}),
    summary="Every caring merchant of a community for the period: vouchers used, issued, expired, waiting",
)
def settlement_summary(request: HttpRequest, filters: Query[SummaryIn]) -> dict[str, Any]:
    act = actor(request)
    require_any(act, "settlement.view")
    community = org_selectors.get_visible(act, Community, filters.community)
    period = reports.days_asked(since=filters.since, until=filters.until)
    rows = reports.settlement_summary(act, community, period)
    return {
        "community_id": community.pk,
        "since": period.first,
        "until": period.last,
        "merchants": [
            {
                "merchant_id": r.merchant.pk,
                "merchant": r.merchant.name,
                "used": _tally(r.used),
                "issued": _tally(r.issued),
                "expired": _tally(r.expired),
                "open": _tally(r.open),
            }
            for r in rows
        ],
    }
