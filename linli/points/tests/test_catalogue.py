"""Seed templates (idempotent), the .xlsx export/import round trip, bad files, and a rule's version history."""

from __future__ import annotations

import io
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from linli.common.errors import DomainError, Forbidden, Invalid, NotFound
from linli.common.models import AuditEvent
from linli.org.access import actor_for
from linli.points import catalogue, services
from linli.points.catalogue import TEMPLATES, catalogue_export, catalogue_from_template, catalogue_import
from linli.points.models import Recorder, Rule, RuleArea, RuleVersion, Steps, Unit
from linli.points.services import RuleData
from linli.points.testing import make_catalogue

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    return make_catalogue(world)


def staff(w: SimpleNamespace) -> Any:
    return actor_for(w.staff_a)


def sheet_rows(content: bytes) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(content))
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


def xlsx(rows: list[Any]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEADER = [
    "积分类别",
    "代码",
    "积分事项",
    "分值",
    "计分单位",
    "难度系数",
    "每日上限",
    "每月上限",
    "需要照片",
    "可记录人",
    "审核流程",
]


def counts() -> tuple[int, int, int]:
    return RuleArea.objects.count(), Rule.objects.count(), RuleVersion.objects.count()


# --- templates ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_every_template_applies_and_a_second_time_creates_nothing(world: SimpleNamespace, key: str) -> None:
    template = TEMPLATES[key]
    first = catalogue_from_template(actor=actor_for(world.staff_a), community=world.A, template=key)
    assert len(first.created) == template.rule_count and not first.skipped
    assert Rule.objects.filter(community=world.A).count() == template.rule_count
    before = counts()
    again = catalogue_from_template(actor=actor_for(world.staff_a), community=world.A, template=key)
    assert again.created == [] and again.areas_created == []
    assert sorted(again.skipped) == sorted(first.created)
    assert counts() == before


def test_hejin_has_five_areas_and_48_items(world: SimpleNamespace) -> None:
    result = catalogue_from_template(actor=actor_for(world.staff_a), community=world.A, template="hejin")
    assert result.areas_created == ["小区治理", "文明帮创", "废旧利用", "绿色环保", "志愿服务"]
    assert len(result.created) == 48
    elder = Rule.objects.get(community=world.A, code="hj-elder-clean").current
    assert elder is not None and (elder.points, elder.name) == (3, "上门为高龄老人打扫卫生、整理家务")
    haircut = Rule.objects.get(community=world.A, code="hj-haircut").current
    assert haircut is not None and haircut.points == 2 and haircut.steps == Steps.APPROVE


def test_seed_numbers_of_taiyuan_and_chongqing(world: SimpleNamespace) -> None:
    act = actor_for(world.staff_a)
    catalogue_from_template(actor=act, community=world.A, template="taiyuan")
    catalogue_from_template(actor=act, community=world.A, template="chongqing")
    points = {r.code: (r.current.points, r.current.unit) for r in Rule.objects.filter(community=world.A)}  # type: ignore[union-attr]
    assert points["ty-cleanup"] == (3, Unit.HOUR)
    assert points["ty-class"] == (5, Unit.OCCURRENCE)
    assert points["ty-mediate"] == (8, Unit.OCCURRENCE)
    assert points["ty-repair"] == (3, Unit.OCCURRENCE)
    assert points["cq-fire"] == (10, Unit.OCCURRENCE)
    assert points["cq-homestay"][0] == 2 and points["cq-elder-help"][0] == 5
    assert points["cq-cleanup"][0] == 2 and points["cq-recommend"][0] == 5
    checkin = Rule.objects.get(community=world.A, code="ty-checkin").current
    assert checkin is not None and [lvl["percent"] for lvl in checkin.difficulties] == [100, 150, 200]


def test_template_leaves_an_existing_code_alone_and_reuses_an_area_of_the_same_name(w: SimpleNamespace) -> None:
    mine = services.rule_create(
        actor=staff(w), area=w.areaA, code="ty-cleanup", data=RuleData(name="我们自己的清扫", points=4)
    )
    result = catalogue_from_template(actor=staff(w), community=w.A, template="taiyuan")
    assert result.skipped == ["ty-cleanup"]
    assert "志愿服务" not in result.areas_created  # make_catalogue made it already
    mine.refresh_from_db()
    assert mine.current is not None and (mine.current.name, mine.current.points, mine.current.number) == (
        "我们自己的清扫",
        4,
        1,
    )
    assert Rule.objects.get(code="ty-class").area_id == w.areaA.pk
    assert AuditEvent.objects.filter(action="points.catalogue_template").count() == 1


def test_template_needs_rule_manage_in_that_community(w: SimpleNamespace) -> None:
    before = counts()
    with pytest.raises(Forbidden):
        catalogue_from_template(actor=actor_for(w.grid_worker_a1), community=w.A, template="hejin")
    with pytest.raises((Forbidden, NotFound)):
        catalogue_from_template(actor=actor_for(w.staff_b), community=w.A, template="hejin")
    with pytest.raises(Invalid) as err:
        catalogue_from_template(actor=staff(w), community=w.A, template="nowhere")
    assert err.value.code == "template_unknown"
    assert counts() == before


# --- export and import ----------------------------------------------------------------------------------------------
def test_export_has_the_import_columns_and_every_rule(w: SimpleNamespace) -> None:
    services.rule_retire(actor=staff(w), rule=w.haircut)
    rows = sheet_rows(catalogue_export(actor=staff(w), community=w.A))
    assert rows[0] == [c.header for c in catalogue.COLUMNS]
    by_code = {r[1]: r for r in rows[1:]}
    assert set(by_code) == {"cleanup", "mediation", "haircut", "recycling"}  # B's rule is not in A's file
    cleanup = by_code["cleanup"]
    assert cleanup[:9] == ["志愿服务", "cleanup", "环境清扫", 3, "小时", "一般:100, 较难:150", 9, 60, "否"]
    assert cleanup[9] == "居民本人、楼长、网格员" and cleanup[10] == "核实后审核"
    assert by_code["recycling"][4] == "公斤" and by_code["recycling"][8] == "是"
    assert by_code["haircut"][14] == "是"


def test_reimporting_the_export_changes_nothing(w: SimpleNamespace) -> None:
    content = catalogue_export(actor=staff(w), community=w.A)
    before = counts()
    result = catalogue_import(actor=staff(w), community=w.A, upload_name="c.xlsx", data=content)
    assert result.created == [] and result.updated == [] and not result.changed
    assert sorted(result.unchanged) == ["cleanup", "haircut", "mediation", "recycling"]
    assert counts() == before


def test_round_trip_into_another_community_gives_the_same_catalogue(w: SimpleNamespace) -> None:
    services.rule_update(
        actor=staff(w),
        rule=w.mediation,
        data=RuleData(
            name="成功调解一起邻里纠纷",
            points=8,
            recorders=(Recorder.STEWARD, Recorder.GRID, Recorder.STAFF),
            valid_from=date(2025, 1, 1),
            valid_until=date(2030, 12, 31),
            description="需楼长确认",
        ),
    )
    content = catalogue_export(actor=staff(w), community=w.A)
    staff_c = actor_for(w.staff_c)
    result = catalogue_import(actor=staff_c, community=w.C, upload_name="a.xlsx", data=content)
    assert sorted(result.created) == ["cleanup", "haircut", "mediation", "recycling"]
    assert result.areas_created == ["志愿服务", "文明帮创"]
    again = sheet_rows(catalogue_export(actor=staff_c, community=w.C))
    assert again == sheet_rows(content)
    mediation = Rule.objects.get(community=w.C, code="mediation").current
    assert mediation is not None and mediation.valid_until == date(2030, 12, 31)


def test_a_changed_row_makes_a_new_version_and_a_new_area_moves_the_rule(w: SimpleNamespace) -> None:
    rows = sheet_rows(catalogue_export(actor=staff(w), community=w.A))
    for row in rows[1:]:
        if row[1] == "cleanup":
            row[3] = 4  # points 3 -> 4
        if row[1] == "mediation":
            row[0] = "小区治理"  # a new area
        if row[1] == "haircut":
            row[14] = "是"  # retire
    rows.append(["绿色环保", "Plant-Trees", "参加植树", "2", "次", "", "", "", "否", "居民本人", "仅审核"] + [""] * 4)
    result = catalogue_import(actor=staff(w), community=w.A, upload_name="c.xlsx", data=xlsx(rows))
    assert sorted(result.updated) == ["cleanup", "haircut", "mediation"]
    assert result.created == ["plant-trees"] and result.areas_created == ["小区治理", "绿色环保"]
    cleanup = Rule.objects.get(pk=w.cleanup.pk)
    assert cleanup.current is not None and (cleanup.current.number, cleanup.current.points) == (2, 4)
    mediation = Rule.objects.select_related("area", "current").get(pk=w.mediation.pk)
    assert mediation.area.name == "小区治理" and mediation.current is not None and mediation.current.number == 1
    assert Rule.objects.get(pk=w.haircut.pk).retired
    trees = Rule.objects.get(community=w.A, code="plant-trees").current
    assert trees is not None and trees.steps == Steps.APPROVE and trees.recorder_list == ["self"]


def test_columns_left_out_keep_what_is_stored(w: SimpleNamespace) -> None:
    data = xlsx([["类别", "code", "name", "points"], ["志愿服务", "cleanup", "环境清扫（满1小时）", 3]])
    result = catalogue_import(actor=staff(w), community=w.A, upload_name="short.xlsx", data=data)
    assert result.updated == ["cleanup"]
    v = Rule.objects.get(pk=w.cleanup.pk).current
    assert v is not None and v.name == "环境清扫（满1小时）"
    assert (v.unit, v.daily_cap, v.monthly_cap, len(v.difficulties)) == (Unit.HOUR, 9, 60, 2)


def test_check_only_writes_nothing(w: SimpleNamespace) -> None:
    data = xlsx([HEADER, ["新区域", "new-rule", "新规则", 2, "次", "", "", "", "否", "", ""]])
    before = counts()
    result = catalogue_import(actor=staff(w), community=w.A, upload_name="x.xlsx", data=data, dry_run=True)
    assert result.dry_run and result.created == ["new-rule"] and result.areas_created == ["新区域"]
    assert counts() == before


def errors_of(exc: DomainError) -> list[tuple[Any, str]]:
    return [(e["row"], e["column"]) for e in exc.details["errors"]]


def test_bad_values_are_reported_per_row_and_nothing_is_written(w: SimpleNamespace) -> None:
    rows = [
        HEADER,
        ["志愿服务", "good", "好规则", 2, "次", "", "", "", "否", "", ""],  # row 2: fine, but must not be written
        ["志愿服务", "bad-points", "分值不对", "三", "次", "", "", "", "否", "", ""],
        ["志愿服务", "bad-unit", "单位不对", 2, "斤", "", "", "", "否", "", ""],
        ["志愿服务", "bad-levels", "难度不对", 2, "次", "一般", "", "", "否", "", ""],
        ["志愿服务", "bad-caps", "上限不对", 2, "次", "", 10, 5, "否", "", ""],
        ["志愿服务", "bad code!", "代码不对", 2, "次", "", "", "", "否", "", ""],
        ["志愿服务", "good", "重复代码", 2, "次", "", "", "", "否", "", ""],
        ["志愿服务", "bad-who", "记录人不对", 2, "次", "", "", "", "否", "物业", ""],
        ["志愿服务", "bad-photo", "照片不对", 2, "次", "", "", "", "也许", "", ""],
        ["", "no-area", "没有类别", 2, "次", "", "", "", "否", "", ""],
        ["志愿服务", "zero", "零分", 0, "次", "", "", "", "否", "", ""],
    ]
    before = counts()
    with pytest.raises(Invalid) as err:
        catalogue_import(actor=staff(w), community=w.A, upload_name="bad.xlsx", data=xlsx(rows))
    assert err.value.code == "catalogue_invalid"
    assert errors_of(err.value) == [
        (3, "分值"),
        (4, "计分单位"),
        (5, "难度系数"),
        (6, "每日上限"),
        (7, "代码"),
        (8, "代码"),
        (9, "可记录人"),
        (10, "需要照片"),
        (11, "积分类别"),
        (12, "分值"),
    ]
    assert err.value.details["error_count"] == 10
    assert counts() == before


def test_bad_dates_are_row_errors(w: SimpleNamespace) -> None:
    rows = [
        ["积分类别", "代码", "积分事项", "分值", "生效日期", "截止日期"],
        ["志愿服务", "a", "甲", 2, "2025年3月1日", "2025/12/31"],
        ["志愿服务", "b", "乙", 2, "明天", ""],
        ["志愿服务", "c", "丙", 2, "2025-05-01", "2025-04-01"],
    ]
    with pytest.raises(Invalid) as err:
        catalogue_import(actor=staff(w), community=w.A, upload_name="d.xlsx", data=xlsx(rows))
    assert errors_of(err.value) == [(3, "生效日期"), (4, "截止日期")]


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("rules.csv", b"a,b\n1,2\n", "file_type"),
        ("rules.xls", b"\xd0\xcf\x11\xe0", "file_type"),
        ("rules.pdf", b"%PDF-1.4", "file_type"),
        ("rules.xlsx", b"this is not a zip", "file_invalid"),
        ("rules.xlsx", b"", "empty"),
    ],
)
def test_files_that_are_not_a_catalogue_are_refused_clearly(
    w: SimpleNamespace, name: str, data: bytes, code: str
) -> None:
    with pytest.raises(Invalid) as err:
        catalogue_import(actor=staff(w), community=w.A, upload_name=name, data=data)
    assert err.value.code == code
    assert err.value.details["errors"][0]["message"]


