"""The market's figures and settlements (linli/market/reports.py, export.py, views_reports.py).

A fixed history in community A, every figure worked out by hand (prices: soy 3, detergent 6, rice 15, oil 40,
haircut 5):

    r1  pA1   rice ×2, soy ×3 at the counter      then 1 soy returned         -> rice 2/30, soy 2/6
    r2  pA1b  oil ×1 at the counter               then fully returned          -> nothing (status returned)
    r3  pA1   detergent ×2 reserved, cancelled                                 -> not counted
    r4  pA1   detergent ×1 reserved, expired by the sweep                      -> not counted
    r5  pA1   haircut ×2 (vouchers), one used by the barber, one still open    -> haircut 2/10, 1 service used
    r6  pA2   rice ×1, last month                                              -> last month's column
    r7  pB1   tissues in community B                                           -> never in A's figures
"""

from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.utils import timezone
from openpyxl import load_workbook

from linli.common.errors import Forbidden, Invalid, NotFound
from linli.common.testing import client_for
from linli.market import reports, services
from linli.market.models import Product, Redemption, Voucher, VoucherStatus
from linli.market.testing import buy, give_points, make_market
from linli.org.access import actor_for, can
from linli.org.models import Merchant

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    w = make_market(world)
    give_points(w, w.pA1, 200)
    give_points(w, w.pA1b, 40)
    give_points(w, w.pA2, 100)
    give_points(w, w.pB1, 30)
    staff = actor_for(w.staff_a)
    w.r1 = buy(w, w.pA1, (w.rice, 2), (w.soy, 3))
    soy_line = w.r1.lines.get(product=w.soy)
    services.redemption_return(
        actor=staff, redemption=w.r1, quantities={soy_line.pk: 1}, reason="多拿了", idempotency_key="r1"
    )
    w.r2 = buy(w, w.pA1b, (w.oil, 1))
    services.redemption_return(
        actor=staff,
        redemption=w.r2,
        quantities={w.r2.lines.get().pk: 1},
        reason="油桶漏了",
        idempotency_key="r2",
    )
    w.r3 = buy(w, w.pA1, (w.detergent, 2), channel="phone", user=w.resident_a1)
    services.redemption_cancel(actor=actor_for(w.resident_a1), redemption=w.r3, reason="不要了")
    w.r4 = buy(w, w.pA1, (w.detergent, 1), channel="phone", user=w.resident_a1)
    assert services.market_sweep(now=timezone.now() + timedelta(days=8), community=w.A).reservations == 1
    w.r5 = buy(w, w.pA1, (w.haircut, 2), channel="phone", user=w.resident_a1)
    w.voucher = Voucher.objects.filter(line__redemption=w.r5).order_by("pk").first()
    services.voucher_use(
        actor=actor_for(w.merchant_op_a), voucher=w.voucher, code=w.voucher.code, idempotency_key="cut-1"
    )
    w.r6 = buy(w, w.pA2, (w.rice, 1))
    last_month = reports.add_months(timezone.localdate().replace(day=1), -1).replace(day=15)
    Redemption.objects.filter(pk=w.r6.pk).update(created_at=reports.local_start(last_month) + timedelta(hours=10))
    w.r7 = buy(w, w.pB1, (w.tissuesB, 1), user=w.staff_b)
    return w


def months(asked: dict[str, str]) -> reports.Months:
    return reports.months_asked(year=asked.get("year", ""), since=asked.get("since", ""), until=asked.get("until", ""))


def figures(w: SimpleNamespace, user: object = None, **asked: str) -> reports.Figures:
    return reports.market_figures(actor_for(user or w.staff_a), w.A, months(asked))


def test_counting_skips_cancelled_and_expired_and_subtracts_returns(w: SimpleNamespace) -> None:
    f = figures(w)
    rows = {r.name: (r.units, r.points) for r in f.items}
    assert rows == {"大米（5斤装）": (3, 45), "酱油": (2, 6), "理发一次": (2, 10)}
    assert "洗洁精" not in rows and "菜籽油（5升）" not in rows  # cancelled, expired, fully returned
    assert f.redemptions == 3  # r1, r5, r6; r2 came back whole
    assert (f.items_redeemed, f.goods_redeemed, f.points_spent) == (7, 5, 61)
    assert f.services_used == 1
    assert [(u.label, u.count, u.points) for u in f.used_by_product] == [("理发一次", 1, 5)]
    assert [(u.label, u.count) for u in f.used_by_category] == [("爱心商户服务", 1)]
    assert [r.name for r in f.top_by_units] == ["大米（5斤装）", "理发一次", "酱油"]  # ties: more points first
    assert f.top_by_points[0].name == "大米（5斤装）"


