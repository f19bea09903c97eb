"""The market on a resident's phone: balance on the shelf, reserving once however often it is tapped, refusals in
plain words with nothing written, cancelling, and vouchers with their codes."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse

from linli.common.testing import client_for
from linli.ledger import services as ledger
from linli.ledger.models import SystemAccount
from linli.ledger.selectors import person_balance
from linli.market import domain, services
from linli.market.models import Product, Redemption, RedemptionStatus, StockMovement, Voucher
from linli.market.testing import buy, give_points, make_market
from linli.org.access import actor_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    # the words on the page are asserted in English (msgids); zh-hans is checked by the browser test
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    return make_market(world)


def _reserve(client: Any, product: Product, key: str = "k1", quantity: int = 1, pay: str = "") -> Any:
    data = {"product": product.pk, "quantity": quantity, "request_key": key, "pay": pay}
    return client.post(reverse("market:reserve"), data)


def test_the_shelf_says_how_many_points_and_what_is_out_of_reach(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 17)
    page = client_for(w.resident_a1).get(reverse("market:shelf")).content.decode()
    assert 'data-testid="balance">17<' in page
    assert "大米（5斤装）" in page and "菜籽油（5升）" in page
    assert page.count('data-testid="reserve"') == 4  # soy 3, detergent 6, rice 15, haircut 5 — not the oil (40)
    assert "You need 23 more points" in page
    assert "抽纸" not in page  # B's shelf is not A's


def test_the_shelf_filters_by_kind_search_and_category(w: SimpleNamespace) -> None:
    client = client_for(w.resident_a1)
    services_only = client.get(reverse("market:shelf"), {"kind": "service"}).content.decode()
    assert "理发一次" in services_only and "酱油" not in services_only
    found = client.get(reverse("market:shelf"), {"q": "米"}).content.decode()
    assert "大米（5斤装）" in found and "酱油" not in found
    shelf = client.get(reverse("market:shelf"), {"category": "日用品"}).content.decode()
    assert "洗洁精" in shelf and "大米" not in shelf


def test_staff_see_the_shelf_without_buttons(w: SimpleNamespace) -> None:
    page = client_for(w.staff_a).get(reverse("market:shelf")).content.decode()
    assert "酱油" in page and 'data-testid="reserve"' not in page and 'data-testid="balance"' not in page


def test_reserving_twice_with_the_same_key_reserves_once(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 30)
    client = client_for(w.resident_a1)
    first = _reserve(client, w.rice, key="double-tap")
    second = _reserve(client, w.rice, key="double-tap")
    redemption = Redemption.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == reverse("market:my_redemption", args=[redemption.pk])
    assert redemption.status == RedemptionStatus.RESERVED and redemption.channel == "phone"
    assert person_balance(w.pA1.pk) == 15
    w.rice.refresh_from_db()
    assert w.rice.stock == 19
    page = client.get(first["Location"]).content.decode()
    assert str(redemption.number) in page and 'data-testid="qr"' in page and "<svg" in page
    assert 'data-testid="balance">15<' in page
    assert redemption.reserved_until is not None and redemption.reserved_until.strftime("%Y-%m-%d") in page


def test_the_same_key_for_another_item_is_refused_and_writes_nothing(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 30)
    client = client_for(w.resident_a1)
    _reserve(client, w.rice, key="k")
    response = _reserve(client, w.soy, key="k")
    assert response.status_code == 409
    assert Redemption.objects.count() == 1 and person_balance(w.pA1.pk) == 15


def test_out_of_stock_is_said_on_the_shelf_and_nothing_is_half_done(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 500)
    client = client_for(w.resident_a1)
    response = _reserve(client, w.rice, quantity=21)
    page = response.content.decode()
    assert response.status_code == 409
    assert 'data-testid="error"' in page and "“大米（5斤装）” is out of stock (20 left)" in page
    assert not Redemption.objects.exists() and person_balance(w.pA1.pk) == 500
    w.rice.refresh_from_db()
    assert w.rice.stock == 20 and not StockMovement.objects.filter(kind="redemption").exists()
    assert 'value="21"' in page  # what was typed is kept on the card


def test_sold_out_items_say_so_in_words(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 100)
    services.stock_adjust(actor=actor_for(w.staff_a), product=w.oil, change=-10, reason="坏了")
    services.stock_adjust(actor=actor_for(w.staff_a), product=w.rice, change=-18, reason="盘亏")
    page = client_for(w.resident_a1).get(reverse("market:shelf")).content.decode()
    assert "Out of stock" in page and "Only 2 left" in page


def test_not_enough_points_and_bad_quantities_are_refused_inline(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 10)
    client = client_for(w.resident_a1)
    poor = _reserve(client, w.oil)
    assert poor.status_code == 409 and 'data-testid="error"' in poor.content.decode()
    for quantity in (0, 100, "lots"):
        bad = client.post(reverse("market:reserve"), {"product": w.soy.pk, "quantity": quantity, "request_key": "q"})
        assert bad.status_code == 400 and 'data-testid="error"' in bad.content.decode()
    elsewhere = _reserve(client, w.tissuesB, key="b")  # B's item from A's phone
    assert elsewhere.status_code == 400
    missing = client.post(reverse("market:reserve"), {"quantity": 1, "request_key": "m"})
    assert missing.status_code == 400
    assert not Redemption.objects.exists() and person_balance(w.pA1.pk) == 10


def test_a_limit_is_refused_inline(w: SimpleNamespace) -> None:
    w.soy.limit_per_person = 2
    w.soy.save()
    give_points(w, w.pA1, 30)
    client = client_for(w.resident_a1)
    assert "At most 2 瓶 per month per person" in client.get(reverse("market:shelf")).content.decode()
    response = _reserve(client, w.soy, quantity=3)
    assert response.status_code == 409 and not Redemption.objects.exists()


def test_cancel_gives_points_and_goods_back(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 15)
    client = client_for(w.resident_a1)
    redemption_url = _reserve(client, w.rice)["Location"]
    redemption = Redemption.objects.get()
    assert person_balance(w.pA1.pk) == 0
    cancel = reverse("market:my_redemption_cancel", args=[redemption.pk])
    assert client.post(cancel).status_code == 302
    assert client.post(cancel).status_code == 302  # twice is once
    redemption.refresh_from_db()
    w.rice.refresh_from_db()
    assert redemption.status == RedemptionStatus.CANCELLED and person_balance(w.pA1.pk) == 15 and w.rice.stock == 20
    page = client.get(redemption_url).content.decode()
    assert 'data-testid="cancel"' not in page and 'data-testid="qr"' not in page


def test_a_picked_up_reservation_cannot_be_cancelled_and_says_picked_up(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 15)
    client = client_for(w.resident_a1)
    _reserve(client, w.rice)
    redemption = Redemption.objects.get()
    services.redemption_hand_over(actor=actor_for(w.staff_a), redemption=redemption)
    refused = client.post(reverse("market:my_redemption_cancel", args=[redemption.pk]))
    assert refused.status_code == 409 and 'data-testid="error"' in refused.content.decode()
    assert person_balance(w.pA1.pk) == 0
    page = client.get(reverse("market:my_redemption", args=[redemption.pk])).content.decode()
    assert 'data-testid="status">Picked up<' in page


def test_someone_elses_redemption_and_voucher_are_not_found(w: SimpleNamespace) -> None:
    give_points(w, w.pA1b, 20)
    other = buy(w, w.pA1b, (w.haircut, 1))
    voucher = Voucher.objects.get(person=w.pA1b)
    client = client_for(w.resident_a1)
    assert client.get(reverse("market:my_redemption", args=[other.pk])).status_code == 404
    assert client.post(reverse("market:my_redemption_cancel", args=[other.pk])).status_code == 404
    assert client.get(reverse("market:my_voucher", args=[voucher.pk])).status_code == 404


def test_vouchers_ready_first_with_the_code_in_big_letters(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 20)
    client = client_for(w.resident_a1)
    used = buy(w, w.pA1, (w.haircut, 1), channel="phone")
    first = Voucher.objects.get(line__redemption=used)
    services.voucher_use(actor=actor_for(w.merchant_op_a), voucher=first, code=first.code, idempotency_key="u")
    _reserve(client, w.haircut, key="second")
    ready = Voucher.objects.exclude(pk=first.pk).get()
    page = client.get(reverse("market:mine")).content.decode()
    assert page.index(domain.format_code(ready.code)) < page.index(domain.format_code(first.code))
    assert "老街理发店" in page
    full = client.get(reverse("market:my_voucher", args=[ready.pk])).content.decode()
    assert f'data-testid="code">{domain.format_code(ready.code)}<' in full and 'data-testid="qr"' in full
    spent = client.get(reverse("market:my_voucher", args=[first.pk])).content.decode()
    assert 'data-testid="qr"' not in spent and 'data-testid="status">Used<' in spent


def test_a_shop_reserves_from_its_own_points(w: SimpleNamespace) -> None:
    ledger.transfer_post(
        debit=ledger.system_account(w.A, SystemAccount.ISSUANCE),
        credit=ledger.account_for_merchant(w.mA),
        amount=20,
        kind="award",
        actor=w.staff_a,
        idempotency_key="shop-earned",
    )
    client = client_for(w.merchant_op_a)
    shelf = client.get(reverse("market:shelf")).content.decode()
    assert 'data-testid="balance">20<' in shelf and "老街理发店" in shelf
    response = _reserve(client, w.rice, pay=str(w.mA.pk))
    redemption = Redemption.objects.get()
    assert response.status_code == 302 and redemption.merchant == w.mA and redemption.person is None
    assert client.get(reverse("market:my_redemption", args=[redemption.pk])).status_code == 200
    assert str(redemption.number) in client.get(reverse("market:mine")).content.decode()


def test_someone_who_is_resident_and_shopkeeper_picks_who_pays(w: SimpleNamespace) -> None:
    from linli.org.models import Role, RoleAssignment

    RoleAssignment.objects.create(user=w.resident_a1, role=Role.MERCHANT_OPERATOR, merchant=w.mA)
    give_points(w, w.pA1, 7)
    client = client_for(w.resident_a1)
    me = client.get(reverse("market:shelf")).content.decode()
    assert 'data-testid="balance">7<' in me and f"?pay={w.mA.pk}" in me
    shop = client.get(reverse("market:shelf"), {"pay": str(w.mA.pk)}).content.decode()
    assert 'data-testid="balance">0<' in shop
