"""Figures of the points market (issue 5 item 7) and the merchants' settlements (item 4). Reads only.

Counting rules, the same in every table:
- A redemption counts in the month it was made (local time). Cancelled and expired ones do not count at all; what
  was returned (goods brought back, vouchers handed in, cancelled or expired) is subtracted line by line, so a fully
  returned redemption counts for nothing. Reserved baskets count: their points are spent until they expire.
- "Services used" are vouchers used (核销) in the period, by the day they were used.
- Stock on hand is now, valued at today's price; the ledger view is the community's system accounts now: "market"
  holds every point spent for good, "vouchers" the points held by vouchers not yet used.
Who sees what: market.report on the community (staff, the auditor, a grid chief: the shelf is the community's, so
`works_in`); settlements: settlement.view on the merchant (staff, the auditor, the shop's own operator).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, ExpressionWrapper, F, IntegerField, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.common.errors import Forbidden, Invalid, NotFound
from linli.ledger import selectors as ledger_selectors
from linli.ledger.models import Account, SystemAccount
from linli.market import domain
from linli.market.models import Product, RedemptionLine, RedemptionStatus, Voucher, VoucherStatus
from linli.org.access import PERMISSIONS, Actor, can, require, works_in
from linli.org.domain import mask_name
from linli.org.models import Community, Merchant

MAX_MONTHS = 24
MAX_DAYS = 366 * 2
TOP = 10
NOT_COUNTED = (RedemptionStatus.CANCELLED, RedemptionStatus.EXPIRED)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def local_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz())


# --- periods ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Months:
    """Whole months, first to last (both included, each the first day of its month)."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return local_start(self.first)

    @property
    def end(self) -> datetime:  # exclusive
        return local_start(add_months(self.last, 1))

    def months(self) -> list[date]:
        out, month = [], self.first
        while month <= self.last:
            out.append(month)
            month = add_months(month, 1)
        return out


def _month(text: str, name: str) -> date:
    match = _MONTH.match((text or "").strip())
    if not match or not 1 <= int(match[2]) <= 12 or not 2000 <= int(match[1]) <= 2100:
        raise Invalid(_("Write a month like 2026-01."), code="period_invalid", field=name)
    return date(int(match[1]), int(match[2]), 1)


def months_asked(*, year: str = "", since: str = "", until: str = "", today: date | None = None) -> Months:
    """?year=2026 (that calendar year), or ?since=2026-01&until=2026-06; nothing: the last twelve months."""
    this = (today or timezone.localdate()).replace(day=1)
    if year:
        if not year.strip().isdigit() or not 2000 <= int(year) <= 2100:
            raise Invalid(_("Write a year like 2026."), code="period_invalid", field="year")
        return Months(date(int(year), 1, 1), date(int(year), 12, 1))
    last = _month(until, "until") if until else this
    first = _month(since, "since") if since else add_months(last, -11)
    if first > last:
        raise Invalid(_("The first month comes after the last."), code="period_order", field="since")
    if add_months(first, MAX_MONTHS - 1) < last:
        raise Invalid(
            _("At most %(n)s months at a time, please.") % {"n": MAX_MONTHS}, code="period_long", field="since"
        )
    return Months(first, last)


@dataclass(frozen=True)
class Days:
    """Days, first to last (both included)."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return local_start(self.first)

    @property
    def end(self) -> datetime:  # exclusive
        return local_start(self.last + timedelta(days=1))


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise Invalid(_("Write a date like 2026-01-31."), code="period_invalid", field=name) from None


def days_asked(*, since: str = "", until: str = "", today: date | None = None) -> Days:
    """?since=2026-01-01&until=2026-01-31; nothing: this month so far."""
    today = today or timezone.localdate()
    last = _day(until, "until") if until else today
    first = _day(since, "since") if since else last.replace(day=1)
    if first > last:
        raise Invalid(_("The first day comes after the last."), code="period_order", field="since")
    if (last - first).days > MAX_DAYS:
        raise Invalid(_("At most two years at a time, please."), code="period_long", field="since")
    return Days(first, last)


# --- the market's figures -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    units: int = 0
    points: int = 0


@dataclass
class ItemRow:
    product_id: int
    name: str
    category: str
    kind: str
    cells: list[Cell] = field(default_factory=list)  # one per month of the period
    units: int = 0
    points: int = 0


@dataclass(frozen=True)
class Used:
    label: str  # a product name, or a category
    count: int
    points: int


@dataclass(frozen=True)
class StockRow:
    product_id: int
    name: str
    unit: str
    stock: int
    price: int
    value: int
    is_low: bool


@dataclass
class Figures:
    community: Community
    period: Months
    months: list[date]
    items: list[ItemRow]  # rows: item; columns: months
    month_totals: list[Cell]
    redemptions: int  # counted redemptions with something left after returns
    items_redeemed: int  # units net of returns, every kind
    goods_redeemed: int  # of which goods and donated items
    points_spent: int  # net of returns
    services_used: int  # vouchers used in the period
    used_by_product: list[Used]
    used_by_category: list[Used]
    top_by_units: list[ItemRow]
    top_by_points: list[ItemRow]
    stock: list[StockRow]
    stock_units: int
    stock_value: int
    market_balance: int  # the ledger's "market" account now: every point spent for good
    vouchers_balance: int  # the ledger's "vouchers" account now: held by vouchers not yet used
    open_vouchers: int  # how many vouchers are waiting to be used
    open_voucher_points: int  # their points, from the vouchers themselves (equals vouchers_balance)


def report_community(actor: Actor, community: Community) -> None:
    """Refuse unless the actor may read the market's figures of this community."""
    if not works_in(actor, "market.report", community):
        require(actor, "market.report", community, hide=True)


