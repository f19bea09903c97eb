"""Adjustments: a reason always, nobody adjusts their own points, a second staff member above the threshold."""

from __future__ import annotations

from typing import Any

import pytest

from linli.common.errors import Conflict, Forbidden, Invalid, NotFound
from linli.ledger import adjustments, selectors, services
from linli.ledger.adjustments import (
    AdjustmentDecided,
    adjustment_approve,
    adjustment_reject,
    adjustment_request,
    policy_for,
    policy_update,
)
from linli.ledger.errors import IdempotencyKeyReused, InsufficientPoints
from linli.ledger.models import Adjustment, AdjustmentStatus, LedgerPolicy, SystemAccount, Transfer, TransferKind
from linli.org.models import Person, Role, RoleAssignment, User


def balance(person: Person) -> int:
    return selectors.balance(services.account_for_person(person))


def second_staff(world: Any) -> User:
    user = User.objects.create_user(phone="13700000099", password="x-Linli-2026", name="社区工作者丁")
    RoleAssignment.objects.create(user=user, role=Role.COMMUNITY_STAFF, community=world.A)
    return user


def test_small_adjustment_posts_at_once(world: Any) -> None:
    adj = adjustment_request(
        actor=world.staff_a, person=world.pA1, amount=30, reason="补录活动积分", idempotency_key="a"
    )
    assert adj.status == AdjustmentStatus.POSTED and adj.decided_by == world.staff_a
    t = adj.transfer
    assert t is not None
    assert (t.kind, t.ref_type, t.ref_id, t.memo, t.amount) == (
        TransferKind.ADJUSTMENT,
        "adjustment",
        adj.pk,
        "补录活动积分",
        30,
    )
    assert t.debit.system_code == SystemAccount.ISSUANCE and t.credit.person == world.pA1
    assert balance(world.pA1) == 30
    # exactly at the threshold (50) still posts at once; a negative one takes points back into issuance
    down = adjustment_request(actor=world.staff_a, person=world.pA1, amount=-20, reason="重复录入", idempotency_key="b")
    assert down.status == AdjustmentStatus.POSTED and down.transfer is not None
    assert down.transfer.debit.person == world.pA1 and down.transfer.credit.system_code == SystemAccount.ISSUANCE
    at = adjustment_request(actor=world.staff_a, person=world.pA1, amount=50, reason="补录", idempotency_key="c")
    assert at.status == AdjustmentStatus.POSTED
    assert balance(world.pA1) == 60


def test_large_adjustment_waits_for_another_staff_member(world: Any) -> None:
    adj = adjustment_request(actor=world.staff_a, person=world.pA1, amount=51, reason="年度补发", idempotency_key="big")
    assert adj.status == AdjustmentStatus.PENDING and adj.transfer is None
    assert Transfer.objects.count() == 0
    with pytest.raises(Forbidden) as own:
        adjustment_approve(actor=world.staff_a, adjustment=adj)
    assert own.value.code == "self_approval"
    for outsider in (world.staff_b, world.staff_c):
        with pytest.raises(NotFound):
            adjustment_approve(actor=outsider, adjustment=adj)
    for reader in (world.auditor_a, world.grid_worker_a1, world.grid_chief_a1):
        with pytest.raises(Forbidden):
            adjustment_approve(actor=reader, adjustment=adj)
    done = adjustment_approve(actor=world.street_admin, adjustment=adj, idempotency_key="ok-1")
    assert done.status == AdjustmentStatus.POSTED and done.decided_by == world.street_admin
    assert done.transfer is not None and done.transfer.actor == world.street_admin
    assert balance(world.pA1) == 51
    # the same approval again (same key) is a replay; anything else is a 409 and posts nothing
    assert (
        adjustment_approve(actor=world.street_admin, adjustment=adj, idempotency_key="ok-1").transfer == done.transfer
    )
    with pytest.raises(AdjustmentDecided) as twice:
        adjustment_approve(actor=world.street_admin, adjustment=adj, idempotency_key="ok-2")
    assert twice.value.status == 409 and twice.value.code == "adjustment_decided"
    with pytest.raises(AdjustmentDecided):
        adjustment_reject(actor=world.street_admin, adjustment=adj, note="晚了")
    assert Transfer.objects.count() == 1


def test_threshold_from_policy(world: Any) -> None:
    LedgerPolicy.objects.create(community=world.A, adjustment_approval_threshold=0)
    adj = adjustment_request(actor=world.staff_a, person=world.pA1, amount=1, reason="测试", idempotency_key="t")
    assert adj.status == AdjustmentStatus.PENDING
    assert policy_for(world.B).adjustment_approval_threshold == 50  # defaults where there is no row


def test_reject_posts_nothing(world: Any) -> None:
    adj = adjustment_request(actor=world.staff_a, person=world.pA1, amount=-80, reason="误发", idempotency_key="r")
    out = adjustment_reject(actor=world.street_admin, adjustment=adj, note="核实无误")
    assert out.status == AdjustmentStatus.REJECTED and out.decision_note == "核实无误"
    assert adjustment_reject(actor=world.street_admin, adjustment=adj, note="核实无误").pk == adj.pk  # a retry
    with pytest.raises(AdjustmentDecided):
        adjustment_approve(actor=second_staff(world), adjustment=adj)
    assert Transfer.objects.count() == 0
    # the requester may withdraw their own request
    mine = adjustment_request(actor=world.staff_a, person=world.pA2, amount=99, reason="多算", idempotency_key="w")
    assert adjustment_reject(actor=world.staff_a, adjustment=mine).status == AdjustmentStatus.REJECTED


