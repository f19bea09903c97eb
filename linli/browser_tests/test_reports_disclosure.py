"""The monthly disclosure, end to end: staff publish October, the PDF is served, and a resident on a phone follows
the notice's QR address and sees that a line of their passbook is in October's sealed book.

make_october dates its data in October 2026 with a frozen clock; the live server runs on the real clock, so the test
needs a real "now" after October (the last closed month must be 2026-10 or later). When the real month is later than
November 2026, October is simply an older row of the staff page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.common.testing import PASSWORD, make_world
from linli.ledger.models import Seal
from linli.reports.models import Disclosure
from linli.reports.testing import AFTER, OCTOBER, make_october

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots")  # noqa: S108  # where the lead looks at this run's screenshots


def _shot(page: Any, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"disclosure-{name}.png"), full_page=full_page)


def test_staff_publish_october_and_a_resident_checks_an_entry(
    transactional_db: None, live_server: Any, new_page: Any, sign_in: Any, screenshot: Any
) -> None:
    assert timezone.now() >= AFTER, "this story needs the real clock past October 2026"
    w = make_october(make_world())

    # staff: the months of the community, publish October
    staff = new_page(width=1280, height=900)
    sign_in(staff, live_server, w.staff_a.phone, PASSWORD)
    staff.goto(live_server.url + reverse("reports:disclosures"))
    row = staff.locator("tr[data-month='2026-10']")
    assert row.locator("[data-testid=state-unpublished]").count() == 1
    with staff.expect_navigation():
        row.locator("[data-testid=publish-2026-10]").click()
    row = staff.locator("tr[data-month='2026-10']")
    assert row.locator("[data-testid=state-published]").count() == 1
    assert staff.locator(".msg-success").count() == 1
    d = Disclosure.objects.get(community=w.A, month=OCTOBER)
    assert d.published_by == w.staff_a and Seal.objects.filter(community=w.A, month="2026-10").exists()
    _shot(staff, "staff-desktop", full_page=False)

    # the PDF link serves the A4 notice
    href = row.locator("[data-testid=pdf]").get_attribute("href")
    assert href
    pdf = staff.request.get(live_server.url + href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")

    # the staff page on a phone
    staff_phone = new_page(width=375, height=812)
    sign_in(staff_phone, live_server, w.staff_a.phone, PASSWORD)
    staff_phone.goto(live_server.url + reverse("reports:disclosures"))
    assert staff_phone.evaluate("document.documentElement.scrollWidth") <= 375
    _shot(staff_phone, "staff-phone", full_page=False)

    # the public notice on a phone: big enough, no wider than the phone, with the seal and the QR address
    phone = new_page(width=375, height=812)
    phone.goto(live_server.url + reverse("reports:public_notice", args=[w.A.code, "2026-10"]))
    assert "积分公示" in phone.title() or "points disclosure" in phone.title()
    assert phone.evaluate("parseFloat(getComputedStyle(document.querySelector('.ds p')).fontSize)") >= 18
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    assert d.seal.merkle_root[:8] in phone.locator("[data-testid=n-root]").inner_text()
    proof_url = phone.locator("[data-testid=n-proof-url]").inner_text().strip()
    assert proof_url.startswith(live_server.url) and "month=2026-10" in proof_url
    _shot(phone, "notice-phone")

    # the resident reads a reference off their passbook, then follows the notice's QR address and types it
    sign_in(phone, live_server, w.resident_a1.phone, PASSWORD)
    phone.goto(live_server.url + "/ledger/passbook/")
    line = phone.locator(".pb-line", has_text="2026-10").first
    reference = line.locator(".pb-ref").inner_text().split()[-1]
    assert "-" in reference
    phone.goto(proof_url)
    assert d.seal.merkle_root in phone.locator("[data-testid=proof-seal]").inner_text()
    phone.fill("#ref", reference)
    with phone.expect_navigation():
        phone.click("form[role=search] button[type=submit]")
    ok = phone.locator("[data-testid=proof-in-seal]")
    assert ok.count() == 1 and "2026-10" in ok.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    _shot(phone, "proof-phone", full_page=False)
    screenshot(phone, "proof-phone-full")
