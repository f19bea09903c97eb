"""The merchant's voucher desk (核销): only its own shop's codes are found, the holder's name is masked, a double tap
uses a voucher once, and used or expired vouchers say so."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.common.testing import client_for
from linli.ledger.models import Transfer
from linli.ledger.selectors import person_balance
from linli.market import domain, services
from linli.market.models import Voucher, VoucherStatus
from linli.market.services import ProductData
from linli.market.testing import buy, give_points, make_market
from linli.org.access import actor_for
from linli.org.models import Merchant, Role, RoleAssignment, User

pytestmark = pytest.mark.django_db

DESK = "market:voucher_desk"


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    w = make_market(world)
    give_points(w, w.pA1, 20)
    w.voucher = Voucher.objects.get(line__redemption=buy(w, w.pA1, (w.haircut, 1)))
    return w


def _use(client: Any, voucher: Voucher, key: str = "tap") -> Any:
    return client.post(reverse("market:voucher_use", args=[voucher.pk]), {"request_key": key, "code": voucher.code})


def test_the_desk_finds_a_typed_or_scanned_code_and_masks_the_name(w: SimpleNamespace) -> None:
    client = client_for(w.merchant_op_a)
    typed = domain.format_code(w.voucher.code).lower()  # "k7m2-q9xd" as a person types it
    for code in (typed, domain.VOUCHER_QR_PREFIX + w.voucher.code):
        page = client.get(reverse(DESK), {"code": code}).content.decode()
        assert 'data-testid="found"' in page and 'data-testid="confirm"' in page
        assert 'data-testid="holder">王*英<' in page
        assert "王秀英" not in page  # the full name never reaches the merchant's screen
        assert "理发一次" in page


def test_the_desk_finds_only_its_own_shops_codes(w: SimpleNamespace) -> None:
    other = Merchant.objects.create(community=w.A, name="街角洗衣店")
    laundry = services.product_create(
        actor=actor_for(w.staff_a),
        community=w.A,
        data=ProductData(name="洗衣一次", price=4, kind="service", merchant=other, tracks_stock=False),
    )
    theirs = Voucher.objects.get(line__redemption=buy(w, w.pA1, (laundry, 1)))
    response = client_for(w.merchant_op_a).get(reverse(DESK), {"code": theirs.code})
    page = response.content.decode()
    assert response.status_code == 404 and 'data-testid="error"' in page and 'data-testid="found"' not in page
    assert "洗衣一次" not in page
    refused = _use(client_for(w.merchant_op_a), theirs)
    assert refused.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == VoucherStatus.ISSUED
    # the laundry's own operator finds it
    grocer = User.objects.create_user(phone="13700000099", password="x", name="洗衣店主")
    RoleAssignment.objects.create(user=grocer, role=Role.MERCHANT_OPERATOR, merchant=other)
    assert client_for(grocer).get(reverse(DESK), {"code": theirs.code}).status_code == 200


def test_nonsense_and_empty_codes_are_answered_not_crashed(w: SimpleNamespace) -> None:
    client = client_for(w.merchant_op_a)
    assert client.get(reverse(DESK), {"code": ""}).status_code == 400
    assert client.get(reverse(DESK), {"code": "NOT-A-CODE"}).status_code == 404
    assert client.get(reverse(DESK), {"code": "x" * 500}).status_code == 400
    assert client.get(reverse(DESK), {"done": "abc"}).status_code == 200


def test_confirming_twice_with_the_same_key_uses_once(w: SimpleNamespace) -> None:
    client = client_for(w.merchant_op_a)
    transfers = Transfer.objects.count()
    first = _use(client, w.voucher, key="double")
    second = _use(client, w.voucher, key="double")
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
    assert Transfer.objects.count() == transfers + 1
    w.voucher.refresh_from_db()
    assert w.voucher.status == VoucherStatus.USED and w.voucher.used_by == w.merchant_op_a
    done = client.get(first["Location"]).content.decode()
    used_at = timezone.localtime(w.voucher.used_at).strftime("%H:%M")
    assert 'data-testid="success"' in done and f"Used ✓ at {used_at}" in done
    assert "王*英" in done and "王秀英" not in done  # also in the recent uses below


def test_a_used_voucher_says_when_and_by_whom(w: SimpleNamespace) -> None:
    client = client_for(w.merchant_op_a)
    _use(client, w.voucher, key="first")
    again = _use(client, w.voucher, key="another-tap")  # a new key: refused, not used twice
    assert again.status_code == 409 and 'data-testid="error"' in again.content.decode()
    page = client.get(reverse(DESK), {"code": w.voucher.code}).content.decode()
    assert 'data-testid="already"' in page and "店主" in page and 'data-testid="confirm"' not in page


def test_an_expired_voucher_says_its_points_went_back(w: SimpleNamespace) -> None:
    Voucher.objects.filter(pk=w.voucher.pk).update(valid_until=timezone.now() - timedelta(days=1))
    client = client_for(w.merchant_op_a)
    page = client.get(reverse(DESK), {"code": w.voucher.code}).content.decode()
    assert 'data-testid="expired"' in page and 'data-testid="confirm"' not in page
    assert _use(client, w.voucher).status_code == 409
    services.market_sweep()
    w.voucher.refresh_from_db()
    assert w.voucher.status == VoucherStatus.EXPIRED and person_balance(w.pA1.pk) == 20
    swept = client.get(reverse(DESK), {"code": w.voucher.code}).content.decode()
    assert 'data-testid="expired"' in swept and "points go back" in swept


def test_staff_use_the_desk_for_their_community_only(w: SimpleNamespace) -> None:
    staff_a = client_for(w.staff_a)
    assert staff_a.get(reverse(DESK), {"code": w.voucher.code}).status_code == 200
    staff_b = client_for(w.staff_b)
    assert staff_b.get(reverse(DESK), {"code": w.voucher.code}).status_code == 404
    assert _use(staff_b, w.voucher).status_code == 404
    # the street admin at B's desk does not find A's voucher; at A's desk they do
    admin = client_for(w.street_admin)
    assert admin.get(reverse(DESK), {"code": w.voucher.code, "community": w.B.pk}).status_code == 404
    assert admin.get(reverse(DESK), {"code": w.voucher.code, "community": w.A.pk}).status_code == 200


def test_residents_and_grid_workers_have_no_desk(w: SimpleNamespace) -> None:
    for user in (w.resident_a1, w.grid_worker_a1, w.auditor_a):
        assert client_for(user).get(reverse(DESK)).status_code == 403


def test_the_resident_sees_the_voucher_used(w: SimpleNamespace) -> None:
    _use(client_for(w.merchant_op_a), w.voucher)
    page = client_for(w.resident_a1).get(reverse("market:my_voucher", args=[w.voucher.pk])).content.decode()
    assert 'data-testid="status">Used<' in page


def test_using_a_voucher_needs_its_code(w: SimpleNamespace) -> None:
    """An operator who only knows a voucher's id (from a list, a guess) cannot use it."""
    client = client_for(w.merchant_op_a)
    url = reverse("market:voucher_use", args=[w.voucher.pk])
    assert client.post(url, {"request_key": "guess", "code": "ZZZZZZZZ"}).status_code == 404
    assert client.post(url, {"request_key": "guess"}).status_code == 400
    assert Voucher.objects.get(pk=w.voucher.pk).status == VoucherStatus.ISSUED
