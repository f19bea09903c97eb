"""The 12345-hotline import (linli/orders/imports.py): flexible headers, category and building matching, the time
received from the sheet, all-or-nothing with row errors, and re-import files nothing twice."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from openpyxl import Workbook

from linli.common.errors import DomainError, Forbidden, NotFound
from linli.common.testing import make_world
from linli.orders import imports
from linli.orders.models import Action, OrderEvent, WorkOrder
from linli.orders.testing import make_orders
from linli.org.access import actor_for

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
HEADER = ["工单编号", "来电时间", "诉求类别", "诉求内容", "地址", "联系人", "联系电话"]


@pytest.fixture
def w() -> SimpleNamespace:
    return make_orders(make_world())


def xlsx(rows: list[Any], header: list[str] | None = None, title: str | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    if title:
        sheet.append([title])
    sheet.append(header or HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def ago(days: int, hour: int = 9) -> datetime:
    day = timezone.localdate() - timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, 30)  # naive, as Excel stores it


GOOD: list[list[Any]] = [
    ["GD0001", ago(3, 21), "噪音扰民", "小区北门道闸夜里很吵", "兴庆小区1号楼", "张先生", "13900000011"],
    ["GD0002", ago(2).strftime("%Y/%m/%d %H:%M"), "物业维修", "楼道水管漏水", "大兴东路2号楼", "李女士", "13900000012"],
    # no category cell: the keyword 路灯 of 物业维修 in the text decides
    ["GD0003", f"{ago(1):%Y年%m月%d日 %H时%M分}", "", "路灯坏了一周，晚上很黑", "大兴东路", "", ""],
]


def run(w: SimpleNamespace, data: bytes, user: Any = None, **kw: Any) -> imports.ImportResult:
    return imports.orders_import(actor=actor_for(user or w.staff_a), community=w.A, data=data, **kw)


def errors_of(exc: pytest.ExceptionInfo[DomainError]) -> list[tuple[int | None, str, str]]:
    return [(e["row"], e["column"], e["message"]) for e in exc.value.details["errors"]]


def test_happy_path_files_each_row_with_the_sheet_time(w: SimpleNamespace) -> None:
    result = run(w, xlsx(GOOD, title="红庙坡街道12345热线工单（10月）"))
    assert result.rows == 3 and len(result.filed) == 3 and result.already == []
    orders = {o.external_ref: o for o in WorkOrder.objects.filter(community=w.A)}
    assert set(orders) == {"GD0001", "GD0002", "GD0003"}
    first = orders["GD0001"]
    assert first.channel == "12345"
    assert first.category == w.noise
    assert first.building == w.bA1 and first.grid == w.A1  # 兴庆小区1号楼 found in the address
    assert first.received_at == ago(3, 21).replace(tzinfo=TZ)
    assert first.contact_name == "张先生" and first.contact_phone == "13900000011"
    assert orders["GD0002"].building == w.bA2  # 2号楼: the one building of that name in A
    assert orders["GD0002"].received_at == ago(2).replace(tzinfo=TZ)
    assert orders["GD0003"].category == w.repair  # by keyword
    assert orders["GD0003"].building is None and orders["GD0003"].received_at == ago(1).replace(tzinfo=TZ)
    # the deadline counts from the call, not from the import
    assert first.due_at.astimezone(TZ).date() == ago(3).date() + timedelta(days=15)
    assert OrderEvent.objects.filter(order=first, action=Action.RECEIVE).exists()


def test_reimport_files_nothing_twice(w: SimpleNamespace) -> None:
    data = xlsx(GOOD)
    run(w, data)
    again = run(w, data)
    assert again.filed == [] and sorted(again.already) == ["GD0001", "GD0002", "GD0003"]
    assert WorkOrder.objects.filter(community=w.A).count() == 3


def test_english_headers_and_code_match(w: SimpleNamespace) -> None:
    header = ["Order number", "Received at", "Category", "Title", "Description", "Building"]
    result = run(w, xlsx([["X-1", ago(1), "property-repair", "漏水", "厨房水管漏水", "1号楼"]], header=header))
    order = WorkOrder.objects.get(external_ref="X-1")
    assert result.filed == [order.number]
    assert order.category == w.repair and order.title == "漏水" and order.building == w.bA1


def test_dry_run_writes_nothing(w: SimpleNamespace) -> None:
    result = run(w, xlsx(GOOD), dry_run=True)
    assert result.dry_run and len(result.filed) == 3
    assert not WorkOrder.objects.exists()


def test_fallback_category(w: SimpleNamespace) -> None:
    rows = [["GD9", ago(1), "城乡建设", "小区门口井盖松动", "", "", ""]]
    with pytest.raises(DomainError) as exc:
        run(w, xlsx(rows))
    assert exc.value.code == "orders_import_invalid"
    assert errors_of(exc)[0][:2] == (2, "诉求类别")
    run(w, xlsx(rows), fallback_category="other")
    assert WorkOrder.objects.get(external_ref="GD9").category.code == "other"


def test_bad_rows_are_reported_and_nothing_is_filed(w: SimpleNamespace) -> None:
    future = timezone.localtime() + timedelta(days=2)
    rows = [
        GOOD[0],
        ["GD0010", ago(1), "不存在的类别", "内容", "", "", ""],  # unknown category, no fallback
        ["GD0011", ago(1), "噪音扰民", "内容", "府西1号楼", "", ""],  # a building of community B
        ["GD0012", "上周三", "噪音扰民", "内容", "", "", ""],  # not a date
        ["GD0013", future.replace(tzinfo=None), "噪音扰民", "内容", "", "", ""],  # in the future
        ["", ago(1), "噪音扰民", "内容", "", "", ""],  # no number
        ["GD0001", ago(1), "噪音扰民", "内容", "", "", ""],  # the same number twice
        ["GD0014", ago(1), "噪音扰民", "", "", "", ""],  # no text
    ]
    with pytest.raises(DomainError) as exc:
        run(w, xlsx(rows))
    assert exc.value.code == "orders_import_invalid"
    found = {(row, column) for row, column, _m in errors_of(exc)}
    assert found == {
        (3, "诉求类别"),
        (4, "地址"),
        (5, "来电时间"),
        (6, "来电时间"),
        (7, "工单编号"),
        (8, "工单编号"),
        (9, "诉求内容"),
    }
    assert exc.value.details["error_count"] == 7
    assert not WorkOrder.objects.exists()


def test_building_column_of_another_community_is_refused(w: SimpleNamespace) -> None:
    header = [*HEADER, "楼栋"]
    with pytest.raises(DomainError) as exc:
        run(w, xlsx([["GD1", ago(1), "噪音扰民", "吵", "", "", "", "府西1号楼"]], header=header))
    assert [e[:2] for e in errors_of(exc)] == [(2, "楼栋")]
    assert not WorkOrder.objects.exists()


def test_a_service_refusal_on_a_later_row_rolls_back_the_earlier_ones(w: SimpleNamespace) -> None:
    rows = [GOOD[0], ["GD0020", ago(1), "噪音扰民", "很长" * 3000, "", "", ""]]  # beyond 4000 characters
    with pytest.raises(DomainError) as exc:
        run(w, xlsx(rows))
    assert errors_of(exc)[0][:2] == (3, "诉求内容")
    assert not WorkOrder.objects.exists()


def test_too_many_rows(w: SimpleNamespace, settings: Any) -> None:
    settings.LINLI_IMPORT_MAX_ROWS = 2
    with pytest.raises(DomainError) as exc:
        run(w, xlsx(GOOD))
    assert exc.value.code == "too_many_rows"
    assert not WorkOrder.objects.exists()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"not a zip", "file_invalid"),
        (None, "columns_missing"),
        ("empty", "file_empty"),
    ],
)
def test_file_problems(w: SimpleNamespace, data: Any, code: str) -> None:
    if data is None:
        data = xlsx([["x", "y"]], header=["名称", "数量"])
    elif data == "empty":
        data = xlsx([])
    with pytest.raises(DomainError) as exc:
        run(w, data)
    assert exc.value.code == code


def test_only_staff_of_the_community_import(w: SimpleNamespace) -> None:
    with pytest.raises(Forbidden):
        run(w, xlsx(GOOD), user=w.auditor_a)
    with pytest.raises((Forbidden, NotFound)):
        run(w, xlsx(GOOD), user=w.staff_b)
    assert not WorkOrder.objects.exists()
    assert len(run(w, xlsx(GOOD), user=w.street_admin).filed) == 3


def test_parse_time_forms() -> None:
    expected = datetime(2026, 10, 5, 14, 30, tzinfo=TZ)
    for value in ("2026-10-05 14:30", "2026/10/5 14:30", "2026年10月5日 14时30分", "2026-10-05 14:30:00"):
        assert imports.parse_time(value) == expected, value
    assert imports.parse_time(46300.604166666664) == datetime(2026, 10, 5, 14, 30, tzinfo=TZ)
    assert imports.parse_time("昨天") is None and imports.parse_time(12) is None
