"""Expiry: off by default; points earned in year Y expire at the end of year Y + expiry_years, oldest first."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from io import StringIO
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from linli.ledger import selectors, services
from linli.ledger.expiry import cutoff_year, points_expire
from linli.ledger.models import LedgerPolicy, SystemAccount, Transfer, TransferKind
from linli.org.models import Person

TZ = ZoneInfo("Asia/Shanghai")
_n = iter(range(1_000_000))


@contextmanager
def at(y: int, m: int, d: int, hh: int = 10) -> Iterator[None]:
    with mock.patch("django.utils.timezone.now", return_value=datetime(y, m, d, hh, tzinfo=TZ)):
        yield


def earn(person: Person, amount: int, when: tuple[int, int, int], world: Any) -> None:
    with at(*when):
        services.award(person=person, amount=amount, actor=world.staff_a, idempotency_key=f"earn-{next(_n)}")


def spend(person: Person, amount: int, when: tuple[int, int, int], world: Any) -> Transfer:
    with at(*when):
        return services.transfer_post(
            debit=services.account_for_person(person),
            credit=services.system_account(person.community_id, SystemAccount.MARKET),
            amount=amount,
            kind=TransferKind.REDEMPTION,
            actor=world.staff_a,
            idempotency_key=f"spend-{next(_n)}",
        ).transfer


def bal(person: Person) -> int:
    return selectors.balance(services.account_for_person(person))


def enable(world: Any, years: int = 1) -> None:
    LedgerPolicy.objects.update_or_create(community=world.A, defaults={"expiry_enabled": True, "expiry_years": years})


def test_cutoff_year() -> None:
    # "the end of the year after earning": 2024's points are good through 2025-12-31
    assert cutoff_year(date(2025, 12, 31), 1) == 2023
    assert cutoff_year(date(2026, 1, 1), 1) == 2024
    assert cutoff_year(date(2026, 1, 1), 2) == 2023


def test_off_by_default(world: Any) -> None:
    earn(world.pA1, 100, (2020, 5, 1), world)
    assert points_expire(community=world.A, as_of=date(2030, 1, 1)) == []
    LedgerPolicy.objects.create(community=world.A, expiry_enabled=False)
    assert points_expire(community=world.A, as_of=date(2030, 1, 1)) == []
    assert bal(world.pA1) == 100 and not Transfer.objects.filter(kind=TransferKind.EXPIRY).exists()


def test_fifo_with_spending_in_between(world: Any) -> None:
    enable(world)
    earn(world.pA1, 100, (2024, 3, 1), world)
    spend(world.pA1, 30, (2025, 2, 1), world)  # uses 30 of 2024's points
    earn(world.pA1, 50, (2025, 6, 1), world)
    # nothing has expired yet on the last day of 2025
    assert points_expire(community=world.A, as_of=date(2025, 12, 31)) == []
    first = points_expire(community=world.A, as_of=date(2026, 1, 1))
    assert [t.amount for t in first] == [70]  # 2024's 100 minus the 30 spent
    t = first[0]
    assert t.kind == TransferKind.EXPIRY and t.debit.person == world.pA1
    assert t.credit.system_code == SystemAccount.EXPIRY and t.idempotency_key == f"expire:{t.debit_id}:2024"
    assert bal(world.pA1) == 50
    spend(world.pA1, 20, (2026, 3, 1), world)  # out of 2025's 50
    earn(world.pA1, 10, (2026, 4, 1), world)
    second = points_expire(community=world.A, as_of=date(2027, 1, 1))
    assert [t.amount for t in second] == [30]  # what is left of 2025's 50
    assert bal(world.pA1) == 10  # 2026's points stay
    # every balance still equals the sum of its transfers
    acc = services.account_for_person(world.pA1)
    credits = sum(Transfer.objects.filter(credit=acc).values_list("amount", flat=True))
    debits = sum(Transfer.objects.filter(debit=acc).values_list("amount", flat=True))
    assert credits - debits == bal(world.pA1)


def test_rerun_posts_nothing(world: Any) -> None:
    enable(world)
    earn(world.pA1, 40, (2024, 3, 1), world)
    earn(world.pA2, 25, (2024, 7, 1), world)
    assert len(points_expire(community=world.A, as_of=date(2026, 1, 1))) == 2
    assert points_expire(community=world.A, as_of=date(2026, 1, 1)) == []
    assert points_expire(community=world.A, as_of=date(2026, 6, 30)) == []
    assert Transfer.objects.filter(kind=TransferKind.EXPIRY).count() == 2
    assert bal(world.pA1) == 0 and bal(world.pA2) == 0


def test_everything_spent_expires_nothing(world: Any) -> None:
    enable(world)
    earn(world.pA1, 60, (2024, 3, 1), world)
    spend(world.pA1, 60, (2024, 9, 1), world)
    earn(world.pA1, 5, (2025, 9, 1), world)
    assert points_expire(community=world.A, as_of=date(2026, 1, 1)) == []
    assert bal(world.pA1) == 5


def test_reversed_award_does_not_expire(world: Any) -> None:
    enable(world)
    with at(2024, 3, 1):
        posted = services.award(person=world.pA1, amount=100, actor=world.staff_a, idempotency_key="wrong")
        services.transfer_reverse(transfer=posted.transfer, actor=world.staff_a, idempotency_key="undo")
    assert points_expire(community=world.A, as_of=date(2026, 1, 1)) == []


def test_longer_validity_and_year_boundary_in_local_time(world: Any) -> None:
    enable(world, years=2)
    # 23:30 on 31 December 2023 in Shanghai is still 2023 there (15:30 UTC)
    with at(2023, 12, 31, 23):
        services.award(person=world.pA1, amount=7, actor=world.staff_a, idempotency_key="late")
    earn(world.pA1, 3, (2024, 1, 1), world)
    assert points_expire(community=world.A, as_of=date(2025, 12, 31)) == []
    assert [t.amount for t in points_expire(community=world.A, as_of=date(2026, 1, 1))] == [7]
    assert bal(world.pA1) == 3


def test_only_this_community(world: Any) -> None:
    enable(world)
    earn(world.pA1, 10, (2024, 3, 1), world)
    earn(world.pB1, 10, (2024, 3, 1), world)
    points_expire(community=world.A, as_of=date(2026, 1, 1))
    assert bal(world.pA1) == 0 and bal(world.pB1) == 10
    assert points_expire(community=world.B, as_of=date(2026, 1, 1)) == []  # B's policy is off


def test_command(world: Any) -> None:
    enable(world)
    earn(world.pA1, 12, (2024, 3, 1), world)
    out = StringIO()
    call_command("ledger", "expire", "--community", "dxdl", "--as-of", "2026-01-01", stdout=out)
    assert "12 points" in out.getvalue()
    again = StringIO()
    call_command("ledger", "expire", "--as-of", "2026-01-01", stdout=again)  # every community
    assert "expired 0 points in 0 transfers" in again.getvalue() and "fuxi: expiry is off" in again.getvalue()
    assert Transfer.objects.filter(kind=TransferKind.EXPIRY).count() == 1 and bal(world.pA1) == 0


@pytest.mark.parametrize("args", [["--as-of", "2026-13-01"], ["--community", "nowhere"]])
def test_command_bad_arguments(world: Any, args: list[str]) -> None:
    err = StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("ledger", "expire", *args, stderr=err)
    assert exc.value.code == 2 and err.getvalue()
