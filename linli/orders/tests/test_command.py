"""`linli orders …` (linli/orders/management/commands/orders.py): exit codes and output of each subcommand."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.utils import timezone

from linli.common.testing import make_world
from linli.orders.models import Category, Holiday, WorkOrder
from linli.orders.testing import file_order, make_orders
from linli.orders.tests.test_imports import GOOD, xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def w() -> SimpleNamespace:
    return make_orders(make_world())


def run(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("orders", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_sweep_escalates_overdue_once(w: SimpleNamespace) -> None:
    late = file_order(w)
    WorkOrder.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=1))
    file_order(w)  # still on time
    code, out, _err = run("sweep")
    assert code == 0
    assert "1 overdue orders escalated, 0 were escalated before" in out and late.number in out
    late.refresh_from_db()
    assert late.escalated_at is not None
    code, out, _err = run("sweep", "--community", w.A.code)
    assert code == 0 and "0 overdue orders escalated, 1 were escalated before" in out
    assert run("sweep", "--community", "nope")[0] == 2


def test_install_catalogue(w: SimpleNamespace) -> None:
    code, out, _err = run("install-catalogue", "--community", w.C.code, "--as", w.staff_c.phone)
    assert code == 0 and "10 categories added" in out
    assert Category.objects.filter(community=w.C).count() == 10
    assert "0 categories added" in run("install-catalogue", "--community", w.C.code, "--as", w.staff_c.phone)[1]
    code, _out, err = run("install-catalogue", "--community", w.C.code, "--as", w.staff_a.phone)
    assert code == 1 and err  # refused: not C's staff
    assert run("install-catalogue", "--community", w.C.code, "--as", "000")[0] == 2


def test_holidays(w: SimpleNamespace) -> None:
    admin = w.street_admin.phone
    code, out, _err = run("holidays", "--street", w.S.code, "--add", "2026-10-01", "国庆节", "--as", admin)
    assert code == 0 and "2026-10-01" in out
    code, out, _err = run("holidays", "--street", w.S.code, "--add", "2026-10-11", "调休", "--workday", "--as", admin)
    assert code == 0 and "worked" in out
    assert Holiday.objects.get(day=date(2026, 10, 11)).is_workday
    code, out, _err = run("holidays", "--street", w.S.code)
    assert code == 0 and "国庆节" in out
    # community staff may not change the street's calendar (the service's rule)
    code, _out, _err = run("holidays", "--street", w.S.code, "--add", "2026-10-02", "国庆节", "--as", w.staff_a.phone)
    assert code == 1 and not Holiday.objects.filter(day=date(2026, 10, 2)).exists()
    assert run("holidays", "--street", w.S.code, "--add", "10/02", "x", "--as", admin)[0] == 2
    assert run("holidays", "--street", w.S.code, "--remove", "2026-10-01", "--as", admin)[0] == 0
    assert not Holiday.objects.filter(day=date(2026, 10, 1)).exists()
    assert run("holidays", "--street", w.S.code, "--remove", "2026-10-01", "--as", admin)[0] == 2


def test_import_12345(w: SimpleNamespace, tmp_path: Path) -> None:
    path = tmp_path / "gd.xlsx"
    path.write_bytes(xlsx(GOOD))
    args = ["import-12345", str(path), "--community", w.A.code, "--as", w.staff_a.phone]
    code, out, _err = run(*args, "--dry-run")
    assert code == 0 and "3 would be filed" in out and not WorkOrder.objects.exists()
    code, out, _err = run(*args)
    assert code == 0 and "3 rows: 3 filed, 0 imported before" in out
    assert run(*args)[1].strip().endswith("0 filed, 3 imported before")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx([["GD7", "不是时间", "噪音扰民", "吵", "", "", ""]]))
    code, _out, err = run("import-12345", str(bad), "--community", w.A.code, "--as", w.staff_a.phone)
    assert code == 1 and "row 2 [来电时间]" in err
    assert run("import-12345", str(tmp_path / "none.xlsx"), "--community", w.A.code, "--as", w.staff_a.phone)[0] == 2
