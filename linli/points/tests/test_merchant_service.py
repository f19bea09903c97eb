"""Caring merchants earning points through the earning rules (linli/points/merchant_service.py, views_merchants.py).

Rules of linli.points.testing.make_catalogue in community A: cleanup 3 per full hour (daily cap 9, monthly 60),
mediation 8 per occurrence. The shop is A's barber mA (operator merchant_op_a).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from linli.common.errors import Invalid, NotFound
from linli.common.models import AuditEvent
from linli.common.testing import client_for
from linli.ledger.errors import IdempotencyKeyReused
from linli.ledger.models import SystemAccount, Transfer, TransferKind
from linli.ledger.selectors import merchant_balance
from linli.market import services as market
from linli.market.domain import Want
from linli.market.services import ProductData
from linli.org.access import actor_for
from linli.org.models import User
from linli.points.errors import CapExceeded, NoPoints
from linli.points.merchant_service import Recorded, merchant_service_record, merchant_services, service_points
from linli.points.models import MerchantService, Rule, Unit
from linli.points.testing import make_catalogue

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    return make_catalogue(world)


def record(
    w: SimpleNamespace,
    rule: Rule,
    quantity: object,
    key: str,
    *,
    user: User | None = None,
    occurred_on: date | None = None,
    note: str = "",
) -> Recorded:
    return merchant_service_record(
        actor=actor_for(user or w.staff_a),
        merchant=w.mA,
        rule=rule,
        quantity=quantity,
        occurred_on=occurred_on or timezone.localdate(),
        note=note,
        idempotency_key=key,
    )


def test_points_as_claims_count_them() -> None:
    assert service_points(points=3, unit=Unit.HOUR, quantity=Decimal("2.5")) == 6  # full hours
    assert service_points(points=8, unit=Unit.OCCURRENCE, quantity=Decimal("3")) == 24
    assert service_points(points=1, unit=Unit.KG, quantity=Decimal("2.5")) == 2


def test_hours_post_points_from_issuance_to_the_shop(w: SimpleNamespace) -> None:
    done = record(w, w.cleanup, "2.5", "k1", note="为独居老人打扫")
    assert not done.replayed
    s = done.service
    assert (s.points, s.unit, s.version_id, s.rule_id) == (6, Unit.HOUR, w.cleanup.current_id, w.cleanup.pk)
    assert merchant_balance(w.mA.pk) == 6
    transfer = Transfer.objects.get(ref_type="merchant_service", ref_id=s.pk)
    assert transfer.pk == s.transfer_id
    assert (transfer.kind, transfer.ref_type, transfer.ref_id, transfer.amount) == (
        TransferKind.AWARD, "merchant_service", s.pk, 6,
    )  # fmt: skip
    assert transfer.debit.system_code == SystemAccount.ISSUANCE and transfer.credit.merchant_id == w.mA.pk
    assert AuditEvent.objects.filter(action="points.merchant_service_record").count() == 1
    times = record(w, w.mediation, 3, "k2")
    assert times.service.points == 24 and merchant_balance(w.mA.pk) == 30
    assert [x.points for x in merchant_services(actor_for(w.staff_a), w.mA)] == [24, 6]


def test_caps_hold_per_merchant_and_nothing_is_half_written(w: SimpleNamespace) -> None:
    record(w, w.cleanup, "2", "c1")
    record(w, w.cleanup, "1", "c2")  # 9: the daily cap exactly
    transfers = Transfer.objects.count()
    with pytest.raises(CapExceeded) as refused:
        record(w, w.cleanup, "1", "c3")
    assert refused.value.status == 409 and refused.value.details["left"] == 0
    assert Transfer.objects.count() == transfers and MerchantService.objects.count() == 2
    assert merchant_balance(w.mA.pk) == 9
    record(w, w.cleanup, "1", "c4", occurred_on=timezone.localdate() - timedelta(days=1))  # another day


def test_idempotent(w: SimpleNamespace) -> None:
    first = record(w, w.cleanup, "2", "same")
    again = record(w, w.cleanup, "2", "same")
    assert again.replayed and again.service.pk == first.service.pk
    assert Transfer.objects.filter(ref_type="merchant_service").count() == 1 and merchant_balance(w.mA.pk) == 6
    with pytest.raises(IdempotencyKeyReused):
        record(w, w.cleanup, "3", "same")


@pytest.mark.parametrize(
    ("quantity", "extra", "code"),
    [
        ("abc", {}, "quantity_invalid"),
        ("0", {}, "quantity_invalid"),
        ("-2", {}, "quantity_invalid"),
        ("2", {"occurred_on": timezone.localdate() + timedelta(days=1)}, "date_future"),
        ("2", {"occurred_on": timezone.localdate() - timedelta(days=400)}, "date_too_old"),
        ("2", {"note": "x" * 301}, "note_too_long"),
    ],
)
def test_bad_input_is_refused(w: SimpleNamespace, quantity: str, extra: dict[str, Any], code: str) -> None:
    with pytest.raises(Invalid) as refused:
        record(w, w.cleanup, quantity, "bad", **extra)
    assert refused.value.code == code
    assert not MerchantService.objects.exists() and merchant_balance(w.mA.pk) == 0


def test_less_than_a_full_hour_earns_nothing(w: SimpleNamespace) -> None:
    with pytest.raises(NoPoints):
        record(w, w.cleanup, "0.5", "half")


def test_a_rule_of_another_community_is_refused(w: SimpleNamespace) -> None:
    with pytest.raises(Invalid) as refused:
        record(w, w.cleanupB, "2", "b")
    assert refused.value.code == "other_community"


def test_only_staff_award(w: SimpleNamespace) -> None:
    for user in (w.merchant_op_a, w.auditor_a, w.grid_chief_a1, w.staff_b, w.resident_a1):
        with pytest.raises(NotFound):
            record(w, w.cleanup, "2", f"who-{user.pk}", user=user)
    assert record(w, w.cleanup, "2", "admin", user=w.street_admin).service.points == 6


def test_the_shop_spends_what_it_earned_in_the_market(w: SimpleNamespace) -> None:
    record(w, w.mediation, 2, "earn")  # 16
    staff = actor_for(w.staff_a)
    soap = market.product_create(actor=staff, community=w.A, data=ProductData(name="洗洁精", price=6), stock=5)
    placed = market.redemption_create(
        actor=staff, payer=w.mA, lines=[Want(soap.pk, 2)], channel="counter", idempotency_key="shop-buys"
    )
    assert placed.redemption.balance_after == 4 and merchant_balance(w.mA.pk) == 4


def test_the_page_records_and_lists(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    page = staff.get(f"/points/merchants/services/?merchant={w.mA.pk}")
    assert page.status_code == 200 and 'data-testid="balance">0<' in page.content.decode()
    body = {"merchant": w.mA.pk, "rule": w.cleanup.pk, "quantity": "3", "occurred_on": timezone.localdate()}
    posted = staff.post("/points/merchants/services/", {**body, "idempotency_key": "form-1"})
    assert posted.status_code == 302
    staff.post("/points/merchants/services/", {**body, "idempotency_key": "form-1"})  # a double click
    assert merchant_balance(w.mA.pk) == 9 and MerchantService.objects.count() == 1
    listed = staff.get(f"/points/merchants/services/?merchant={w.mA.pk}").content.decode()
    assert 'data-testid="balance">9<' in listed and "环境清扫" in listed
    capped = staff.post("/points/merchants/services/", {**body, "quantity": "1", "idempotency_key": "form-2"})
    assert capped.status_code == 400 and MerchantService.objects.count() == 1
    bad = staff.post("/points/merchants/services/", {**body, "quantity": "x", "idempotency_key": "form-3"})
    assert bad.status_code == 400
    assert client_for(w.merchant_op_a).get(f"/points/merchants/services/?merchant={w.mA.pk}").status_code in (403, 404)
    shops = staff.get(f"/points/merchants/services/?community={w.A.pk}")
    assert shops.status_code == 200 and "老街理发店" in shops.content.decode()
