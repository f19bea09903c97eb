"""The shelf and a stocktake as .xlsx files for staff, auditors and grid workers (台账).

Rows come from the same selectors the pages use, so an export shows what the page shows (and who may read the page
may download it). Reads only: no audit record, like every other list. Cells go through the ledger's Excel-safe
writer: numbers stay numbers, text that looks like a formula stays text.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from linli.ledger.export import xlsx_cell
from linli.market import domain
from linli.market.models import Product, ProductKind, Stocktake, StocktakeLine
from linli.org.models import Community

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sheet(workbook: Workbook, title: str, headers: Sequence[str], widths: dict[int, int]) -> WriteOnlyWorksheet:
    sheet: WriteOnlyWorksheet = workbook.create_sheet(title)
    for index in range(len(headers)):
        sheet.column_dimensions[get_column_letter(index + 1)].width = widths.get(index, 12)  # type: ignore[attr-defined]
    bold = Font(bold=True)
    cells = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    sheet.freeze_panes = "B2"
    return sheet


def _save(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def stock_value(product: Product) -> int | None:
    """Points value of what is on the shelf; None for items whose stock is not counted."""
    return product.stock * product.price if product.tracks_stock else None


def products_xlsx(products: QuerySet[Product] | Iterable[Product]) -> bytes:
    headers = [
        _("Name"), _("Kind"), pgettext("goods", "Category"), pgettext("goods", "Unit"), _("Price in points"),
        _("In stock"), _("Alert at or below"),
        _("Stock value in points"), _("Low stock"), _("Limit per person"), _("Available from"), _("Available until"),
        _("Provider"), _("One-choice group"), _("On the shelf"),
    ]  # fmt: skip
    workbook = Workbook(write_only=True)
    sheet = _sheet(workbook, _("Products"), headers, {0: 24, 2: 14, 12: 20, 13: 16})
    total = 0
    for p in products:
        value = stock_value(p)
        total += value or 0
        limit = f"{p.limit_per_person} {p.get_limit_period_display()}" if p.limit_per_person else ""
        row: list[object] = [
            p.name,
            ProductKind(p.kind).label,
            p.category,
            p.unit,
            p.price,
            p.stock if p.tracks_stock else None,
            p.low_stock_at if p.tracks_stock else None,
            value,
            _("yes") if p.is_low else "",
            limit,
            p.available_from.isoformat() if p.available_from else "",
            p.available_until.isoformat() if p.available_until else "",
            str(p.provider or ""),
            p.choice_group.name if p.choice_group else "",
            _("yes") if p.is_active else _("no"),
        ]
        sheet.append([xlsx_cell(sheet, v) for v in row])
    sheet.append([xlsx_cell(sheet, _("Total")), *[None] * 6, total])
    return _save(workbook)


def products_filename(community: Community) -> str:
    return f"products-{community.code}-{timezone.localdate():%Y%m%d}.xlsx"


def variance_rows(lines: Iterable[StocktakeLine]) -> list[StocktakeLine]:
    """Lines that are off first (largest points value first), then the rest in sheet order; uncounted last."""

    def order(line: StocktakeLine) -> tuple[int, int, int]:
        if line.variance is None:
            return (2, 0, line.pk)
        if line.variance == 0:
            return (1, 0, line.pk)
        return (0, -abs(line.variance * line.price), line.pk)

    return sorted(lines, key=order)


def variance_totals(lines: Iterable[StocktakeLine]) -> dict[str, int]:
    return domain.variance_totals(
        domain.Variance(x.product_id, x.expected, x.counted, x.price) for x in lines if x.counted is not None
    )


def stocktake_xlsx(take: Stocktake, lines: Sequence[StocktakeLine]) -> bytes:
    headers = [
        _("Name"), pgettext("goods", "Unit"), _("Book stock"), pgettext("stocktake", "Counted"), _("Difference"),
        _("Price in points"),
        _("Points value of the difference"),
    ]  # fmt: skip
    workbook = Workbook(write_only=True)
    sheet = _sheet(workbook, _("Stocktake %(number)d") % {"number": take.pk}, headers, {0: 24, 6: 18})
    for line in variance_rows(lines):
        variance = line.variance
        row: list[object] = [
            line.product.name,
            line.product.unit,
            line.expected,
            line.counted,
            variance,
            line.price,
            None if variance is None else variance * line.price,
        ]
        sheet.append([xlsx_cell(sheet, v) for v in row])
    totals = variance_totals(lines)
    sheet.append([])
    for label, value in (
        (_("Products off"), totals["products_off"]),
        (_("Units short"), totals["short_units"]),
        (_("Units over"), totals["over_units"]),
        (_("Points short"), totals["short_points"]),
        (_("Points over"), totals["over_points"]),
    ):
        sheet.append([xlsx_cell(sheet, label), None, None, None, value])
    return _save(workbook)


def stocktake_filename(take: Stocktake) -> str:
    return f"stocktake-{take.community.code}-{take.pk}-{timezone.localtime(take.started_at):%Y%m%d}.xlsx"
