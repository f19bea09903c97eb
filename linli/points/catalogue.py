"""The rules catalogue as a whole: seed templates a community starts from, the .xlsx file staff keep it in, and a
rule's version history with what changed.

Two services live here rather than in `linli.points.services` because they are the only users of the template and
file formats; they follow the service rules all the same (keyword-only, typed, permission-checked, atomic, audited)
and write only through `services.area_create / rule_create / rule_update / rule_retire`, so every rule version they
make is the same as one made in the editor.

Templates (SEEDS.md 000, 001, 003): codes carry the template's prefix (ty-, cq-, hj-), so two templates can live side
by side; applying a template again creates nothing and reports every code as already there.

The spreadsheet: one row per rule, Chinese headers (English accepted), the first sheet. Import is all-or-nothing:
every row is checked first, and if any row is wrong nothing is written and `Invalid(code="catalogue_invalid")`
carries `details={"errors": [{"row", "column", "message"}], "error_count": n}` (rows numbered as Excel shows them).
A known code is updated (a new version only when its content changed); a new code is created. A column missing from
the file keeps what is stored (new rules get the default); a blank cell in a present column means "none" (no cap, no
difficulty levels, no validity date) or the default (unit, recorders, checks). Importing an export changes nothing.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from linli.common.errors import DomainError, Invalid
from linli.common.models import audit
from linli.org.access import Actor, require
from linli.org.models import Community
from linli.org.roster import cell_text
from linli.points import domain, services
from linli.points.models import Recorder, Rule, RuleArea, RuleVersion, Steps, Unit
from linli.points.services import RuleData

R, S, U = Recorder, Steps, Unit


# --- templates ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TemplateRule:
    code: str
    data: RuleData


@dataclass(frozen=True)
class TemplateArea:
    name: str
    rules: tuple[TemplateRule, ...]


@dataclass(frozen=True)
class Template:
    key: str
    title: Any  # lazily translated
    source: str  # where the table comes from (SEEDS.md section and community)
    summary: Any
    areas: tuple[TemplateArea, ...]

    @property
    def rule_count(self) -> int:
        return sum(len(a.rules) for a in self.areas)


def _r(
    code: str,
    name: str,
    points: int,
    unit: str = U.OCCURRENCE,
    *,
    levels: str = "",
    day: int | None = None,
    month: int | None = None,
    photo: bool = False,
    recorders: tuple[str, ...] = (R.SELF, R.STEWARD, R.GRID),
    steps: str = S.VERIFY_APPROVE,
    note: str = "",
) -> TemplateRule:
    return TemplateRule(
        code,
        RuleData(
            name=name,
            points=points,
            unit=unit,
            description=note,
            difficulties=domain.parse_difficulties(levels) if levels else [],
            daily_cap=day,
            monthly_cap=month,
            evidence_required=photo,
            recorders=recorders,
            steps=steps,
        ),
    )


WITNESSED = (R.STEWARD, R.GRID, R.STAFF)  # done for someone else, confirmed by whoever saw it
AT_THE_DESK = (R.STAFF, R.STEWARD, R.GRID)  # things handed in (donations, recycling): no self check-in

TEMPLATES: dict[str, Template] = {
    t.key: t
    for t in (
        Template(
            "taiyuan",
            gettext_lazy("Taiyuan: volunteer points passbook"),
            "SEEDS.md 000 · 滨体社区 / 蓝山社区",
            gettext_lazy(
                "The red points passbook of 滨体社区: clean-up per full hour, classes, mediation, repairs; plus "
                "蓝山社区's phone check-in scored by duration and difficulty."
            ),
            (
                TemplateArea(
                    "志愿服务",
                    (
                        _r("ty-cleanup", "参与环境卫生整治（满1小时）", 3, U.HOUR, day=9),
                        _r("ty-class", "为社区公益课授课一次", 5, recorders=(R.SELF, R.STAFF, R.ORGANISER)),
                        _r("ty-mediate", "成功调解邻里纠纷一次", 8, recorders=WITNESSED),
                        _r("ty-repair", "帮助居民维修家电", 3),
                    ),
                ),
                TemplateArea(
                    "打卡服务",
                    (
                        _r(
                            "ty-checkin",
                            "志愿服务打卡（按干活时长+难度）",
                            2,
                            U.HOUR,
                            levels="一般:100, 较难:150, 很难:200",
                            day=16,
                            note="每满1小时计分，难度由核实人确认",
                        ),
                    ),
                ),
            ),
        ),
        Template(
            "chongqing",
            gettext_lazy("Chongqing: micro-grid and the five duty roles"),
            "SEEDS.md 001 · 巴县衙门社区",
            gettext_lazy(
                "The five armbands of 巴县衙门社区: early fires and illegal homestays reported, help for elders, "
                "clean-ups and new volunteers."
            ),
            (
                TemplateArea(
                    "安全隐患排查",
                    (
                        _r("cq-fire", "发现并报告早期火情", 10, photo=True),
                        _r("cq-homestay", "举报违规改建民宿", 2, month=10),
                    ),
                ),
                TemplateArea(
                    "特殊群体帮扶",
                    (_r("cq-elder-help", "为老人或困难群众理发、维修水电", 5, recorders=(R.SELF, R.STEWARD, R.GRID)),),
                ),
                TemplateArea("环境卫生巡查", (_r("cq-cleanup", "参加一次清扫活动", 2, day=4),)),
                TemplateArea("志愿队伍建设", (_r("cq-recommend", "推荐居民成为志愿者", 5, recorders=WITNESSED),)),
            ),
        ),
        Template(
            "hejin",
            gettext_lazy("Hejin: five areas, 48 items"),
            "SEEDS.md 003 · 府西社区",
            gettext_lazy(
                "府西社区's implementation plan: compound governance, civility, reuse of old things, green living and "
                "volunteering, 48 items in all, confirmed by the building steward or grid worker."
            ),
            (
                TemplateArea(
                    "小区治理",
                    (
                        _r("hj-patrol", "参与小区安全巡逻（满1小时）", 2, U.HOUR, day=4),
                        _r("hj-hazard", "随手拍上报安全隐患（经核实）", 2, day=6, photo=True),
                        _r("hj-mediate", "化解邻里矛盾", 3, recorders=WITNESSED),
                        _r("hj-fees", "义务收取水费等小区公共事务", 2, month=8),
                        _r("hj-meeting", "参加小区议事协商会（府西夜话）", 2, day=2),
                        _r("hj-parking", "劝导车辆规范停放", 1, day=3),
                        _r("hj-flywire", "劝阻飞线充电", 2, day=4),
                        _r("hj-visit", "协助入户走访、信息采集", 2),
                        _r("hj-report-repair", "发现并报修小区公共设施", 1, day=3, photo=True),
                        _r("hj-guard", "守楼护院、门岗值守（满1小时）", 2, U.HOUR, day=8),
                    ),
                ),
                TemplateArea(
                    "文明帮创",
                    (
                        _r("hj-elder-clean", "上门为高龄老人打扫卫生、整理家务", 3, recorders=WITNESSED),
                        _r("hj-haircut", "为社区居民义务理发", 2, recorders=(R.SELF, R.ORGANISER), steps=S.APPROVE),
                        _r("hj-escort", "陪同独居老人就医", 3, recorders=WITNESSED),
                        _r("hj-company", "陪独居老人聊天、查安全", 1, day=2),
                        _r("hj-errand", "为行动不便居民代买药品、生活用品", 1, day=3),
                        _r("hj-tutor", "为社区儿童义务辅导功课（满1小时）", 2, U.HOUR, day=4),
                        _r("hj-class", "为社区公益课授课一次", 3, recorders=(R.SELF, R.STAFF, R.ORGANISER)),
                        _r("hj-traffic", "文明交通劝导（满1小时）", 2, U.HOUR, day=4),
                        _r("hj-good-deed", "好人好事经社区表扬", 5, recorders=(R.STAFF,), steps=S.APPROVE),
                        _r("hj-model-family", "评为文明家庭、最美家庭", 10, recorders=(R.STAFF,), steps=S.APPROVE),
                    ),
                ),
                TemplateArea(
                    "废旧利用",
                    (
                        _r(
                            "hj-books",
                            "捐赠旧书籍（每本）",
                            1,
                            U.ITEM,
                            month=20,
                            recorders=AT_THE_DESK,
                            steps=S.APPROVE,
                        ),
                        _r("hj-clothes", "捐赠八成新衣物（每件）", 1, U.ITEM, month=20, recorders=AT_THE_DESK),
                        _r("hj-toys", "捐赠玩具（每件）", 1, U.ITEM, month=20, recorders=AT_THE_DESK, steps=S.APPROVE),
                        _r("hj-shoes", "捐赠鞋子（每双）", 1, U.ITEM, month=20, recorders=AT_THE_DESK, steps=S.APPROVE),
                        _r("hj-appliance", "捐赠可用小家电（每件）", 3, U.ITEM, month=15, recorders=AT_THE_DESK),
                        _r(
                            "hj-paper",
                            "废纸、纸箱回收（每公斤）",
                            1,
                            U.KG,
                            month=30,
                            recorders=AT_THE_DESK,
                            steps=S.VERIFY,
                        ),
                        _r(
                            "hj-bottles",
                            "塑料瓶回收（每公斤）",
                            1,
                            U.KG,
                            month=30,
                            recorders=AT_THE_DESK,
                            steps=S.VERIFY,
                        ),
                        _r(
                            "hj-batteries",
                            "废旧电池回收（每公斤）",
                            2,
                            U.KG,
                            month=10,
                            recorders=AT_THE_DESK,
                            steps=S.VERIFY,
                        ),
                        _r("hj-mend", "修旧利废，旧物修好再利用", 2, photo=True),
                    ),
                ),
                TemplateArea(
                    "绿色环保",
                    (
                        _r("hj-cleanup", "参与人居环境整治（满1小时）", 2, U.HOUR, day=6),
                        _r("hj-sorting", "垃圾分类投放正确（网格员抽查）", 1, day=1, recorders=(R.STEWARD, R.GRID)),
                        _r("hj-stairs", "清理楼道杂物", 2, day=4, photo=True),
                        _r("hj-adopt", "认领维护卫生死角、绿地（每月）", 3, month=3),
                        _r("hj-planting", "参加植树、补植绿化", 2, day=4),
                        _r("hj-ads", "清除小广告", 1, day=3),
                        _r("hj-pets", "文明养犬、及时清理宠物粪便", 1, day=1, recorders=(R.STEWARD, R.GRID)),
                        _r("hj-sort-guide", "垃圾分类督导（满1小时）", 2, U.HOUR, day=4),
                        _r("hj-saving", "节水节电宣传", 1, day=2),
                    ),
                ),
                TemplateArea(
                    "志愿服务",
                    (
                        _r(
                            "hj-volunteer",
                            "参加社区志愿服务活动（满1小时）",
                            2,
                            U.HOUR,
                            levels="一般:100, 较难:150",
                            day=8,
                        ),
                        _r("hj-duty", "应急、防疫值守（满1小时）", 3, U.HOUR, day=12),
                        _r("hj-fire", "发现并报告早期火情", 10, photo=True),
                        _r("hj-special-groups", "特殊群体上门帮扶", 3, recorders=WITNESSED),
                        _r("hj-recruit", "动员居民加入志愿服务队伍", 2, recorders=WITNESSED),
                        _r("hj-events", "协助组织社区文体活动", 2, recorders=(R.SELF, R.STAFF, R.ORGANISER)),
                        _r("hj-blood", "无偿献血", 10, photo=True, recorders=(R.SELF, R.STAFF)),
                        _r("hj-leaflets", "政策宣传、入户发放资料", 1, day=3),
                        _r("hj-party", "党员“双报到”志愿服务", 2),
                        _r("hj-exams", "协助中高考护考", 2, recorders=(R.SELF, R.STAFF, R.ORGANISER)),
                    ),
                ),
            ),
        ),
    )
}


@dataclass
class TemplateResult:
    areas_created: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # codes the community already had: left alone


def template_preview(
    community: Community, template: Template
) -> list[tuple[TemplateArea, list[tuple[TemplateRule, bool]]]]:
    """The template's areas and rules, each rule marked True when the community already has its code."""
    existing = set(Rule.objects.filter(community=community).values_list("code", flat=True))
    return [(a, [(r, r.code in existing) for r in a.rules]) for a in template.areas]


