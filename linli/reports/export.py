"""The street roll-up as an .xlsx file (every community side by side, ranked): the same rows as the page.

Numbers stay numbers (rates as percentages with one decimal, empty when there is nothing to divide by); names are
written as text, never as formulas (linli.ledger.export.xlsx_cell).
"""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from linli.ledger.export import xlsx_cell
from linli.reports.dashboards import STREET_COLUMNS, labels, unit_of
from linli.reports.selectors import StreetRollup

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    return value if isinstance(value, float) else xlsx_cell(sheet, value)


def _header(sheet: WriteOnlyWorksheet, titles: list[str]) -> None:
    cells = []
    for title in titles:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = Font(bold=True)
        cells.append(cell)
    sheet.append(cells)


def street_xlsx(rollup: StreetRollup) -> bytes:
    names = labels()
    wb = Workbook(write_only=True)
    sheet = wb.create_sheet(_("Communities %(month)s") % {"month": f"{rollup.month:%Y-%m}"})
    columns = [f"{names[k]} (%)" if unit_of(k) else names[k] for k in STREET_COLUMNS]
    _header(sheet, [_("Rank"), _("Community"), *columns])
    for row in rollup.rows:
        sheet.append(
            [_cell(sheet, v) for v in [row.rank, row.community.name, *(row.values[k] for k in STREET_COLUMNS)]]
        )
    sheet.append([_cell(sheet, v) for v in ["", _("Total"), *(rollup.totals.get(k) for k in STREET_COLUMNS)]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def street_filename(rollup: StreetRollup) -> str:
    return f"street-{rollup.street.code}-{rollup.month:%Y%m}-{rollup.metric}.xlsx"
