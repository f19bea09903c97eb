"""A resident reads their passbook on a phone, and the printed passbook says the same."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from linli.common.testing import PASSWORD, make_world
from linli.ledger import services
from linli.ledger.models import SystemAccount, TransferKind

pytestmark = pytest.mark.browser
PDFTOTEXT = shutil.which("pdftotext") or "/usr/bin/pdftotext"  # Debian poppler-utils
PDFINFO = shutil.which("pdfinfo") or "/usr/bin/pdfinfo"


def test_resident_reads_passbook_on_phone_matching_the_pdf(
    transactional_db: None, live_server: Any, browser_page: Any, sign_in: Any, screenshot: Any, tmp_path: Path
) -> None:
    world = make_world()
    issuance = services.system_account(world.A, SystemAccount.ISSUANCE)
    market = services.system_account(world.A, SystemAccount.MARKET)
    mine = services.account_for_person(world.pA1)
    memos = ["清扫楼道", "义务理发", "垃圾分类督导", "关爱空巢老人", "夜间巡逻", "文明劝导"]
    legs = [services.Leg(issuance, mine, 5 + 3 * i, TransferKind.AWARD, memo=memos[i % 6]) for i in range(24)]
    services.transfer_post_batch(community=world.A, legs=legs, actor=world.staff_a, idempotency_key="story")
    services.transfer_post(
        debit=mine,
        credit=market,
        amount=60,
        kind=TransferKind.REDEMPTION,
        actor=world.staff_a,
        idempotency_key="rice",
        memo="兑换大米一袋",
    )
    balance = sum(5 + 3 * i for i in range(24)) - 60

    page = browser_page
    sign_in(page, live_server, world.resident_a1.phone, PASSWORD)
    tile = page.locator("[data-testid=points-tile]")
    assert str(balance) in tile.inner_text()
    with page.expect_navigation():
        tile.click()
    assert page.url.endswith("/ledger/passbook/")
    assert page.locator("[data-testid=pb-balance]").inner_text().strip() == str(balance)
    assert page.locator("[data-testid=pb-name]").inner_text().strip() == "王秀英"
    # body text is at least 18px and nothing is wider than the phone
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('.pb-what')).fontSize)") >= 18
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    first_line = page.locator(".pb-line").first
    assert "兑换大米一袋" in first_line.inner_text() and "−60" in first_line.inner_text()
    screenshot(page, "passbook-phone", full_page=False)
    screenshot(page, "passbook-phone-full")

    on_page: list[tuple[str, str, str]] = []
    for line in page.locator(".pb-line").all():
        on_page.append(
            (
                line.locator(".pb-amount").inner_text().split()[-1],
                line.locator("[data-testid=pb-after]").inner_text(),
                line.locator(".pb-ref").inner_text().split()[-1],
            )
        )
    assert len(on_page) == 20
    with page.expect_navigation():
        page.click("[data-testid=pb-older]")
    assert page.locator(".pb-line").count() == 5

    # the printed passbook, fetched with the same session, prints the same numbers
    response = page.request.get(live_server.url + "/ledger/passbook/pdf/")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    path = tmp_path / "passbook.pdf"
    path.write_bytes(response.body())
    # a fixed tool run on a file this test wrote
    run = subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], check=True, capture_output=True, text=True)  # noqa: S603
    text = run.stdout
    flat = re.sub(r"\s+", " ", text)
    assert "王秀英" in flat and str(balance) in flat
    for amount, after, ref in on_page:
        assert f"{amount} {after} {ref}" in flat, (amount, after, ref)


def test_grid_worker_issues_a_card_and_the_resident_shows_it(
    transactional_db: None,
    live_server: Any,
    new_page: Any,
    browser_page: Any,
    sign_in: Any,
    screenshot: Any,
    tmp_path: Path,
) -> None:
    world = make_world()
    worker = new_page(width=1280, height=900)
    sign_in(worker, live_server, world.grid_worker_a1.phone, PASSWORD)
    worker.goto(f"{live_server.url}/org/people/{world.pA1.id}/")
    with worker.expect_navigation():
        worker.click(f"a[href='/ledger/people/{world.pA1.id}/card/']")
    with worker.expect_navigation():
        worker.click(f"form[action='/ledger/people/{world.pA1.id}/card/reissue/'] button")
    assert worker.locator("[data-testid=points-card] svg.qr").count() == 1

    sign_in(browser_page, live_server, world.resident_a1.phone, PASSWORD)
    browser_page.goto(f"{live_server.url}/ledger/card/")
    qr = browser_page.locator("[data-testid=points-card] svg.qr")
    box = qr.bounding_box()
    assert box is not None and box["width"] >= 280  # big enough to scan from the phone screen
    assert "王秀英" in browser_page.locator("[data-testid=points-card]").inner_text()
    screenshot(browser_page, "card-phone")
    browser_page.emulate_media(media="print")
    assert browser_page.locator(".top").is_hidden() and browser_page.locator(".actions").first.is_hidden()
    screenshot(browser_page, "card-print")
    # printed, the card fits on one A6 sheet (105 × 148 mm = 297.6 × 419.5 pt)
    card_pdf = screenshot(browser_page, "card-print").with_suffix(".pdf")
    card_pdf.write_bytes(browser_page.pdf(prefer_css_page_size=True, print_background=True))
    info = subprocess.run([PDFINFO, str(card_pdf)], check=True, capture_output=True, text=True).stdout  # noqa: S603
    assert re.search(r"^Pages:\s+1$", info, re.M), info
    size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    assert size is not None and abs(float(size.group(1)) - 297.6) < 2 and abs(float(size.group(2)) - 419.5) < 2
