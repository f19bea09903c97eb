"""Caring merchants' service points over JSON (linli/points/api_merchants.py): what is posted to the shop's ledger
account, retries, bad input with its codes, scope and the shop's own operator.

Rules of linli.points.testing.make_catalogue in community A: cleanup 3 per full hour (daily cap 9), mediation 8 per
occurrence. The shop is A's barber mA (operator merchant_op_a); mB is B's shop.
"""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from linli.common.testing import client_for
from linli.ledger.models import Account, SystemAccount, Transfer, TransferKind
from linli.ledger.selectors import merchant_balance
from linli.org.models import ApiToken, Merchant
from linli.org.services import token_hash
from linli.points.models import MerchantService
from linli.points.testing import make_catalogue

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    return make_catalogue(world)


def url(w: SimpleNamespace, merchant: Any = None) -> str:
    return f"{API}/points/merchants/{(merchant or w.mA).pk}/services"


def post(client: Client, path: str, body: Any, key: str | None = "k1", **headers: str) -> Any:
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(path, data=json.dumps(body), content_type="application/json", headers=headers)


def body(rule: Any, quantity: Any = "2.5", **extra: Any) -> dict[str, Any]:
    return {"rule_id": rule.pk, "quantity": quantity, **extra}


def nothing_written(w: SimpleNamespace) -> bool:
    return not MerchantService.objects.exists() and merchant_balance(w.mA.pk) == 0 and not Transfer.objects.exists()


def test_points_are_posted_to_the_shops_account_and_listed(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    made = post(staff, url(w), body(w.cleanup, "2.5", note="为独居老人打扫"))
    assert made.status_code == 201, made.content
    out = made.json()
    assert (out["points"], out["unit"], out["rule_code"], out["rule_name"]) == (6, "hour", "cleanup", "环境清扫")
    assert out["occurred_on"] == str(timezone.localdate()) and out["merchant_id"] == w.mA.pk
    assert out["actor_id"] == w.staff_a.pk and out["note"] == "为独居老人打扫"
    transfer = Transfer.objects.get(pk=out["transfer_id"])
    assert (transfer.kind, transfer.amount, transfer.ref_type, transfer.ref_id) == (
        TransferKind.AWARD, 6, "merchant_service", out["id"],
    )  # fmt: skip
    assert transfer.debit.system_code == SystemAccount.ISSUANCE
    assert transfer.credit == Account.objects.get(merchant=w.mA) and merchant_balance(w.mA.pk) == 6
    times = post(staff, url(w), body(w.mediation, 3), key="k2")
    assert times.status_code == 201 and times.json()["points"] == 24 and merchant_balance(w.mA.pk) == 30
    listed = staff.get(url(w))
    assert listed.status_code == 200
    assert (listed.json()["count"], listed.json()["balance"]) == (2, 30)
    assert [s["points"] for s in listed.json()["items"]] == [24, 6]  # newest first
    second = staff.get(url(w) + "?limit=1&offset=1").json()
    assert second["count"] == 2 and [s["id"] for s in second["items"]] == [out["id"]]
    assert staff.get(url(w) + "?limit=0").json()["code"] == "invalid_input"


def test_a_retry_posts_once_and_another_body_is_a_conflict(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    first = post(staff, url(w), body(w.cleanup, "2"), key="same")
    again = post(staff, url(w), body(w.cleanup, 2), key="same")  # 2 and "2" are the same quantity
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Transfer.objects.filter(ref_type="merchant_service").count() == 1 and merchant_balance(w.mA.pk) == 6
    other = post(staff, url(w), body(w.cleanup, "3"), key="same")
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
    # keys are kept apart per user: the street admin's "same" is a new record
    admin = post(client_for(w.street_admin), url(w), body(w.cleanup, "1"), key="same")
    assert admin.status_code == 201 and MerchantService.objects.count() == 2 and merchant_balance(w.mA.pk) == 9


def test_the_key_is_required(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    missing = post(staff, url(w), body(w.cleanup), key=None)
    assert (missing.status_code, missing.json()["code"]) == (400, "idempotency_key_required")
    too_long = post(staff, url(w), body(w.cleanup), key="x" * 101)
    assert (too_long.status_code, too_long.json()["code"]) == (400, "idempotency_key_invalid")
    longest = post(staff, url(w), body(w.cleanup), key="x" * 100)  # with the per-user prefix it still fits
    assert longest.status_code == 201, longest.content


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"quantity": "abc"}, 400, "invalid_input"),
        ({"quantity": 0}, 400, "invalid_input"),
        ({"quantity": "-2"}, 400, "invalid_input"),
        ({"quantity": "10000.01"}, 400, "invalid_input"),
        ({"quantity": "1.234"}, 400, "invalid_input"),
        ({"quantity": "NaN"}, 400, "invalid_input"),
        ({"quantity": None}, 400, "invalid_input"),
        ({"rule_id": "cleanup"}, 400, "invalid_input"),
        ({"rule_id": 2**63}, 400, "invalid_input"),
        ({"rule_id": 999999}, 400, "other_community"),
        ({"occurred_on": "yesterday"}, 400, "invalid_input"),
        ({"occurred_on": str(timezone.localdate() + timedelta(days=1))}, 400, "date_future"),
        ({"occurred_on": str(timezone.localdate() - timedelta(days=400))}, 400, "date_too_old"),
        ({"note": "x" * 301}, 400, "invalid_input"),
        ({"note": "a\x00b"}, 400, "invalid_input"),
        ({"quantity": "0.5"}, 400, "no_points"),  # less than a full hour
        ({"extra": 1, "quantity": "1"}, 201, None),  # unknown fields are ignored, as elsewhere
    ],
)
def test_bad_input_is_refused_with_a_code_and_nothing_is_written(
    w: SimpleNamespace, change: dict[str, Any], status: int, code: str | None
) -> None:
    answer = post(client_for(w.staff_a), url(w), {**body(w.cleanup), **change})
    assert answer.status_code == status, answer.content
    if code is not None:
        assert answer.json()["code"] == code
        assert nothing_written(w)