@transaction.atomic
def catalogue_from_template(*, actor: Actor, community: Community, template: Template | str) -> TemplateResult:
    """Create the template's areas and rules in `community`. Existing codes are left alone (and reported), existing
    areas of the same name are reused: applying a template twice creates nothing the second time."""
    require(actor, "rule.manage", community)
    if isinstance(template, str):
        found = TEMPLATES.get(template)
        if found is None:
            raise Invalid(_("Unknown template."), code="template_unknown", field="template")
        template = found
    result = TemplateResult()
    areas = {a.name: a for a in RuleArea.objects.filter(community=community)}
    existing = set(Rule.objects.filter(community=community).values_list("code", flat=True))
    next_position = max((a.position for a in areas.values()), default=0) + 1
    for t_area in template.areas:
        area = areas.get(t_area.name)
        if area is None:
            area = services.area_create(actor=actor, community=community, name=t_area.name, position=next_position)
            areas[area.name] = area
            next_position += 1
            result.areas_created.append(area.name)
        for position, t_rule in enumerate(t_area.rules, start=1):
            if t_rule.code in existing:
                result.skipped.append(t_rule.code)
                continue
            services.rule_create(actor=actor, area=area, code=t_rule.code, data=t_rule.data, position=position)
            existing.add(t_rule.code)
            result.created.append(t_rule.code)
    audit(
        actor=actor,
        action="points.catalogue_template",
        obj=community,
        community_id=community.pk,
        template=template.key,
        created=len(result.created),
        skipped=len(result.skipped),
    )
    return result


