"""The points market over JSON: every endpoint through the real API (session or token), with its answers and codes,
and bad input of every kind answered with a code, never a 500, nothing half-written."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from linli.common.testing import client_for
from linli.ledger import cards
from linli.ledger.selectors import person_balance
from linli.market.models import (
    Product,
    Redemption,
    RedemptionStatus,
    StockMovement,
    Stocktake,
    Voucher,
    VoucherStatus,
)
from linli.market.testing import buy, give_points, make_market
from linli.org.access import actor_for

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    return make_market(world)


def call(
    client: Client, method: str, path: str, body: Any = None, key: str | None = None, raw: bytes | None = None
) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    kwargs: dict[str, Any] = {"headers": headers}
    if raw is not None:
        kwargs |= {"data": raw, "content_type": "application/json"}
    elif body is not None:
        kwargs |= {"data": json.dumps(body), "content_type": "application/json"}
    return getattr(client, method.lower())(API + path, **kwargs)


def stock(p: Product) -> int:
    return Product.objects.values_list("stock", flat=True).get(pk=p.pk)


def basket(payer: dict[str, Any], *lines: tuple[Product, int], channel: str = "counter") -> dict[str, Any]:
    return {"payer": payer, "channel": channel, "lines": [{"product_id": p.pk, "quantity": q} for p, q in lines]}


# --- the shelf --------------------------------------------------------------------------------------------------------


def test_resident_reads_the_shelf_and_staff_every_item(w: SimpleNamespace) -> None:
    Product.objects.filter(pk=w.oil.pk).update(is_active=False)
    shelf = call(client_for(w.resident_a1), "GET", f"/market/products?community={w.A.pk}").json()
    names = [p["name"] for p in shelf["items"]]
    assert "菜籽油（5升）" not in names and "大米（5斤装）" in names and shelf["count"] == 4
    rice = next(p for p in shelf["items"] if p["id"] == w.rice.pk)
    assert (rice["price"], rice["stock"], rice["unit"], rice["is_low"]) == (15, 20, "袋", False)
    haircut = next(p for p in shelf["items"] if p["id"] == w.haircut.pk)
    assert haircut["stock"] is None and haircut["issues_voucher"] and haircut["merchant_name"] == w.mA.name
    only_services = call(client_for(w.resident_a1), "GET", f"/market/products?community={w.A.pk}&kind=service")
    assert [p["id"] for p in only_services.json()["items"]] == [w.haircut.pk]
    every = call(client_for(w.staff_a), "GET", f"/market/products?community={w.A.pk}&include_inactive=true").json()
    assert every["count"] == 5
    # a resident asking for the back room gets the refusal, not the list
    back_room = call(client_for(w.resident_a1), "GET", f"/market/products?community={w.A.pk}&include_inactive=true")
    assert back_room.status_code == 403
    # another community's shelf is not found for B's staff
    assert call(client_for(w.staff_b), "GET", f"/market/products?community={w.A.pk}").status_code == 404


def test_staff_create_patch_receive_adjust_and_read_movements(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    made = call(
        staff,
        "POST",
        "/market/products",
        {"community_id": w.A.pk, "name": "挂面", "price": 4, "unit": "把", "stock": 12, "limit_per_person": 2},
        key="noodles",
    )
    assert made.status_code == 201, made.content
    pid = made.json()["id"]
    assert made.json()["stock"] == 12 and made.json()["limit_per_person"] == 2
    patched = call(staff, "PATCH", f"/market/products/{pid}", {"price": 5, "limit_per_person": None})
    assert patched.status_code == 200, patched.content
    assert (patched.json()["price"], patched.json()["limit_per_person"], patched.json()["name"]) == (5, None, "挂面")
    refused_null = call(staff, "PATCH", f"/market/products/{pid}", {"is_active": None})
    assert refused_null.status_code == 400 and refused_null.json()["field"] == "is_active"
    assert call(staff, "PATCH", f"/market/products/{pid}", {"price": 0}).json()["code"] == "price_invalid"
    assert call(staff, "PATCH", f"/market/products/{pid}", {"merchant_id": w.mB.pk}).json()["code"] == "other_community"
    received = call(staff, "POST", f"/market/products/{pid}/receipts", {"quantity": 8, "reason": "采购"})
    assert received.status_code == 201 and received.json()["stock_after"] == 20
    adjusted = call(staff, "POST", f"/market/products/{pid}/adjustments", {"change": -3, "reason": "受潮"})
    assert adjusted.status_code == 201 and adjusted.json()["stock_after"] == 17
    too_many = call(staff, "POST", f"/market/products/{pid}/adjustments", {"change": -18, "reason": "盘亏"})
    assert (too_many.status_code, too_many.json()["code"]) == (409, "out_of_stock")
    no_reason = call(staff, "POST", f"/market/products/{pid}/adjustments", {"change": 1, "reason": " "})
    assert no_reason.json()["code"] == "reason_required"
    moves = call(staff, "GET", f"/market/products/{pid}/movements?limit=2").json()
    assert moves["count"] == 3 and [m["quantity"] for m in moves["items"]] == [-3, 8]
    assert moves["items"][0]["actor_name"] == w.staff_a.name and moves["items"][0]["reason"] == "受潮"
    assert stock(Product(pk=pid)) == 17
    # a resident may read the item but not its stock book, nor change it
    resident = client_for(w.resident_a1)
    assert call(resident, "GET", f"/market/products/{pid}").status_code == 200
    assert call(resident, "GET", f"/market/products/{pid}/movements").status_code == 404
    assert call(resident, "PATCH", f"/market/products/{pid}", {"price": 1}).status_code == 403
    assert call(resident, "POST", f"/market/products/{pid}/receipts", {"quantity": 1}).status_code == 403


def test_a_retried_create_returns_the_first_item_and_another_item_under_its_key_is_a_conflict(
    w: SimpleNamespace,
) -> None:
    staff = client_for(w.staff_a)
    noodles = {"community_id": w.A.pk, "name": "挂面", "price": 4, "stock": 12}
    before = Product.objects.count()
    missing = call(staff, "POST", "/market/products", noodles)
    assert (missing.status_code, missing.json()["code"]) == (400, "idempotency_key_required")
    assert Product.objects.count() == before
    first = call(staff, "POST", "/market/products", noodles, key="n1")
    assert first.status_code == 201, first.content
    # the same item again, spelt with its defaults and surrounding spaces, is the same request
    again = call(staff, "POST", "/market/products", {**noodles, "name": " 挂面 ", "kind": "goods"}, key="n1")
    assert again.status_code == 200 and again.json() == first.json()
    assert Product.objects.count() == before + 1
    assert StockMovement.objects.filter(product_id=first.json()["id"]).count() == 1  # the opening stock once
    assert stock(Product(pk=first.json()["id"])) == 12
    other = call(staff, "POST", "/market/products", {**noodles, "price": 5}, key="n1")
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
    more_stock = call(staff, "POST", "/market/products", {**noodles, "stock": 13}, key="n1")
    assert (more_stock.status_code, more_stock.json()["code"]) == (409, "idempotency_key_reused")
    assert Product.objects.count() == before + 1
    # keys are kept apart per user: the street admin's "n1" makes an item of its own; a new key too
    assert call(client_for(w.street_admin), "POST", "/market/products", noodles, key="n1").status_code == 201
    assert call(staff, "POST", "/market/products", noodles, key="n2").status_code == 201
    assert Product.objects.filter(community=w.A, name="挂面").count() == 3
    # a retry after the item was changed answers with the item as it is now, not a second one
    call(staff, "PATCH", f"/market/products/{first.json()['id']}", {"price": 6})
    later = call(staff, "POST", "/market/products", noodles, key="n1")
    assert later.status_code == 200 and (later.json()["id"], later.json()["price"]) == (first.json()["id"], 6)
    # bad input under a key writes nothing and leaves the key free
    bad = call(staff, "POST", "/market/products", {**noodles, "price": 0}, key="n3")
    assert bad.json()["code"] == "price_invalid"
    assert call(staff, "POST", "/market/products", noodles, key="n3").status_code == 201
    # a resident is refused before anything is looked up by their key
    assert call(client_for(w.resident_a1), "POST", "/market/products", noodles, key="n1").status_code == 403


def test_low_stock_lists_items_at_their_alert_level(w: SimpleNamespace) -> None:
    Product.objects.filter(pk=w.rice.pk).update(stock=3)
    low = call(client_for(w.grid_worker_a1), "GET", f"/market/low-stock?community={w.A.pk}")
    assert low.status_code == 200 and [p["id"] for p in low.json()] == [w.rice.pk]
    assert call(client_for(w.resident_a1), "GET", f"/market/low-stock?community={w.A.pk}").status_code == 403


# --- stocktakes -------------------------------------------------------------------------------------------------------


def test_a_stocktake_is_counted_and_closed_with_its_variance(w: SimpleNamespace) -> None:
    worker = client_for(w.grid_worker_a1)
    started = call(worker, "POST", "/market/stocktakes", {"community_id": w.A.pk, "note": "月末清点"})
    assert started.status_code == 201, started.content
    tid = started.json()["id"]
    assert {x["product_id"] for x in started.json()["lines"]} == {w.soy.pk, w.detergent.pk, w.rice.pk, w.oil.pk}
    again = call(worker, "POST", "/market/stocktakes", {"community_id": w.A.pk})
    assert (again.status_code, again.json()["code"]) == (409, "stocktake_open")
    counts = {"counts": [{"product_id": w.rice.pk, "counted": 18}, {"product_id": w.soy.pk, "counted": 51}]}
    counted = call(worker, "POST", f"/market/stocktakes/{tid}/counts", counts)
    assert counted.status_code == 200 and counted.json()["counted"] == 2
    assert counted.json()["variance"] == {
        "products_off": 2, "short_units": 2, "over_units": 1, "short_points": 30, "over_points": 3,
    }  # fmt: skip
    twice = {"counts": [{"product_id": w.rice.pk, "counted": 1}, {"product_id": w.rice.pk, "counted": 2}]}
    assert call(worker, "POST", f"/market/stocktakes/{tid}/counts", twice).json()["code"] == "count_twice"
    stranger = {"counts": [{"product_id": w.tissuesB.pk, "counted": 1}]}
    assert call(worker, "POST", f"/market/stocktakes/{tid}/counts", stranger).json()["code"] == "not_in_stocktake"
    negative = {"counts": [{"product_id": w.rice.pk, "counted": -1}]}
    assert call(worker, "POST", f"/market/stocktakes/{tid}/counts", negative).json()["code"] == "quantity_invalid"
    listed = call(client_for(w.auditor_a), "GET", f"/market/stocktakes?community={w.A.pk}").json()
    assert [t["id"] for t in listed["items"]] == [tid]
    closed = call(worker, "POST", f"/market/stocktakes/{tid}/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert (stock(w.rice), stock(w.soy)) == (18, 51)
    assert StockMovement.objects.filter(stocktake_id=tid).count() == 2
    assert call(worker, "POST", f"/market/stocktakes/{tid}/cancel").json()["code"] == "stocktake_closed"
    # the auditor reads counts but does not count
    assert call(client_for(w.auditor_a), "POST", "/market/stocktakes", {"community_id": w.A.pk}).status_code == 403


# --- redemptions ------------------------------------------------------------------------------------------------------


def test_an_elder_card_with_15_points_buys_rice_at_the_counter(w: SimpleNamespace) -> None:
    give_points(w, w.pA1b, 15)
    card = cards.card_issue(person=w.pA1b, actor=actor_for(w.staff_a))
    staff = client_for(w.staff_a)
    body = basket({"card": cards.payload(card)}, (w.rice, 1))
    first = call(staff, "POST", "/market/redemptions", body, key="till-1")
    assert first.status_code == 201, first.content
    out = first.json()
    assert (out["status"], out["total"], out["balance_after"], out["person_id"]) == ("completed", 15, 0, w.pA1b.pk)
    assert out["lines"][0]["name"] == "大米（5斤装）" and out["number"]
    replay = call(staff, "POST", "/market/redemptions", body, key="till-1")
    assert replay.status_code == 200 and replay.json()["id"] == out["id"]
    other = call(staff, "POST", "/market/redemptions", basket({"person_id": w.pA1b.pk}, (w.soy, 1)), key="till-1")
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
    assert person_balance(w.pA1b.pk) == 0 and stock(w.rice) == 19 and Redemption.objects.count() == 1
    broke = call(staff, "POST", "/market/redemptions", basket({"person_id": w.pA1b.pk}, (w.soy, 1)), key="till-2")
    assert (broke.status_code, broke.json()["code"]) == (409, "insufficient_points")
    assert broke.json()["details"] == {"balance": 0, "total": 3}


def test_redemption_refusals_carry_their_codes_and_leave_nothing(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 500)
    staff = client_for(w.staff_a)
    me = {"person_id": w.pA1.pk}
    cases = [
        (basket(me, (w.oil, 11)), 409, "out_of_stock"),
        (basket(me, (w.tissuesB, 1)), 400, "not_on_shelf"),
        (basket(me), 400, "basket_empty"),
        (basket(me, (w.soy, 0)), 400, "quantity_invalid"),
        (basket(me, (w.soy, 100)), 400, "quantity_invalid"),
        (basket(me, (w.soy, 2**62)), 400, "quantity_invalid"),
        (basket(me, (w.soy, 1), channel="post"), 400, "invalid_input"),
        ({"payer": {}, "channel": "counter", "lines": [{"product_id": w.soy.pk, "quantity": 1}]}, 400, "invalid_input"),
        (
            {"payer": {"person_id": w.pA1.pk, "merchant_id": w.mA.pk}, "channel": "counter", "lines": []},
            400,
            "invalid_input",
        ),
        (basket({"card": "garbage\u2603" * 20}, (w.soy, 1)), 404, "card_unknown"),
        (basket({"card": "linli:card:"}, (w.soy, 1)), 404, "card_unknown"),
        (basket({"person_id": 2**63 - 1}, (w.soy, 1)), 404, "not_found"),
        (basket({"person_id": 2**63}, (w.soy, 1)), 400, "invalid_input"),
        (basket(me, (w.soy, 1)) | {"lines": [{"product_id": 2**64, "quantity": 1}]}, 400, "invalid_input"),
        (basket(me, (w.soy, 1)) | {"lines": [{"product_id": "一", "quantity": 1}]}, 400, "invalid_input"),
        (basket({"card": "ab\x00cd"}, (w.soy, 1)), 400, "invalid_input"),
        (basket({"person_id": w.pB1.pk}, (w.soy, 1)), 404, "not_found"),
    ]
    for i, (body, status, code) in enumerate(cases):
        answer = call(staff, "POST", "/market/redemptions", body, key=f"bad-{i}")
        assert (answer.status_code, answer.json().get("code")) == (status, code), (body, answer.content)
    for raw in (b"{", b"[]", b"\xff\xfe", b'{"payer": 1}'):
        answer = call(staff, "POST", "/market/redemptions", raw=raw, key="raw")
        assert answer.status_code == 400 and answer.json()["code"], (raw, answer.content)
    missing_key = call(staff, "POST", "/market/redemptions", basket(me, (w.soy, 1)))
    assert (missing_key.status_code, missing_key.json()["code"]) == (400, "idempotency_key_required")
    long_key = call(staff, "POST", "/market/redemptions", basket(me, (w.soy, 1)), key="k" * 101)
    assert long_key.json()["code"] == "idempotency_key_invalid"
    assert Redemption.objects.count() == 0 and person_balance(w.pA1.pk) == 500
    assert (stock(w.soy), stock(w.oil)) == (50, 10)


def test_resident_reserves_on_the_phone_and_staff_hand_it_over(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 60)
    resident = client_for(w.resident_a1)
    body = basket({"person_id": w.pA1.pk}, (w.rice, 2), (w.haircut, 1), channel="phone")
    made = call(resident, "POST", "/market/redemptions", body, key="phone-1")
    assert made.status_code == 201, made.content
    rid = made.json()["id"]
    assert made.json()["status"] == "reserved" and made.json()["reserved_until"]
    mine = call(resident, "GET", "/market/me").json()
    assert mine["balance"] == 25 and [r["id"] for r in mine["reservations"]] == [rid]
    assert len(mine["vouchers"]) == 1 and mine["vouchers"][0]["qr"].startswith("LINLI-V:")
    # the resident may not hand it over to themself, nor reserve for a neighbour
    assert call(resident, "POST", f"/market/redemptions/{rid}/hand-over").status_code in (403, 404)
    other = basket({"person_id": w.pA1b.pk}, (w.soy, 1), channel="phone")
    assert call(resident, "POST", "/market/redemptions", other, key="phone-2").status_code == 404
    staff = client_for(w.staff_a)
    handed = call(staff, "POST", f"/market/redemptions/{rid}/hand-over")
    assert handed.status_code == 200 and handed.json()["status"] == "completed"
    assert call(staff, "POST", f"/market/redemptions/{rid}/hand-over").json()["status"] == "completed"
    assert call(staff, "POST", f"/market/redemptions/{rid}/cancel", {"reason": "x"}).json()["code"] == (
        "redemption_status"
    )
    assert call(resident, "GET", "/market/me").json()["reservations"] == []
    listed = call(staff, "GET", f"/market/redemptions?community={w.A.pk}&channel=phone&status=completed").json()
    assert [r["id"] for r in listed["items"]] == [rid]
    # staff see the resident's name; the auditor reads it masked
    assert listed["items"][0]["payer_name"] == w.pA1.name
    audited = call(client_for(w.auditor_a), "GET", f"/market/redemptions/{rid}").json()
    assert audited["payer_name"] != w.pA1.name and audited["payer_name"].startswith(w.pA1.name[0])
    assert call(staff, "GET", "/market/redemptions?since=2026-02-01&until=2026-01-01").json()["code"] == "date_range"


def test_cancel_gives_stock_and_points_back(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 30)
    redemption = buy(w, w.pA1, (w.rice, 2), channel="phone")
    answer = call(
        client_for(w.resident_a1), "POST", f"/market/redemptions/{redemption.pk}/cancel", {"reason": "不要了"}
    )
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled" and answer.json()["refunded"] == 30
    assert person_balance(w.pA1.pk) == 30 and stock(w.rice) == 20


def test_return_is_idempotent_per_key(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 60)
    redemption = buy(w, w.pA1, (w.rice, 2), (w.soy, 3))
    rice_line = redemption.lines.get(product=w.rice)
    staff = client_for(w.staff_a)
    path = f"/market/redemptions/{redemption.pk}/return"
    body = {"lines": [{"line_id": rice_line.pk, "quantity": 1}], "reason": "破袋"}
    assert call(staff, "POST", path, body).json()["code"] == "idempotency_key_required"
    first = call(staff, "POST", path, body, key="r" * 100)
    assert first.status_code == 200, first.content
    assert first.json()["refunded"] == 15 and first.json()["status"] == "completed"
    again = call(staff, "POST", path, body, key="r" * 100)
    assert again.status_code == 200 and again.json()["refunded"] == 15
    assert person_balance(w.pA1.pk) == 60 - 39 + 15 and stock(w.rice) == 19
    too_many = {"lines": [{"line_id": rice_line.pk, "quantity": 2}], "reason": "破袋"}
    assert call(staff, "POST", path, too_many, key="r2").json()["code"] == "return_too_many"
    unknown = {"lines": [{"line_id": 2**63 - 1, "quantity": 1}], "reason": "x"}
    assert call(staff, "POST", path, unknown, key="r3").json()["code"] == "line_unknown"
    assert call(staff, "POST", path, {"lines": [], "reason": "x"}, key="r4").json()["code"] == "invalid_input"


# --- vouchers ---------------------------------------------------------------------------------------------------------


def test_a_barber_looks_up_and_uses_a_haircut_voucher(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 10)
    redemption = buy(w, w.pA1, (w.haircut, 1), channel="phone")
    voucher = Voucher.objects.get(line__redemption=redemption)
    barber = client_for(w.merchant_op_a)
    listed = call(barber, "GET", f"/market/vouchers?merchant={w.mA.pk}&status=issued").json()
    assert [v["id"] for v in listed["items"]] == [voucher.pk]
    assert listed["items"][0]["code"].endswith("-****")  # only its holder reads an open code
    typed = voucher.code.lower()[:4] + " - " + voucher.code.lower()[4:]
    found = call(barber, "GET", f"/market/vouchers/lookup?code={typed}")
    assert found.status_code == 200 and found.json()["id"] == voucher.pk
    assert call(barber, "GET", "/market/vouchers/lookup?code=ZZZZ-ZZZZ").json()["code"] == "voucher_not_found"
    assert call(barber, "GET", "/market/vouchers/lookup?code=%00").json()["code"] == "invalid_input"
    no_code = call(barber, "POST", f"/market/vouchers/{voucher.pk}/use", {"code": "ZZZZZZZZ"}, key="cut-0")
    assert (no_code.status_code, no_code.json()["code"]) == (404, "voucher_not_found")
    used = call(barber, "POST", f"/market/vouchers/{voucher.pk}/use", {"code": voucher.code}, key="cut-1")
    assert used.status_code == 200 and used.json()["status"] == "used"
    assert (
        call(barber, "POST", f"/market/vouchers/{voucher.pk}/use", {"code": voucher.code}, key="cut-1").json()["status"]
        == "used"
    )
    twice = call(barber, "POST", f"/market/vouchers/{voucher.pk}/use", {"code": voucher.code}, key="cut-2")
    assert (twice.status_code, twice.json()["code"]) == (409, "voucher_status")
    assert Voucher.objects.get(pk=voucher.pk).status == VoucherStatus.USED
    # the resident cannot use their own voucher (the service hides it: 404), nor can B's staff
    assert (
        call(
            client_for(w.resident_a1), "POST", f"/market/vouchers/{voucher.pk}/use", {"code": voucher.code}, key="x"
        ).status_code
        == 404
    )
    assert (
        call(
            client_for(w.staff_b), "POST", f"/market/vouchers/{voucher.pk}/use", {"code": voucher.code}, key="x"
        ).status_code
        == 404
    )


# --- settings and me --------------------------------------------------------------------------------------------------


def test_settings_read_by_the_community_changed_by_staff(w: SimpleNamespace) -> None:
    assert call(client_for(w.resident_a1), "GET", f"/market/settings?community={w.A.pk}").json()["voucher_days"] == 30
    body = {"community_id": w.A.pk, "reservation_days": 3, "voucher_days": 60, "counter_note": "周二闭店"}
    changed = call(client_for(w.staff_a), "PUT", "/market/settings", body)
    assert changed.status_code == 200 and changed.json()["reservation_days"] == 3
    assert call(client_for(w.staff_a), "PUT", "/market/settings", body | {"voucher_days": 0}).json()["code"] == (
        "days_invalid"
    )
    assert call(client_for(w.resident_a1), "PUT", "/market/settings", body).status_code == 403
    assert call(client_for(w.staff_b), "GET", f"/market/settings?community={w.A.pk}").status_code == 404


def test_me_without_a_resident_is_empty(w: SimpleNamespace) -> None:
    mine = call(client_for(w.staff_a), "GET", "/market/me").json()
    assert mine == {"person_id": None, "community_id": None, "balance": 0, "reservations": [], "vouchers": []}


def test_a_token_client_serves_the_counter(w: SimpleNamespace) -> None:
    from linli.org.services import api_token_issue

    give_points(w, w.pA1, 3)
    _token, key = api_token_issue(actor=actor_for(w.staff_a), user=w.staff_a, name="柜台")
    client = Client(headers={"Authorization": f"Bearer {key}"})
    answer = call(client, "POST", "/market/redemptions", basket({"person_id": w.pA1.pk}, (w.soy, 1)), key="tok")
    assert answer.status_code == 201, answer.content
    assert Redemption.objects.get().status == RedemptionStatus.COMPLETED
    assert Stocktake.objects.count() == 0


def test_the_new_redemptions_receipt_is_what_reading_it_back_gives(w: SimpleNamespace) -> None:
    """The 201 receipt is built from the rows the posting just wrote (no second read): it must equal GET."""
    from django.db import connection

    give_points(w, w.pA1, 40)
    staff = client_for(w.staff_a)
    body = basket({"person_id": w.pA1.pk}, (w.rice, 1), (w.haircut, 2), (w.soy, 1))
    statements: list[str] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        made = call(staff, "POST", "/market/redemptions", body, key="receipt-1")
    assert made.status_code == 201, made.content
    out = made.json()
    assert [line["quantity"] for line in out["lines"]] == [1, 2, 1]
    assert len(out["lines"][1]["voucher_ids"]) == 2 and out["lines"][0]["voucher_ids"] == []
    assert call(staff, "GET", f"/market/redemptions/{out['id']}").json() == out
    assert call(staff, "POST", "/market/redemptions", body, key="receipt-1").json() == out  # the replay reads it back
    # the second sale at the counter, all first-use rows (accounts, settings, the year's number) in place
    statements.clear()
    with connection.execute_wrapper(record):
        again = call(staff, "POST", "/market/redemptions", basket({"person_id": w.pA1.pk}, (w.soy, 2)), key="r-2")
    assert again.status_code == 201, again.content
    # 7 to read the session and the actor, 15 for the sale: a new statement here is a cost every till pays
    assert len(statements) <= 22, "\n".join(q[:120] for q in statements)
    sale = statements[statements.index(next(q for q in statements if q.startswith("SAVEPOINT"))) :]
    assert len(sale) <= 15 and sum(q.startswith("INSERT INTO ledger_transfer") for q in sale) == 1
    if connection.vendor == "postgresql":  # the payer's row read and locked in one statement, and locked only once
        locks = [q for q in sale if "FOR UPDATE" in q]
        assert len(locks) == 1 and locks[0].startswith('SELECT "ledger_account"'), locks
