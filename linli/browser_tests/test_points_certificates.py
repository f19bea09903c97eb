"""Issue 4's "a certificate's QR opens its confirmation page", in a real browser: staff issue a volunteer service
certificate, open its PDF, and the URL the PDF's QR code holds opens the public confirmation page on a phone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from linli.common.testing import PASSWORD, make_world
from linli.org.access import actor_for
from linli.points import certificates, services
from linli.points.models import Certificate
from linli.points.services import ClaimInput
from linli.points.testing import make_catalogue

pytestmark = pytest.mark.browser


def test_staff_issue_a_certificate_and_its_qr_opens_the_confirmation(
    transactional_db: None, live_server: Any, new_page: Any, sign_in: Any, screenshot: Any
) -> None:
    w = make_catalogue(make_world())
    today = timezone.localdate()
    for i, minutes in enumerate((120, 90)):  # two clean-ups: 3.5 hours of approved service
        claim = services.claim_submit(
            actor=actor_for(w.grid_worker_a1),
            person=w.pA1,
            rule=w.cleanup,
            data=ClaimInput(occurred_on=today - timedelta(days=i), minutes=minutes),
            idempotency_key=f"service-{i}",
        ).claim
        services.claim_approve(actor=actor_for(w.staff_a), claim=claim)

    staff = new_page(width=375, height=812)  # staff work from their phones too
    sign_in(staff, live_server, w.staff_a.phone, PASSWORD)
    staff.goto(f"{live_server.url}/points/certificates/issue/?community={w.A.id}")
    staff.fill("input[name=q]", "王秀英")
    with staff.expect_navigation():
        staff.click("form[role=search] button")
    with staff.expect_navigation():
        staff.click("[data-testid=found] a.button")
    assert "3.5" in staff.inner_text("main")  # the hours on record, before issuing
    staff.fill("input[name=period_from]", str(today - timedelta(days=30)))
    staff.fill("input[name=period_to]", str(today))
    with staff.expect_navigation():
        staff.click("form.card button[type=submit]")
    cert = Certificate.objects.get()
    assert staff.url.endswith(f"/points/certificates/{cert.id}/")
    assert staff.inner_text("[data-testid=number]") == cert.number
    assert staff.inner_text("[data-testid=hours]") == "3.5"
    assert staff.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(staff, "issued")

    # the PDF link serves a PDF (fetched with the staff member's session)
    href = staff.get_attribute("[data-testid=pdf]", "href")
    assert href
    pdf = staff.context.request.get(live_server.url + href if href.startswith("/") else href)
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")

    # the QR code holds the public page's address: a stranger's phone, not signed in, opens it
    public = new_page(width=375, height=812)
    public.goto(live_server.url + certificates.public_path(cert))
    assert public.inner_text("[data-testid=number]") == cert.number
    assert public.inner_text("[data-testid=hours]") == "3.5"
    assert "verdict-ok" in (public.get_attribute("[data-testid=verdict]", "class") or "")
    text = public.inner_text("main")
    assert "王*英" in text and "王秀英" not in text
    assert public.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(public, "public-confirmation")