def test_months_are_columns(w: SimpleNamespace) -> None:
    f = figures(w)
    assert len(f.months) == 12 and f.months[-1] == timezone.localdate().replace(day=1)
    rice = next(r for r in f.items if r.name == "大米（5斤装）")
    assert (rice.cells[-1].units, rice.cells[-2].units, rice.cells[-2].points) == (2, 1, 15)
    assert f.month_totals[-2].units == 1 and f.month_totals[-1].units == 6
    only_this = figures(w, since=timezone.localdate().strftime("%Y-%m"), until=timezone.localdate().strftime("%Y-%m"))
    assert only_this.months == [timezone.localdate().replace(day=1)]
    assert only_this.items_redeemed == 6 and only_this.redemptions == 2


def test_stock_on_hand_and_the_ledger_view(w: SimpleNamespace) -> None:
    f = figures(w)
    stock = {s.name: (s.stock, s.value) for s in f.stock}
    # soy 50-3+1, detergent 30 (both reservations gave it back), rice 20-3, oil 10 (returned)
    assert stock == {"酱油": (48, 144), "洗洁精": (30, 180), "大米（5斤装）": (17, 255), "菜籽油（5升）": (10, 400)}
    assert "理发一次" not in stock  # services are not counted stock
    assert (f.stock_units, f.stock_value) == (105, 979)
    # market: rice 45 + soy 6 + the used haircut 5; vouchers: the open haircut
    assert (f.market_balance, f.vouchers_balance) == (56, 5)
    assert (f.open_vouchers, f.open_voucher_points) == (1, 5)


def test_who_reads_the_figures(w: SimpleNamespace) -> None:
    for user in (w.staff_a, w.street_admin, w.auditor_a, w.grid_chief_a1):
        assert figures(w, user).items_redeemed == 7
    for user in (w.staff_b, w.staff_c, w.resident_a1, w.merchant_op_a, w.grid_worker_a1):
        with pytest.raises((Forbidden, NotFound)):
            figures(w, user)


@pytest.mark.parametrize(
    ("asked", "code"),
    [
        ({"year": "20x6"}, "period_invalid"),
        ({"since": "2026-13"}, "period_invalid"),
        ({"since": "2026-06", "until": "2026-01"}, "period_order"),
        ({"since": "2020-01", "until": "2026-01"}, "period_long"),
    ],
)
def test_bad_periods_are_refused_with_a_code(asked: dict[str, str], code: str) -> None:
    with pytest.raises(Invalid) as refused:
        months(asked)
    assert refused.value.code == code


def test_a_year(w: SimpleNamespace) -> None:
    year = timezone.localdate().year
    f = figures(w, year=str(year))
    assert f.months[0].month == 1 and f.months[-1].month == 12 and len(f.months) == 12