def test_wrong_headers_name_the_missing_columns(w: SimpleNamespace) -> None:
    with pytest.raises(Invalid) as err:
        catalogue_import(
            actor=staff(w), community=w.A, upload_name="x.xlsx", data=xlsx([["姓名", "手机"], ["张三", "138"]])
        )
    assert err.value.code == "missing_columns"
    assert "积分类别" in str(err.value.message) and "分值" in str(err.value.message)
    with pytest.raises(Invalid) as only_header:
        catalogue_import(actor=staff(w), community=w.A, upload_name="x.xlsx", data=xlsx([HEADER]))
    assert only_header.value.code == "empty"


def test_english_headers_and_values_are_accepted(w: SimpleNamespace) -> None:
    rows = [
        ["area", "code", "name", "points", "unit", "recorders", "steps", "photo required"],
        ["Green", "litter", "Picking litter", 1, "hour", "self, grid_worker", "approve", "yes"],
    ]
    result = catalogue_import(actor=staff(w), community=w.A, upload_name="en.xlsx", data=xlsx(rows))
    assert result.created == ["litter"]
    v = Rule.objects.get(community=w.A, code="litter").current
    assert v is not None and (v.unit, v.recorder_list, v.steps, v.evidence_required) == (
        Unit.HOUR,
        ["self", "grid_worker"],
        Steps.APPROVE,
        True,
    )


