"""Activities in a real browser: staff turn 30 people's attendance into claims with one click, and a resident scans
the check-in QR code on a phone."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from linli.common.testing import PASSWORD, make_world
from linli.ledger import selectors as ledger_reads
from linli.ledger import services as ledger
from linli.org.access import actor_for
from linli.points import activities
from linli.points.models import Attendance, Claim, ClaimStatus
from linli.points.testing import make_catalogue
from linli.points.testing_activities import make_activity, past_activity, residents

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("LINLI_SHOTS", "/tmp/shots"))  # noqa: S108  (a place to look at them by hand)


def _keep(path: Path) -> None:
    """A copy of each screenshot where people look at them by hand."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


def test_staff_turn_30_attendances_into_claims_with_one_click(
    transactional_db: None, live_server: Any, new_page: Any, sign_in: Any, screenshot: Any
) -> None:
    world = make_catalogue(make_world())
    activity = past_activity(world, title="环境大扫除", organiser_phone=world.grid_worker_a1.phone)
    people = residents(world, 30)
    start, end = activity.starts_at, activity.ends_at
    for i, person in enumerate(people[:20]):  # 20 scanned the codes with their phones
        actor = actor_for(person.user)
        activities.attendance_check_in(
            actor=actor, activity=activity, token=activities.qr_token(activity, "in"), now=start - timedelta(minutes=i)
        )
        activities.attendance_check_out(
            actor=actor, activity=activity, token=activities.qr_token(activity, "out"), now=end + timedelta(minutes=i)
        )
    organiser = actor_for(world.grid_worker_a1)
    for person in people[20:]:  # 10 without a phone, marked by the organiser: the whole activity
        activities.attendance_mark(actor=organiser, activity=activity, person=person)
    assert Attendance.objects.filter(activity=activity, checked_out_at__isnull=False).count() == 30

    page = new_page(width=1280, height=900)
    sign_in(page, live_server, world.staff_a.phone, PASSWORD)
    page.goto(live_server.url + reverse("points:activity_console", args=[activity.pk]))
    assert page.locator("[data-testid=n-attended]").inner_text().replace(" ", "") == "30/30"
    _keep(screenshot(page, "console-before"))
    with page.expect_navigation():
        page.click("[data-testid=close-activity]")
    assert page.locator(".msg-success").count() == 1
    _keep(screenshot(page, "console-after"))

    claims = Claim.objects.filter(activity=activity)
    assert claims.count() == 30
    assert set(claims.values_list("status", flat=True)) == {ClaimStatus.APPROVED}
    # 3 full hours of the cleanup rule (3 points per full hour, daily cap 9) for every one of them
    assert [ledger_reads.balance(ledger.account_for_person(p)) for p in people] == [9] * 30
    assert len(set(claims.values_list("transfer_id", flat=True))) == 30

    # one person's passbook shows the award
    phone = new_page()
    sign_in(phone, live_server, people[0].phone, PASSWORD)
    phone.goto(live_server.url + reverse("ledger:my_passbook"))
    assert phone.locator("[data-testid=pb-balance]").inner_text().strip() == "9"


def test_resident_scans_the_check_in_code_on_a_phone(
    transactional_db: None, live_server: Any, browser_page: Any, new_page: Any, sign_in: Any, screenshot: Any
) -> None:
    world = make_catalogue(make_world())
    activity = make_activity(world, title="关爱空巢老人", capacity=20, organiser_phone=world.grid_worker_a1.phone)

    # the organiser's poster carries the two codes and their URLs
    desk = new_page(width=1280, height=900)
    sign_in(desk, live_server, world.grid_worker_a1.phone, PASSWORD)
    desk.goto(live_server.url + reverse("points:activity_poster", args=[activity.pk]))
    assert desk.locator("svg.qr").count() == 2
    _keep(screenshot(desk, "poster"))
    scan_url = desk.locator("[data-testid=poster-url-in]").get_attribute("href")
    assert scan_url and "/scan/in/" in scan_url

    phone = browser_page  # 375 × 812
    sign_in(phone, live_server, world.resident_a1.phone, PASSWORD)
    phone.goto(scan_url)
    assert phone.locator("[data-testid=scan-title]").inner_text() == "关爱空巢老人"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    assert phone.evaluate("parseFloat(getComputedStyle(document.querySelector('.scan-card p')).fontSize)") >= 18
    button = phone.locator("[data-testid=scan-confirm]")
    assert button.bounding_box()["height"] >= 48
    _keep(screenshot(phone, "scan-confirm"))
    with phone.expect_navigation():
        button.click()
    assert phone.locator("[data-testid=scan-done]").is_visible()
    _keep(screenshot(phone, "scan-done"))
    assert Attendance.objects.filter(activity=activity, person=world.pA1).count() == 1

    # a forged code says so, in plain words, and records nothing more
    phone.goto(scan_url[: scan_url.index("?")] + "?t=forged")
    error = phone.locator("[data-testid=scan-error]")
    assert error.get_attribute("data-code") == "qr_invalid"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    _keep(screenshot(phone, "scan-forged"))

    # the resident's activity page shows the place and the check-in
    phone.goto(live_server.url + reverse("points:activities"))
    _keep(screenshot(phone, "activities"))
    phone.goto(live_server.url + reverse("points:activity", args=[activity.pk]))
    with phone.expect_navigation():
        phone.click("[data-testid=signup]")
    assert phone.locator("[data-testid=my-status]").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    _keep(screenshot(phone, "activity-signed-up"))