# --- version history ------------------------------------------------------------------------------------------------
FIELD_LABELS: dict[str, Any] = {
    "name": gettext_lazy("name"),
    "description": gettext_lazy("description"),
    "points": gettext_lazy("points"),
    "unit": gettext_lazy("unit"),
    "difficulties": gettext_lazy("difficulty levels"),
    "daily_cap": gettext_lazy("cap per day"),
    "monthly_cap": gettext_lazy("cap per month"),
    "evidence_required": gettext_lazy("photo required"),
    "recorders": gettext_lazy("who may record"),
    "steps": gettext_lazy("checks"),
    "valid_from": gettext_lazy("valid from"),
    "valid_until": gettext_lazy("valid until"),
}


def describe(version: RuleVersion, name: str) -> str:
    """One field of a version as people read it (also used by the editor's list)."""
    value = getattr(version, name)
    if name == "unit":
        return str(Unit(value).label)
    if name == "steps":
        return str(Steps(value).label)
    if name == "recorders":
        return "、".join(str(Recorder(r).label) for r in version.recorder_list)
    if name == "difficulties":
        return domain.format_difficulties(value) or "—"
    if name == "evidence_required":
        return _("yes") if value else _("no")
    if value is None or value == "":
        return "—"
    return str(value)


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class HistoryEntry:
    version: RuleVersion
    changes: list[Change]  # against the version before it (empty for the first)


