"""Test helpers for the points market, on top of linli.common.testing.make_world()."""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any

from linli.ledger import services as ledger
from linli.market import services
from linli.market.domain import Want
from linli.market.models import Product, ProductKind, Redemption
from linli.market.services import ProductData
from linli.org.access import actor_for
from linli.org.models import Person

_keys = itertools.count(1)


def make_market(w: SimpleNamespace) -> SimpleNamespace:
    """SEEDS 001's shelf in community A (soy sauce 3, detergent 6, rice 15, rapeseed oil 40), a haircut by A's caring
    merchant (w.mA, a voucher), and tissues in B. Adds w.soy, w.detergent, w.rice, w.oil, w.haircut, w.tissuesB."""
    staff = actor_for(w.staff_a)

    def product(name: str, price: int, stock: int, **extra: Any) -> Product:
        data = ProductData(name=name, price=price, category=extra.pop("category", "粮油副食"), **extra)
        return services.product_create(actor=staff, community=w.A, data=data, stock=stock)

    w.soy = product("酱油", 3, 50, unit="瓶", low_stock_at=5)
    w.detergent = product("洗洁精", 6, 30, unit="瓶", category="日用品")
    w.rice = product("大米（5斤装）", 15, 20, unit="袋", low_stock_at=3)
    w.oil = product("菜籽油（5升）", 40, 10, unit="桶")
    w.haircut = product(
        "理发一次",
        5,
        0,
        kind=ProductKind.SERVICE,
        merchant=w.mA,
        tracks_stock=False,
        unit="次",
        category="爱心商户服务",
    )
    w.tissuesB = services.product_create(
        actor=actor_for(w.staff_b), community=w.B, data=ProductData(name="抽纸（一提）", price=30, unit="提"), stock=10
    )
    return w


def give_points(w: SimpleNamespace, person: Person, amount: int) -> None:
    """Award `amount` points to `person` by A's (or B's) staff, as if earned."""
    staff = w.staff_a if person.community_id == w.A.pk else w.staff_b if person.community_id == w.B.pk else w.staff_c
    ledger.award(person=person, amount=amount, actor=staff, idempotency_key=f"test-award-{next(_keys)}")


def buy(w: SimpleNamespace, payer: Any, *lines: tuple[Product, int], user: Any = None, channel: str = "counter",
        key: str | None = None) -> Redemption:  # fmt: skip
    actor = actor_for(user or (w.staff_a if channel == "counter" else w.resident_a1))
    return services.redemption_create(
        actor=actor,
        payer=payer,
        lines=[Want(p.pk, q) for p, q in lines],
        channel=channel,
        idempotency_key=key or f"test-buy-{next(_keys)}",
    ).redemption
