"""Import of 12345-hotline work orders (市民热线工单) from the .xlsx file the district hands the community.

The sheet's own layout varies from district to district, so headers are matched loosely, in Chinese or English
(工单编号 / 来电时间 / 诉求类别 or 分类 / 诉求内容 / 地址 / 联系人 / 联系电话, optionally 标题 and 楼栋); a title row
or two above the header is fine. Each row becomes one request filed through `services.order_create` with channel
"12345", its 工单编号 as `external_ref` and its 来电时间 as the time received, so the deadline counts from the call.

Category: the cell matched against the community's catalogue by code, then name, then keywords (in the cell, then
in the title and text); otherwise the fallback category chosen on the page; otherwise a row error.
Building: a 楼栋 column must name a building of the community; else the address is searched for the street's
compounds and buildings (longest name wins), and a place that lies in another community is a row error.

All or nothing: every row is checked first; if any is wrong nothing is filed and `Invalid(code="orders_import_invalid")`
carries `details={"errors": [{"row", "column", "message"}], "error_count": n}` (rows numbered as Excel shows them).
Re-importing the same file files nothing twice: rows whose 工单编号 is already there are counted as "already imported".
`orders_import` is a service (keyword-only, permission-checked, atomic, audited); it writes only through order_create.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.common.errors import DomainError, Invalid
from linli.common.models import audit
from linli.orders import services
from linli.orders.models import Category, Channel, WorkOrder
from linli.orders.services import OrderInput, tz
from linli.org.access import Actor, require
from linli.org.models import Building, Community
from linli.org.roster import cell_text

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_COLUMNS = 40
MAX_ERRORS = 200
HEADER_SEARCH_ROWS = 10

# key -> (label shown in errors, aliases); the first alias is the header we write in examples
COLUMNS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "ref": (
        gettext_lazy("order number"),
        ("工单编号", "工单号", "热线工单号", "编号", "order number", "ticket", "ref"),
    ),
    "received": (
        gettext_lazy("time of the call"),
        ("来电时间", "受理时间", "登记时间", "派单时间", "时间", "received", "received at", "call time", "date"),
    ),
    "category": (
        gettext_lazy("category"),
        ("诉求类别", "分类", "诉求分类", "类别", "问题分类", "问题类型", "category", "type", "service code"),
    ),
    "title": (gettext_lazy("title"), ("标题", "诉求标题", "主题", "title", "subject")),
    "description": (
        gettext_lazy("request"),
        ("诉求内容", "内容", "问题描述", "来电内容", "诉求描述", "description", "content", "details"),
    ),
    "address": (
        gettext_lazy("address"),
        ("地址", "诉求地址", "事发地址", "发生地点", "详细地址", "address", "location"),
    ),
    "building": (gettext_lazy("building"), ("楼栋", "楼号", "building")),
    "contact_name": (
        gettext_lazy("contact"),
        ("联系人", "来电人", "市民姓名", "姓名", "contact", "contact name", "name"),
    ),
    "contact_phone": (
        gettext_lazy("phone"),
        ("联系电话", "来电号码", "电话", "手机", "手机号", "phone", "contact phone", "telephone", "mobile"),
    ),
}
REQUIRED = ("ref", "received", "description")
_NOISE = re.compile(r"[\s_\-*:：（）()\[\]【】]+")


def _norm(text: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", text)).lower()


_LOOKUP: dict[str, str] = {_norm(alias): key for key, (_label, aliases) in COLUMNS.items() for alias in aliases}


@dataclass(frozen=True)
class RowError:
    row: int | None
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportResult:
    rows: int = 0
    filed: list[str] = field(default_factory=list)  # the new orders' numbers
    already: list[str] = field(default_factory=list)  # 工单编号 imported before
    dry_run: bool = False


def _fail(code: str, message: str, *, row: int | None = None, column: str = "") -> Invalid:
    return Invalid(message, code=code, details={"errors": [RowError(row, column, message).as_dict()], "error_count": 1})


# --- reading the sheet (pure) ---------------------------------------------------------------------------------------
def _sheet_rows(data: bytes) -> Iterator[list[Any]]:
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
                yield list(values)
        except Exception as exc:  # a damaged zip part, bad XML...
            raise _fail("file_invalid", _("The .xlsx file is damaged and could not be read to the end.")) from exc
    finally:
        workbook.close()


@dataclass
class Sheet:
    columns: dict[str, int]  # key -> index
    labels: dict[str, str]  # key -> header as written in the file
    rows: list[tuple[int, list[Any]]]  # (Excel row number, raw values)


def read_sheet(data: bytes, *, max_rows: int | None = None) -> Sheet:
    """The header (found in the first rows) and the non-blank data rows; file-level problems raise Invalid."""
    max_rows = settings.LINLI_IMPORT_MAX_ROWS if max_rows is None else max_rows
    if len(data) > MAX_UPLOAD_BYTES:
        raise _fail("file_too_large", _("The file is larger than 10 MB."))
    header: tuple[int, dict[str, int], dict[str, str]] | None = None
    rows: list[tuple[int, list[Any]]] = []
    for number, values in enumerate(_sheet_rows(data), start=1):
        if header is None:
            found: dict[str, int] = {}
            labels: dict[str, str] = {}
            for index, value in enumerate(values):
                key = _LOOKUP.get(_norm(cell_text(value)))
                if key and key not in found:
                    found[key], labels[key] = index, cell_text(value)
            if "ref" in found and "description" in found:
                header = (number, found, labels)
            elif number >= HEADER_SEARCH_ROWS:
                break
            continue
        if all(cell_text(v) == "" for v in values):
            continue
        if len(rows) >= max_rows:
            raise _fail(
                "too_many_rows",
                _("The file has more than %(n)s rows; split it into smaller files.") % {"n": max_rows},
            )
        rows.append((number, values))
    if header is None:
        raise _fail(
            "columns_missing",
            _("No header row with the columns %(cols)s was found.")
            % {"cols": "、".join(str(COLUMNS[k][1][0]) for k in REQUIRED)},
        )
    _number, columns, labels = header
    missing = [k for k in REQUIRED if k not in columns]
    if missing:
        raise _fail(
            "columns_missing",
            _("These columns are missing: %(cols)s") % {"cols": "、".join(COLUMNS[k][1][0] for k in missing)},
        )
    if not rows:
        raise _fail("file_empty", _("The file has no rows to import."))
    return Sheet(columns=columns, labels=labels, rows=rows)


_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y%m%d%H%M%S",
    "%Y-%m-%d",
    "%Y/%m/%d",
)


def parse_time(value: Any) -> datetime | None:
    """A cell as an aware local datetime: Excel dates, Excel serial numbers, or text like 2026-10-05 14:30,
    2026/10/5 14:30 or 2026年10月5日14时30分. None when it is not a time."""
    zone = tz()
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=zone)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000 < value < 80000:  # an Excel serial day number (1954-2119)
            return (datetime(1899, 12, 30) + timedelta(days=float(value))).replace(microsecond=0, tzinfo=zone)
        return None
    text = unicodedata.normalize("NFKC", cell_text(value))
    text = re.sub(r"(\d+)年(\d+)月(\d+)日\s*", r"\1-\2-\3 ", text)
    text = re.sub(r"(\d+)[时点:](\d+)分?(?:(\d+)秒)?", lambda m: f"{m[1]}:{m[2]}" + (f":{m[3]}" if m[3] else ""), text)
    text = text.strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=zone)
        except ValueError:
            continue
    return None


# --- matching against the community ---------------------------------------------------------------------------------
def _split_keywords(text: str) -> list[str]:
    return [k.strip() for k in re.split(r"[,，、;；\s]+", text or "") if k.strip()]


class Matcher:
    """The community's catalogue and the street's places, loaded once for the whole file."""

    def __init__(self, community: Community) -> None:
        self.community = community
        self.categories = list(Category.objects.filter(community=community, is_active=True).order_by("position", "pk"))
        self.places: list[tuple[str, int, int]] = []  # (name to look for, building id, community id)
        for b in Building.objects.filter(community__street_id=community.street_id).select_related("compound"):
            self.places.append((_norm(b.name), b.pk, b.community_id))
            if b.compound is not None:
                self.places.append((_norm(b.compound.name + b.name), b.pk, b.community_id))

    def category(self, cell: str, text: str) -> Category | None:
        value = _norm(cell)
        if value:
            for c in self.categories:
                if value in (_norm(c.code), _norm(c.name)):
                    return c
            for c in self.categories:
                if _norm(c.name) in value or value in _norm(c.name):
                    return c
            for c in self.categories:
                if any(_norm(k) in value for k in _split_keywords(c.keywords)):
                    return c
        body = _norm(text)
        for c in self.categories:
            if any(_norm(k) in body for k in _split_keywords(c.keywords)):
                return c
        return None

    def building(self, name: str, *, exact: bool) -> tuple[int | None, bool]:
        """(building id, lies elsewhere): the street's place named `name` (exact) or the longest one it mentions."""
        value = _norm(name)
        if not value:
            return None, False
        if exact:
            hits = [(n, b, c) for n, b, c in self.places if n == value]
        else:
            hits = [(n, b, c) for n, b, c in self.places if n and n in value]
            if hits:
                longest = max(len(n) for n, _b, _c in hits)
                hits = [h for h in hits if len(h[0]) == longest]
        ours = {b for _n, b, c in hits if c == self.community.pk}
        if len(ours) == 1:
            return next(iter(ours)), False
        if not ours and hits:
            return None, True
        return None, False  # not found, or ambiguous inside the community: keep the address as text


