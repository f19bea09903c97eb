"""The printable passbook: an A4 PDF rendered by WeasyPrint from an HTML template.

Chinese is set in "Noto Sans CJK SC" (Debian's fonts-noto-cjk, found through fontconfig), so the text in the PDF is
real text, not boxes. WeasyPrint fetches nothing: the template carries its CSS inline and any other URL is refused.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from weasyprint import HTML

from linli.ledger import selectors
from linli.ledger.models import Account

FONT = "Noto Sans CJK SC"
BATCH = 100  # lines per keyset step when collecting the whole history


def all_lines(account: Account) -> list[selectors.PassbookLine]:
    """Every line of a passbook, oldest first — walked with the same keyset selector the page uses, so the printed
    numbers are the page's numbers."""
    lines: list[selectors.PassbookLine] = []
    before: int | None = None
    while True:
        page = selectors.passbook_page(account, before_id=before, limit=BATCH)
        lines.extend(page)
        if len(page) < BATCH:
            break
        before = page[-1].transfer.pk
    lines.reverse()
    return lines


def _refuse_fetch(url: str, timeout: int = 10, ssl_context: Any = None) -> dict[str, Any]:
    raise ValueError(f"the passbook PDF loads no external resources ({url[:60]})")


def render(template: str, context: dict[str, Any]) -> bytes:
    """Render a template to PDF bytes."""
    html = render_to_string(template, {**context, "font": FONT})
    pdf = HTML(string=html, url_fetcher=_refuse_fetch).write_pdf()
    assert pdf is not None  # write_pdf() without a target returns the bytes
    return bytes(pdf)
