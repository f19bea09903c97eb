"""The monthly disclosure (每月公示) as people read it: one context built from a published `Disclosure` (its frozen
figures, never recounted), shown as a web page, printed as an A4 PDF for the notice board, and downloaded as .xlsx.

The QR code and the printed short URL lead to the ledger's public proof page for that community and month, where
anyone types a passbook reference and sees that the entry is in the sealed book whose root is printed here.
The PDF is set in Debian's Noto Sans CJK (linli/ledger/pdf.py) and WeasyPrint fetches nothing but data: URIs.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any
from urllib.parse import urlencode

import segno
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from linli.ledger.export import xlsx_cell
from linli.ledger.pdf import FONT
from linli.reports.models import Disclosure

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLOURS = ("blue", "yellow", "red", "")


def root_groups(root: str) -> list[str]:
    """The seal root in groups of 8 hex digits, so it can be read aloud and compared by eye."""
    return [root[i : i + 8] for i in range(0, len(root), 8)]


def proof_path(disclosure: Disclosure) -> str:
    query = urlencode({"month": f"{disclosure.month:%Y-%m}", "community": disclosure.community.code})
    return f"{reverse('ledger:proof')}?{query}"


def qr_svg(url: str) -> str:
    """An inline SVG QR code (no file, no fetch), dark on white, scaled by CSS."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="svg", scale=4, border=2, xmldecl=False, svgns=True)
    return out.getvalue().decode()


def rate_text(value: float | None) -> str:
    """A rate that cannot be computed (nothing to count) reads "—", never 0 %."""
    return "—" if value is None else f"{value:g}%"


def colour_label(colour: str) -> str:
    return {"blue": _("blue"), "yellow": _("yellow"), "red": _("red"), "": _("not graded")}[colour]


def context(disclosure: Disclosure, *, base_url: str) -> dict[str, Any]:
    """Everything the page, the PDF and the workbook show. `base_url` is the site's address (for the QR code)."""
    f = disclosure.figures
    month: date = disclosure.month
    points = f["points"]
    seal = f.get("seal") or {}
    root = seal.get("root") or disclosure.seal.merkle_root
    proof_url = base_url.rstrip("/") + proof_path(disclosure)
    replaced_by = None
    if disclosure.replaced_at is not None:
        replaced_by = (
            Disclosure.objects.filter(
                community_id=disclosure.community_id, month=month, revision__gt=disclosure.revision
            )
            .order_by("revision")
            .first()
        )
    orders = f["orders"]
    rates = {name: rate_text(orders[name]) for name in ("completion_rate", "on_time_rate", "satisfaction_rate")}
    return {
        "d": disclosure,
        "f": f,
        "community": disclosure.community,
        "month": month,
        "month_label": f"{month:%Y-%m}",
        "title": _("%(year)s-%(month)s points disclosure") % {"year": month.year, "month": month.month},
        "p": points,
        "identity_out": points["circulation_start"] + points["net"],
        "rates": rates,
        "colours": [(colour_label(c), orders["by_colour"].get(c, 0)) for c in COLOURS],
        "root": root,
        "root_groups": root_groups(root),
        "seal": seal,
        "proof_url": proof_url,
        "qr": qr_svg(proof_url),
        "replaced_by": replaced_by,
        "revisions": list(
            Disclosure.objects.filter(community_id=disclosure.community_id, month=month).order_by("revision")
        ),
    }


# --- PDF ------------------------------------------------------------------------------------------------------------


def render_pdf(ctx: dict[str, Any]) -> bytes:
    html = render_to_string("reports/notice_pdf.html", {**ctx, "font": FONT, "printed": timezone.localdate()})
    written = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()
    assert written is not None  # write_pdf() without a target returns the bytes
    return bytes(written)


def pdf_filename(disclosure: Disclosure) -> str:
    return f"disclosure-{disclosure.community.code}-{disclosure.month:%Y-%m}-r{disclosure.revision}.pdf"


# --- xlsx -----------------------------------------------------------------------------------------------------------


