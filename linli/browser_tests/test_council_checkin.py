"""An evening talk on phones (SEEDS 002): staff plan the next session of 兴庆夜话, put a problem on the agenda and
open the check-in poster; 王秀英 scans it, signs in on the login page, taps 签到 and sees the time; the staff's
meeting page then lists her among those who came."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.common.testing import PASSWORD, make_world
from linli.council.models import Attendance, Meeting
from linli.council.testing import make_council

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("LINLI_SHOTS", "/tmp/shots"))  # noqa: S108 - where the brief wants them
PHONE = {"width": 375, "height": 800}


def fits_the_phone(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= 375"))


def font_px(page: Any, selector: str) -> float:
    return float(page.evaluate(f"parseFloat(getComputedStyle(document.querySelector('{selector}')).fontSize)"))


def test_plan_a_meeting_and_a_resident_checks_in_by_qr(
    transactional_db: None, live_server: Any, new_page: Any, screenshot: Any, sign_in: Any
) -> None:
    w = make_world()
    make_council(w)
    url = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)

    def shot(page: Any, name: str) -> None:
        screenshot(page, name)
        page.screenshot(path=str(SHOTS / f"council_mt_{name}.png"), full_page=True)
        assert fits_the_phone(page), f"{name} is wider than the phone"

    # staff plan the next session: it starts in half an hour, so the check-in is already open
    staff = new_page(**PHONE)
    sign_in(staff, live_server, w.staff_a.phone, PASSWORD)
    staff.goto(f"{url}{reverse('council:meetings')}?community={w.A.pk}")
    shot(staff, "list")
    with staff.expect_navigation():
        staff.click("[data-testid=new-meeting]")
    starts = timezone.localtime(timezone.now() + timedelta(minutes=30))
    staff.select_option("select[name=series]", label="兴庆夜话")
    staff.fill("input[name=title]", "电动车楼道充电")
    staff.fill("input[name=day]", starts.strftime("%Y-%m-%d"))
    staff.fill("input[name=time]", starts.strftime("%H:%M"))
    staff.fill("input[name=place]", "兴庆小区议事亭")
    staff.fill("input[name=host]", "社区工作者甲")
    staff.select_option("select[name=compound]", label="兴庆小区")
    shot(staff, "new")
    with staff.expect_navigation():
        staff.click("[data-testid=meeting-form] button.primary")
    meeting = Meeting.objects.get(title="电动车楼道充电")
    assert meeting.number == 270
    assert "270" in staff.locator("[data-testid=series-number]").inner_text()

    # a problem on the agenda, graded red
    staff.click("#act-agenda summary")
    staff.fill("input[name=item-title]", "楼道里给电动车充电，有火灾隐患")
    staff.check("input[name=item-kind][value=compound]")
    staff.check("input[name=item-severity][value=red]")
    with staff.expect_navigation():
        staff.click("#act-agenda form[method=post] button.primary")
    assert meeting.items.get().severity == "red"
    assert "楼道里给电动车充电" in staff.locator("[data-testid=agenda]").inner_text()
    assert staff.locator("[data-testid=agenda] .order-sev-red").count() == 1
    shot(staff, "meeting")

    # the poster for the wall
    with staff.expect_navigation():
        staff.click("[data-testid=qr-link]")
    assert staff.locator("[data-testid=poster] svg.qr").count() == 1
    checkin = staff.locator("[data-testid=checkin-url]").get_attribute("href")
    assert checkin and checkin.endswith(reverse("council:checkin", args=[meeting.checkin_code]))
    assert font_px(staff, ".act-poster-title") >= 24
    shot(staff, "qr")

    # 王秀英 scans it: the login page first, then straight back to the check-in
    phone = new_page(**PHONE)
    phone.goto(checkin)
    assert "/accounts/login/" in phone.url
    phone.fill("input[name=username]", w.resident_a1.phone)
    phone.fill("input[name=password]", PASSWORD)
    with phone.expect_navigation():
        phone.click("form [type=submit]")
    assert reverse("council:checkin", args=[meeting.checkin_code]) in phone.url
    assert "电动车楼道充电" in phone.locator("[data-testid=checkin-title]").inner_text()
    button = phone.locator("[data-testid=checkin-confirm]")
    box = button.bounding_box()
    assert box is not None and box["height"] >= 80 and box["width"] >= 300
    assert font_px(phone, "[data-testid=checkin-confirm]") >= 24
    assert font_px(phone, ".scan-card p:last-child") >= 18
    shot(phone, "checkin")
    with phone.expect_navigation():
        button.tap()
    done = phone.locator("[data-testid=checkin-done]")
    at = timezone.localtime(Attendance.objects.get(meeting=meeting, person=w.pA1).at).strftime("%H:%M")
    assert "✓" in done.inner_text() and at in done.inner_text()
    shot(phone, "checkin_done")

    # scanning again changes nothing
    phone.goto(checkin)
    assert phone.locator("[data-testid=checkin-already]").count() == 1
    assert phone.locator("[data-testid=checkin-confirm]").count() == 0
    assert Attendance.objects.filter(meeting=meeting).count() == 1

    # the staff's page lists her
    staff.goto(f"{url}{reverse('council:meeting', args=[meeting.pk])}")
    assert "王秀英" in staff.locator("[data-testid=attendance]").inner_text()
    assert "(1)" in staff.locator("[data-testid=attendance-count]").inner_text()
    shot(staff, "meeting_attendee")

    # and the resident's view of the same page masks the names
    phone.goto(f"{url}{reverse('council:meeting', args=[meeting.pk])}")
    assert "王*英" in phone.locator("[data-testid=attendance]").inner_text()
    assert font_px(phone, ".mt-people li") >= 18
    shot(phone, "meeting_resident")
