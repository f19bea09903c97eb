"""The market demo (linli/market/demo.py) on the demo street: built through the services, once, quickly, with the
figures the brief names coming out of the data and the ledger still balanced."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from linli.ledger.demo_history import build_history
from linli.ledger.models import Account, Transfer
from linli.market import reports
from linli.market.demo import HOUSEKEEPING_USED, build_market_demo
from linli.market.models import (
    Product,
    Redemption,
    RedemptionStatus,
    Stocktake,
    StocktakeStatus,
    Voucher,
    VoucherStatus,
)
from linli.orders.demo import build_orders_demo
from linli.org import demo
from linli.org.access import actor_for
from linli.org.models import Community, Merchant, User
from linli.points.demo import build_points_demo

pytestmark = pytest.mark.django_db


def test_market_demo_builds_once_with_its_stories() -> None:
    demo.build_demo(households=200)
    build_history()
    build_points_demo()
    build_orders_demo()
    started = time.monotonic()
    result = build_market_demo()
    seconds = time.monotonic() - started
    assert result.created and result.redemptions == Redemption.objects.count()
    assert seconds < 20, seconds
    staff = actor_for(User.objects.get(phone="19900000001"))  # the street admin
    fuxi = Community.objects.get(code=demo.FUXI_CODE)
    months = reports.months_asked(since=(timezone.localdate().replace(day=1) - timedelta(days=100)).strftime("%Y-%m"))
    f = reports.market_figures(staff, fuxi, months)
    assert f.goods_redeemed >= 210, f.goods_redeemed  # "210+ items redeemed"
    assert [(u.label, u.count) for u in f.used_by_category if u.label == "家政服务"] == [
        ("家政服务", HOUSEKEEPING_USED)
    ]
    assert 15 <= Product.objects.filter(community=fuxi, kind="goods").count() <= 40
    assert Product.objects.filter(community=fuxi, kind="donated").exists()
    assert set(Product.objects.filter(community=fuxi).values_list("kind", flat=True)) == {
        "goods", "donated", "service", "coupon",
    }  # fmt: skip
    assert Product.objects.filter(community=fuxi, choice_group__name="本期兑换任选一项").count() == 3
    # history over about three months, nothing in the future
    oldest = Redemption.objects.filter(community=fuxi).order_by("created_at").first()
    assert oldest is not None and (timezone.now() - oldest.created_at).days >= 60
    assert not Redemption.objects.filter(created_at__gt=timezone.now()).exists()
    assert Redemption.objects.filter(status=RedemptionStatus.RESERVED).count() >= 3
    # one closed stocktake with a small variance: one bottle of soy sauce
    take = Stocktake.objects.get(community=fuxi)
    assert take.status == StocktakeStatus.CLOSED
    assert [(x.product.name, x.variance) for x in take.lines.select_related("product") if x.variance] == [("酱油", -1)]
    # the demo resident: points left, an open reservation and an unused voucher
    resident = demo.demo_resident_person()
    assert Account.objects.get(person=resident).balance > 0
    assert Redemption.objects.filter(person=resident, status=RedemptionStatus.RESERVED).exists()
    assert Voucher.objects.filter(person=resident, status=VoucherStatus.ISSUED).exists()
    # the demo barber: vouchers to use and a settlement to see
    barber = User.objects.get(phone="19900000007")
    shop = Merchant.objects.get(community=fuxi, name=demo.DEMO_MERCHANT)
    assert Voucher.objects.filter(merchant=shop, status=VoucherStatus.ISSUED).count() >= 2
    settled = reports.settlement(
        actor_for(barber), shop, reports.days_asked(since=oldest.created_at.date().isoformat())
    )
    assert settled.used_total.count >= 5
    assert Redemption.objects.filter(merchant=shop).exists()  # the shop spent what it earned
    # the ledger: every constrained balance is its transfers, nobody below zero, all balances sum to zero
    for account in Account.objects.filter(constrained=True):
        credits = Transfer.objects.filter(credit=account).aggregate(s=Sum("amount"))["s"] or 0
        debits = Transfer.objects.filter(debit=account).aggregate(s=Sum("amount"))["s"] or 0
        assert account.balance == credits - debits >= 0, account
    for community in Community.objects.filter(street__code=demo.STREET_CODE):
        figures = reports.market_figures(staff, community, months)
        assert figures.vouchers_balance == figures.open_voucher_points, community
    # a second run builds nothing
    assert build_market_demo().created is False
    assert Redemption.objects.count() == result.redemptions
