"""The staff counter's pages: scanning a card, searching, the basket, one redemption per confirm, receipts,
pick-ups, cancellations, returns, history — and bad input answered inline, never with a 500 or a half-written state."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from linli.common.testing import client_for
from linli.ledger import cards
from linli.ledger import selectors as ledger_selectors
from linli.market.models import Product, Redemption, RedemptionStatus, StockMovement, Voucher
from linli.market.testing import buy, give_points, make_market
from linli.org.access import actor_for


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    make_market(world)
    give_points(world, world.pA1, 100)
    return world


def _till(w: SimpleNamespace, person: Any = None) -> str:
    return reverse("market:counter_till", args=[(person or w.pA1).pk])


def _key(client: Client, url: str) -> str:
    html = client.get(url).content.decode()
    start = html.index('name="key" value="') + len('name="key" value="')
    return html[start : html.index('"', start)]


def _stock(product: Product) -> int:
    return Product.objects.get(pk=product.pk).stock


def _balance(person: Any) -> int:
    return ledger_selectors.person_balance(person.pk)


# --- step 1: who is served --------------------------------------------------------------------------------------------
def test_a_scanned_card_opens_the_residents_till(w: SimpleNamespace) -> None:
    card = cards.card_issue(actor=actor_for(w.staff_a), person=w.pA1b)
    client = client_for(w.staff_a)
    response = client.get(reverse("market:counter"), {"community": w.A.pk, "q": cards.payload(card)})
    assert response.status_code == 302 and response["Location"] == _till(w, w.pA1b)
    # the bare token typed from the printed card works too
    response = client.get(reverse("market:counter"), {"community": w.A.pk, "q": f"  {card.token} "})
    assert response["Location"] == _till(w, w.pA1b)


def test_a_revoked_card_is_not_found(w: SimpleNamespace) -> None:
    card = cards.card_issue(actor=actor_for(w.staff_a), person=w.pA1)
    cards.card_issue(actor=actor_for(w.staff_a), person=w.pA1)  # reissued: the old card stops working
    response = client_for(w.staff_a).get(reverse("market:counter"), {"community": w.A.pk, "q": cards.payload(card)})
    assert response.status_code == 200
    assert response.context["found"] == []
    assert 'data-testid="nobody"' in response.content.decode()


def test_a_grid_worker_scanning_a_card_of_another_grid_finds_nobody(w: SimpleNamespace) -> None:
    card = cards.card_issue(actor=actor_for(w.staff_a), person=w.pA2)
    response = client_for(w.grid_worker_a1).get(
        reverse("market:counter"), {"community": w.A.pk, "q": cards.payload(card)}
    )
    assert response.status_code == 200 and response.context["found"] == []


def test_name_and_phone_tail_search_list_masked_phones(w: SimpleNamespace) -> None:
    client = client_for(w.staff_a)
    response = client.get(reverse("market:counter"), {"community": w.A.pk, "q": "王"})
    names = {p.name for p, _ in response.context["found"]}
    assert names == {"王秀英", "王老伯"}
    html = response.content.decode()
    assert "138****0001" in html and "13800000001" not in html
    assert _till(w) in html
    response = client.get(reverse("market:counter"), {"community": w.A.pk, "q": "0002"})
    assert [p.name for p, _ in response.context["found"]] == ["李建华"]
    # a grid worker finds only the residents of their grid
    response = client_for(w.grid_worker_a1).get(reverse("market:counter"), {"community": w.A.pk, "q": "李"})
    assert response.context["found"] == []


def test_merchants_are_offered_to_staff_only(w: SimpleNamespace) -> None:
    response = client_for(w.staff_a).get(reverse("market:counter"), {"community": w.A.pk})
    assert [m.name for m in response.context["merchants"]] == ["老街理发店"]
    response = client_for(w.grid_worker_a1).get(reverse("market:counter"), {"community": w.A.pk})
    assert response.context["merchants"] == []
    response = client_for(w.staff_a).get(reverse("market:counter"), {"community": w.A.pk, "merchant": w.mA.pk})
    assert response["Location"] == reverse("market:counter_till_merchant", args=[w.mA.pk])


def test_a_reservation_number_in_the_scan_box_goes_to_the_pickup(w: SimpleNamespace) -> None:
    response = client_for(w.staff_a).get(reverse("market:counter"), {"community": w.A.pk, "q": "LINLI-R:2026-0042"})
    assert response.status_code == 302 and "q=2026-0042" in response["Location"]


# --- the till ---------------------------------------------------------------------------------------------------------
def test_till_shows_balance_shelf_and_a_fresh_key(w: SimpleNamespace) -> None:
    client = client_for(w.staff_a)
    response = client.get(_till(w))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="balance">100<' in html
    assert "大米（5斤装）" in html and "抽纸" not in html  # B's shelf is not A's
    assert _key(client, _till(w)) != _key(client, _till(w))


def test_buttons_build_the_basket_without_javascript(w: SimpleNamespace) -> None:
    client = client_for(w.staff_a)
    url = _till(w)
    r = client.post(url, {"key": "k", "add": w.rice.pk})
    assert r.context["basket"].quantities == {w.rice.pk: 1}
    r = client.post(url, {"key": "k", f"qty_{w.rice.pk}": "1", "inc": w.rice.pk})
    assert r.context["basket"].quantities == {w.rice.pk: 2} and r.context["total"] == 30
    r = client.post(url, {"key": "k", f"qty_{w.rice.pk}": "2", "add": w.soy.pk})
    assert r.context["basket"].quantities == {w.rice.pk: 2, w.soy.pk: 1} and r.context["after"] == 100 - 33
    r = client.post(url, {"key": "k", f"qty_{w.rice.pk}": "2", f"qty_{w.soy.pk}": "1", "dec": w.rice.pk})
    assert r.context["basket"].quantities == {w.rice.pk: 1, w.soy.pk: 1}
    r = client.post(url, {"key": "k", f"qty_{w.rice.pk}": "1", f"qty_{w.soy.pk}": "1", "drop": w.soy.pk})
    assert r.context["basket"].quantities == {w.rice.pk: 1}
    r = client.post(url, {"key": "k", f"qty_{w.rice.pk}": "7", "do": "update"})
    assert r.context["total"] == 105 and r.context["short"]
    assert 'data-testid="short"' in r.content.decode()
    assert not Redemption.objects.exists()


def test_htmx_gets_only_the_basket(w: SimpleNamespace) -> None:
    r = client_for(w.staff_a).post(_till(w), {"key": "k", "add": w.rice.pk}, HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert r.status_code == 200 and html.lstrip().startswith("<form") and "<html" not in html


def test_confirm_twice_with_the_same_key_makes_one_redemption(w: SimpleNamespace) -> None:
    client = client_for(w.staff_a)
    url = _till(w)
    key = _key(client, url)
    body = {"key": key, f"qty_{w.rice.pk}": "2", f"qty_{w.soy.pk}": "1", "do": "confirm"}
    first = client.post(url, body)
    second = client.post(url, body)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Redemption.objects.count() == 1
    redemption = Redemption.objects.get()
    assert first["Location"] == reverse("market:receipt", args=[redemption.pk])
    assert redemption.total == 33 and redemption.channel == "counter" and redemption.status == "completed"
    assert _stock(w.rice) == 18 and _balance(w.pA1) == 67
    # htmx confirm: the browser is told where to go
    third = client.post(url, body, HTTP_HX_REQUEST="true")
    assert third.status_code == 204 and third["HX-Redirect"] == first["Location"]
    assert Redemption.objects.count() == 1


def test_the_same_key_with_another_basket_is_refused_inline(w: SimpleNamespace) -> None:
    client = client_for(w.staff_a)
    url = _till(w)
    client.post(url, {"key": "once", f"qty_{w.soy.pk}": "1", "do": "confirm"})
    r = client.post(url, {"key": "once", f"qty_{w.soy.pk}": "2", "do": "confirm"})
    assert r.status_code == 409 and r.context["key"] != "once"
    assert r.context["basket"].quantities == {w.soy.pk: 2}
    assert Redemption.objects.count() == 1


def test_out_of_stock_is_shown_with_what_is_left_and_nothing_is_written(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 1000)
    before = (_balance(w.pA1), StockMovement.objects.count())
    r = client_for(w.staff_a).post(
        _till(w), {"key": "k", f"qty_{w.oil.pk}": "11", f"qty_{w.soy.pk}": "1", "do": "confirm"}
    )
    assert r.status_code == 409
    html = r.content.decode()
    assert 'data-testid="till-errors"' in html and "10" in " ".join(r.context["errors"])
    assert r.context["basket"].quantities == {w.oil.pk: 11, w.soy.pk: 1}  # the basket is kept
    assert not Redemption.objects.exists()
    assert (_balance(w.pA1), StockMovement.objects.count()) == before
    assert _stock(w.oil) == 10 and _stock(w.soy) == 50


def test_not_enough_points_is_refused_inline(w: SimpleNamespace) -> None:
    r = client_for(w.staff_a).post(_till(w), {"key": "k", f"qty_{w.oil.pk}": "3", "do": "confirm"})
    assert r.status_code == 409 and "100" in " ".join(r.context["errors"])
    assert not Redemption.objects.exists() and _stock(w.oil) == 10


@pytest.mark.parametrize(
    "body",
    [
        {"qty_RICE": "abc"},
        {"qty_RICE": "-1"},
        {"qty_RICE": "1.5"},
        {"qty_RICE": str(10**20)},
        {"qty_RICE": "100"},
        {"qty_RICE": "１"},  # a full-width digit
        {"qty_999999": "1"},
        {"qty_99999999999999999999999": "1"},
        {"qty_TISSUES_B": "1"},
        {"add": "x"},
        {"add": str(10**20)},
        {"inc": "-3"},
        {},
    ],
)
def test_bad_baskets_are_answered_inline_and_write_nothing(w: SimpleNamespace, body: dict[str, str]) -> None:
    data = {k.replace("RICE", str(w.rice.pk)).replace("TISSUES_B", str(w.tissuesB.pk)): v for k, v in body.items()}
    r = client_for(w.staff_a).post(_till(w), {"key": "k", **data, "do": "confirm"})
    assert r.status_code == 400
    assert 'data-testid="till-errors"' in r.content.decode()
    assert not Redemption.objects.exists() and _stock(w.rice) == 20 and _balance(w.pA1) == 100


def test_the_quantity_never_exceeds_the_limit_by_pressing_plus(w: SimpleNamespace) -> None:
    r = client_for(w.staff_a).post(_till(w), {"key": "k", f"qty_{w.soy.pk}": "99", "inc": w.soy.pk})
    assert r.context["basket"].quantities == {w.soy.pk: 99} and r.context["errors"]


def test_grid_worker_serves_their_grid_only(w: SimpleNamespace) -> None:
    give_points(w, w.pA2, 50)
    client = client_for(w.grid_worker_a1)
    assert client.get(_till(w)).status_code == 200
    assert client.get(_till(w, w.pA2)).status_code == 404
    r = client.post(_till(w, w.pA2), {"key": "k", f"qty_{w.soy.pk}": "1", "do": "confirm"})
    assert r.status_code == 404 and not Redemption.objects.exists()
    r = client.post(_till(w), {"key": "k", f"qty_{w.soy.pk}": "1", "do": "confirm"})
    assert r.status_code == 302 and Redemption.objects.get().actor == w.grid_worker_a1


def test_a_merchant_spends_its_own_points(w: SimpleNamespace) -> None:
    from linli.ledger import services as ledger
    from linli.ledger.models import SystemAccount

    ledger.transfer_post(
        debit=ledger.system_account(w.A, SystemAccount.ISSUANCE),
        credit=ledger.account_for_merchant(w.mA),
        amount=20,
        kind="award",
        actor=w.staff_a,
        idempotency_key="merchant-earned",
    )
    client = client_for(w.staff_a)
    url = reverse("market:counter_till_merchant", args=[w.mA.pk])
    r = client.post(url, {"key": "mk", f"qty_{w.soy.pk}": "2", "do": "confirm"})
    assert r.status_code == 302
    assert Redemption.objects.get().merchant == w.mA and Redemption.objects.get().balance_after == 14
    # a grid worker does not serve merchants
    assert client_for(w.grid_worker_a1).get(url).status_code == 404


# --- receipt ----------------------------------------------------------------------------------------------------------
def test_receipt_shows_number_lines_balance_after_and_vouchers(w: SimpleNamespace) -> None:
    from linli.market import services

    services.settings_update(
        actor=actor_for(w.staff_a), community=w.A, reservation_days=7, voucher_days=30, counter_note="周一闭店"
    )
    redemption = buy(w, w.pA1, (w.rice, 1), (w.haircut, 2))
    r = client_for(w.staff_a).get(reverse("market:receipt", args=[redemption.pk]))
    html = r.content.decode()
    assert r.status_code == 200
    assert f">{redemption.number}<" in html and "大米（5斤装）" in html and "大兴东路社区" in html
    assert 'data-testid="balance-after">75<' in html  # 100 - 15 - 2×5
    assert html.count('data-testid="voucher"') == 2 and html.count("<svg") >= 2
    for voucher in Voucher.objects.all():
        assert f"{voucher.code[:4]}-{voucher.code[4:]}" in html
    assert "周一闭店" in html and "社区工作者甲" in html
    assert "onclick" not in html


def test_receipt_of_another_grid_is_hidden(w: SimpleNamespace) -> None:
    give_points(w, w.pA2, 50)
    redemption = buy(w, w.pA2, (w.soy, 1))
    assert client_for(w.grid_worker_a1).get(reverse("market:receipt", args=[redemption.pk])).status_code == 404


# --- pick-up and cancel -----------------------------------------------------------------------------------------------
def test_pickup_by_scanned_number_and_hand_over(w: SimpleNamespace) -> None:
    reserved = buy(w, w.pA1, (w.soy, 2), channel="phone")
    assert reserved.status == RedemptionStatus.RESERVED
    client = client_for(w.grid_worker_a1)
    for typed in (reserved.number, f"LINLI-R:{reserved.number}", f"linli-r:{reserved.number} "):
        r = client.get(reverse("market:counter_pickup"), {"community": w.A.pk, "q": typed})
        assert r.context["found"] == reserved, typed
    assert 'data-testid="hand-over"' in r.content.decode()
    r = client.post(reverse("market:counter_hand_over", args=[reserved.pk]))
    assert r.status_code == 302 and r["Location"] == reverse("market:receipt", args=[reserved.pk])
    reserved.refresh_from_db()
    assert reserved.status == RedemptionStatus.COMPLETED and reserved.handed_over_by == w.grid_worker_a1
    # handing over again: the same receipt, no error, nothing changes
    again = client.post(reverse("market:counter_hand_over", args=[reserved.pk]))
    assert again.status_code == 302


def test_pickup_of_unknown_or_garbage_numbers(w: SimpleNamespace) -> None:
    client = client_for(w.staff_a)
    for typed in ("2026-9999", "abc", "x" * 99, "2026-"):
        r = client.get(reverse("market:counter_pickup"), {"community": w.A.pk, "q": typed})
        assert r.status_code == 200 and r.context["found"] is None and r.context["problem"], typed


def test_another_grids_reservation_is_not_found_at_pickup(w: SimpleNamespace) -> None:
    give_points(w, w.pA2, 50)
    reserved = buy(w, w.pA2, (w.soy, 1), user=w.staff_a)  # in A2: outside grid_worker_a1's grid
    r = client_for(w.grid_worker_a1).get(reverse("market:counter_pickup"), {"community": w.A.pk, "q": reserved.number})
    assert r.context["found"] is None


def test_cancel_needs_a_reason_and_then_returns_points_and_stock(w: SimpleNamespace) -> None:
    reserved = buy(w, w.pA1, (w.soy, 2), channel="phone")
    assert _stock(w.soy) == 48 and _balance(w.pA1) == 94
    client = client_for(w.staff_a)
    r = client.post(reverse("market:counter_cancel", args=[reserved.pk]), {"reason": "  "})
    assert r.status_code == 400 and Redemption.objects.get().status == RedemptionStatus.RESERVED
    r = client.post(reverse("market:counter_cancel", args=[reserved.pk]), {"reason": "不要了"})
    assert r.status_code == 302
    assert Redemption.objects.get().status == RedemptionStatus.CANCELLED
    assert _stock(w.soy) == 50 and _balance(w.pA1) == 100
    # a completed exchange cannot be "handed over" or cancelled: an inline refusal, not a 500
    done = buy(w, w.pA1, (w.soy, 1))
    r = client.post(reverse("market:counter_cancel", args=[done.pk]), {"reason": "x"})
    assert r.status_code == 400 and Redemption.objects.get(pk=done.pk).status == RedemptionStatus.COMPLETED
    r = client.post(reverse("market:counter_hand_over", args=[done.pk]), follow=True)
    assert r.status_code == 200 and Redemption.objects.get(pk=done.pk).status == RedemptionStatus.COMPLETED


# --- returns ----------------------------------------------------------------------------------------------------------
def test_return_part_of_a_basket(w: SimpleNamespace) -> None:
    redemption = buy(w, w.pA1, (w.rice, 2), (w.soy, 1))
    rice_line = redemption.lines.get(product=w.rice)
    client = client_for(w.staff_a)
    url = reverse("market:counter_return", args=[redemption.pk])
    page = client.get(url)
    assert page.status_code == 200 and f'name="line_{rice_line.pk}"' in page.content.decode()
    body = {f"line_{rice_line.pk}": "1", "reason": "米袋破了", "idempotency_key": "ret-1"}
    assert client.post(url, {**body, "reason": ""}).status_code == 400
    r = client.post(url, body)
    assert r.status_code == 302 and r["Location"] == reverse("market:receipt", args=[redemption.pk])
    again = client.post(url, body)  # a resubmit is answered without refunding twice
    assert again.status_code == 302
    assert _stock(w.rice) == 19 and _balance(w.pA1) == 100 - 33 + 15
    receipt = client.get(r["Location"]).content.decode()
    assert 'data-testid="refunded">15<' in receipt


@pytest.mark.parametrize("value", ["3", "-1", "abc", str(10**20)])
def test_return_more_than_taken_or_garbage_is_refused(w: SimpleNamespace, value: str) -> None:
    redemption = buy(w, w.pA1, (w.rice, 2))
    line = redemption.lines.get()
    r = client_for(w.staff_a).post(
        reverse("market:counter_return", args=[redemption.pk]),
        {f"line_{line.pk}": value, "reason": "x", "idempotency_key": "r"},
    )
    assert r.status_code == 400 and _stock(w.rice) == 18 and _balance(w.pA1) == 70


def test_return_with_nothing_chosen_is_refused(w: SimpleNamespace) -> None:
    redemption = buy(w, w.pA1, (w.rice, 1))
    r = client_for(w.staff_a).post(
        reverse("market:counter_return", args=[redemption.pk]), {"reason": "x", "idempotency_key": "r"}
    )
    assert r.status_code == 400 and _balance(w.pA1) == 85


# --- history ----------------------------------------------------------------------------------------------------------
def test_history_lists_todays_exchanges_with_masked_names(w: SimpleNamespace) -> None:
    give_points(w, w.pA2, 50)
    mine = buy(w, w.pA1, (w.soy, 1))
    other = buy(w, w.pA2, (w.soy, 1))
    reserved = buy(w, w.pA1, (w.soy, 1), channel="phone")
    client = client_for(w.staff_a)
    r = client.get(reverse("market:counter_history"), {"community": w.A.pk})
    html = r.content.decode()
    assert {x.pk for x, _ in r.context["rows"]} == {mine.pk, other.pk, reserved.pk}
    assert "王*英" in html and "王秀英" not in html
    r = client.get(reverse("market:counter_history"), {"community": w.A.pk, "channel": "phone"})
    assert [x.pk for x, _ in r.context["rows"]] == [reserved.pk]
    r = client.get(reverse("market:counter_history"), {"community": w.A.pk, "q": other.number})
    assert [x.pk for x, _ in r.context["rows"]] == [other.pk]
    r = client.get(reverse("market:counter_history"), {"community": w.A.pk, "day": "2020-01-01"})
    assert r.context["rows"] == []
    r = client.get(reverse("market:counter_history"), {"community": w.A.pk, "day": "not-a-day", "status": "zzz"})
    assert r.status_code == 200
    r = client_for(w.grid_worker_a1).get(reverse("market:counter_history"), {"community": w.A.pk})
    assert {x.pk for x, _ in r.context["rows"]} == {mine.pk, reserved.pk}
