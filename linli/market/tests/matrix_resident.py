"""Page permission rows for the market on a resident's phone (see linli/common/tests/matrix.py).

The shelf: everyone who lives or works in a community reads it (residents and caring merchants with their points and
reserve buttons, everyone else as residents see it). Reserving, "my redemptions" and "my vouchers" are for those who
pay with points: the resident (pA1) and the merchant operator (their shop); everyone else is refused (403), and
another payer's redemption or voucher is not found (404).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from linli.common.tests.matrix import EVERYONE, Page
from linli.ledger import services as ledger
from linli.ledger.models import SystemAccount
from linli.market.models import Product, Redemption, Voucher
from linli.market.services import ProductData, product_create
from linli.market.testing import buy, give_points
from linli.org.access import actor_for

PAYERS = frozenset({"resident_a1", "merchant_op_a"})
RESIDENT = frozenset({"resident_a1"})


def _soap(w: SimpleNamespace) -> Product:
    found = Product.objects.filter(community=w.A, name="肥皂").first()
    if found is not None:
        return found
    return product_create(actor=actor_for(w.staff_a), community=w.A, data=ProductData(name="肥皂", price=2), stock=50)


def _haircut(w: SimpleNamespace) -> Product:
    found = Product.objects.filter(community=w.A, name="理发一次").first()
    if found is not None:
        return found
    data = ProductData(name="理发一次", price=5, kind="service", merchant=w.mA, tracks_stock=False)
    return product_create(actor=actor_for(w.staff_a), community=w.A, data=data)


def _reservation(w: SimpleNamespace) -> int:
    """A reservation of pA1's, waiting to be picked up."""
    found = Redemption.objects.filter(person=w.pA1, status="reserved").first()
    if found is not None:
        return found.pk
    give_points(w, w.pA1, 10)
    return buy(w, w.pA1, (_soap(w), 1), channel="phone").pk


def _voucher(w: SimpleNamespace) -> int:
    found = Voucher.objects.filter(person=w.pA1).first()
    if found is not None:
        return found.pk
    give_points(w, w.pA1, 5)
    buy(w, w.pA1, (_haircut(w), 1), channel="phone")
    return Voucher.objects.get(person=w.pA1).pk


def _reserve_data(w: SimpleNamespace) -> dict[str, Any]:
    """Points for both payers (pA1, and the shop mA as if earned), and one soap to reserve."""
    give_points(w, w.pA1, 10)
    ledger.transfer_post(
        debit=ledger.system_account(w.A, SystemAccount.ISSUANCE),
        credit=ledger.account_for_merchant(w.mA),
        amount=10,
        kind="award",
        actor=w.staff_a,
        idempotency_key=f"matrix-shop-{w.mA.pk}-{Redemption.objects.count()}",
    )
    return {"product": _soap(w).pk, "quantity": 1, "request_key": "matrix-reserve"}


def _nothing_reserved(w: SimpleNamespace) -> bool:
    return not Redemption.objects.exists()


def _still_reserved(w: SimpleNamespace) -> bool:
    return Redemption.objects.filter(person=w.pA1, status="reserved").count() == 1


PAGES: list[Page] = [
    Page("market:shelf", EVERYONE),
    Page(
        "market:reserve",
        PAYERS,
        method="POST",
        data=_reserve_data,
        unchanged=_nothing_reserved,
    ),
    Page("market:mine", PAYERS),
    Page("market:my_redemption", RESIDENT, args=lambda w: [_reservation(w)]),
    Page(
        "market:my_redemption_cancel",
        RESIDENT,
        method="POST",
        args=lambda w: [_reservation(w)],
        unchanged=_still_reserved,
    ),
    Page("market:my_voucher", RESIDENT, args=lambda w: [_voucher(w)]),
]