def test_negative_adjustment_needs_the_points(world: Any) -> None:
    with pytest.raises(InsufficientPoints):
        adjustment_request(actor=world.staff_a, person=world.pA1, amount=-5, reason="扣回", idempotency_key="n")
    assert not Adjustment.objects.exists()  # nothing half-done
    pending = adjustment_request(actor=world.staff_a, person=world.pA1, amount=-500, reason="扣回", idempotency_key="m")
    with pytest.raises(InsufficientPoints):
        adjustment_approve(actor=world.street_admin, adjustment=pending)
    pending.refresh_from_db()
    assert pending.status == AdjustmentStatus.PENDING and pending.transfer is None


@pytest.mark.parametrize(
    ("amount", "reason", "code"),
    [
        (0, "零", "amount_invalid"),
        (services.MAX_AMOUNT + 1, "太多", "amount_invalid"),
        (-services.MAX_AMOUNT - 1, "太多", "amount_invalid"),
        (2.5, "小数", "amount_invalid"),
        ("5", "文字", "amount_invalid"),
        (True, "布尔", "amount_invalid"),
        (5, "", "reason_required"),
        (5, "   ", "reason_required"),
        (5, "长" * 201, "reason_too_long"),
    ],
)
def test_bad_input(world: Any, amount: Any, reason: str, code: str) -> None:
    with pytest.raises(Invalid) as err:
        adjustment_request(actor=world.staff_a, person=world.pA1, amount=amount, reason=reason, idempotency_key="x")
    assert err.value.code == code and err.value.status == 400
    assert not Adjustment.objects.exists()


def test_bad_key(world: Any) -> None:
    for key in ("", "  ", "k" * 121):
        with pytest.raises(Invalid) as err:
            adjustment_request(actor=world.staff_a, person=world.pA1, amount=5, reason="r", idempotency_key=key)
        assert err.value.code == "idempotency_key_invalid"


def test_who_may_ask(world: Any) -> None:
    for outsider in (world.staff_b, world.staff_c, world.grid_worker_a2, world.merchant_op_a):
        with pytest.raises(NotFound):
            adjustment_request(actor=outsider, person=world.pA1, amount=5, reason="r", idempotency_key="o")
    for reader in (world.auditor_a, world.grid_worker_a1, world.steward_a1):
        with pytest.raises(Forbidden):
            adjustment_request(actor=reader, person=world.pA1, amount=5, reason="r", idempotency_key="o")
    with pytest.raises(Forbidden):
        adjustment_request(actor=world.resident_a1, person=world.pA1, amount=5, reason="r", idempotency_key="o")
    assert not Adjustment.objects.exists()


def test_nobody_adjusts_their_own_points(world: Any) -> None:
    me = Person.objects.create(community=world.A, name="社区工作者甲", user=world.staff_a)
    with pytest.raises(Forbidden) as err:
        adjustment_request(actor=world.staff_a, person=me, amount=5, reason="自己", idempotency_key="me")
    assert err.value.code == "self_adjustment"
    # nor approves a large one made for them by a colleague
    adj = adjustment_request(actor=world.street_admin, person=me, amount=100, reason="补", idempotency_key="me2")
    with pytest.raises(Forbidden) as err2:
        adjustment_approve(actor=world.staff_a, adjustment=adj)
    assert err2.value.code == "self_adjustment"


def test_idempotent_request(world: Any) -> None:
    first = adjustments.adjustment_request_or_replay(
        actor=world.staff_a, person=world.pA1, amount=10, reason="补", idempotency_key="same"
    )
    again = adjustments.adjustment_request_or_replay(
        actor=world.staff_a, person=world.pA1, amount=10, reason="补", idempotency_key="same"
    )
    assert not first.replayed and again.replayed and again.adjustment.pk == first.adjustment.pk
    assert Transfer.objects.count() == 1 and balance(world.pA1) == 10
    with pytest.raises(IdempotencyKeyReused) as err:
        adjustment_request(actor=world.staff_a, person=world.pA1, amount=11, reason="补", idempotency_key="same")
    assert isinstance(err.value, Conflict) and err.value.code == "idempotency_key_reused"
    assert Transfer.objects.count() == 1


def test_policy_update(world: Any) -> None:
    p = policy_update(
        actor=world.staff_a, community=world.A, adjustment_approval_threshold=20, expiry_enabled=True, expiry_years=2
    )
    assert (p.adjustment_approval_threshold, p.expiry_enabled, p.expiry_years) == (20, True, 2)
    assert LedgerPolicy.objects.get(community=world.A).expiry_years == 2
    with pytest.raises(Invalid):
        policy_update(
            actor=world.staff_a,
            community=world.A,
            adjustment_approval_threshold=-1,
            expiry_enabled=True,
            expiry_years=1,
        )
    with pytest.raises(Invalid):
        policy_update(
            actor=world.staff_a, community=world.A, adjustment_approval_threshold=1, expiry_enabled=True, expiry_years=0
        )
    with pytest.raises(Forbidden):
        policy_update(
            actor=world.auditor_a,
            community=world.A,
            adjustment_approval_threshold=1,
            expiry_enabled=True,
            expiry_years=1,
        )
    with pytest.raises(NotFound):
        policy_update(
            actor=world.staff_b, community=world.A, adjustment_approval_threshold=1, expiry_enabled=True, expiry_years=1
        )
