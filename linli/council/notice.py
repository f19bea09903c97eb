"""The public notice (表决结果公告) of a closed owners' vote as an A4 PDF, rendered by WeasyPrint from the same
numbers the notice page shows (views_votes._notice_context). Chinese is set in Debian's Noto Sans CJK (found through
fontconfig, as linli/ledger/pdf.py does); WeasyPrint fetches nothing from outside."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from linli.ledger.pdf import FONT


def render_pdf(context: dict[str, Any]) -> bytes:
    html = render_to_string("council/vt_notice_pdf.html", {**context, "font": FONT, "printed": timezone.localdate()})
    written = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()
    assert written is not None  # write_pdf() without a target returns the bytes
    return bytes(written)
