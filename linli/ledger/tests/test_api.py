"""The ledger JSON API: balances, passbooks, transfers in scope, and writes that are safe to retry."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from linli.common.testing import client_for
from linli.ledger import adjustments, selectors, services
from linli.ledger.models import Adjustment, AdjustmentStatus, Transfer, TransferKind
from linli.org import services as org_services
from linli.org.access import actor_for
from linli.org.models import Person, Role, RoleAssignment, User

API = "/api/v1"


def call(client: Client, method: str, path: str, body: Any = None, key: str | None = None, **headers: str) -> Any:
    if key is not None:
        headers["Idempotency-Key"] = key
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None:
        kwargs["data"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
        kwargs["content_type"] = "application/json"
    response = getattr(client, method.lower())(API + path, **kwargs)
    assert response.status_code < 500, response.content
    return response


def bal(person: Person) -> int:
    return selectors.balance(services.account_for_person(person))


def award(world: Any, person: Person, amount: int, key: str) -> Transfer:
    return services.award(person=person, amount=amount, actor=world.staff_a, idempotency_key=key).transfer


# --- reading ------------------------------------------------------------------------------------------------


def test_balance_and_passbook_keyset(world: Any) -> None:
    c = client_for(world.resident_a1)
    empty = call(c, "GET", f"/people/{world.pA1.id}/balance").json()
    assert empty == {"person_id": world.pA1.id, "account_id": None, "balance": 0}
    for i in range(7):
        award(world, world.pA1, i + 1, f"k{i}")
    assert call(c, "GET", f"/people/{world.pA1.id}/balance").json()["balance"] == 28
    seen: list[int] = []
    before = None
    while True:
        query = f"?limit=3&before={before}" if before else "?limit=3"
        page = call(c, "GET", f"/people/{world.pA1.id}/passbook{query}").json()
        seen += [line["transfer_id"] for line in page["items"]]
        assert page["balance"] == 28
        before = page["next_before"]
        if before is None:
            break
    assert len(seen) == 7 and seen == sorted(seen, reverse=True)
    first = call(c, "GET", f"/people/{world.pA1.id}/passbook?limit=1").json()["items"][0]
    assert (first["change"], first["balance_after"], first["kind"]) == (7, 28, "award")
    assert call(c, "GET", f"/people/{world.pA1.id}/passbook?limit=0").status_code == 400
    assert call(c, "GET", f"/people/{world.pA1.id}/passbook?before=abc").status_code == 400


def test_reading_is_scoped(world: Any) -> None:
    award(world, world.pA1, 5, "1")
    award(world, world.pA2, 6, "2")
    award(world, world.pB1, 7, "3")
    assert call(client_for(world.staff_a), "GET", f"/people/{world.pB1.id}/balance").status_code == 404
    assert call(client_for(world.steward_a1), "GET", f"/people/{world.pA1.id}/balance").status_code == 403

    def listed(user: User, query: str = "") -> list[int]:
        response = call(client_for(user), "GET", f"/transfers{query}")
        assert response.status_code == 200, response.content
        return [t["amount"] for t in response.json()["items"]]

    assert listed(world.staff_a) == [6, 5]
    assert listed(world.street_admin) == [7, 6, 5]
    assert listed(world.auditor_a, f"?community={world.A.id}") == [6, 5]
    assert listed(world.grid_worker_a1) == [5]
    assert listed(world.grid_worker_a2, f"?community={world.A.id}") == [6]
    assert listed(world.resident_a1) == [5]
    assert listed(world.staff_a, f"?person={world.pA2.id}") == [6]
    assert call(client_for(world.staff_a), "GET", f"/transfers?person={world.pB1.id}").status_code == 404
    assert call(client_for(world.staff_a), "GET", f"/transfers?community={world.B.id}").status_code == 404
    assert (
        call(client_for(world.staff_a), "GET", f"/transfers?community={world.A.id}&person={world.pB1.id}").status_code
        == 404
    )
    assert call(client_for(world.merchant_op_a), "GET", "/transfers").status_code == 403
    other = Transfer.objects.get(amount=7)
    assert call(client_for(world.staff_a), "GET", f"/transfers/{other.id}").status_code == 404
    assert (
        call(client_for(world.grid_worker_a1), "GET", f"/transfers/{Transfer.objects.get(amount=6).id}").status_code
        == 404
    )
    got = call(client_for(world.grid_worker_a1), "GET", f"/transfers/{Transfer.objects.get(amount=5).id}").json()
    assert got["credit_name"] == "王秀英" and got["debit_name"]


def test_transfer_list_keyset(world: Any) -> None:
    for i in range(5):
        award(world, world.pA2, 1, f"p{i}")
    c = client_for(world.staff_a)
    page1 = call(c, "GET", f"/transfers?community={world.A.id}&limit=2").json()
    page2 = call(c, "GET", f"/transfers?community={world.A.id}&limit=2&before={page1['next_before']}").json()
    page3 = call(c, "GET", f"/transfers?community={world.A.id}&limit=2&before={page2['next_before']}").json()
    ids = [t["id"] for p in (page1, page2, page3) for t in p["items"]]
    assert len(ids) == 5 == len(set(ids)) and ids == sorted(ids, reverse=True) and page3["next_before"] is None
    by_person = call(c, "GET", f"/transfers?person={world.pA2.id}&limit=3").json()
    rest = call(c, "GET", f"/transfers?person={world.pA2.id}&limit=3&before={by_person['next_before']}").json()
    assert [t["id"] for t in by_person["items"] + rest["items"]] == ids and rest["next_before"] is None


# --- awards ---------------------------------------------------------------------------------------------------------


def test_award_needs_a_key_and_retries_post_once(world: Any) -> None:
    c = client_for(world.staff_a)
    body = {"person_id": world.pA1.id, "amount": 10, "memo": "楼道清扫"}
    missing = call(c, "POST", "/awards", body)
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency_key_required"
    assert call(c, "POST", "/awards", body, key="   ").json()["code"] == "idempotency_key_required"
    assert call(c, "POST", "/awards", body, key="k" * 101).json()["code"] == "idempotency_key_invalid"
    assert not Transfer.objects.exists()
    first = call(c, "POST", "/awards", body, key="award-1")
    assert first.status_code == 201
    again = call(c, "POST", "/awards", body, key="award-1")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Transfer.objects.count() == 1 and bal(world.pA1) == 10
    reused = call(c, "POST", "/awards", {**body, "amount": 11}, key="award-1")
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"
    assert Transfer.objects.count() == 1
    # keys are kept apart per user: another staff member's "award-1" is a new request
    other = call(client_for(world.street_admin), "POST", "/awards", body, key="award-1")
    assert other.status_code == 201 and Transfer.objects.count() == 2
    out = first.json()
    assert out["kind"] == "award" and out["amount"] == 10 and out["memo"] == "楼道清扫"
    assert out["credit_balance_after"] == 10 and len(out["row_hash"]) == 64


def test_award_by_token(world: Any) -> None:
    _, token = org_services.api_token_issue(actor=actor_for(world.staff_a), user=world.staff_a, name="counter")
    c = Client()
    body = {"person_id": world.pA1.id, "amount": 3}
    headers = {"Authorization": f"Bearer {token}"}
    assert call(c, "POST", "/awards", body, key="t", **headers).status_code == 201
    assert call(c, "POST", "/awards", body, key="t", **headers).status_code == 200
    assert Transfer.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (0, "amount_invalid"),
        (-5, "amount_invalid"),
        (services.MAX_AMOUNT + 1, "amount_invalid"),
        (10**30, "amount_invalid"),
        (1.5, "invalid_input"),
        (5.0, "invalid_input"),
        ("5", "invalid_input"),
        (True, "invalid_input"),
        (None, "invalid_input"),
    ],
)
def test_award_bad_amounts(world: Any, amount: Any, code: str) -> None:
    response = call(
        client_for(world.staff_a), "POST", "/awards", {"person_id": world.pA1.id, "amount": amount}, key="b"
    )
    assert response.status_code == 400 and response.json()["code"] == code
    assert not Transfer.objects.exists()


def test_award_refusals(world: Any) -> None:
    c = client_for(world.staff_a)
    other = call(c, "POST", "/awards", {"person_id": world.pB1.id, "amount": 5}, key="o")
    assert other.status_code == 404 and other.json()["code"] == "not_found"
    assert call(c, "POST", "/awards", {"person_id": 2**63, "amount": 5}, key="o").status_code == 400
    long_memo = call(c, "POST", "/awards", {"person_id": world.pA1.id, "amount": 5, "memo": "长" * 201}, key="m")
    assert long_memo.status_code == 400
    assert call(c, "POST", "/awards", "{not json", key="j").json()["code"] == "invalid_json"
    me = Person.objects.create(community=world.A, name="社区工作者甲", user=world.staff_a)
    own = call(c, "POST", "/awards", {"person_id": me.id, "amount": 5}, key="me")
    assert own.status_code == 403 and own.json()["code"] == "self_award"
    auditor = call(client_for(world.auditor_a), "POST", "/awards", {"person_id": world.pA1.id, "amount": 5}, key="a")
    assert auditor.status_code == 403
    resident = call(client_for(world.resident_a1), "POST", "/awards", {"person_id": world.pA1.id, "amount": 5}, key="r")
    assert resident.status_code == 403
    assert not Transfer.objects.exists()


# --- reversals ------------------------------------------------------------------------------------------------------


def test_reverse_once_and_retry(world: Any) -> None:
    t = award(world, world.pA1, 30, "orig")
    c = client_for(world.staff_a)
    path = f"/transfers/{t.id}/reverse"
    assert call(c, "POST", path, {"reason": "录错了"}).json()["code"] == "idempotency_key_required"
    assert call(c, "POST", path, {"reason": "  "}, key="r1").json()["code"] == "reason_required"
    first = call(c, "POST", path, {"reason": "录错了"}, key="r1")
    assert first.status_code == 201 and first.json()["reverses_id"] == t.id and first.json()["kind"] == "reversal"
    again = call(c, "POST", path, {"reason": "录错了"}, key="r1")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    other_body = call(c, "POST", path, {"reason": "别的理由"}, key="r1")
    assert other_body.status_code == 409 and other_body.json()["code"] == "idempotency_key_reused"
    twice = call(c, "POST", path, {"reason": "再撤"}, key="r2")
    assert twice.status_code == 409 and twice.json()["code"] == "already_reversed"
    assert Transfer.objects.filter(kind=TransferKind.REVERSAL).count() == 1 and bal(world.pA1) == 0
    assert call(c, "GET", f"/transfers/{t.id}").json()["reversed_by_id"] == first.json()["id"]
    back = call(c, "POST", f"/transfers/{first.json()['id']}/reverse", {"reason": "撤回撤销"}, key="r3")
    assert back.status_code == 400 and back.json()["code"] == "reverse_reversal"
    assert call(client_for(world.grid_worker_a1), "POST", path, {"reason": "x"}, key="g").status_code == 403
    assert call(client_for(world.staff_b), "POST", path, {"reason": "x"}, key="b").status_code == 404


# --- adjustments ----------------------------------------------------------------------------------------------------


def second_staff(world: Any) -> User:
    user = User.objects.create_user(phone="13700000099", password="x-Linli-2026", name="社区工作者丁")
    RoleAssignment.objects.create(user=user, role=Role.COMMUNITY_STAFF, community=world.A)
    return user


def test_adjustment_flow(world: Any) -> None:
    c = client_for(world.staff_a)
    small = call(c, "POST", "/adjustments", {"person_id": world.pA1.id, "amount": 20, "reason": "补录"}, key="s")
    assert small.status_code == 201 and small.json()["status"] == "posted" and small.json()["transfer_id"]
    assert (
        call(
            c, "POST", "/adjustments", {"person_id": world.pA1.id, "amount": 20, "reason": "补录"}, key="s"
        ).status_code
        == 200
    )
    assert Transfer.objects.count() == 1
    reused = call(c, "POST", "/adjustments", {"person_id": world.pA1.id, "amount": 21, "reason": "补录"}, key="s")
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"
    big = call(c, "POST", "/adjustments", {"person_id": world.pA1.id, "amount": -15, "reason": "扣回"}, key="b")
    assert big.json()["status"] == "posted"
    large = call(c, "POST", "/adjustments", {"person_id": world.pA1.id, "amount": 100, "reason": "年度补发"}, key="L")
    assert large.status_code == 201 and large.json()["needs_approval"] and large.json()["transfer_id"] is None
    adj_id = large.json()["id"]
    own = call(c, "POST", f"/adjustments/{adj_id}/approve", key="ap")
    assert own.status_code == 403 and own.json()["code"] == "self_approval"
    assert call(client_for(world.auditor_a), "POST", f"/adjustments/{adj_id}/approve", key="ap").status_code == 403
    assert call(client_for(world.staff_b), "POST", f"/adjustments/{adj_id}/approve", key="ap").status_code == 404
    colleague = client_for(second_staff(world))
    assert call(colleague, "POST", f"/adjustments/{adj_id}/approve").json()["code"] == "idempotency_key_required"
    ok = call(colleague, "POST", f"/adjustments/{adj_id}/approve", key="ap")
    assert ok.status_code == 200 and ok.json()["status"] == "posted"
    retry = call(colleague, "POST", f"/adjustments/{adj_id}/approve", key="ap")
    assert retry.status_code == 200 and retry.json()["transfer_id"] == ok.json()["transfer_id"]
    twice = call(colleague, "POST", f"/adjustments/{adj_id}/approve", key="ap-again")
    assert twice.status_code == 409 and twice.json()["code"] == "adjustment_decided"
    assert call(client_for(world.street_admin), "POST", f"/adjustments/{adj_id}/approve", key="x").status_code == 409
    assert Transfer.objects.filter(kind=TransferKind.ADJUSTMENT).count() == 3 and bal(world.pA1) == 105


def test_adjustment_reject(world: Any) -> None:
    adj = adjustments.adjustment_request(
        actor=world.staff_a, person=world.pA1, amount=70, reason="补发", idempotency_key="k"
    )
    c = client_for(world.street_admin)
    out = call(c, "POST", f"/adjustments/{adj.id}/reject", {"note": "不符合规则"}, key="rj")
    assert out.status_code == 200 and out.json()["status"] == "rejected"
    assert call(c, "POST", f"/adjustments/{adj.id}/reject", {"note": "不符合规则"}, key="rj").status_code == 200
    assert call(c, "POST", f"/adjustments/{adj.id}/approve", key="ap").status_code == 409
    assert Adjustment.objects.get().status == AdjustmentStatus.REJECTED and not Transfer.objects.exists()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"amount": 0, "reason": "零"}, 400, "amount_invalid"),
        ({"amount": 10**30, "reason": "大"}, 400, "amount_invalid"),
        ({"amount": 2.5, "reason": "小数"}, 400, "invalid_input"),
        ({"amount": 5, "reason": ""}, 400, "reason_required"),
        ({"amount": 5, "reason": "   "}, 400, "reason_required"),
        ({"amount": 5}, 400, "invalid_input"),
        ({"amount": 5, "reason": "长" * 201}, 400, "invalid_input"),
        ({"amount": 5, "reason": "a\x00b"}, 400, "invalid_input"),
        ({"amount": -5, "reason": "扣"}, 409, "insufficient_points"),
    ],
)
def test_adjustment_bad_input(world: Any, body: dict[str, Any], status: int, code: str) -> None:
    response = call(client_for(world.staff_a), "POST", "/adjustments", {"person_id": world.pA1.id, **body}, key="x")
    assert response.status_code == status and response.json()["code"] == code
    assert not Adjustment.objects.exists() and not Transfer.objects.exists()


def test_adjustment_of_another_communitys_person(world: Any) -> None:
    response = call(
        client_for(world.staff_a),
        "POST",
        "/adjustments",
        {"person_id": world.pB1.id, "amount": 5, "reason": "x"},
        key="o",
    )
    assert response.status_code == 404 and not Adjustment.objects.exists()
