"""The market's figures and a merchant's settlement as .xlsx files for staff (台账) and the shop.

The rows are exactly the pages' (`reports.market_figures`, `reports.settlement`): a downloaded sheet says what the
page said. Holders stay masked; text that looks like a formula stays text (linli.ledger.export.xlsx_cell).
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
from linli.market.reports import Days, Figures, Settlement, SummaryRow

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _header(sheet: WriteOnlyWorksheet, titles: list[str]) -> None:
    cells = []
    for title in titles:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = Font(bold=True)
        cells.append(cell)
    sheet.append(cells)


def _row(sheet: WriteOnlyWorksheet, values: list[Any]) -> None:
    sheet.append([xlsx_cell(sheet, v) for v in values])


def _bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def figures_xlsx(figures: Figures) -> bytes:
    """Sheet 1: items × months (units and points per month); sheet 2: stock on hand and its points value."""
    wb = Workbook(write_only=True)
    sheet = wb.create_sheet(_("Redemptions by item and month"))
    months = [m.strftime("%Y-%m") for m in figures.months]
    titles = [_("Item"), _("Category")]
    for m in months:
        titles += [_("%(month)s units") % {"month": m}, _("%(month)s points") % {"month": m}]
    _header(sheet, [*titles, _("Units"), _("Points")])
    for row in figures.items:
        values: list[Any] = [row.name, row.category]
        for cell in row.cells:
            values += [cell.units, cell.points]
        _row(sheet, [*values, row.units, row.points])
    totals: list[Any] = [_("Total"), ""]
    for cell in figures.month_totals:
        totals += [cell.units, cell.points]
    _row(sheet, [*totals, figures.items_redeemed, figures.points_spent])

    stock = wb.create_sheet(_("Stock on hand"))
    _header(stock, [_("Item"), _("Unit"), _("In stock"), _("Price in points"), _("Points value")])
    for s in figures.stock:
        _row(stock, [s.name, s.unit, s.stock, s.price, s.value])
    _row(stock, [_("Total"), "", figures.stock_units, "", figures.stock_value])
    return _bytes(wb)


def figures_filename(figures: Figures) -> str:
    first, last = figures.period.first.strftime("%Y%m"), figures.period.last.strftime("%Y%m")
    return f"market-{figures.community.code}-{first}-{last}.xlsx"


def settlement_xlsx(found: Settlement) -> bytes:
    wb = Workbook(write_only=True)
    sheet = wb.create_sheet(_("Vouchers used"))
    _header(sheet, [_("Used at"), _("Code"), _("Service"), _("Points"), _("Holder")])
    for v in found.used:
        _row(sheet, [v.used_at, v.code, v.service, v.points, v.holder])
    _row(sheet, [_("Total"), found.used_total.count, "", found.used_total.points, ""])
    summary = wb.create_sheet(_("Summary"))
    _header(summary, ["", _("Vouchers"), _("Points")])
    for label, tally in (
        (_("Used"), found.used_total),
        (_("Issued"), found.issued),
        (_("Expired, points returned"), found.expired),
        (_("Cancelled, points returned"), found.cancelled),
    ):
        _row(summary, [label, tally.count, tally.points])
    return _bytes(wb)


def summary_xlsx(rows: list[SummaryRow], period: Days) -> bytes:
    wb = Workbook(write_only=True)
    sheet = wb.create_sheet(_("Settlement of all merchants"))
    _header(
        sheet,
        [
            _("Merchant"),
            _("Used"),
            _("Points used"),
            _("Issued"),
            _("Points issued"),
            _("Expired"),
            _("Points expired"),
            _("Waiting to be used"),
        ],
    )
    for r in rows:
        _row(
            sheet,
            [r.merchant.name, r.used.count, r.used.points, r.issued.count, r.issued.points, r.expired.count,
             r.expired.points, r.open.count],
        )  # fmt: skip
    return _bytes(wb)


def settlement_filename(name: str, period: Days) -> str:
    return f"settlement-{name}-{period.first:%Y%m%d}-{period.last:%Y%m%d}.xlsx"