def test_rules_elsewhere_caps_and_broken_json(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    other = post(staff, url(w), body(w.cleanupB, "2"))
    assert (other.status_code, other.json()["code"], other.json()["field"]) == (400, "other_community", "rule")
    assert nothing_written(w)
    broken = staff.post(url(w), data=b"{", content_type="application/json", headers={"Idempotency-Key": "b"})
    assert (broken.status_code, broken.json()["code"]) == (400, "invalid_json")
    assert post(staff, url(w), body(w.cleanup, "3"), key="c1").status_code == 201  # 9: the daily cap exactly
    capped = post(staff, url(w), body(w.cleanup, "1"), key="c2")
    assert (capped.status_code, capped.json()["code"]) == (409, "cap_exceeded")
    assert MerchantService.objects.count() == 1 and merchant_balance(w.mA.pk) == 9
    w.mA.is_active = False
    w.mA.save(update_fields=["is_active"])
    gone = post(staff, url(w), body(w.mediation, "1"), key="c3")
    assert (gone.status_code, gone.json()["code"]) == (400, "merchant_inactive")


def test_another_community_is_not_found(w: SimpleNamespace) -> None:
    staff_b = client_for(w.staff_b)
    assert post(staff_b, url(w), body(w.cleanup)).status_code == 404
    assert staff_b.get(url(w)).status_code == 404
    # A's staff cannot reach B's shop either, nor a shop that does not exist
    assert post(client_for(w.staff_a), url(w, w.mB), body(w.cleanupB)).status_code == 404
    assert client_for(w.staff_a).get(f"{API}/points/merchants/999999/services").status_code == 404
    assert nothing_written(w) and merchant_balance(w.mB.pk) == 0


def test_the_shops_operator_cannot_award_their_own_shop(w: SimpleNamespace) -> None:
    operator = client_for(w.merchant_op_a)
    refused = post(operator, url(w), body(w.mediation, 5))
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    for name in ("auditor_a", "grid_chief_a1", "resident_a1"):
        assert post(client_for(getattr(w, name)), url(w), body(w.mediation, 1)).status_code in (403, 404)
    assert nothing_written(w)


def test_the_shops_operator_reads_its_own_records_and_no_other_shops(w: SimpleNamespace) -> None:
    assert post(client_for(w.staff_a), url(w), body(w.cleanup, "2")).status_code == 201
    listed = client_for(w.merchant_op_a).get(url(w))
    assert listed.status_code == 200, listed.content
    assert (listed.json()["count"], listed.json()["balance"], listed.json()["items"][0]["points"]) == (1, 6, 6)
    assert client_for(w.auditor_a).get(url(w)).json()["balance"] == 6
    neighbour = Merchant.objects.create(community=w.A, name="社区药店")
    # another shop's name is no secret to the operator, its books are
    assert client_for(w.merchant_op_a).get(url(w, neighbour)).status_code == 403
    assert client_for(w.resident_a1).get(url(w)).status_code in (403, 404)


def test_a_token_records_too(w: SimpleNamespace) -> None:
    key = "lnl_merchant_api_test"
    ApiToken.objects.create(user=w.staff_a, name="台账 app", prefix=key[:12], key_hash=token_hash(key))
    made = post(Client(), url(w), body(w.cleanup, "1"), Authorization=f"Bearer {key}")
    assert made.status_code == 201 and merchant_balance(w.mA.pk) == 3
    assert Client().post(url(w), data="{}", content_type="application/json").status_code == 401