def test_import_and_export_need_rule_manage(w: SimpleNamespace) -> None:
    content = catalogue_export(actor=staff(w), community=w.A)
    with pytest.raises(Forbidden):
        catalogue_export(actor=actor_for(w.auditor_a), community=w.A)
    with pytest.raises((Forbidden, NotFound)):
        catalogue_import(actor=actor_for(w.staff_b), community=w.A, upload_name="c.xlsx", data=content)


# --- history --------------------------------------------------------------------------------------------------------
def test_version_history_names_what_changed(w: SimpleNamespace) -> None:
    data = RuleData.of(w.cleanup.current)
    services.rule_update(actor=staff(w), rule=w.cleanup, data=RuleData(**{**vars(data), "points": 4, "daily_cap": 12}))
    history = catalogue.version_history(Rule.objects.get(pk=w.cleanup.pk))
    assert [h.version.number for h in history] == [2, 1]
    changes = {c.label: (c.before, c.after) for c in history[0].changes}
    assert changes == {"积分": ("3", "4"), "每日上限": ("9", "12")} or changes == {
        "points": ("3", "4"),
        "cap per day": ("9", "12"),
    }
    assert history[1].changes == []


def test_too_many_rows_are_refused(w: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalogue, "MAX_ROWS", 3)
    rows = [HEADER] + [["志愿服务", f"r{i}", f"规则{i}", 1] for i in range(10)]
    with pytest.raises(Invalid) as err:
        catalogue_import(actor=staff(w), community=w.A, upload_name="big.xlsx", data=xlsx(rows))
    assert err.value.code == "too_many_rows"
    assert not Rule.objects.filter(code="r0").exists()
