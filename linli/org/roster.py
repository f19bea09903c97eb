"""Roster import and export: households and their people from/to an .xlsx or .csv file staff keep in Excel.

This module holds three layers, kept apart on purpose:

1. The file format (pure, no database): the columns with their Chinese headers and aliases, reading .xlsx/.csv
   bytes into rows (UTF-8, UTF-8 with BOM, GBK/GB18030 and UTF-16 CSV), cleaning each cell, and the
   downloadable templates. `read_table`, `clean_row`, `template_xlsx`, `template_csv`.
2. The plan (pure given a `Snapshot` of the community): resolving every row to a building, household and
   person, finding duplicates and phone clashes, and working out what to create and update. `plan_import`.
3. Two SERVICES, `roster_import` and `roster_export`. They live here rather than in `linli.org.services`
   because they are the only users of the file format; they follow the service rules all the same
   (keyword-only, typed, permission-checked through `linli.org.access`, atomic, audited with
   `linli.common.models.audit`).

Import rules:
- Every row is validated before anything is written; if any row is wrong, nothing is written and `Invalid`
  is raised with `code="roster_invalid"` and `details={"errors": [{"row", "column", "message"}, ...]}`
  (row numbers as Excel shows them: the header is row 1). Problems with the file as a whole (type, encoding,
  missing columns, empty, too many rows) raise `Invalid` with their own code and the same `details` shape,
  so one page or API handler shows them all.
- Buildings must exist already. A household is (building, unit, room); it is created when missing, else its
  address and floor area are updated where the row gives them.
- A person is matched inside the household by name (and phone when the row and the stored person both have
  one); a row whose phone belongs to a person of the same name elsewhere in the community (or earlier in the
  file) is that same person — an owner of two flats. A phone held by someone else is a row error.
- Blank optional cells never erase stored values; tags, when given, replace the person's tags.
- Re-importing the same file (or an export) changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from linli.common.errors import Conflict, Invalid
from linli.common.models import audit
from linli.org import domain
from linli.org.access import Actor, can, require, scoped
from linli.org.models import (
    Building,
    Community,
    Household,
    HouseholdMember,
    Person,
    Relation,
    Tag,
    encode_tags,
)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_COLUMNS = 60  # a sheet wider than this is not a roster; stop reading cells there
MAX_ERRORS = 500  # errors reported back (all are counted)
HEADER_SEARCH_ROWS = 10  # a title row or two above the header is allowed
MAX_BLANK_RUN = 5000  # this many blank rows in a row end the data
BATCH = 500


# --- the file format (pure) -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Chinese header written in templates and exports
    required: bool
    aliases: tuple[str, ...]
    help: Any  # lazily translated description for the "说明" sheet and the page
    values: Any = ""  # lazily translated list of allowed values


COLUMNS: tuple[Column, ...] = (
    Column(
        "compound",
        "小区",
        False,
        ("compound", "小区名称", "院落", "小区/院落"),
        gettext_lazy("Residential compound the building belongs to. Leave blank when the building has none."),
        gettext_lazy("the compound name as set up under Grids & buildings"),
    ),
    Column(
        "building",
        "楼栋",
        True,
        ("building", "楼号", "楼宇", "楼栋号", "楼"),
        gettext_lazy("Building name, exactly as set up under Grids & buildings (the building must exist)."),
        gettext_lazy("e.g. 1号楼"),
    ),
    Column(
        "unit",
        "单元",
        False,
        ("unit", "单元号"),
        gettext_lazy("Unit (stairway) of the building; blank when the building has no units."),
        gettext_lazy("e.g. 1单元"),
    ),
    Column(
        "room",
        "房号",
        True,
        ("room", "门牌号", "房间号", "室", "户号"),
        gettext_lazy("Room number. Building + unit + room is one household."),
        gettext_lazy("e.g. 502"),
    ),
    Column(
        "address",
        "地址",
        False,
        ("address", "住址", "详细地址"),
        gettext_lazy(
            "Full address of the household (optional; made from building, unit and room when blank)."
        ),
        "",
    ),
    Column(
        "floor_area",
        "建筑面积",
        False,
        ("floor_area", "floor area", "area", "面积", "专有部分面积"),
        gettext_lazy("Exclusive floor area in square metres; needed for owners' votes (optional)."),
        gettext_lazy("a positive number, e.g. 75.5"),
    ),
    Column(
        "name",
        "姓名",
        True,
        ("name", "居民姓名"),
        gettext_lazy("The person's name. One row is one person in one household."),
        "",
    ),
    Column(
        "phone",
        "手机",
        False,
        ("phone", "mobile", "手机号", "手机号码", "电话", "联系电话"),
        gettext_lazy("Mobile (11 digits) or landline with area code (optional; unique in the community)."),
        gettext_lazy("e.g. 13800000000"),
    ),
    Column("gender", "性别", False, ("gender", "sex"), gettext_lazy("Gender (optional)."), "男 / 女 / M / F"),
    Column(
        "birth_year",
        "出生年份",
        False,
        ("birth_year", "birth year", "出生年", "出生日期"),
        gettext_lazy("Year of birth (optional)."),
        gettext_lazy("e.g. 1956"),
    ),
    Column(
        "relation",
        "与户主关系",
        False,
        ("relation", "关系", "与户主的关系"),
        gettext_lazy("Relation to the head of household (blank: other)."),
        "户主 / 配偶 / 子女 / 父母 / 其他亲属 / 租户 / 其他",
    ),
    Column(
        "is_owner",
        "是否业主",
        False,
        ("is_owner", "owner", "业主"),
        gettext_lazy("Whether the person is an owner of the flat (owners vote in owners' decisions)."),
        "是 / 否",
    ),
    Column(
        "tags",
        "标签",
        False,
        ("tags", "人员类别", "类别"),
        gettext_lazy("Special groups, separated by 、 or a comma (optional)."),
        "党员、退役军人、独居老人、残疾人、低保、新就业群体",
    ),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
HEADERS = [c.header for c in COLUMNS]

# Fixed file vocabulary (not translated: the file format is the same in every language; English is accepted).
GENDER_OUT: dict[str, str] = {"M": "男", "F": "女", "": ""}
RELATION_OUT: dict[str, str] = {
    Relation.HEAD: "户主",
    Relation.SPOUSE: "配偶",
    Relation.CHILD: "子女",
    Relation.PARENT: "父母",
    Relation.RELATIVE: "其他亲属",
    Relation.TENANT: "租户",
    Relation.OTHER: "其他",
}
TAG_OUT: dict[str, str] = {
    Tag.PARTY_MEMBER: "党员",
    Tag.VETERAN: "退役军人",
    Tag.ELDER_ALONE: "独居老人",
    Tag.DISABLED: "残疾人",
    Tag.LOW_INCOME: "低保",
    Tag.NEW_ECONOMY: "新就业群体",
}
_GENDER_IN = {"男": "M", "男性": "M", "m": "M", "male": "M", "女": "F", "女性": "F", "f": "F", "female": "F"}
_RELATION_IN: dict[str, str] = {
    **{label: code for code, label in RELATION_OUT.items()},
    **{code.lower(): code for code in Relation.values},
    "head of household": Relation.HEAD,
    "other relative": Relation.RELATIVE,
    "本人": Relation.HEAD,
    "户主本人": Relation.HEAD,
    "夫妻": Relation.SPOUSE,
    "妻子": Relation.SPOUSE,
    "丈夫": Relation.SPOUSE,
    "妻": Relation.SPOUSE,
    "夫": Relation.SPOUSE,
    "儿子": Relation.CHILD,
    "女儿": Relation.CHILD,
    "子": Relation.CHILD,
    "女": Relation.CHILD,
    "父亲": Relation.PARENT,
    "母亲": Relation.PARENT,
    "租客": Relation.TENANT,
    "租住": Relation.TENANT,
    "亲属": Relation.RELATIVE,
}
_TAG_IN: dict[str, str] = {
    **{label: code for code, label in TAG_OUT.items()},
    **{code.lower(): code for code in Tag.values},
    "party member": Tag.PARTY_MEMBER,
    "elder living alone": Tag.ELDER_ALONE,
    "low income": Tag.LOW_INCOME,
    "new-economy worker": Tag.NEW_ECONOMY,
    "退伍军人": Tag.VETERAN,
    "空巢老人": Tag.ELDER_ALONE,
    "残疾": Tag.DISABLED,
    "低保户": Tag.LOW_INCOME,
}
_YES = {"是", "y", "yes", "1", "true", "√", "✓", "业主", "t"}
_NO = {"否", "n", "no", "0", "false", "×", "x", "不是", "非业主", "f"}
_TAG_SPLIT = re.compile(r"[、,，;；/|\s]+")
_AREA_UNITS = re.compile(r"(㎡|m²|m2|平方米|平米|平)$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})(?:年|[-/.]\d{1,2}(?:[-/.]\d{1,2})?.*|\.0+)?$")
_HEADER_NOISE = re.compile(r"[\s*＊_]|[(（][^)）]*[)）]")

# The example row of the templates; a row that still equals it is skipped on import.
EXAMPLE_ROW = (
    "兴庆小区",
    "1号楼",
    "1单元",
    "502",
    "",
    "75.5",
    "示例张三",
    "13800000000",
    "男",
    "1956",
    "户主",
    "是",
    "党员、退役军人",
)


def _norm_header(text: str) -> str:
    return _HEADER_NOISE.sub("", text).lower()


_HEADER_LOOKUP: dict[str, str] = {}
for _c in COLUMNS:
    for _name in (_c.header, _c.key, *_c.aliases):
        _HEADER_LOOKUP.setdefault(_norm_header(_name), _c.key)


@dataclass(frozen=True)
class RowError:
    row: int | None  # as Excel shows it (header = 1); None for file-level problems
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportResult:
    rows: int = 0
    households_created: int = 0
    households_updated: int = 0
    people_created: int = 0
    people_updated: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "households_created": self.households_created,
            "households_updated": self.households_updated,
            "people_created": self.people_created,
            "people_updated": self.people_updated,
            "dry_run": self.dry_run,
        }

    @property
    def changed(self) -> bool:
        return any(
            (self.households_created, self.households_updated, self.people_created, self.people_updated)
        )


@dataclass
class Table:
    """A file read into text cells: where each known column is, and the data rows with their Excel numbers."""

    columns: dict[str, int]  # key -> index
    labels: dict[str, str]  # key -> header text as written in the file
    rows: list[tuple[int, list[str]]]


def _fail(code: str, message: str, column: str = "", row: int | None = None) -> Invalid:
    return Invalid(message, code=code, details={"errors": [RowError(row, column, message).as_dict()]})


def cell_text(value: Any) -> str:
    """A cell as the text the person typed: 13800000001.0 -> '13800000001', dates as ISO, stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).replace("\u200b", "").strip()


