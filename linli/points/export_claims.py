"""The community's claims as an Excel workbook (台账) for staff and auditors, filtered like the claims page.

Written with openpyxl's write-only mode from an iterator, so memory stays flat for a year of claims. Names are shown as
the actor may read them (masked for auditors); text that looks like a formula is stored as text. The export is
audited: personal data leaves the system.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from linli.common.models import audit
from linli.org.access import Actor, can, require
from linli.org.domain import mask_name
from linli.org.models import Community
from linli.points import selectors
from linli.points.models import Claim


def _headers() -> list[str]:
    return [
        _("Number"),
        _("Date of service"),
        _("Person"),
        _("Area"),
        _("Rule"),
        _("Source"),
        _("Minutes"),
        _("Quantity"),
        _("Difficulty"),
        _("Points"),
        _("What was done"),
        _("Status"),
        _("Reason"),
        _("Verified at"),
        _("Decided at"),
        _("Ledger transfer"),
        _("Flags"),
    ]


def _cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith(("=", "+", "-", "@")):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # never a formula: notes and names are data
            return cell
    return value


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def rows(actor: Actor, claims: Iterator[Claim]) -> Iterator[list[Any]]:
    reveal: dict[int, bool] = {}
    for c in claims:
        if c.person_id not in reveal:
            reveal[c.person_id] = can(actor, "person.view_private", c.person)
        flags = []
        if c.duplicate_of_id:
            flags.append(_("same day as #%(id)s") % {"id": c.duplicate_of_id})
        if c.photo_reused:
            flags.append(_("photo used before"))
        yield [
            c.pk,
            c.occurred_on,
            c.person.name if reveal[c.person_id] else mask_name(c.person.name),
            c.rule.area.name,
            c.rule_version.name,
            str(c.get_source_display()),
            c.minutes,
            float(c.quantity),
            c.difficulty,
            c.points,
            c.note,
            str(c.get_status_display()),
            c.reason,
            _when(c.verified_at),
            _when(c.decided_at),
            c.transfer_id,
            "; ".join(flags),
        ]


def claims_export(*, actor: Actor, community: Community, f: selectors.ClaimFilter) -> bytes:
    require(actor, "claim.view", community)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Claims"))
    sheet.append(_headers())
    count = 0
    for row in rows(actor, selectors.claims(actor, community, f).iterator(chunk_size=1000)):
        sheet.append([_cell(sheet, v) for v in row])
        count += 1
    out = io.BytesIO()
    workbook.save(out)
    audit(actor=actor, action="points.claims_export", obj=community, community_id=community.pk, rows=count)
    return out.getvalue()


def export_filename(community: Community) -> str:
    return f"claims-{community.code}-{timezone.localdate().isoformat()}.xlsx"