NET_UNITS = ExpressionWrapper(F("quantity") - F("returned"), output_field=IntegerField())
NET_POINTS = ExpressionWrapper((F("quantity") - F("returned")) * F("price"), output_field=IntegerField())


def counted_lines(community: Community, start: datetime, end: datetime) -> QuerySet[RedemptionLine]:
    return RedemptionLine.objects.filter(
        redemption__community=community, redemption__created_at__gte=start, redemption__created_at__lt=end
    ).exclude(redemption__status__in=NOT_COUNTED)


def _month_key(value: datetime | date) -> date:
    if isinstance(value, datetime):
        value = timezone.localtime(value, tz()).date() if timezone.is_aware(value) else value.date()
    return value.replace(day=1)


def market_figures(actor: Actor, community: Community, period: Months) -> Figures:
    report_community(actor, community)
    months = period.months()
    column = {m: i for i, m in enumerate(months)}
    lines = counted_lines(community, period.start, period.end)
    # one aggregate over (item, month): a row per item and month, never a query per item
    grouped = (
        lines.annotate(month=TruncMonth("redemption__created_at", tzinfo=tz()))
        .values("product_id", "month")
        .annotate(units=Sum(NET_UNITS), net_points=Sum(NET_POINTS))
        .order_by()
    )
    products = {
        p.pk: p for p in Product.objects.filter(community=community).only("name", "category", "kind", "unit", "pk")
    }
    rows: dict[int, ItemRow] = {}
    for g in grouped:
        units, points = int(g["units"] or 0), int(g["net_points"] or 0)
        if not units:
            continue
        product = products[g["product_id"]]
        row = rows.get(product.pk)
        if row is None:
            row = rows[product.pk] = ItemRow(
                product.pk, product.name, product.category, product.kind, [Cell() for _m in months]
            )
        i = column[_month_key(g["month"])]
        row.cells[i] = Cell(row.cells[i].units + units, row.cells[i].points + points)
        row.units += units
        row.points += points
    items = sorted(rows.values(), key=lambda r: (-r.units, r.name))
    month_totals = [
        Cell(sum(r.cells[i].units for r in items), sum(r.cells[i].points for r in items)) for i in range(len(months))
    ]
    redemptions = (
        lines.filter(quantity__gt=F("returned")).values("redemption_id").distinct().count()
    )  # a fully returned basket is no redemption
    used = Voucher.objects.filter(
        community=community, status=VoucherStatus.USED, used_at__gte=period.start, used_at__lt=period.end
    )
    by_product = [
        Used(g["product__name"], g["n"], int(g["p"] or 0))
        for g in used.values("product__name").annotate(n=Count("id"), p=Sum("points")).order_by("-n", "product__name")
    ]
    by_category: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c in used.values("product__category").annotate(n=Count("id"), p=Sum("points")).order_by():
        label = c["product__category"] or _("(no category)")
        by_category[label][0] += c["n"]
        by_category[label][1] += int(c["p"] or 0)
    stock = [
        StockRow(p.pk, p.name, p.unit, p.stock, p.price, p.stock * p.price, p.is_low)
        for p in Product.objects.filter(community=community, tracks_stock=True)
        .exclude(is_active=False, stock=0)
        .order_by("position", "name", "id")
    ]
    open_vouchers = Voucher.objects.filter(community=community, status=VoucherStatus.ISSUED).aggregate(
        n=Count("id"), p=Sum("points")
    )
    return Figures(
        community=community,
        period=period,
        months=months,
        items=items,
        month_totals=month_totals,
        redemptions=redemptions,
        items_redeemed=sum(r.units for r in items),
        goods_redeemed=sum(r.units for r in items if r.kind not in ("service", "coupon")),
        points_spent=sum(r.points for r in items),
        services_used=sum(u.count for u in by_product),
        used_by_product=by_product,
        used_by_category=[
            Used(k, v[0], v[1]) for k, v in sorted(by_category.items(), key=lambda kv: (-kv[1][0], kv[0]))
        ],
        top_by_units=sorted(items, key=lambda r: (-r.units, -r.points, r.name))[:TOP],
        top_by_points=sorted(items, key=lambda r: (-r.points, -r.units, r.name))[:TOP],
        stock=stock,
        stock_units=sum(s.stock for s in stock),
        stock_value=sum(s.value for s in stock),
        market_balance=_system_balance(community, SystemAccount.MARKET),
        vouchers_balance=_system_balance(community, SystemAccount.VOUCHERS),
        open_vouchers=int(open_vouchers["n"] or 0),
        open_voucher_points=int(open_vouchers["p"] or 0),
    )


