"""Demo data for the points market, on top of the demo street, its points history and its partner units.

Each demo community gets a shelf at SEEDS prices (soy sauce 3, detergent 6, rice 15, tissues 30, rapeseed oil 40 and
about fifteen more goods), a few donated second-hand items, and services: in 府西 from the caring merchants of the
alliance (a free haircut for 5 at the demo barber, a housekeeping visit, an elder-care visit, a 10%-off coupon at the
supermarket) and a one-choice group "本期兑换任选一项" (housekeeping / a daily-goods pack / a farm-produce pack); in
the other two a home visit for elders by a partner unit. Then about three months of exchanges by residents who have
points: about 220 items in 府西 with 5 housekeeping visits used, fewer elsewhere; a few open reservations and vouchers
waiting; the demo barber (19900000007) with haircuts to use and a settlement to see, and the barber's shop spending
some of what it earned; the demo resident (19900000008) with an open reservation and an unused voucher; one closed
stocktake in 府西 with a small variance.

Every change goes through linli.market.services, so stock, limits and points are real and nobody spends more than
they hold; the ledger's transfers are dated now (the past months are sealed), and only the market's own rows (the
redemption, its movements and vouchers) are moved back in time afterwards. Built once: a second run finds the shelf.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from linli.ledger.models import Account
from linli.market import domain, services
from linli.market.domain import Want
from linli.market.models import (
    Channel,
    ChoiceGroup,
    Product,
    ProductKind,
    Redemption,
    StockMovement,
    Stocktake,
    Voucher,
    VoucherStatus,
)
from linli.market.services import ProductData
from linli.org import demo
from linli.org import services as org_services
from linli.org.access import Actor, actor_for
from linli.org.models import Community, Merchant, PartnerUnit, Person, Street, User

SEED = 2026
DAYS = 90
# goods at SEEDS prices (001/002/003) plus everyday things a committee's shelf holds:
# (name, price, unit, category, opening stock in the biggest community, alert at)
GOODS: tuple[tuple[str, int, str, str, int, int], ...] = (
    ("酱油", 3, "瓶", "粮油副食", 120, 10),
    ("香醋", 3, "瓶", "粮油副食", 80, 10),
    ("食盐", 2, "袋", "粮油副食", 100, 10),
    ("挂面", 4, "把", "粮油副食", 80, 10),
    ("鸡蛋（10个）", 6, "盒", "粮油副食", 60, 8),
    ("面粉（5斤装）", 12, "袋", "粮油副食", 30, 5),
    ("大米（5斤装）", 15, "袋", "粮油副食", 40, 5),
    ("菜籽油（5升）", 40, "桶", "粮油副食", 12, 3),
    ("洗洁精", 6, "瓶", "日用品", 60, 8),
    ("洗衣粉", 8, "袋", "日用品", 50, 8),
    ("牙膏", 5, "支", "日用品", 60, 8),
    ("牙刷", 2, "支", "日用品", 80, 10),
    ("香皂", 3, "块", "日用品", 80, 10),
    ("毛巾", 5, "条", "日用品", 40, 5),
    ("口罩（10只）", 3, "包", "日用品", 80, 10),
    ("创可贴", 1, "盒", "日用品", 80, 10),
    ("卷纸（10卷）", 12, "提", "日用品", 30, 5),
    ("抽纸（一提）", 30, "提", "日用品", 15, 3),
    ("作业本（5本）", 2, "套", "文具", 80, 10),
    ("铅笔（10支）", 2, "盒", "文具", 60, 10),
)
CHEAP = frozenset(name for name, price, *_rest in GOODS if price <= 6)
DONATED: tuple[tuple[str, int, int], ...] = (
    ("儿童绘本（捐赠，八成新）", 2, 6),
    ("电饭煲（捐赠，九成新）", 10, 1),
    ("羽绒服（捐赠，洗净）", 8, 2),
    ("台灯（捐赠）", 5, 2),
)
CHOICE_GROUP = "本期兑换任选一项"
# items per community over the three months (府西: SEEDS 003 "210+ items redeemed, 5 housekeeping services used")
TARGET_ITEMS = {demo.FUXI_CODE: 222, demo.DAXING_CODE: 140, demo.BAXIAN_CODE: 70}
HOUSEKEEPING_USED = 5
VISIT_PARTNER = "社区卫生服务站"


@dataclass
class MarketDemo:
    created: bool
    redemptions: int = 0
    seconds: float = 0.0


def _login(key: str) -> User | None:
    phone = next(x["phone"] for x in demo.DEMO_LOGINS if x["key"] == key)
    return User.objects.filter(phone=phone).first()


def build_market_demo() -> MarketDemo:
    started = time.monotonic()
    street = Street.objects.filter(code=demo.STREET_CODE).first()
    admin = _login("street_admin")
    if street is None or admin is None:
        return MarketDemo(created=False)
    communities = list(Community.objects.filter(street=street).order_by("pk"))
    # the shelf may hold donated items already (the points demo's donations reach it through the port)
    if not communities or ChoiceGroup.objects.filter(community__in=communities, name=CHOICE_GROUP).exists():
        return MarketDemo(created=False)
    total = 0
    with transaction.atomic():
        for community in communities:
            total += _Builder(community, actor_for(admin)).build()
    return MarketDemo(created=True, redemptions=total, seconds=time.monotonic() - started)


class _Builder:
    def __init__(self, community: Community, admin: Actor) -> None:
        self.community = community
        self.admin = admin
        self.rng = random.Random(f"{SEED}:market:{community.code}")  # noqa: S311 - repeatable demo data
        self.now = timezone.now()
        self.is_fuxi = community.code == demo.FUXI_CODE
        self.products: dict[str, Product] = {}
        self.stock: dict[int, int] = {}
        self.keys = 0
        self.redemptions = 0

    # --- the shelf ----------------------------------------------------------------------------------------------
    def _product(self, data: ProductData, stock: int = 0) -> Product:
        product = services.product_create(actor=self.admin, community=self.community, data=data, stock=stock)
        self.products[product.name] = product
        self.stock[product.pk] = stock if product.tracks_stock else 10**9
        return product

    def _shelf(self) -> None:
        scale = 1.0 if self.is_fuxi else 0.7
        for position, (name, price, unit, category, stock, low) in enumerate(GOODS):
            self._product(
                ProductData(name=name, price=price, unit=unit, category=category, low_stock_at=low, position=position),
                stock=max(int(stock * scale), low + 2),
            )
        for name, price, stock in DONATED:
            self._product(
                ProductData(
                    name=name, price=price, kind=ProductKind.DONATED, unit="件", category="爱心捐赠", position=50
                ),
                stock=stock,
            )
        if self.is_fuxi:
            self._fuxi_services()
        else:
            self._visit_service()

    def _merchant(self, name: str) -> Merchant | None:
        return Merchant.objects.filter(community=self.community, name=name).first()

    def _fuxi_services(self) -> None:
        barber = self._merchant(demo.DEMO_MERCHANT)
        self._product(
            ProductData(
                name="免费理发一次", price=5, kind=ProductKind.SERVICE, merchant=barber, tracks_stock=False,
                unit="次", category="爱心商户服务", description="每月第一个周一为老人免费理发", position=60,
                limit_per_person=1, limit_period="month",
            )
        )  # fmt: skip
        group = services.choice_group_create(actor=self.admin, community=self.community, name=CHOICE_GROUP)
        self._product(
            ProductData(
                name="家政保洁（2小时）", price=30, kind=ProductKind.SERVICE, merchant=self._merchant("巧手家政服务部"),
                unit="次", category="家政服务", choice_group=group, position=61,
            ),
            stock=12,
        )  # fmt: skip
        self._product(
            ProductData(name="日用品礼包", price=25, unit="份", category="礼包", choice_group=group, position=62),
            stock=10,
        )
        self._product(
            ProductData(
                name="时令农产品礼包", price=20, unit="份", category="礼包", choice_group=group, position=63,
                description="府西果蔬店供应",
            ),
            stock=10,
        )  # fmt: skip
        self._product(
            ProductData(
                name="上门助浴陪护一次", price=20, kind=ProductKind.SERVICE, unit="次", category="助老服务",
                merchant=self._merchant("平安家政服务中心"), tracks_stock=False, position=64,
            )
        )  # fmt: skip
        self._product(
            ProductData(
                name="福满堂超市九折券", price=10, kind=ProductKind.COUPON, merchant=self._merchant("福满堂超市"),
                unit="张", category="优惠券", position=65,
            )
        )  # fmt: skip

    def _visit_service(self) -> None:
        partner = PartnerUnit.objects.filter(community=self.community, name=VISIT_PARTNER).first()
        partner = partner or org_services.partner_create(
            actor=self.admin,
            community=self.community,
            name=VISIT_PARTNER,
            kind="卫生院",
            contact_name=demo.SURNAMES[3] + demo.GIVEN_NAMES[("F", "mid")][2],  # invented, from the pools
        )
        self._product(
            ProductData(
                name="助老上门探访一次", price=8, kind=ProductKind.SERVICE, partner=partner, tracks_stock=False,
                unit="次", category="助老服务", description="测血压、聊聊天、看看家里安全", position=60,
            )
        )  # fmt: skip

    # --- exchanges ------------------------------------------------------------------------------------------------
    def _key(self) -> str:
        self.keys += 1
        return f"demo:market:{self.community.code}:{self.keys}"

    def _buy(self, payer: Person | Merchant, wants: list[tuple[str, int]], at: datetime, *, actor: Actor | None = None,
             channel: str = Channel.COUNTER) -> Redemption:  # fmt: skip
        placed = services.redemption_create(
            actor=actor or self.admin,
            payer=payer,
            lines=[Want(self.products[name].pk, quantity) for name, quantity in wants],
            channel=channel,
            idempotency_key=self._key(),
        ).redemption
        for name, quantity in wants:
            self.stock[self.products[name].pk] -= quantity
        self.redemptions += 1
        self._backdate(placed, at)
        return placed

    def _backdate(self, redemption: Redemption, at: datetime) -> None:
        """Move a redemption made now back to `at`, with its movements and vouchers (the ledger keeps its dates)."""
        fields: dict[str, Any] = {"created_at": at}
        if redemption.handed_over_at is not None:
            fields["handed_over_at"] = at
        Redemption.objects.filter(pk=redemption.pk).update(**fields)
        StockMovement.objects.filter(redemption=redemption).update(created_at=at)
        days = services.market_settings(self.community).voucher_days
        Voucher.objects.filter(line__redemption=redemption).update(
            issued_at=at, valid_until=domain.end_of_day_after(timezone.localtime(at), days)
        )

    def _buyers(self) -> list[tuple[Person, int]]:
        """People of the community holding points, richest first, with what they hold."""
        rows = (
            Account.objects.filter(community=self.community, person__isnull=False, balance__gte=8)
            .exclude(person__phone__in=demo.DEMO_PHONES)  # the demo resident's story is told apart
            .select_related("person")
            .order_by("-balance", "pk")
        )
        return [(a.person, a.balance) for a in rows if a.person is not None and a.person.is_active]

    def _basket(self, budget: int) -> list[tuple[str, int]]:
        goods = [
            (n, p) for n, p in self.products.items() if p.kind in (ProductKind.GOODS, ProductKind.DONATED)
            and p.choice_group_id is None and self.stock[p.pk] > 0 and p.price <= budget
        ]  # fmt: skip
        basket: dict[str, int] = {}
        spent = 0
        for _try in range(12):
            fitting = [(n, p) for n, p in goods if p.price <= budget - spent and self.stock[p.pk] > basket.get(n, 0)]
            if not fitting:
                break
            cheap = [x for x in fitting if x[0] in CHEAP]
            name, product = self.rng.choice(cheap if cheap and self.rng.random() < 0.8 else fitting)
            basket[name] = basket.get(name, 0) + 1
            spent += product.price
        return sorted(basket.items())

    def _times(self, n: int, *, newest_days_ago: int = 3) -> list[datetime]:
        """n moments over the last three months in time order, in opening hours."""
        out = []
        for _i in range(n):
            day = self.now - timedelta(days=self.rng.randint(newest_days_ago, DAYS))
            local = timezone.localtime(day).replace(hour=self.rng.randint(9, 17), minute=self.rng.randint(0, 59))
            out.append(local)
        return sorted(out)

    def _history(self) -> None:
        target = TARGET_ITEMS.get(self.community.code, 60)
        if self.is_fuxi:
            self._housekeeping()
            self._haircuts()
        else:
            self._visits()
        buyers = self._buyers()
        plans: list[tuple[Person, list[tuple[str, int]]]] = []
        items = 0  # goods: the services above are counted apart
        budgets = {p.pk: int(balance * 0.7) for p, balance in buyers}
        rounds = 0
        while items < target and rounds < 6:
            rounds += 1
            for person, _balance in buyers:
                budget = budgets.get(person.pk, 0) // (3 if rounds == 1 else 2)
                if budget < 2 or items >= target:
                    continue
                basket = self._basket(budget)
                if not basket:
                    continue
                for name, quantity in basket:  # reserve the stock for this plan
                    self.stock[self.products[name].pk] -= quantity
                plans.append((person, basket))
                items += sum(q for _n, q in basket)
                budgets[person.pk] -= sum(self.products[n].price * q for n, q in basket)
        for name in {n for _p, b in plans for n, _q in b}:  # give the planned stock back; _buy takes it again
            pk = self.products[name].pk
            self.stock[pk] += sum(q for _p, b in plans for n, q in b if n == name)
        for (person, basket), at in zip(plans, self._times(len(plans)), strict=True):
            self._buy(person, basket, at)

    def _housekeeping(self) -> int:
        """Five housekeeping visits bought and used (SEEDS 003), one more waiting."""
        able = [p for p, balance in self._buyers() if balance >= 30][: HOUSEKEEPING_USED + 1]
        for i, (person, at) in enumerate(zip(able, self._times(len(able), newest_days_ago=5), strict=True)):
            waiting = i >= HOUSEKEEPING_USED  # the last one was bought lately and is still waiting
            redemption = self._buy(person, [("家政保洁（2小时）", 1)], self.now - timedelta(days=2) if waiting else at)
            if not waiting:
                self._use(redemption, at + timedelta(days=self.rng.randint(1, 4)))
        return len(able)

    def _haircuts(self) -> int:
        """Elders' haircuts: most used by the demo barber, a few waiting for them to use."""
        barber = _login("merchant_operator")
        barber_actor = actor_for(barber) if barber is not None else self.admin
        able = [p for p, balance in self._buyers() if balance >= 5][-12:]  # not only the richest
        times = self._times(len(able), newest_days_ago=1)
        for i, (person, at) in enumerate(zip(able, times, strict=True)):
            recent = i >= len(able) - 4
            at = self.now - timedelta(days=1 + i % 3, hours=2) if recent else at
            redemption = self._buy(person, [("免费理发一次", 1)], at)
            if not recent:
                self._use(redemption, at + timedelta(days=self.rng.randint(0, 6)), actor=barber_actor)
        # the barber's shop spends some of the points it earned for free haircuts (issue 5 item 5)
        shop = self._merchant(demo.DEMO_MERCHANT)
        earned = Account.objects.filter(merchant=shop).values_list("balance", flat=True).first() if shop else 0
        if shop is not None and (earned or 0) >= 11:  # served at the counter like anyone
            self._buy(shop, [("洗洁精", 1), ("毛巾", 1)], self.now - timedelta(days=20))
        return len(able)

    def _visits(self) -> int:
        able = [p for p, balance in self._buyers() if balance >= 8][:6]
        for i, (person, at) in enumerate(zip(able, self._times(len(able), newest_days_ago=8), strict=True)):
            redemption = self._buy(person, [("助老上门探访一次", 1)], at)
            if i % 3 != 2:
                self._use(redemption, at + timedelta(days=2))
        return len(able)

    def _use(self, redemption: Redemption, at: datetime, *, actor: Actor | None = None) -> None:
        """Use the redemption's vouchers at `at`. They were moved back already: open them for the moment of use (the
        service refuses an expired voucher), then put their dates back."""
        at = min(at, self.now - timedelta(hours=1))
        days = services.market_settings(self.community).voucher_days
        for voucher in Voucher.objects.filter(line__redemption=redemption, status=VoucherStatus.ISSUED):
            Voucher.objects.filter(pk=voucher.pk).update(valid_until=self.now + timedelta(days=1))
            services.voucher_use(
                actor=actor or self.admin, voucher=voucher, code=voucher.code, idempotency_key=f"demo:use:{voucher.pk}"
            )
            Voucher.objects.filter(pk=voucher.pk).update(
                used_at=at, valid_until=domain.end_of_day_after(timezone.localtime(voucher.issued_at), days)
            )

    def _resident(self) -> None:
        """The demo resident (大兴东路社区): an open reservation to pick up and a visit voucher waiting."""
        person = demo.demo_resident_person()
        if person.community_id != self.community.pk or person.user is None:
            return
        me = actor_for(person.user)
        balance = Account.objects.filter(person=person).values_list("balance", flat=True).first() or 0
        if balance >= 8:
            self._buy(person, [("助老上门探访一次", 1)], self.now - timedelta(days=3), actor=me, channel=Channel.PHONE)
            balance -= 8
        basket = [("酱油", 1), ("洗洁精", 1)] if balance >= 9 else [("酱油", 1)] if balance >= 3 else []
        if basket:
            self._buy(person, basket, self.now - timedelta(hours=5), actor=me, channel=Channel.PHONE)

    def _reservations(self) -> None:
        """A few residents with a login reserved on the phone and have not picked up yet."""
        with_login = [p for p, balance in self._buyers() if p.user_id and balance >= 6][:3]
        for i, person in enumerate(with_login):
            assert person.user is not None
            self._buy(person, [("牙膏", 1)], self.now - timedelta(days=i + 1), actor=actor_for(person.user),
                      channel=Channel.PHONE)  # fmt: skip

    def _stocktake(self) -> None:
        """A count two weeks ago: everything as booked except one bottle of soy sauce missing."""
        take = services.stocktake_start(actor=self.admin, community=self.community, note="月度清点")
        soy = self.products["酱油"].pk
        counts: dict[int, int | None] = {
            line.product_id: line.expected - (1 if line.product_id == soy else 0) for line in take.lines.all()
        }
        services.stocktake_count(actor=self.admin, stocktake=take, counts=counts)
        services.stocktake_close(actor=self.admin, stocktake=take)
        at = self.now - timedelta(days=14)
        Stocktake.objects.filter(pk=take.pk).update(started_at=at - timedelta(hours=2), closed_at=at)
        StockMovement.objects.filter(stocktake=take).update(created_at=at)

    def _receipts(self) -> None:
        """The opening stock arrived three months ago; a second delivery of staples six weeks ago."""
        StockMovement.objects.filter(community=self.community, redemption__isnull=True, stocktake__isnull=True).update(
            created_at=self.now - timedelta(days=DAYS + 2)
        )
        for name in ("大米（5斤装）", "酱油", "食盐", "洗洁精"):
            product = self.products[name]
            quantity = 20 if product.price <= 6 else 10
            movement = services.stock_receive(
                actor=self.admin, product=product, quantity=quantity, reason="街道统一配送"
            )
            StockMovement.objects.filter(pk=movement.pk).update(created_at=self.now - timedelta(days=42))
            self.stock[product.pk] += quantity

    def _expire(self) -> None:
        """What the daily sweep would have done by now: vouchers past their date give their points back."""
        services.market_sweep(community=self.community)
        Voucher.objects.filter(community=self.community, status=VoucherStatus.EXPIRED).update(
            closed_at=F("valid_until")
        )

    def build(self) -> int:
        self._shelf()
        self._receipts()
        self._history()
        self._reservations()
        self._resident()
        if self.is_fuxi:
            self._stocktake()
        self._expire()
        return self.redemptions


def demo_figures(community: Community) -> dict[str, int]:
    """What the demo should show, straight from the rows (for the demo test and a quick look)."""
    used = Voucher.objects.filter(community=community, status=VoucherStatus.USED)
    return {
        "redemptions": Redemption.objects.filter(community=community).count(),
        "housekeeping_used": used.filter(product__category="家政服务").count(),
        "vouchers_open": Voucher.objects.filter(community=community, status=VoucherStatus.ISSUED).count(),
        "choice_groups": ChoiceGroup.objects.filter(community=community).count(),
    }
