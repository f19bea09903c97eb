"""The building QR code (SEEDS 004: "scan a QR code" to make a request): it opens the resident's request form with
the building filled in and locked. Posted in each building's entrance, so it must print sharply: PNG for one code,
inline SVG for the sheet of every building."""

from __future__ import annotations

import io

import segno
from django.http import HttpRequest
from django.urls import reverse

from linli.org.models import Building

PNG_SCALE = 10  # ~370 px for a short URL: sharp on an A5 notice
SVG_SCALE = 6


def intake_url(request: HttpRequest, building: Building) -> str:
    """The absolute address of the request form for `building`, as this site is reached."""
    return request.build_absolute_uri(f"{reverse('orders:new')}?building={building.pk}")


def _code(text: str) -> segno.QRCode:
    return segno.make(text, error="m", micro=False)


def png(text: str) -> bytes:
    out = io.BytesIO()
    _code(text).save(out, kind="png", scale=PNG_SCALE, border=4)
    return out.getvalue()


def svg(text: str, title: str) -> str:
    code = _code(text)
    return str(code.svg_inline(scale=SVG_SCALE, border=4, omitsize=True, svgclass="qr", light="#fff", title=title))
