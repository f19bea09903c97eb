"""The work orders of a community as an .xlsx file for staff and auditors (台账): one row per request with every
timestamp of the chain in local time, the deadline and whether it was missed, and who handled it.

The rows are the dispatch board's (`selectors.board` with the same filters), so a filtered board exports exactly what
it shows. Callers and reporters are personal data: someone without `person.view_private` in the community (the
auditor) gets names and phone numbers masked. Written with openpyxl's write-only mode, streaming the rows; times are
the community's local time (Asia/Shanghai), text that looks like a formula stays text.
"""

from __future__ import annotations

import io
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from linli.ledger.export import xlsx_cell  # Excel-safe cells: local times, text never read as a formula
from linli.orders import domain, selectors
from linli.orders.models import Channel, Severity, Status, WorkOrder
from linli.orders.selectors import Board
from linli.org.access import Actor, can, require
from linli.org.domain import mask_name, mask_phone
from linli.org.models import Community

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def headers() -> list[str]:
    return [
        _("Number"),
        _("Channel"),
        _("External number"),
        _("Category"),
        _("Title"),
        _("Description"),
        _("Status"),
        _("Colour"),
        _("Grid"),
        _("Building"),
        _("Address"),
        _("Reporter"),
        _("Contact phone"),
        _("Received"),
        _("Accepted"),
        _("Dispatched"),
        _("Resolved"),
        _("Closed"),
        _("Answer due"),
        _("Overdue"),
        _("Escalated"),
        _("Handlers"),
        _("Answer"),
        _("Rating"),
        _("Comment"),
    ]


DATE_COLUMNS = range(13, 19)  # received … answer due (0-based), plus escalated at 20


def _row(order: WorkOrder, *, now: datetime, private: bool) -> list[object]:
    reporter = order.reporter.name if order.reporter_id and order.reporter else order.contact_name
    phone = order.contact_phone or (order.reporter.phone if order.reporter_id and order.reporter else "")
    if not private:
        reporter, phone = mask_name(reporter) if reporter else "", mask_phone(phone) if phone else ""
    handlers = "、".join(str(a) for a in order.assignments.all())  # prefetched by the board: active handlers
    overdue = domain.is_overdue(order.status, order.due_at, now) or bool(
        order.resolved_at and order.resolved_at > order.due_at
    )
    return [
        order.number,
        Channel(order.channel).label if order.channel in Channel.values else order.channel,
        order.external_ref,
        order.category.name,
        order.title,
        order.description,
        Status(order.status).label,
        Severity(order.severity).label if order.severity else "",
        order.grid.name if order.grid else "",
        order.building.name if order.building else "",
        order.address,
        reporter,
        phone,
        order.received_at,
        order.accepted_at,
        order.dispatched_at,
        order.resolved_at,
        order.closed_at,
        order.due_at,
        _("yes") if overdue else "",
        order.escalated_at,
        handlers,
        order.answer,
        order.rating,
        order.feedback,
    ]


def orders_xlsx(actor: Actor, community: Community, board: Board | None = None) -> bytes:
    """The export (a read: no audit record, like every other list). Overdue = missed the deadline, open or answered."""
    require(actor, "order.export", community)
    private = can(actor, "person.view_private", community)
    now = timezone.now()
    workbook = Workbook(write_only=True)
    sheet: WriteOnlyWorksheet = workbook.create_sheet(_("Work orders"))
    titles = headers()
    widths = {0: 11, 3: 14, 4: 24, 5: 40, 10: 24, 21: 24, 22: 40}
    for index in range(len(titles)):
        width = widths.get(index, 17 if index in DATE_COLUMNS or index == 20 else 12)
        sheet.column_dimensions[get_column_letter(index + 1)].width = width  # type: ignore[attr-defined]
    bold = Font(bold=True)
    header_cells = []
    for title in titles:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    sheet.freeze_panes = "B2"
    qs = selectors.board(actor, community, board or Board()).order_by("received_at", "pk")
    for order in qs.iterator(chunk_size=500):
        sheet.append([xlsx_cell(sheet, value) for value in _row(order, now=now, private=private)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def filename(community: Community) -> str:
    return f"orders-{community.code}-{timezone.localdate():%Y%m%d}.xlsx"