def version_history(rule: Rule) -> list[HistoryEntry]:
    """Newest first: every version of the rule and what it changed."""
    versions = list(rule.versions.select_related("created_by").order_by("number"))
    entries: list[HistoryEntry] = []
    previous: RuleVersion | None = None
    for version in versions:
        changes: list[Change] = []
        if previous is not None:
            for name, label in FIELD_LABELS.items():
                if getattr(previous, name) != getattr(version, name):
                    changes.append(Change(str(label), describe(previous, name), describe(version, name)))
        entries.append(HistoryEntry(version, changes))
        previous = version
    return entries[::-1]


# --- the spreadsheet ------------------------------------------------------------------------------------------------
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ROWS = 1000  # a catalogue is tens of rules; more is the wrong file
MAX_COLUMNS = 40
MAX_ERRORS = 200
HEADER_SEARCH_ROWS = 5
MAX_BLANK_RUN = 2000
SHEET_TITLE = "积分规则"


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # Chinese, written in exports
    required: bool
    aliases: tuple[str, ...]
    help: Any


COLUMNS: tuple[Column, ...] = (
    Column("area", "积分类别", True, ("area", "类别", "方面", "区域"), gettext_lazy("Scoring area; made when new.")),
    Column("code", "代码", True, ("code", "编号", "规则代码"), gettext_lazy("Letters, digits, - or _; one per rule.")),
    Column("name", "积分事项", True, ("name", "事项", "名称", "项目"), gettext_lazy("What is done, in plain words.")),
    Column("points", "分值", True, ("points", "积分", "分数"), gettext_lazy("Whole points, 1 to 10000.")),
    Column("unit", "计分单位", False, ("unit", "单位"), gettext_lazy("次 (per occurrence), 小时, 件 or 公斤.")),
    Column(
        "difficulties",
        "难度系数",
        False,
        ("difficulties", "难度", "difficulty"),
        gettext_lazy("Levels with a percent, e.g. 一般:100, 较难:150 (blank: none)."),
    ),
    Column(
        "daily_cap",
        "每日上限",
        False,
        ("daily cap", "daily_cap", "每人每日上限"),
        gettext_lazy("Points per person per day (blank: none)."),
    ),
    Column(
        "monthly_cap",
        "每月上限",
        False,
        ("monthly cap", "monthly_cap", "每人每月上限"),
        gettext_lazy("Points per person per month (blank: none)."),
    ),
    Column(
        "evidence_required",
        "需要照片",
        False,
        ("photo required", "evidence_required", "照片"),
        gettext_lazy("是 or 否."),
    ),
    Column(
        "recorders",
        "可记录人",
        False,
        ("recorders", "who may record", "记录人"),
        gettext_lazy("居民本人、楼长、网格员、社区工作人员、活动组织者 (separated by 、 or a comma)."),
    ),
    Column("steps", "审核流程", False, ("steps", "checks", "流程"), gettext_lazy("核实后审核, 仅审核 or 仅核实.")),
    Column(
        "valid_from",
        "生效日期",
        False,
        ("valid from", "valid_from", "开始日期"),
        gettext_lazy("A date, e.g. 2025-03-01 (blank: always)."),
    ),
    Column(
        "valid_until",
        "截止日期",
        False,
        ("valid until", "valid_until", "结束日期"),
        gettext_lazy("A date (blank: no end)."),
    ),
    Column(
        "description",
        "说明",
        False,
        ("description", "备注"),
        gettext_lazy("Anything residents should know (optional)."),
    ),
    Column("retired", "已停用", False, ("retired", "停用"), gettext_lazy("是 stops new claims; 否 takes them again.")),
)