def _system_balance(community: Community, code: str) -> int:
    account = Account.objects.filter(community=community, system_code=code).first()
    return ledger_selectors.balance(account) if account is not None else 0


# --- settlements ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UsedVoucher:
    used_at: datetime
    code: str  # as printed: K7M2-Q9XD
    service: str
    points: int
    holder: str  # masked


@dataclass(frozen=True)
class Tally:
    count: int = 0
    points: int = 0


@dataclass
class Settlement:
    merchant: Merchant
    period: Days
    used: list[UsedVoucher]
    used_total: Tally
    issued: Tally  # vouchers for this merchant's services bought in the period
    expired: Tally  # not used in time, points back to the holder (closed in the period)
    cancelled: Tally  # handed back or the reservation called off (closed in the period)


@dataclass(frozen=True)
class SummaryRow:
    merchant: Merchant
    used: Tally
    issued: Tally
    expired: Tally
    open: Tally  # waiting to be used now


def _tally(qs: QuerySet[Voucher]) -> Tally:
    got = qs.aggregate(n=Count("id"), p=Sum("points"))
    return Tally(int(got["n"] or 0), int(got["p"] or 0))


def _holder(voucher: Voucher) -> str:
    if voucher.person is not None:
        return mask_name(voucher.person.name)
    if voucher.holder_merchant is not None:
        return voucher.holder_merchant.name
    return ""


def settlement(actor: Actor, merchant: Merchant, period: Days) -> Settlement:
    """What the shop delivered against vouchers in the period, for the shop and the committee to settle."""
    require(actor, "settlement.view", merchant, hide=True)
    mine = Voucher.objects.filter(merchant=merchant)
    used = (
        mine.filter(status=VoucherStatus.USED, used_at__gte=period.start, used_at__lt=period.end)
        .select_related("product", "person", "holder_merchant")
        .order_by("used_at", "id")
    )
    rows = [
        UsedVoucher(v.used_at, domain.format_code(v.code), v.product.name, v.points, _holder(v))
        for v in used
        if v.used_at is not None
    ]
    closed = {"closed_at__gte": period.start, "closed_at__lt": period.end}
    return Settlement(
        merchant=merchant,
        period=period,
        used=rows,
        used_total=Tally(len(rows), sum(r.points for r in rows)),
        issued=_tally(mine.filter(issued_at__gte=period.start, issued_at__lt=period.end)),
        expired=_tally(mine.filter(status=VoucherStatus.EXPIRED, **closed)),
        cancelled=_tally(mine.filter(status=VoucherStatus.CANCELLED, **closed)),
    )


def settles_community(actor: Actor, community: Community) -> bool:
    """settlement.view over the whole community: staff, the auditor, the street admin. A shop's operator holds it
    for their own shop only (`can` would let a merchant grant read community-wide ".view" things)."""
    allowed = PERMISSIONS["settlement.view"]
    return can(actor, "settlement.view", community) and any(
        g.role in allowed
        and (
            (g.level == "community" and community.pk in g.ids) or (g.level == "street" and community.street_id in g.ids)
        )
        for g in actor.grants
    )


def settlement_summary(actor: Actor, community: Community, period: Days) -> list[SummaryRow]:
    """Every caring merchant of the community in the period: for the committee (staff, the auditor)."""
    if not settles_community(actor, community):
        raise Forbidden() if can(actor, "org.view", community) else NotFound()
    mine = Voucher.objects.filter(community=community, merchant__isnull=False)

    def per_merchant(qs: QuerySet[Voucher]) -> dict[int, Tally]:
        return {
            g["merchant_id"]: Tally(g["n"], int(g["p"] or 0))
            for g in qs.values("merchant_id").annotate(n=Count("id"), p=Sum("points")).order_by()
        }

    used = per_merchant(mine.filter(status=VoucherStatus.USED, used_at__gte=period.start, used_at__lt=period.end))
    issued = per_merchant(mine.filter(issued_at__gte=period.start, issued_at__lt=period.end))
    expired = per_merchant(
        mine.filter(status=VoucherStatus.EXPIRED, closed_at__gte=period.start, closed_at__lt=period.end)
    )
    waiting = per_merchant(mine.filter(status=VoucherStatus.ISSUED))
    empty = Tally()
    return [
        SummaryRow(
            m, used.get(m.pk, empty), issued.get(m.pk, empty), expired.get(m.pk, empty), waiting.get(m.pk, empty)
        )
        for m in Merchant.objects.filter(community=community).order_by("name")
        if m.is_active or m.pk in used or m.pk in issued or m.pk in expired or m.pk in waiting
    ]


def settlement_merchants(actor: Actor) -> QuerySet[Merchant]:
    """The shops whose operator the actor is (their settlement is what they see)."""
    ids = {i for g in actor.grants if g.level == "merchant" for i in g.ids}
    return Merchant.objects.filter(pk__in=ids).order_by("name")