def _value(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    if isinstance(value, float | bool):  # rates stay numbers (xlsx_cell writes only ints as such)
        return value
    return xlsx_cell(sheet, value)


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list[Any]]) -> None:
    sheet = wb.create_sheet(title[:31])
    cells = []
    for text in header:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = Font(bold=True)
        cells.append(cell)
    sheet.append(cells)
    for row in rows:
        sheet.append([_value(sheet, v) for v in row])


def render_xlsx(ctx: dict[str, Any]) -> bytes:
    """One sheet per part of the notice; numbers are numbers, a rate that cannot be computed is an empty cell."""
    f, p, d = ctx["f"], ctx["p"], ctx["d"]
    wb = Workbook(write_only=True)
    item, number = _("Item"), _("Number")
    _sheet(
        wb,
        _("Points"),
        [item, number],
        [
            [_("In circulation at the start"), p["circulation_start"]],
            [_("Earned"), p["earned"]],
            [_("Spent"), p["spent"]],
            [_("Expired"), p["expired"]],
            [_("Corrections"), p["corrected"]],
            [_("In circulation at the end"), p["circulation_end"]],
            [_("Volunteers awarded points"), f["volunteers"]],
            [_("Ledger transfers"), p["transfers"]],
        ],
    )
    _sheet(
        wb,
        _("Earned by area"),
        [_("Area"), _("Points"), _("Claims")],
        [[r["area"], r["points"], r["claims"]] for r in f["earned_by_area"]],
    )
    _sheet(
        wb,
        _("Earned by rule"),
        [_("Area"), _("Rule"), _("Points"), _("Claims"), _("People")],
        [[r["area"], r["rule"], r["points"], r["claims"], r["people"]] for r in f["earned_by_rule"]],
    )
    _sheet(
        wb,
        _("Top volunteers"),
        [_("Rank"), _("Name"), _("Points")],
        [[i, r["name"], r["points"]] for i, r in enumerate(f["top_volunteers"], start=1)],
    )
    m = f["market"]
    _sheet(
        wb,
        _("Points market"),
        [_("Item"), _("Quantity"), _("Points")],
        [[r["name"], r["quantity"], r["points"]] for r in m["by_item"]]
        + [
            [_("Redemptions"), m["redemptions"], m["points"]],
            [_("Vouchers used"), m["vouchers_used"], None],
            [_("Donations received"), m["donations_in"], m["donation_points"]],
            [_("Donors"), m["donors"], None],
        ],
    )
    o = f["orders"]
    _sheet(
        wb,
        _("Work orders"),
        [item, number],
        [
            [_("Received"), o["received"]],
            [_("Completed"), o["completed"]],
            [_("Completion rate (%)"), o["completion_rate"]],
            [_("Closed on time"), o["closed_on_time"]],
            [_("On-time rate (%)"), o["on_time_rate"]],
            [_("Rated"), o["rated"]],
            [_("Satisfaction rate (%)"), o["satisfaction_rate"]],
            *[[label, n] for label, n in ctx["colours"]],
        ],
    )
    c = f["council"]
    _sheet(
        wb,
        _("Meetings"),
        [item, number],
        [
            [_("Meetings held"), c["meetings"]],
            [_("Problems raised"), c["problems"]],
            [_("Problems solved"), c["solved"]],
            [_("Resolutions done"), c["resolutions_done"]],
            *[[v["title"], _("passed") if v["passed"] else _("not passed")] for v in c["votes"]],
        ],
    )
    _sheet(
        wb,
        _("Seal"),
        [item, _("Value")],
        [
            [_("Community"), d.community.name],
            [_("Month"), ctx["month_label"]],
            [_("Revision"), d.revision],
            [_("Ledger transfers sealed"), ctx["seal"].get("transfers", d.seal.transfer_count)],
            [_("Seal (Merkle root)"), ctx["root"]],
            [_("Digest of the figures (SHA-256)"), d.digest],
            [_("Published"), d.published_at],
            [_("Check an entry"), ctx["proof_url"]],
        ],
    )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def xlsx_filename(disclosure: Disclosure) -> str:
    return f"disclosure-{disclosure.community.code}-{disclosure.month:%Y-%m}-r{disclosure.revision}.xlsx"
