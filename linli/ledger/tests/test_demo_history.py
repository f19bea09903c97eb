"""The demo street's points history: realistic, never overdrawn, idempotent, and every balance adds up."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from django.db.models import F, Q, Sum

from linli.ledger import demo_history, selectors
from linli.ledger.models import Account, AccountKind, Transfer, TransferKind
from linli.org import demo
from linli.org.models import Merchant

pytestmark = pytest.mark.django_db

HOUSEHOLDS = demo.MIN_HOUSEHOLDS


@pytest.fixture
def built() -> demo_history.HistoryResult:
    demo.build_demo(households=HOUSEHOLDS)
    started = time.perf_counter()
    result = demo_history.build_history()
    result.seconds = time.perf_counter() - started
    return result


def passbook(account: Account) -> list[selectors.PassbookLine]:
    return selectors.passbook_page(account, limit=100)


def test_builds_once(built: demo_history.HistoryResult) -> None:
    assert built.created and built.transfers == Transfer.objects.count() > 1500
    assert built.seconds < 30  # a few seconds on a developer machine; generous for slow CI
    again = demo_history.build_history()
    assert not again.created and Transfer.objects.count() == built.transfers
    keys = Transfer.objects.values_list("community_id", "idempotency_key")
    assert len(set(keys)) == len(keys)


def test_no_history_without_the_demo_street(db: Any) -> None:
    assert not demo_history.build_history().created
    assert not Transfer.objects.exists()


def test_balances_add_up_and_never_go_negative(built: demo_history.HistoryResult) -> None:
    for account in Account.objects.all():
        credits = Transfer.objects.filter(credit=account).aggregate(s=Sum("amount"))["s"] or 0
        debits = Transfer.objects.filter(debit=account).aggregate(s=Sum("amount"))["s"] or 0
        assert selectors.balance(account) == credits - debits
        if account.kind in (AccountKind.PERSON, AccountKind.MERCHANT):
            assert account.balance >= 0
            # every running balance in the passbook stayed >= 0 too
            assert not Transfer.objects.filter(debit=account, debit_balance_after__lt=0).exists()
    for community_id in Transfer.objects.values_list("community_id", flat=True).distinct():
        in_community = Account.objects.filter(community_id=community_id)
        assert sum(selectors.balance(a) for a in in_community) == 0


def test_history_is_spread_over_months_in_time_order(built: demo_history.HistoryResult) -> None:
    months = {
        t.astimezone(demo_history.TZ).strftime("%Y-%m") for t in Transfer.objects.values_list("created_at", flat=True)
    }
    assert len(months) >= 6
    for community_id in Transfer.objects.values_list("community_id", flat=True).distinct():
        times = list(
            Transfer.objects.filter(community_id=community_id).order_by("id").values_list("created_at", flat=True)
        )
        assert times == sorted(times)  # ids grow with time: seals by month cover contiguous ids
    kinds = Counter(Transfer.objects.values_list("kind", flat=True))
    assert kinds[TransferKind.AWARD] > 1000 and kinds[TransferKind.REDEMPTION] > 100
    # monthly clean-ups: one batch of 30-60 people per community and month
    cleanups = Counter(
        (t.community_id, t.created_at) for t in Transfer.objects.filter(memo__endswith="月院落环境大扫除")
    )
    assert len(cleanups) >= 3 * 5 and all(30 <= n <= 60 for n in cleanups.values())
    # redemptions at SEEDS prices only
    prices = set(Transfer.objects.filter(kind=TransferKind.REDEMPTION).values_list("amount", flat=True))
    assert prices <= {3, 6, 15, 30, 40}


def test_the_resident_demo_login_has_a_passbook(built: demo_history.HistoryResult) -> None:
    resident = demo.demo_resident_person()
    assert resident.phone == "19900000008" and resident.user is not None
    account = Account.objects.get(person=resident)
    lines = passbook(account)
    assert 18 <= len(lines) <= 22
    kinds = Counter(line.transfer.kind for line in lines)
    assert kinds[TransferKind.REVERSAL] == 1 and kinds[TransferKind.ADJUSTMENT] == 1 and kinds[TransferKind.GIFT] == 1
    assert kinds[TransferKind.REDEMPTION] >= 2
    reversal = next(line.transfer for line in lines if line.transfer.kind == TransferKind.REVERSAL)
    assert reversal.reverses is not None and reversal.memo.startswith("重复录入")
    assert reversal.reverses.credit_id == account.pk
    adjustment = next(line.transfer for line in lines if line.transfer.kind == TransferKind.ADJUSTMENT)
    assert adjustment.ref_type == "adjustment" and "补录" in adjustment.memo
    assert lines[0].balance_after == account.balance > 0


def test_the_stories(built: demo_history.HistoryResult) -> None:
    daxing = Account.objects.filter(community__code=demo.DAXING_CODE, kind=AccountKind.PERSON)
    earned = {
        a.pk: Transfer.objects.filter(credit=a).exclude(kind=TransferKind.GIFT).aggregate(s=Sum("amount"))["s"] or 0
        for a in daxing
    }
    ranking = sorted(earned.values(), reverse=True)
    assert ranking[0] == demo_history.STAR_POINTS and ranking[1] <= 130  # far ahead
    star = Account.objects.get(pk=max(earned, key=lambda k: earned[k]))
    assert star.balance == demo_history.STAR_POINTS
    radio = Transfer.objects.get(memo__contains="修收音机", community__code=demo.DAXING_CODE)
    assert radio.amount == 3 and radio.credit_balance_after == demo_history.RADIO_BALANCE
    assert passbook(radio.credit)[0].transfer == radio  # the newest line of that passbook
    barber = Account.objects.get(merchant=Merchant.objects.get(name=demo.DEMO_MERCHANT))
    assert barber.balance > 0 and Transfer.objects.filter(debit=barber, kind=TransferKind.REDEMPTION).exists()
    gift = Transfer.objects.get(kind=TransferKind.GIFT)
    assert gift.debit.person is not None and gift.credit.person == demo.demo_resident_person()
    # the actor is the community's back-office scorer, never the person credited
    assert not Transfer.objects.filter(Q(actor__isnull=True) | Q(credit__person__user=F("actor"))).exists()


def test_past_months_are_sealed_and_verify(built: demo_history.HistoryResult) -> None:
    sealing = pytest.importorskip("linli.ledger.sealing")
    assert built.sealed >= 3 * 5
    report = sealing.ledger_verify()
    assert report.ok, [str(p) for p in report.problems[:5]]