DEFAULTS = RuleData(name="", points=1)  # what a new rule gets for a column the file leaves out
_KEYS = {c.key for c in COLUMNS}

# The file vocabulary is fixed (the same in every language); English and the stored codes are accepted too.
UNIT_OUT = {U.OCCURRENCE: "次", U.HOUR: "小时", U.ITEM: "件", U.KG: "公斤"}
RECORDER_OUT = {
    R.SELF: "居民本人",
    R.STEWARD: "楼长",
    R.GRID: "网格员",
    R.STAFF: "社区工作人员",
    R.ORGANISER: "活动组织者",
}
STEPS_OUT = {S.VERIFY_APPROVE: "核实后审核", S.APPROVE: "仅审核", S.VERIFY: "仅核实"}
_UNIT_IN = {
    **{v: k for k, v in UNIT_OUT.items()},
    **{k.value: k for k in UNIT_OUT},
    "每次": U.OCCURRENCE, "per occurrence": U.OCCURRENCE, "occ": U.OCCURRENCE,
    "每满1小时": U.HOUR, "每小时": U.HOUR, "满1小时": U.HOUR, "时": U.HOUR, "h": U.HOUR, "per hour": U.HOUR,
    "个": U.ITEM, "每件": U.ITEM, "per item": U.ITEM,
    "千克": U.KG, "每公斤": U.KG, "per kg": U.KG,
}  # fmt: skip
_RECORDER_IN = {
    **{v: k for k, v in RECORDER_OUT.items()},
    **{k.value: k for k in RECORDER_OUT},
    "本人": R.SELF, "居民": R.SELF, "resident": R.SELF, "楼栋长": R.STEWARD, "steward": R.STEWARD,
    "grid": R.GRID, "网格长": R.GRID, "社区": R.STAFF, "工作人员": R.STAFF, "staff": R.STAFF,
    "组织者": R.ORGANISER, "organizer": R.ORGANISER,
}  # fmt: skip
_STEPS_IN = {
    **{v: k for k, v in STEPS_OUT.items()},
    **{k.value: k for k in STEPS_OUT},
    "核实+审核": S.VERIFY_APPROVE, "核实和审核": S.VERIFY_APPROVE, "审核": S.APPROVE, "核实": S.VERIFY,
}  # fmt: skip
_YES = {"是", "y", "yes", "1", "true", "√", "✓", "t"}
_NO = {"否", "n", "no", "0", "false", "×", "x", "f", ""}
_SPLIT = re.compile(r"[、,，;；/|\s]+")
_HEADER_NOISE = re.compile(r"[\s*＊_]|[(（][^)）]*[)）]")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def _norm(text: str) -> str:
    return _HEADER_NOISE.sub("", text).lower()