def _decode_csv(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" (UTF-16, tab separated)
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _fail(
        "encoding",
        _(
            "The CSV file is in an encoding we cannot read. In Excel choose “Save as” › “CSV UTF-8 (comma "
            "delimited)”, or upload the .xlsx file itself."
        ),
    )


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    text = _decode_csv(data)
    if "\x00" in text:
        raise _fail(
            "file_invalid", _("This does not look like a CSV file. Upload the .xlsx or .csv template.")
        )
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            yield [cell_text(v) for v in record[:MAX_COLUMNS]]
    except csv.Error as exc:
        raise _fail("file_invalid", _("The CSV file could not be read: %(error)s") % {"error": exc}) from exc


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of error for a broken or foreign file
        raise _fail(
            "file_invalid",
            _(
                "This is not a valid .xlsx file. Open it in Excel or WPS and save it as "
                "“Excel Workbook (.xlsx)”."
            ),
        ) from exc
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]
        try:
            for values in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
                yield [cell_text(v) for v in values]
        except Exception as exc:  # a damaged part of the zip, bad XML, a broken shared-strings table...
            raise _fail(
                "file_invalid", _("The .xlsx file is damaged and could not be read to the end.")
            ) from exc
    finally:
        workbook.close()


def _find_header(rows: list[tuple[int, list[str]]]) -> tuple[int, dict[str, int], dict[str, str]] | None:
    """The first row that names every required column (within the first few rows)."""
    for position, (_number, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        labels: dict[str, str] = {}
        for index, cell in enumerate(cells):
            key = _HEADER_LOOKUP.get(_norm_header(cell)) if cell else None
            if key and key not in columns:
                columns[key], labels[key] = index, cell
        if all(c.key in columns for c in COLUMNS if c.required):
            return position, columns, labels
    return None


def read_table(upload_name: str, data: bytes, *, max_rows: int | None = None) -> Table:
    """Read the uploaded bytes into a Table; refuse anything that is not a usable roster, clearly."""
    max_rows = settings.LINLI_IMPORT_MAX_ROWS if max_rows is None else max_rows
    name = (upload_name or "").lower().strip()
    if len(data) > MAX_UPLOAD_BYTES:
        raise _fail(
            "file_too_large",
            _("The file is larger than %(mb)d MB. Split it into several files.")
            % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
        )
    if name.endswith((".xls", ".et")):
        raise _fail(
            "file_type",
            _(
                "Old .xls files are not supported. In Excel or WPS save the file as .xlsx "
                "(“Excel Workbook”) and upload that."
            ),
        )
    if not name.endswith((".xlsx", ".xlsm", ".csv", ".txt")):
        raise _fail("file_type", _("Upload an .xlsx or .csv file (use the template on this page)."))
    if not data:
        raise _fail("empty", _("The file is empty."))
    reader = _xlsx_rows(data) if name.endswith((".xlsx", ".xlsm")) else _csv_rows(data)

    rows: list[tuple[int, list[str]]] = []
    limit = max_rows + HEADER_SEARCH_ROWS
    blank_run = 0
    for number, cells in enumerate(reader, start=1):
        if any(cells):
            blank_run = 0
            rows.append((number, cells))
            if len(rows) > limit:
                break
        else:
            blank_run += 1
            if blank_run > MAX_BLANK_RUN and rows:
                break  # a sheet formatted down to row 1,048,576: the data has ended
    if not rows:
        raise _fail("empty", _("The file has no rows."))
    found = _find_header(rows)
    if found is None:
        present = {_HEADER_LOOKUP.get(_norm_header(c)) for c in rows[0][1] if c}
        missing = [c.header for c in COLUMNS if c.required and c.key not in present]
        raise _fail(
            "missing_columns",
            ngettext(
                "The file lacks the column %(columns)s. Keep the header row of the template.",
                "The file lacks the columns %(columns)s. Keep the header row of the template.",
                len(missing),
            )
            % {"columns": "、".join(missing)},
            column="、".join(missing),
            row=rows[0][0],
        )
    position, columns, labels = found
    data_rows = [(number, cells) for number, cells in rows[position + 1 :] if not _is_example(cells, columns)]
    if len(data_rows) > max_rows:
        raise _fail(
            "too_many_rows",
            _(
                "The file has more than %(max)d rows. Split it into several files of at most %(max)d rows "
                "each."
            )
            % {"max": max_rows},
        )
    if not data_rows:
        raise _fail("empty", _("The file has a header row but no people in it (the example row is ignored)."))
    return Table(columns=columns, labels=labels, rows=data_rows)


@dataclass
class RowData:
    """One cleaned row. None in an optional field means "not given" (keep what is stored)."""

    row: int
    compound: str
    building: str
    unit: str
    room: str
    address: str | None
    floor_area: Decimal | None
    name: str
    phone: str | None
    gender: str | None
    birth_year: int | None
    relation: str | None
    is_owner: bool | None
    tags: str | None  # encoded ",a,b," as stored on Person
    building_id: int = 0
    household_key: tuple[int, str, str] = (0, "", "")


def _nfkc(text: str) -> str:
    """Full-width digits and signs (１３８…, ７５．５) as typed with a Chinese input method -> ASCII."""
    return unicodedata.normalize("NFKC", text)


def clean_row(
    number: int, cells: list[str], columns: dict[str, int]
) -> tuple[RowData | None, list[tuple[str, str]]]:
    """Clean one row: (data, problems) with problems as [(column key, message)]. Pure.

    `data` is None when the row cannot even say which household and person it is about."""

    def get(key: str) -> str:
        index = columns.get(key)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    errors: list[tuple[str, str]] = []

    def err(key: str, message: str) -> None:
        errors.append((key, message))

    compound, building, unit, room = get("compound"), get("building"), get("unit"), get("room")
    name, address = get("name"), get("address")
    if not building:
        err("building", _("The building is required."))
    if not room:
        err("room", _("The room number is required."))
    if not name:
        err("name", _("The name is required."))
    for key, value, limit in (
        ("compound", compound, 100),
        ("building", building, 100),
        ("unit", unit, 20),
        ("room", room, 20),
        ("name", name, 50),
        ("address", address, 200),
    ):
        if len(value) > limit:
            err(key, _("Too long (%(max)d characters at most).") % {"max": limit})

    floor_area: Decimal | None = None
    raw_area = _AREA_UNITS.sub("", _nfkc(get("floor_area"))).strip()
    if raw_area:
        try:
            floor_area = Decimal(raw_area)
            if not floor_area.is_finite() or floor_area <= 0 or floor_area >= Decimal("100000"):
                raise InvalidOperation
            floor_area = floor_area.quantize(Decimal("0.01"))
        except InvalidOperation:
            floor_area = None
            err(
                "floor_area",
                _("“%(value)s” is not a floor area in square metres (a positive number).")
                % {"value": get("floor_area")},
            )

    phone: str | None = None
    raw_phone = get("phone")
    if raw_phone:
        phone = domain.normalize_phone(_nfkc(raw_phone))
        if not phone:
            err(
                "phone",
                _("“%(phone)s” is not a valid phone number (11-digit mobile, or landline with area code).")
                % {"phone": raw_phone},
            )

    gender: str | None = None
    raw_gender = get("gender")
    if raw_gender:
        gender = _GENDER_IN.get(raw_gender.lower())
        if gender is None:
            err(
                "gender",
                _("“%(value)s” is not a gender: write 男 or 女 (or leave blank).") % {"value": raw_gender},
            )

    birth_year: int | None = None
    raw_year = get("birth_year")
    if raw_year:
        match = _YEAR.match(_nfkc(raw_year))
        this_year = timezone.localdate().year
        if match and 1900 <= int(match.group(1)) <= this_year:
            birth_year = int(match.group(1))
        else:
            err(
                "birth_year",
                _("“%(value)s” is not a birth year between 1900 and %(year)d.")
                % {"value": raw_year, "year": this_year},
            )

    relation: str | None = None
    raw_relation = get("relation")
    if raw_relation:
        relation = _RELATION_IN.get(raw_relation.lower())
        if relation is None:
            err(
                "relation",
                _("“%(value)s” is not a relation. Use one of: %(values)s.")
                % {"value": raw_relation, "values": "、".join(RELATION_OUT.values())},
            )

    is_owner: bool | None = None
    raw_owner = get("is_owner").lower()
    if raw_owner:
        if raw_owner in _YES:
            is_owner = True
        elif raw_owner in _NO:
            is_owner = False
        else:
            err("is_owner", _("“%(value)s” is not yes or no: write 是 or 否.") % {"value": get("is_owner")})

    tags: str | None = None
    raw_tags = get("tags")
    if raw_tags:
        parts = [p for p in _TAG_SPLIT.split(raw_tags) if p]
        unknown = [p for p in parts if p.lower() not in _TAG_IN]
        if unknown:
            err(
                "tags",
                _("Unknown tag “%(tag)s”. Use: %(values)s.")
                % {"tag": "、".join(unknown), "values": "、".join(TAG_OUT.values())},
            )
        else:
            tags = encode_tags({_TAG_IN[p.lower()] for p in parts})

    keys = {key for key, _message in errors}
    if keys & {"building", "room", "name", "compound", "unit"}:
        return None, errors
    # with other errors the row still takes part in the later checks (duplicates, phones), so that one upload
    # reports everything; a bad cell reads as "not given" there.
    return RowData(
        row=number,
        compound=compound,
        building=building,
        unit=unit,
        room=room,
        address=address or None,
        floor_area=floor_area,
        name=name,
        phone=phone,
        gender=gender,
        birth_year=birth_year,
        relation=relation,
        is_owner=is_owner,
        tags=tags,
    ), errors


def _is_example(cells: list[str], columns: dict[str, int]) -> bool:
    for column, example in zip(COLUMNS, EXAMPLE_ROW, strict=True):
        index = columns.get(column.key)
        value = cells[index] if index is not None and index < len(cells) else ""
        if value and value != example:
            return False
    name_index = columns["name"]
    return name_index < len(cells) and cells[name_index] == EXAMPLE_ROW[6]


# --- templates --------------------------------------------------------------------------------------------


def _instructions() -> list[list[str]]:
    head = [_("Column"), _("Required"), _("What to write"), _("Allowed values")]
    rows = [[c.header, _("yes") if c.required else _("no"), str(c.help), str(c.values)] for c in COLUMNS]
    notes = [
        [],
        [_("One row is one person in one household; repeat the household columns for every member.")],
        [_("The grey example row is ignored on import; you may delete it.")],
        [_("Buildings must already exist in the community; households and people are created or updated.")],
        [_("If any row has an error nothing is imported; the page lists each error with its row number.")],
        [_("Blank optional cells never erase what is already stored.")],
        [_("Save as .xlsx, or as “CSV UTF-8”; CSV files saved by Chinese Excel (GBK) are accepted too.")],
    ]
    return [head, *rows, *notes]


def template_xlsx() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "花名册"
    sheet.append(HEADERS)
    sheet.append(list(EXAMPLE_ROW))
    bold = Font(bold=True)
    grey = Font(color="808080", italic=True)
    fill = PatternFill("solid", fgColor="F6F2EA")
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        head = sheet.cell(row=1, column=index)
        head.font, head.fill = bold, fill
        sheet.cell(row=2, column=index).font = grey
        sheet.column_dimensions[letter].width = max(10, len(column.header) * 3)
        if column.key in {"unit", "room", "phone", "building"}:
            # text, so Excel keeps 0502 and long phone numbers as typed
            for row_number in range(2, 1002):
                sheet.cell(row=row_number, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    help_sheet = workbook.create_sheet("说明")
    for line in _instructions():
        help_sheet.append(line)
    for cell in help_sheet[1]:
        cell.font = bold
    for letter, width in (("A", 14), ("B", 8), ("C", 70), ("D", 45)):
        help_sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerow(EXAMPLE_ROW)
    return out.getvalue().encode("utf-8-sig")


# --- the plan (pure given a snapshot) ---------------------------------------------------------------------


@dataclass
class Snapshot:
    """What the import needs to know about the community, read in a handful of queries."""

    building_labels: dict[int, str]  # id -> "兴庆小区 1号楼" (for generated addresses)
    buildings: dict[tuple[str, str], int]  # (compound name or "", building name) -> id
    buildings_by_name: dict[
        str, list[int]
    ]  # building name -> ids (to allow a blank compound when unambiguous)
    allowed_buildings: set[int]  # in the actor's scope
    households: dict[
        tuple[int, str, str], tuple[int, str, Decimal | None]
    ]  # key -> (id, address, floor_area)
    members: dict[tuple[int, str], list[tuple[int, str]]]  # (household id, name) -> [(person id, phone)]
    memberships: dict[
        tuple[int, int], tuple[int, str, bool]
    ]  # (household, person) -> (member id, relation, owner)
    people: dict[int, tuple[str, str, str, int | None, str]]  # id -> (name, phone, gender, birth_year, tags)
    phone_owner: dict[str, int]  # phone -> person id


PersonKey = tuple[Any, ...]  # ("p", id) for stored people, ("n", ...) for new ones


@dataclass
class Plan:
    new_households: dict[tuple[int, str, str], dict[str, Any]] = field(default_factory=dict)
    household_updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    new_people: dict[PersonKey, dict[str, Any]] = field(default_factory=dict)
    people_updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    new_members: dict[tuple[tuple[int, str, str], PersonKey], dict[str, Any]] = field(default_factory=dict)
    member_updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    touched_people: set[int] = field(default_factory=set)  # stored people with a membership added or changed
    stored_households: dict[tuple[int, str, str], int] = field(
        default_factory=dict
    )  # key -> id, for new members
    rows: int = 0

    def result(self, *, dry_run: bool) -> ImportResult:
        return ImportResult(
            rows=self.rows,
            households_created=len(self.new_households),
            households_updated=len(self.household_updates),
            people_created=len(self.new_people),
            people_updated=len(set(self.people_updates) | self.touched_people),
            dry_run=dry_run,
        )


_COLUMN_ORDER = {c.key: i for i, c in enumerate(COLUMNS)}


class _Errors:
    def __init__(self, labels: dict[str, str]) -> None:
        self.labels = labels
        self.items: list[tuple[int, int, RowError]] = []

    def add(self, row: int, key: str, message: str) -> None:
        label = self.labels.get(key) or COLUMN_BY_KEY[key].header
        self.items.append((row, _COLUMN_ORDER[key], RowError(row, label, message)))

    def sorted(self) -> list[RowError]:
        return [e for _r, _c, e in sorted(self.items, key=lambda item: (item[0], item[1]))]


def _pick_member(candidates: list[tuple[int, str]], phone: str | None) -> int | None:
    """The stored household member a row means: same name, and same phone when both have one."""
    if not candidates:
        return None
    if phone:
        for person_id, stored in candidates:
            if stored == phone:
                return person_id
        for person_id, stored in candidates:
            if not stored:
                return person_id
        return None
    return candidates[0][0]


def _plan_row(
    plan: Plan,
    data: RowData,
    person: PersonKey,
    snapshot: Snapshot,
    household_values: dict[tuple[int, str, str], dict[str, tuple[Any, int]]],
    person_values: dict[PersonKey, dict[str, tuple[Any, int]]],
) -> None:
    """Add what one valid row creates or changes to the plan."""
    household_key = data.household_key
    household = snapshot.households.get(household_key)
    if household is None and household_key not in plan.new_households:
        given = {k: v for k, (v, _row) in household_values.get(household_key, {}).items()}
        label = snapshot.building_labels[data.building_id]
        plan.new_households[household_key] = {
            "address": given.get("address") or f"{label}{data.unit}{data.room}",
            "floor_area": given.get("floor_area"),
        }
    wanted = {k: v for k, (v, _row) in person_values.get(person, {}).items()}
    if person[0] == "n":
        plan.new_people.setdefault(
            person,
            {
                "name": data.name,
                "phone": wanted.get("phone") or "",
                "gender": wanted.get("gender") or "",
                "birth_year": wanted.get("birth_year"),
                "tags": wanted.get("tags") or "",
            },
        )
    else:
        _name, phone, gender, birth_year, tags = snapshot.people[person[1]]
        current = {"phone": phone, "gender": gender, "birth_year": birth_year, "tags": tags}
        changes = {k: v for k, v in wanted.items() if current[k] != v}
        if changes:
            plan.people_updates[person[1]] = changes
    member = None
    if household is not None and person[0] == "p":
        member = snapshot.memberships.get((household[0], person[1]))
    if member is None:
        if household is not None:
            plan.stored_households[household_key] = household[0]
        plan.new_members[(household_key, person)] = {
            "relation": data.relation or Relation.OTHER,
            "is_owner": bool(data.is_owner),
        }
        if person[0] == "p":
            plan.touched_people.add(person[1])
        return
    member_id, relation, is_owner = member
    member_changes: dict[str, Any] = {}
    if data.relation is not None and data.relation != relation:
        member_changes["relation"] = data.relation
    if data.is_owner is not None and data.is_owner != is_owner:
        member_changes["is_owner"] = data.is_owner
    if member_changes:
        plan.member_updates[member_id] = member_changes
        plan.touched_people.add(person[1])


def plan_import(table: Table, snapshot: Snapshot) -> tuple[Plan, list[RowError]]:
    """Validate every row against the community and work out the changes. Pure: no database access."""
    errors = _Errors(table.labels)
    cleaned: list[RowData] = []
    for number, cells in table.rows:
        data, problems = clean_row(number, cells, table.columns)
        for key, message in problems:
            errors.add(number, key, message)
        if data is not None:
            cleaned.append(data)

    # buildings
    for data in cleaned:
        building_id = snapshot.buildings.get((data.compound, data.building))
        if building_id is None and not data.compound:
            same_name = snapshot.buildings_by_name.get(data.building, [])
            if len(same_name) == 1:
                building_id = same_name[0]
            elif len(same_name) > 1:
                errors.add(
                    data.row,
                    "compound",
                    _("Several compounds have a building “%(building)s”: fill in the compound.")
                    % {"building": data.building},
                )
                continue
        if building_id is None:
            where = f"{data.compound} {data.building}".strip()
            errors.add(
                data.row,
                "building",
                _(
                    "There is no building “%(building)s” in this community. Add it under "
                    "Grids & buildings first, or correct the name."
                )
                % {"building": where},
            )
            continue
        if building_id not in snapshot.allowed_buildings:
            errors.add(
                data.row,
                "building",
                _("The building “%(building)s” is outside your area.") % {"building": data.building},
            )
            continue
        data.building_id = building_id
        data.household_key = (building_id, data.unit, data.room)
    rows = [d for d in cleaned if d.building_id]

    # the same person twice in one household
    seen: dict[tuple[tuple[int, str, str], str], list[tuple[str | None, int]]] = defaultdict(list)
    unique_rows: list[RowData] = []
    for data in rows:
        earlier = seen[(data.household_key, data.name)]
        clash = next(
            (row for phone, row in earlier if not (phone and data.phone and phone != data.phone)), None
        )
        if clash is not None:
            errors.add(
                data.row,
                "name",
                _("Row %(row)d and row %(other)d are the same person in the same household.")
                % {"row": data.row, "other": clash},
            )
            continue
        earlier.append((data.phone, data.row))
        unique_rows.append(data)

    # who each row is: a stored member of the household, or a stored/new person found by phone, or someone new
    identity: dict[int, PersonKey] = {}
    file_phone_stored: dict[str, tuple[int, str]] = {}  # phone -> (stored person id, name) named in the file
    for data in unique_rows:
        household = snapshot.households.get(data.household_key)
        if household is not None:
            person_id = _pick_member(snapshot.members.get((household[0], data.name), []), data.phone)
            if person_id is not None:
                identity[data.row] = ("p", person_id)
                if data.phone:
                    file_phone_stored.setdefault(data.phone, (person_id, data.name))
    for data in unique_rows:
        if data.row in identity:
            continue
        if data.phone:
            known = file_phone_stored.get(data.phone)
            owner = snapshot.phone_owner.get(data.phone)
            if known is not None and known[1] == data.name:
                identity[data.row] = ("p", known[0])
            elif owner is not None and snapshot.people[owner][0] == data.name:
                identity[data.row] = ("p", owner)
            else:
                identity[data.row] = ("n", "phone", data.phone, data.name)
        else:
            identity[data.row] = ("n", "household", data.household_key, data.name)

    # phones: one person per phone, in the file and in the community
    phone_users: dict[str, tuple[PersonKey, int, str]] = {}
    for data in unique_rows:
        if not data.phone:
            continue
        who = identity[data.row]
        owner = snapshot.phone_owner.get(data.phone)
        if owner is not None and who != ("p", owner):
            errors.add(
                data.row,
                "phone",
                _("The phone number %(phone)s already belongs to %(name)s in this community.")
                % {"phone": data.phone, "name": snapshot.people[owner][0]},
            )
            continue
        first = phone_users.setdefault(data.phone, (who, data.row, data.name))
        if first[0] != who:
            errors.add(
                data.row,
                "phone",
                _("Row %(other)d gives the same phone number for another person (%(name)s).")
                % {"other": first[1], "name": first[2]},
            )

    # a household or person named on several rows must be described the same way on each
    plan = Plan()
    household_values: dict[tuple[int, str, str], dict[str, tuple[Any, int]]] = defaultdict(dict)
    person_values: dict[PersonKey, dict[str, tuple[Any, int]]] = defaultdict(dict)
    for data in unique_rows:
        household_fields: tuple[tuple[str, Any], ...] = (
            ("address", data.address),
            ("floor_area", data.floor_area),
        )
        for key, value in household_fields:
            if value is None:
                continue
            first_value = household_values[data.household_key].setdefault(key, (value, data.row))
            if first_value[0] != value:
                errors.add(
                    data.row,
                    key,
                    _("Row %(other)d is the same household but gives a different value here.")
                    % {"other": first_value[1]},
                )
        person = identity[data.row]
        person_fields: tuple[tuple[str, Any], ...] = (
            ("phone", data.phone),
            ("gender", data.gender),
            ("birth_year", data.birth_year),
            ("tags", data.tags),
        )
        for key, value in person_fields:
            if value is None:
                continue
            first_value = person_values[person].setdefault(key, (value, data.row))
            if first_value[0] != value:
                errors.add(
                    data.row,
                    key,
                    _("Row %(other)d is the same person but gives a different value here.")
                    % {"other": first_value[1]},
                )

    if errors.items:
        return plan, errors.sorted()

    # the changes
    plan.rows = len(unique_rows)
    for household_key, values in household_values.items():
        stored = snapshot.households.get(household_key)
        if stored is None:
            continue
        current = {"address": stored[1], "floor_area": stored[2]}
        changes = {k: v for k, (v, _row) in values.items() if current[k] != v}
        if changes:
            plan.household_updates[stored[0]] = changes
    for data in unique_rows:
        _plan_row(plan, data, identity[data.row], snapshot, household_values, person_values)
    return plan, []


# --- services ---------------------------------------------------------------------------------------------


def _snapshot(actor: Actor, community: Community) -> Snapshot:
    buildings = list(Building.objects.filter(community=community).select_related("compound"))
    allowed = set(
        scoped(actor, "household.manage", Building.objects.filter(community=community)).values_list(
            "id", flat=True
        )
    )
    by_name: dict[str, list[int]] = defaultdict(list)
    for b in buildings:
        by_name[b.name].append(b.id)
    households = {
        (b, unit, room): (hid, address, area)
        for hid, b, unit, room, address, area in Household.objects.filter(community=community).values_list(
            "id", "building_id", "unit", "room", "address", "floor_area"
        )
    }
    people = {
        pid: (name, phone, gender, birth_year, tags)
        for pid, name, phone, gender, birth_year, tags in Person.objects.filter(
            community=community
        ).values_list("id", "name", "phone", "gender", "birth_year", "tags")
    }
    members: dict[tuple[int, str], list[tuple[int, str]]] = defaultdict(list)
    memberships: dict[tuple[int, int], tuple[int, str, bool]] = {}
    for mid, hid, pid, relation, is_owner in (
        HouseholdMember.objects.filter(community=community)
        .order_by("person_id")
        .values_list("id", "household_id", "person_id", "relation", "is_owner")
    ):
        name, phone = people[pid][0], people[pid][1]
        members[(hid, name)].append((pid, phone))
        memberships[(hid, pid)] = (mid, relation, is_owner)
    return Snapshot(
        building_labels={b.id: str(b) for b in buildings},
        buildings={(b.compound.name if b.compound_id else "", b.name): b.id for b in buildings},  # type: ignore[union-attr]
        buildings_by_name=dict(by_name),
        allowed_buildings=allowed,
        households=households,
        members=dict(members),
        memberships=memberships,
        people=people,
        phone_owner={phone: pid for pid, (_n, phone, _g, _b, _t) in people.items() if phone},
    )


def _write(plan: Plan, community: Community) -> None:
    now = timezone.now()
    new_households = [
        Household(community=community, building_id=key[0], unit=key[1], room=key[2], **values)
        for key, values in plan.new_households.items()
    ]
    Household.objects.bulk_create(new_households, batch_size=BATCH)
    household_ids = {(h.building_id, h.unit, h.room): h.pk for h in new_households}
    if any(pk is None for pk in household_ids.values()):  # databases that do not return ids from bulk inserts
        household_ids = {
            (b, u, r): pk
            for pk, b, u, r in Household.objects.filter(community=community).values_list(
                "id", "building_id", "unit", "room"
            )
        }
    new_people = {key: Person(community=community, **values) for key, values in plan.new_people.items()}
    Person.objects.bulk_create(list(new_people.values()), batch_size=BATCH)
    if any(p.pk is None for p in new_people.values()):
        raise RuntimeError("the database did not return ids from a bulk insert")

    _bulk_update(Household, plan.household_updates, now)
    _bulk_update(Person, plan.people_updates, now)
    _bulk_update(HouseholdMember, plan.member_updates, None)

    members = []
    for (household_key, person), values in plan.new_members.items():
        household_id = plan.stored_households.get(household_key) or household_ids[household_key]
        person_id = person[1] if person[0] == "p" else new_people[person].pk
        members.append(
            HouseholdMember(community=community, household_id=household_id, person_id=person_id, **values)
        )
    HouseholdMember.objects.bulk_create(members, batch_size=BATCH)


def _bulk_update(model: Any, updates: dict[int, dict[str, Any]], now: datetime | None) -> None:
    if not updates:
        return
    by_fields: dict[tuple[str, ...], list[Any]] = defaultdict(list)
    for pk, changes in updates.items():
        obj = model(pk=pk, **changes)
        fields = tuple(sorted(changes))
        if now is not None:
            obj.updated_at = now
            fields = (*fields, "updated_at")
        by_fields[fields].append(obj)
    for fields, objs in by_fields.items():
        model.objects.bulk_update(objs, list(fields), batch_size=BATCH)


def roster_import(
    *, actor: Actor, community: Community, upload_name: str, data: bytes, dry_run: bool = False
) -> ImportResult:
    """Import households and people from an .xlsx/.csv roster: all rows or none.

    Raises `Invalid` (file problems, or `code="roster_invalid"` with `details["errors"]` listing row errors),
    `Forbidden`/`NotFound` (not allowed), `Conflict` (the community changed under us on PostgreSQL; retry).
    With `dry_run` everything is checked and counted but nothing is written.
    """
    require(actor, "roster.import", community)
    table = read_table(
        upload_name, data
    )  # parsing is pure and slow-ish: keep it outside the write transaction
    try:
        with transaction.atomic():
            plan, errors = plan_import(table, _snapshot(actor, community))
            if errors:
                rows = len({e.row for e in errors})
                raise Invalid(
                    ngettext(
                        "Nothing was imported: %(count)d row has errors. Correct it and upload the file "
                        "again.",
                        "Nothing was imported: %(count)d rows have errors. Correct them and upload the file "
                        "again.",
                        rows,
                    )
                    % {"count": rows},
                    code="roster_invalid",
                    details={
                        "errors": [e.as_dict() for e in errors[:MAX_ERRORS]],
                        "error_count": len(errors),
                        "row_count": rows,
                    },
                )
            result = plan.result(dry_run=dry_run)
            if dry_run:
                return result
            _write(plan, community)
            audit(
                actor=actor,
                action="roster.import",
                obj=community,
                community_id=community.id,
                file=upload_name[:200],
                sha256=hashlib.sha256(data).hexdigest(),
                rows=result.rows,
                households_created=result.households_created,
                households_updated=result.households_updated,
                people_created=result.people_created,
                people_updated=result.people_updated,
            )
            return result
    except IntegrityError as exc:
        raise Conflict(
            _(
                "The roster was changed by someone else while importing. Nothing was imported; please "
                "try again."
            ),
            code="roster_conflict",
        ) from exc


def export_rows(actor: Actor, community: Community) -> Iterable[list[Any]]:
    """The community's active people, one row per household membership, in the import column order."""
    private = can(actor, "person.view_private", community)
    members = (
        HouseholdMember.objects.filter(community=community, person__is_active=True)
        .select_related("household__building__compound", "person")
        .annotate(
            head_first=Case(
                When(relation=Relation.HEAD, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by(
            "household__building__compound__name",
            "household__building__name",
            "household__unit",
            "household__room",
            "household_id",
            "head_first",
            "person_id",
        )
    )
    for m in members.iterator(chunk_size=2000):
        h, p = m.household, m.person
        b = h.building
        phone = p.phone if private else domain.mask_phone(p.phone)
        yield [
            b.compound.name if b.compound_id else "",  # type: ignore[union-attr]
            b.name,
            h.unit,
            h.room,
            h.address,
            h.floor_area,
            p.name,
            phone,
            GENDER_OUT.get(p.gender, ""),
            p.birth_year,
            RELATION_OUT.get(m.relation, "其他"),
            "是" if m.is_owner else "否",
            "、".join(TAG_OUT[t] for t in p.tag_list if t in TAG_OUT),
        ]


@transaction.atomic
def roster_export(*, actor: Actor, community: Community) -> bytes:
    """The roster as .xlsx in the template's layout (re-importable).

    Phones are masked for actors who may not see private data (auditors). The export itself is audited: it is
    personal data leaving the system."""
    require(actor, "roster.export", community)
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("花名册")
    count = 0
    sheet.append(HEADERS)
    for row in export_rows(actor, community):
        cells: list[Any] = []
        for value in row:
            if isinstance(value, str) and value.startswith(("=", "+", "-", "@")):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # never a formula: names and addresses are data
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
        count += 1
    out = io.BytesIO()
    workbook.save(out)
    audit(
        actor=actor,
        action="roster.export",
        obj=community,
        community_id=community.id,
        rows=count,
        masked=not can(actor, "person.view_private", community),
    )
    return out.getvalue()


def export_filename(community: Community) -> str:
    return f"roster-{community.code}-{timezone.localdate().isoformat()}.xlsx"


def roster_communities(actor: Actor) -> list[Community]:
    """Selector: the communities whose roster this actor may import or export (for the page's picker)."""
    from linli.org.selectors import communities

    return [c for c in communities(actor) if can(actor, "roster.import", c) or can(actor, "roster.export", c)]