def test_the_page_and_its_export(w: SimpleNamespace) -> None:
    page = client_for(w.staff_a).get(f"/market/reports/?community={w.A.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "大米（5斤装）" in html and "洗洁精" not in html.split('data-testid="stock"')[0]
    assert 'data-testid="items">7<' in html and 'data-testid="services">1<' in html
    bad = client_for(w.staff_a).get(f"/market/reports/?community={w.A.pk}&since=2026-99")
    assert bad.status_code == 400
    xlsx = client_for(w.staff_a).get(f"/market/reports/export.xlsx?community={w.A.pk}")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")
    book = load_workbook(io.BytesIO(xlsx.content))
    table = list(book.worksheets[0].iter_rows(values_only=True))
    rice = next(r for r in table if r[0] == "大米（5斤装）")
    assert rice[-2:] == (3, 45)
    assert table[-1][0] == "合计" or table[-1][-2:] == (7, 61)
    assert list(book.worksheets[1].iter_rows(values_only=True))[-1][-1] == 979


# --- settlements ----------------------------------------------------------------------------------------------------
def test_the_barber_sees_their_settlement(w: SimpleNamespace) -> None:
    found = reports.settlement(actor_for(w.merchant_op_a), w.mA, reports.days_asked())
    assert (found.used_total.count, found.used_total.points) == (1, 5)
    assert (found.issued.count, found.issued.points) == (2, 10)
    assert found.used[0].holder == "王*英"  # masked: the shop never learns full names
    assert found.used[0].code == f"{w.voucher.code[:4]}-{w.voucher.code[4:]}"
    assert found.used[0].service == "理发一次"


def test_expired_vouchers_are_in_the_settlement(w: SimpleNamespace) -> None:
    later = timezone.now() + timedelta(days=40)
    assert services.market_sweep(now=later, community=w.A).vouchers == 1
    period = reports.days_asked(
        since=timezone.localdate().isoformat(), until=(timezone.localdate() + timedelta(days=45)).isoformat()
    )
    found = reports.settlement(actor_for(w.staff_a), w.mA, period)
    assert (found.expired.count, found.expired.points, found.used_total.count) == (1, 5, 1)


def test_settlement_scope(w: SimpleNamespace) -> None:
    period = reports.days_asked()
    for user in (w.staff_a, w.street_admin, w.auditor_a, w.merchant_op_a):
        assert reports.settlement(actor_for(user), w.mA, period).used_total.count == 1
    for user in (w.staff_b, w.resident_a1, w.grid_chief_a1, w.grid_worker_a1):
        with pytest.raises(NotFound):
            reports.settlement(actor_for(user), w.mA, period)
    summary = reports.settlement_summary(actor_for(w.staff_a), w.A, period)
    assert [(r.merchant.name, r.used.count, r.issued.count, r.open.count) for r in summary] == [("老街理发店", 1, 2, 1)]
    with pytest.raises(Forbidden):
        reports.settlement_summary(actor_for(w.merchant_op_a), w.A, period)  # a shop sees only its own


def test_settlement_pages(w: SimpleNamespace) -> None:
    own = client_for(w.merchant_op_a).get("/market/settlement/")
    assert own.status_code == 200 and 'data-testid="used">1<' in own.content.decode()
    summary = client_for(w.staff_a).get(f"/market/settlement/?community={w.A.pk}")
    assert summary.status_code == 200 and "老街理发店" in summary.content.decode()
    assert client_for(w.staff_b).get(f"/market/settlement/?merchant={w.mA.pk}").status_code == 404
    assert client_for(w.staff_a).get(f"/market/settlement/?merchant={w.mA.pk}&since=31-01-2026").status_code == 400
    sheet = client_for(w.merchant_op_a).get(f"/market/settlement/export.xlsx?merchant={w.mA.pk}")
    assert sheet.status_code == 200
    rows = list(load_workbook(io.BytesIO(sheet.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[1][2:] == ("理发一次", 5, "王*英")
    assert Product.objects.filter(pk=w.haircut.pk).exists()
    assert Voucher.objects.filter(status=VoucherStatus.USED).count() == 1


def test_a_shop_reads_its_own_settlement_and_no_other_shops(w: SimpleNamespace) -> None:
    """A shop's operator may read the names of the community's other shops, never their books."""
    neighbour = Merchant.objects.create(community=w.A, name="社区药店")
    op = client_for(w.merchant_op_a)
    assert op.get(f"/market/settlement/?merchant={neighbour.pk}").status_code == 404
    assert op.get(f"/market/settlement/export.xlsx?merchant={neighbour.pk}").status_code == 404
    assert op.get(f"/api/v1/market/reports/settlement?merchant={neighbour.pk}").status_code == 404
    assert op.get(f"/api/v1/market/reports/settlement?merchant={w.mA.pk}").status_code == 200
    assert can(actor_for(w.merchant_op_a), "merchant.view", neighbour)  # its name is no secret


def test_the_api_says_what_the_page_says(w: SimpleNamespace) -> None:
    got = client_for(w.staff_a).get(f"/api/v1/market/reports/figures?community={w.A.pk}")
    assert got.status_code == 200, got.content
    body = got.json()
    assert (body["items_redeemed"], body["points_spent"], body["services_used"], body["redemptions"]) == (7, 61, 1, 3)
    assert (body["stock_value"], body["market_balance"], body["vouchers_balance"]) == (979, 56, 5)
    assert len(body["months"]) == 12 and len(body["items"][0]["months"]) == 12
    bad = client_for(w.staff_a).get(f"/api/v1/market/reports/figures?community={w.A.pk}&since=2026-6&until=2026-01")
    assert bad.status_code == 400 and bad.json()["code"] == "period_order"
    mine = client_for(w.merchant_op_a).get(f"/api/v1/market/reports/settlement?merchant={w.mA.pk}").json()
    assert mine["used_total"] == {"count": 1, "points": 5} and mine["used"][0]["holder"] == "王*英"
    summary = client_for(w.auditor_a).get(f"/api/v1/market/reports/settlements?community={w.A.pk}").json()
    assert [(m["merchant"], m["open"]["count"]) for m in summary["merchants"]] == [("老街理发店", 1)]


def test_the_shops_settlement_shows_the_points_it_earned(w: SimpleNamespace) -> None:
    from decimal import Decimal

    from linli.points.merchant_service import merchant_service_record
    from linli.points.testing import make_catalogue

    rules = make_catalogue(w)
    merchant_service_record(
        actor=actor_for(w.staff_a),
        merchant=w.mA,
        rule=rules.cleanup,
        quantity=Decimal(2),
        occurred_on=timezone.localdate(),
        note="为独居老人理发",
        idempotency_key="settle-1",
    )
    page = client_for(w.merchant_op_a).get("/market/settlement/").content.decode()
    assert 'data-testid="shop-balance">6<' in page
    earnings = page.split('data-testid="earnings"')[1].split("</table>")[0]
    assert "环境清扫" in earnings and ">6<" in earnings
    # a period before it: the balance stays, the list says nothing was recorded
    operator = client_for(w.merchant_op_a)
    operator.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = operator.get("/market/settlement/", {"since": "2026-01-01", "until": "2026-01-31"}).content.decode()
    assert 'data-testid="shop-balance">6<' in page and "No service recorded in this period." in page
