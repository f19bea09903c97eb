"""`linli market sweep` (linli/market/management/commands/market.py): output, idempotency and exit codes."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.utils import timezone

from linli.ledger.selectors import person_balance
from linli.market.models import Product, Redemption, RedemptionStatus, Voucher, VoucherStatus
from linli.market.testing import buy, give_points, make_market

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    return make_market(world)


def run(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("market", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_sweep_returns_points_once(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 40)
    late = buy(w, w.pA1, (w.rice, 1), channel="phone", user=w.resident_a1)
    buy(w, w.pA1, (w.haircut, 1), channel="phone", user=w.resident_a1)
    on_time = buy(w, w.pA1, (w.soy, 1), channel="phone", user=w.resident_a1)
    Redemption.objects.filter(pk=late.pk).update(reserved_until=timezone.now() - timedelta(minutes=1))
    Voucher.objects.update(valid_until=timezone.now() - timedelta(minutes=1))
    assert person_balance(w.pA1.pk) == 40 - 15 - 5 - 3
    code, out, err = run("sweep")
    assert (code, err) == (0, "")
    assert "1 reservations expired, 1 vouchers expired, 20 points returned (all communities)" in out
    assert Redemption.objects.get(pk=late.pk).status == RedemptionStatus.EXPIRED
    assert Redemption.objects.get(pk=on_time.pk).status == RedemptionStatus.RESERVED
    assert Voucher.objects.get().status == VoucherStatus.EXPIRED
    assert person_balance(w.pA1.pk) == 37 and Product.objects.get(pk=w.rice.pk).stock == 20
    code, out, _err = run("sweep", "--community", w.A.code)  # again: nothing more
    assert code == 0 and "0 reservations expired, 0 vouchers expired, 0 points returned (dxdl)" in out
    assert person_balance(w.pA1.pk) == 37


def test_sweep_of_one_community_leaves_the_others(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 15)
    late = buy(w, w.pA1, (w.rice, 1), channel="phone", user=w.resident_a1)
    Redemption.objects.filter(pk=late.pk).update(reserved_until=timezone.now() - timedelta(minutes=1))
    code, out, _err = run("sweep", "--community", w.B.code)
    assert code == 0 and "0 reservations expired" in out
    assert Redemption.objects.get(pk=late.pk).status == RedemptionStatus.RESERVED


def test_bad_arguments(w: SimpleNamespace) -> None:
    code, _out, err = run("sweep", "--community", "nope")
    assert code == 2 and "nope" in err
