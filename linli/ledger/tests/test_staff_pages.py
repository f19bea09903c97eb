"""The staff ledger pages as staff use them: award, reverse, adjust, approve, settings — and the refusals."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from linli.common.testing import client_for
from linli.ledger import adjustments, selectors, services
from linli.ledger.models import Adjustment, AdjustmentStatus, LedgerPolicy, Transfer, TransferKind
from linli.org.models import Person, Role, RoleAssignment, User


def english(user: Any) -> Client:
    client = client_for(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def bal(person: Person) -> int:
    return selectors.balance(services.account_for_person(person))


def hidden_key(html: str) -> str:
    found = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', html)
    assert found, "the form carries no idempotency key"
    return found.group(1)


def text(response: Any) -> str:
    return str(response.content.decode())


AWARD = reverse("ledger:award")
ADJUST = reverse("ledger:adjust")
HOME = reverse("ledger:staff_home")


# --- awards ---------------------------------------------------------------------------------------------------------


def test_award_by_search_and_no_double_posting(world: Any) -> None:
    c = english(world.staff_a)
    found = c.get(AWARD, {"community": world.A.id, "q": "王老"})
    assert found.status_code == 200 and "王老伯" in text(found) and "李建华" not in text(found)
    # the elder without a phone is chosen from the list: nothing else is needed
    form = c.get(AWARD, {"community": world.A.id, "person": world.pA1b.id})
    assert form.status_code == 200 and "王老伯" in text(form)
    key = hidden_key(text(form))
    data = {"person": world.pA1b.id, "amount": 15, "memo": "帮忙打扫", "idempotency_key": key}
    first = c.post(f"{AWARD}?community={world.A.id}", data)
    assert first.status_code == 302
    t = Transfer.objects.get()
    assert first["Location"] == reverse("ledger:transfer_detail", args=[t.id])
    assert (t.amount, t.memo, t.kind, t.actor_id) == (15, "帮忙打扫", TransferKind.AWARD, world.staff_a.id)
    # a double click or a refresh sends the same form again: nothing new is posted
    again = c.post(f"{AWARD}?community={world.A.id}", data)
    assert again.status_code == 302 and again["Location"] == first["Location"]
    assert Transfer.objects.count() == 1 and bal(world.pA1b) == 15
    # a freshly rendered form has a new key
    assert hidden_key(text(c.get(AWARD, {"community": world.A.id, "person": world.pA1b.id}))) != key


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "1.5", "", str(services.MAX_AMOUNT + 1), "9" * 30])
def test_award_bad_amounts(world: Any, amount: str) -> None:
    c = english(world.staff_a)
    response = c.post(
        f"{AWARD}?community={world.A.id}",
        {"person": world.pA1.id, "amount": amount, "idempotency_key": "k" * 32},
    )
    assert response.status_code == 200 and 'class="errorlist' in text(response)
    assert not Transfer.objects.exists()


def test_award_to_someone_of_another_community_is_404(world: Any) -> None:
    c = english(world.staff_a)
    assert c.get(AWARD, {"community": world.A.id, "person": world.pB1.id}).status_code == 404
    response = c.post(
        f"{AWARD}?community={world.A.id}", {"person": world.pB1.id, "amount": 5, "idempotency_key": "k" * 32}
    )
    assert response.status_code == 404 and not Transfer.objects.exists()
    # nor through another community the actor cannot see
    assert c.get(AWARD, {"community": world.B.id}).status_code == 404


def test_award_to_oneself_refused_inline(world: Any) -> None:
    me = Person.objects.create(community=world.A, name="社区工作者甲", user=world.staff_a)
    c = english(world.staff_a)
    response = c.post(f"{AWARD}?community={world.A.id}", {"person": me.id, "amount": 5, "idempotency_key": "k" * 32})
    assert response.status_code == 200
    assert "Nobody awards points to themselves." in text(response)
    assert not Transfer.objects.exists()


def test_readers_cannot_award(world: Any) -> None:
    for user in (world.auditor_a, world.grid_worker_a1, world.resident_a1):
        response = client_for(user).post(
            f"{AWARD}?community={world.A.id}", {"person": world.pA1.id, "amount": 5, "idempotency_key": "k" * 32}
        )
        assert response.status_code == 403
    assert not Transfer.objects.exists()


# --- one transfer and its reversal ----------------------------------------------------------------------------------


def test_transfer_detail_and_reverse_once(world: Any) -> None:
    t = services.award(person=world.pA1, amount=30, actor=world.staff_a, idempotency_key="x").transfer
    c = english(world.staff_a)
    page = c.get(reverse("ledger:transfer_detail", args=[t.id]))
    assert page.status_code == 200 and t.row_hash in text(page) and t.reference in text(page)
    key = hidden_key(text(page))
    url = reverse("ledger:reverse", args=[t.id])
    empty = c.post(url, {"reason": "  ", "idempotency_key": key})
    assert empty.status_code == 200 and not Transfer.objects.filter(reverses=t).exists()
    done = c.post(url, {"reason": "录错了人", "idempotency_key": key})
    assert done.status_code == 302
    reversal = Transfer.objects.get(reverses=t)
    assert reversal.kind == TransferKind.REVERSAL and reversal.memo == "录错了人" and bal(world.pA1) == 0
    assert c.post(url, {"reason": "录错了人", "idempotency_key": key}).status_code == 302  # the same form again
    # another attempt is refused, and the page shows the reversal
    twice = c.post(url, {"reason": "再撤一次", "idempotency_key": "f" * 32})
    assert twice.status_code == 200 and "already been reversed" in text(twice)
    assert reversal.reference in text(twice)
    assert Transfer.objects.filter(reverses=t).count() == 1 and Transfer.objects.count() == 2
    # a reversal's own page offers no reversal
    assert "Reverse this transfer" not in text(c.get(reverse("ledger:transfer_detail", args=[reversal.id])))


def test_reverse_needs_the_points(world: Any) -> None:
    t = services.award(person=world.pA1, amount=30, actor=world.staff_a, idempotency_key="x").transfer
    services.transfer_post(
        debit=services.account_for_person(world.pA1),
        credit=services.system_account(world.A, "market"),
        amount=25,
        kind=TransferKind.REDEMPTION,
        actor=world.staff_a,
        idempotency_key="spend",
    )
    response = english(world.staff_a).post(
        reverse("ledger:reverse", args=[t.id]), {"reason": "错", "idempotency_key": "a" * 32}
    )
    assert response.status_code == 200 and "Not enough points" in text(response)


def test_grid_worker_sees_only_their_grid(world: Any) -> None:
    t1 = services.award(person=world.pA1, amount=3, actor=world.staff_a, idempotency_key="1").transfer
    t2 = services.award(person=world.pA2, amount=4, actor=world.staff_a, idempotency_key="2").transfer
    c = english(world.grid_worker_a2)
    home = text(c.get(HOME, {"community": world.A.id}))
    assert t2.reference in home and t1.reference not in home
    assert "Award points" not in home and "Adjust points" not in home
    assert c.get(reverse("ledger:transfer_detail", args=[t1.id])).status_code == 404
    detail = c.get(reverse("ledger:transfer_detail", args=[t2.id]))
    assert detail.status_code == 200 and 'name="reason"' not in text(detail)
    assert c.post(reverse("ledger:reverse", args=[t2.id]), {"reason": "x", "idempotency_key": "k"}).status_code == 403


# --- the community's page -------------------------------------------------------------------------------------------


def test_staff_home_totals_search_and_keyset_pages(world: Any) -> None:
    for i in range(55):
        services.award(person=world.pA2, amount=1, actor=world.staff_a, idempotency_key=f"a{i}")
    services.award(person=world.pA1, amount=10, actor=world.staff_a, idempotency_key="w")
    services.transfer_post(
        debit=services.account_for_person(world.pA1),
        credit=services.system_account(world.A, "market"),
        amount=4,
        kind=TransferKind.REDEMPTION,
        actor=world.staff_a,
        idempotency_key="spend",
    )
    c = english(world.auditor_a)
    page = c.get(HOME, {"community": world.A.id})
    assert page.status_code == 200
    body = text(page)
    assert re.search(r'data-testid="issued">65<', body)
    assert re.search(r'data-testid="circulation">61<', body)
    assert re.search(r'data-testid="spent">4<', body)
    assert "Award points" not in body  # the auditor reads only
    rows = re.findall(r"/ledger/staff/transfers/(\d+)/", body)
    assert len(rows) == 50 and rows == sorted(rows, key=int, reverse=True)
    older = re.search(r"before=(\d+)", body)
    assert older
    rest = re.findall(
        r"/ledger/staff/transfers/(\d+)/", text(c.get(HOME, {"community": world.A.id, "before": older.group(1)}))
    )
    assert len(rest) == 7 and not set(rest) & set(rows)
    found = text(c.get(HOME, {"community": world.A.id, "q": "王秀"}))
    assert len(re.findall(r"/ledger/staff/transfers/(\d+)/", found)) == 2
    # nonsense paging input is ignored, never a 500
    assert c.get(HOME, {"community": world.A.id, "before": "x' or 1=1"}).status_code == 200
    assert c.get(HOME, {"community": "abc"}).status_code == 404


# --- adjustments ----------------------------------------------------------------------------------------------------


def second_staff(world: Any) -> User:
    user = User.objects.create_user(phone="13700000099", password="x-Linli-2026", name="社区工作者丁")
    RoleAssignment.objects.create(user=user, role=Role.COMMUNITY_STAFF, community=world.A)
    return user


def test_adjust_small_posts_large_waits_for_a_second_staff_member(world: Any) -> None:
    c = english(world.staff_a)
    form = c.get(ADJUST, {"community": world.A.id, "person": world.pA1.id})
    assert form.status_code == 200 and "more than 50 points need a second approval" in text(form)
    small = c.post(
        f"{ADJUST}?community={world.A.id}",
        {"person": world.pA1.id, "amount": 20, "reason": "补录", "idempotency_key": hidden_key(text(form))},
    )
    assert small.status_code == 302 and bal(world.pA1) == 20
    no_reason = c.post(
        f"{ADJUST}?community={world.A.id}",
        {"person": world.pA1.id, "amount": 20, "reason": "", "idempotency_key": "b" * 32},
    )
    zero = c.post(
        f"{ADJUST}?community={world.A.id}",
        {"person": world.pA1.id, "amount": 0, "reason": "零", "idempotency_key": "c" * 32},
    )
    assert no_reason.status_code == zero.status_code == 200 and Adjustment.objects.count() == 1
    big = c.post(
        f"{ADJUST}?community={world.A.id}",
        {"person": world.pA1.id, "amount": 200, "reason": "年度补发", "idempotency_key": "d" * 32},
        follow=True,
    )
    assert "needs a second approval" in text(big)
    adj = Adjustment.objects.get(status=AdjustmentStatus.PENDING)
    assert bal(world.pA1) == 20
    # the requester cannot approve their own: a clear message, nothing posted
    home = text(c.get(HOME, {"community": world.A.id}))
    assert "Another staff member must approve your request." in home
    own = c.post(reverse("ledger:adjustment_approve", args=[adj.id]), follow=True)
    assert "another staff member must approve it" in text(own)
    assert Adjustment.objects.get(pk=adj.pk).status == AdjustmentStatus.PENDING and bal(world.pA1) == 20
    # a colleague approves; a second approval is refused with a message
    colleague = english(second_staff(world))
    assert (
        colleague.post(reverse("ledger:adjustment_approve", args=[adj.id]), {"idempotency_key": "z"}).status_code == 302
    )
    assert Adjustment.objects.get(pk=adj.pk).status == AdjustmentStatus.POSTED and bal(world.pA1) == 220
    twice = colleague.post(reverse("ledger:adjustment_approve", args=[adj.id]), {"idempotency_key": "y"}, follow=True)
    assert "already been approved or rejected" in text(twice) and bal(world.pA1) == 220


def test_reject_from_the_page(world: Any) -> None:
    adj = adjustments.adjustment_request(
        actor=world.staff_a, person=world.pA1, amount=-90, reason="扣回", idempotency_key="r"
    )
    response = english(world.street_admin).post(reverse("ledger:adjustment_reject", args=[adj.id]), {"note": "不扣"})
    assert response.status_code == 302
    adj.refresh_from_db()
    assert adj.status == AdjustmentStatus.REJECTED and adj.decision_note == "不扣" and not Transfer.objects.exists()


def test_adjust_another_communitys_person_is_404(world: Any) -> None:
    response = english(world.staff_a).post(
        f"{ADJUST}?community={world.A.id}",
        {"person": world.pB1.id, "amount": 5, "reason": "x", "idempotency_key": "k" * 32},
    )
    assert response.status_code == 404 and not Adjustment.objects.exists()


# --- settings -------------------------------------------------------------------------------------------------------


def test_policy_page(world: Any) -> None:
    c = english(world.staff_a)
    url = f"{reverse('ledger:policy')}?community={world.A.id}"
    assert c.get(url).status_code == 200
    saved = c.post(url, {"adjustment_approval_threshold": 10, "expiry_enabled": "on", "expiry_years": 2})
    assert saved.status_code == 302
    p = LedgerPolicy.objects.get(community=world.A)
    assert (p.adjustment_approval_threshold, p.expiry_enabled, p.expiry_years) == (10, True, 2)
    bad = c.post(url, {"adjustment_approval_threshold": -1, "expiry_years": 0})
    assert bad.status_code == 200 and 'class="errorlist' in text(bad)
    assert (
        client_for(world.auditor_a).post(url, {"adjustment_approval_threshold": 0, "expiry_years": 1}).status_code
        == 403
    )
    assert LedgerPolicy.objects.get(community=world.A).adjustment_approval_threshold == 10
