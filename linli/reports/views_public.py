"""The published monthly disclosure for anyone (no login): the list of a community's months, one notice as a phone
friendly page, its A4 PDF and its .xlsx. They read only what was frozen at publication (selectors.public_disclosure);
an unknown community, an unpublished month or a bad revision is a 404."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from linli.common.errors import NotFound
from linli.org.pages import positive_int
from linli.reports import notice, selectors
from linli.reports.models import Disclosure


def _disclosure(request: HttpRequest, code: str, month: str) -> Disclosure:
    raw = request.GET.get("revision")
    revision = positive_int(raw) if raw else None
    if raw and revision is None:
        raise NotFound()
    return selectors.public_disclosure(code, month, revision)


def _context(request: HttpRequest, disclosure: Disclosure) -> dict[str, object]:
    return notice.context(disclosure, base_url=request.build_absolute_uri("/"))


def _download(data: bytes, content_type: str, filename: str, *, inline: bool) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    return response


@require_GET
def public_list(request: HttpRequest, code: str) -> HttpResponse:
    community, rows = selectors.public_disclosures(code)
    return render(request, "reports/disclosure_public_list.html", {"community": community, "rows": rows})


@require_GET
def public_notice(request: HttpRequest, code: str, month: str) -> HttpResponse:
    return render(request, "reports/notice.html", _context(request, _disclosure(request, code, month)))


@require_GET
def public_pdf(request: HttpRequest, code: str, month: str) -> HttpResponse:
    disclosure = _disclosure(request, code, month)
    data = notice.render_pdf(_context(request, disclosure))
    return _download(data, "application/pdf", notice.pdf_filename(disclosure), inline=True)


@require_GET
def public_xlsx(request: HttpRequest, code: str, month: str) -> HttpResponse:
    disclosure = _disclosure(request, code, month)
    data = notice.render_xlsx(_context(request, disclosure))
    return _download(data, notice.XLSX, notice.xlsx_filename(disclosure), inline=False)