_HEADER_LOOKUP: dict[str, str] = {}
for _c in COLUMNS:
    for _name in (_c.header, _c.key, *_c.aliases):
        _HEADER_LOOKUP.setdefault(_norm(_name), _c.key)


@dataclass(frozen=True)
class RowError:
    row: int | None
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


def _fail(code: str, message: str, *, column: str = "", row: int | None = None) -> Invalid:
    errors = [RowError(row, column, message).as_dict()]
    return Invalid(message, code=code, details={"errors": errors, "error_count": 1})


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of error for a broken or foreign file
        raise _fail(
            "file_invalid",
            _("This is not a valid .xlsx file. Open it in Excel or WPS and save it as “Excel Workbook (.xlsx)”."),
        ) from exc
    try:
        if not workbook.worksheets:
            return
        try:
            for values in workbook.worksheets[0].iter_rows(max_col=MAX_COLUMNS, values_only=True):
                yield [cell_text(v) for v in values]
        except Exception as exc:  # a damaged zip member, bad XML ...
            raise _fail("file_invalid", _("The .xlsx file is damaged and could not be read to the end.")) from exc
    finally:
        workbook.close()


@dataclass(frozen=True)
class Table:
    columns: dict[str, int]
    rows: list[tuple[int, list[str]]]


def read_table(upload_name: str, data: bytes) -> Table:
    """The uploaded bytes as rows of text under known columns; anything else is refused with a clear message."""
    name = (upload_name or "").lower().strip()
    if len(data) > MAX_UPLOAD_BYTES:
        raise _fail("file_too_large", _("The file is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD_BYTES // 2**20})
    if name.endswith((".xls", ".et", ".csv")):
        raise _fail(
            "file_type", _("Only .xlsx files are read here. In Excel or WPS save the file as “Excel Workbook (.xlsx)”.")
        )
    if not name.endswith((".xlsx", ".xlsm")):
        raise _fail("file_type", _("Upload an .xlsx file (start from the export of the catalogue)."))
    if not data:
        raise _fail("empty", _("The file is empty."))
    rows: list[tuple[int, list[str]]] = []
    blank_run = 0
    for number, cells in enumerate(_xlsx_rows(data), start=1):
        if not any(cells):
            blank_run += 1
            if blank_run > MAX_BLANK_RUN and rows:
                break  # a sheet formatted down to row 1,048,576: the data has ended
            continue
        blank_run = 0
        rows.append((number, cells))
        if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS:
            raise _fail("too_many_rows", _("The file has more than %(max)d rows.") % {"max": MAX_ROWS})
    if not rows:
        raise _fail("empty", _("The file has no rows."))
    for position, (_number, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for index, cell in enumerate(cells):
            key = _HEADER_LOOKUP.get(_norm(cell)) if cell else None
            if key and key not in columns:
                columns[key] = index
        if all(c.key in columns for c in COLUMNS if c.required):
            data_rows = rows[position + 1 :]
            if not data_rows:
                raise _fail("empty", _("The file has a header row but no rules under it."))
            return Table(columns, data_rows)
    present = {_HEADER_LOOKUP.get(_norm(c)) for c in rows[0][1] if c}
    missing = [c.header for c in COLUMNS if c.required and c.key not in present]
    raise _fail(
        "missing_columns",
        ngettext(
            "The file lacks the column %(columns)s. Keep the header row of the export.",
            "The file lacks the columns %(columns)s. Keep the header row of the export.",
            len(missing),
        )
        % {"columns": "、".join(missing)},
        column="、".join(missing),
        row=rows[0][0],
    )


@dataclass
class PlannedRow:
    row: int
    area: str
    code: str
    data: RuleData
    retired: bool | None  # None: the file does not say
    rule: Rule | None  # the existing rule with this code
    action: str = ""  # create | update | unchanged


@dataclass
class ImportResult:
    rows: int = 0
    dry_run: bool = False
    areas_created: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # a new version, a new area or a change of retired
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.areas_created or self.created or self.updated)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "dry_run": self.dry_run,
            "areas_created": self.areas_created,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


class _RowProblem(Exception):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column, self.message = column, message


def _header(key: str) -> str:
    return next(c.header for c in COLUMNS if c.key == key)


def _int_or_none(text: str, key: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise _RowProblem(_header(key), _("“%(value)s” is not a whole number.") % {"value": text})
    return int(text)


def _choice(text: str, table: dict[str, Any], key: str) -> Any:
    found = table.get(text.strip().lower()) or table.get(text.strip())
    if not found:
        allowed = "、".join(dict.fromkeys(v for v in table if not v.isascii()))
        raise _RowProblem(
            _header(key), _("“%(value)s” is not one of: %(allowed)s.") % {"value": text, "allowed": allowed}
        )
    return found


def _yes_no(text: str, key: str) -> bool:
    value = text.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise _RowProblem(_header(key), _("Write 是 or 否."))


def _date(text: str, key: str) -> date | None:
    if not text:
        return None
    text = text.strip()
    try:
        match = _DATE.match(text)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        return date.fromisoformat(text)
    except ValueError:
        raise _RowProblem(_header(key), _("“%(value)s” is not a date like 2025-03-01.") % {"value": text}) from None


def _row_data(cells: dict[str, str], present: set[str], base: RuleData) -> tuple[RuleData, bool | None]:
    """One row as a rule version's content; columns absent from the file keep `base` (stored or default)."""
    changes: dict[str, Any] = {"name": cells["name"]}
    points_text = cells["points"]
    if not points_text.isdigit():
        raise _RowProblem(_header("points"), _("Points must be a whole number from 1 to 10000."))
    changes["points"] = int(points_text)
    if "unit" in present:
        changes["unit"] = _choice(cells["unit"], _UNIT_IN, "unit") if cells["unit"] else U.OCCURRENCE
    if "difficulties" in present:
        try:
            changes["difficulties"] = domain.parse_difficulties(cells["difficulties"])
        except ValueError:
            raise _RowProblem(
                _header("difficulties"), _("Write levels like “一般:100, 较难:150” (percent, 1 to 1000).")
            ) from None
    for key in ("daily_cap", "monthly_cap"):
        if key in present:
            changes[key] = _int_or_none(cells[key], key)
    if "evidence_required" in present:
        changes["evidence_required"] = _yes_no(cells["evidence_required"], "evidence_required")
    if "recorders" in present:
        text = cells["recorders"]
        changes["recorders"] = (
            tuple(_choice(p, _RECORDER_IN, "recorders") for p in _SPLIT.split(text) if p)
            if text
            else DEFAULTS.recorders
        )
    if "steps" in present:
        changes["steps"] = _choice(cells["steps"], _STEPS_IN, "steps") if cells["steps"] else S.VERIFY_APPROVE
    for key in ("valid_from", "valid_until"):
        if key in present:
            changes[key] = _date(cells[key], key)
    if "description" in present:
        changes["description"] = cells["description"]
    retired = _yes_no(cells["retired"], "retired") if "retired" in present else None
    return replace(base, **changes), retired


def _plan(community: Community, table: Table) -> tuple[list[PlannedRow], list[RowError]]:
    rules = {r.code: r for r in Rule.objects.filter(community=community).select_related("current", "area")}
    present = set(table.columns)
    planned: list[PlannedRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for number, raw in table.rows:
        cells = {k: (raw[i] if i < len(raw) else "").strip() for k, i in table.columns.items()}
        try:
            for key in ("area", "code", "name", "points"):
                if not cells[key]:
                    raise _RowProblem(_header(key), _("This cell is required."))
            area = cells["area"]
            if len(area) > 60:
                raise _RowProblem(_header("area"), _("An area needs a name of 1 to 60 characters."))
            code = cells["code"].lower()
            if len(code) > 40 or not code.isascii() or not all(c.isalnum() or c in "-_" for c in code):
                raise _RowProblem(_header("code"), _("A rule code is 1 to 40 letters, digits, “-” or “_”."))
            if code in seen:
                raise _RowProblem(_header("code"), _("The code is also on row %(row)d.") % {"row": seen[code]})
            seen[code] = number
            rule = rules.get(code)
            base = RuleData.of(rule.current) if rule is not None and rule.current is not None else DEFAULTS
            data, retired = _row_data(cells, present, base)
            try:
                data = data.cleaned()
            except DomainError as exc:
                column = _header(exc.field) if exc.field in _KEYS else ""
                raise _RowProblem(column, str(exc.message)) from None
            planned.append(PlannedRow(number, area, code, data, retired, rule))
        except _RowProblem as problem:
            errors.append(RowError(number, problem.column, problem.message))
    for p in planned:
        if p.rule is None:
            p.action = "create"
        elif (
            p.rule.current is None
            or RuleData.of(p.rule.current) != p.data
            or p.rule.area.name != p.area
            or (p.retired is not None and p.retired != p.rule.retired)
        ):
            p.action = "update"
        else:
            p.action = "unchanged"
    return planned, errors


@transaction.atomic
def catalogue_import(
    *, actor: Actor, community: Community, upload_name: str, data: bytes, dry_run: bool = False
) -> ImportResult:
    """Create and update rules from an .xlsx file, all or nothing (see the module's docstring)."""
    require(actor, "rule.manage", community)
    table = read_table(upload_name, data)
    planned, errors = _plan(community, table)
    if errors:
        shown = [e.as_dict() for e in errors[:MAX_ERRORS]]
        raise Invalid(
            ngettext(
                "%(count)d row is wrong: nothing was imported. Correct it and upload the file again.",
                "%(count)d rows are wrong: nothing was imported. Correct them and upload the file again.",
                len(errors),
            )
            % {"count": len(errors)},
            code="catalogue_invalid",
            details={"errors": shown, "error_count": len(errors)},
        )
    result = ImportResult(rows=len(planned), dry_run=dry_run)
    areas = {a.name: a for a in RuleArea.objects.filter(community=community)}
    next_area = max((a.position for a in areas.values()), default=0) + 1
    for p in planned:
        if p.area not in areas and p.area not in result.areas_created:
            result.areas_created.append(p.area)
        {"create": result.created, "update": result.updated, "unchanged": result.unchanged}[p.action].append(p.code)
    if dry_run:
        return result
    for name in result.areas_created:
        areas[name] = services.area_create(actor=actor, community=community, name=name, position=next_area)
        next_area += 1
    for p in planned:
        if p.action == "create":
            rule = services.rule_create(actor=actor, area=areas[p.area], code=p.code, data=p.data, position=p.row)
            if p.retired:
                services.rule_retire(actor=actor, rule=rule, retired=True)
        elif p.action == "update" and p.rule is not None:
            rule = services.rule_update(actor=actor, rule=p.rule, data=p.data, area=areas[p.area])
            if p.retired is not None:
                services.rule_retire(actor=actor, rule=rule, retired=p.retired)
    audit(
        actor=actor,
        action="points.catalogue_import",
        obj=community,
        community_id=community.pk,
        file=upload_name[:100],
        created=len(result.created),
        updated=len(result.updated),
    )
    return result


def _export_row(rule: Rule) -> list[Any]:
    v = rule.current
    assert v is not None
    return [
        rule.area.name,
        rule.code,
        v.name,
        v.points,
        UNIT_OUT.get(Unit(v.unit), v.unit),
        domain.format_difficulties(v.difficulties),
        v.daily_cap,
        v.monthly_cap,
        "是" if v.evidence_required else "否",
        "、".join(RECORDER_OUT.get(Recorder(r), r) for r in v.recorder_list),
        STEPS_OUT.get(Steps(v.steps), v.steps),
        v.valid_from,
        v.valid_until,
        v.description,
        "是" if rule.retired else "否",
    ]


def catalogue_export(*, actor: Actor, community: Community) -> bytes:
    """The whole catalogue (retired rules too) as an .xlsx in the import's columns: edit it and import it again."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    require(actor, "rule.manage", community)
    rules = (
        Rule.objects.filter(community=community, current__isnull=False)
        .select_related("area", "current")
        .order_by("area__position", "area_id", "position", "id")
    )
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET_TITLE
    sheet.append([c.header for c in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for rule in rules:
        sheet.append(_export_row(rule))
    for row in sheet.iter_rows(min_row=2):
        for cell in row[11:13]:
            cell.number_format = "yyyy-mm-dd"
    for letter, width in zip("ABCDEFGHIJKLMNO", (12, 18, 36, 6, 8, 22, 8, 8, 8, 28, 12, 12, 12, 30, 6), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    notes = book.create_sheet("说明")
    notes.append(["列", "必填", "写法"])
    for c in COLUMNS:
        notes.append([c.header, "是" if c.required else "否", str(c.help)])
    notes.column_dimensions["A"].width, notes.column_dimensions["C"].width = 14, 80
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_filename(community: Community) -> str:
    return f"catalogue-{community.code}-{timezone.localdate():%Y%m%d}.xlsx"


def columns() -> Sequence[Column]:
    return COLUMNS