# --- the plan -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Planned:
    row: int
    data: OrderInput


def plan(sheet: Sheet, community: Community, *, fallback: Category | None) -> tuple[list[Planned], list[RowError]]:
    """Every row checked against the community; no writes."""
    matcher = Matcher(community)
    labels = {k: sheet.labels.get(k) or str(COLUMNS[k][0]) for k in COLUMNS}
    now = timezone.now()
    planned: list[Planned] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for number, values in sheet.rows:

        def raw(key: str, values: list[Any] = values) -> Any:
            index = sheet.columns.get(key)
            return values[index] if index is not None and index < len(values) else None

        def text(key: str) -> str:
            return cell_text(raw(key))

        def err(key: str, message: str, number: int = number) -> None:
            errors.append(RowError(number, labels[key], message))

        before = len(errors)
        ref = text("ref")[:41]
        if not ref:
            err("ref", _("The order number is missing."))
        elif len(ref) > 40:
            err("ref", _("At most %(n)s characters, please.") % {"n": 40})
        elif ref in seen:
            err("ref", _("The same order number is on row %(row)s already.") % {"row": seen[ref]})
        else:
            seen[ref] = number
        received = parse_time(raw("received"))
        if received is None:
            err("received", _("Not a date and time: %(value)s") % {"value": text("received")[:40] or "—"})
        elif received > now + timedelta(minutes=5):
            err("received", _("The time received lies in the future."))
        description = text("description")
        if not description:
            err("description", _("The request text is missing."))
        category = matcher.category(text("category"), f"{text('title')} {description}") or fallback
        if category is None:
            err(
                "category",
                _("No service category matches “%(value)s”; choose a fallback category.")
                % {"value": text("category")[:40] or "—"},
            )
        building_id = None
        if text("building"):
            building_id, elsewhere = matcher.building(text("building"), exact=True)
            if building_id is None:
                err(
                    "building",
                    _("That place is not in this community.")
                    if elsewhere
                    else _("No building called “%(value)s” in this community.") % {"value": text("building")[:40]},
                )
        elif text("address"):
            building_id, elsewhere = matcher.building(text("address"), exact=False)
            if elsewhere:
                err("address", _("That place is not in this community."))
        if len(errors) > before or category is None or received is None:
            continue
        planned.append(
            Planned(
                number,
                OrderInput(
                    category=category.code,
                    title=text("title"),
                    description=description,
                    building_id=building_id,
                    address=text("address"),
                    contact_name=text("contact_name"),
                    contact_phone=text("contact_phone"),
                    external_ref=ref,
                    received_at=received,
                ),
            )
        )
    return planned, errors


_FIELD_TO_COLUMN = {
    "description": "description",
    "title": "title",
    "address": "address",
    "contact_name": "contact_name",
    "contact_phone": "contact_phone",
    "external_ref": "ref",
    "received_at": "received",
    "building": "building",
    "grid": "address",
    "category": "category",
}


def _invalid(errors: list[RowError]) -> Invalid:
    errors.sort(key=lambda e: (e.row or 0, e.column))
    return Invalid(
        _("Nothing was imported: %(n)s problems in the file. Correct them and upload it again.") % {"n": len(errors)},
        code="orders_import_invalid",
        details={"errors": [e.as_dict() for e in errors[:MAX_ERRORS]], "error_count": len(errors)},
    )


# --- the service ----------------------------------------------------------------------------------------------------
def orders_import(
    *,
    actor: Actor,
    community: Community,
    data: bytes,
    fallback_category: str = "",
    dry_run: bool = False,
) -> ImportResult:
    """File every row of a 12345 sheet as a request of `community`, or nothing at all. `dry_run` checks and files
    inside a transaction that is then rolled back, so the preview meets exactly the rules the import will."""
    require(actor, "order.import", community)
    fallback = None
    if fallback_category:
        fallback = Category.objects.filter(community=community, code=fallback_category, is_active=True).first()
        if fallback is None:
            raise Invalid(_("There is no such service category in this community."), field="fallback_category")
    sheet = read_sheet(data)
    planned, errors = plan(sheet, community, fallback=fallback)
    if errors:
        raise _invalid(errors)
    result = ImportResult(rows=len(sheet.rows), dry_run=dry_run)
    labels = {k: sheet.labels.get(k) or str(COLUMNS[k][0]) for k in COLUMNS}
    with transaction.atomic():
        known = set(
            WorkOrder.objects.filter(
                community=community,
                channel=Channel.HOTLINE_12345,
                external_ref__in=[p.data.external_ref for p in planned],
            ).values_list("external_ref", flat=True)
        )
        for p in planned:
            if p.data.external_ref in known:
                result.already.append(p.data.external_ref)
                continue
            try:
                filed = services.order_create(
                    actor=actor, community=community, data=p.data, channel=Channel.HOTLINE_12345
                )
            except DomainError as exc:
                column = _FIELD_TO_COLUMN.get(exc.field or "", "description")
                errors.append(RowError(p.row, labels[column], str(exc.message)))
                continue
            (result.already if filed.replayed else result.filed).append(
                p.data.external_ref if filed.replayed else filed.order.number
            )
        if errors:
            raise _invalid(errors)  # leaves the atomic block: every order filed above is rolled back
        if dry_run:
            transaction.set_rollback(True)
        else:
            audit(
                actor=actor,
                action="order.import_12345",
                obj=community,
                community_id=community.pk,
                rows=result.rows,
                filed=len(result.filed),
                already=len(result.already),
            )
    return result


def example_xlsx() -> bytes:
    """A small sheet in the hotline's layout, for staff to see what the import reads."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "12345"
    sheet.append(["工单编号", "来电时间", "诉求类别", "标题", "诉求内容", "地址", "联系人", "联系电话"])
    sheet.append(
        [
            "GD202610050001",
            "2026-10-05 21:30",
            "噪音扰民",
            "停车道闸夜间噪音",
            "小区北门停车道闸夜里抬杆声音很大，影响休息。",
            "兴庆小区1号楼",
            "张先生",
            "13900000000",
        ]
    )
    for column, width in zip("ABCDEFGH", (18, 18, 14, 20, 50, 24, 10, 14), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
