"""The foundation's story in a real browser: staff register a family, and the resident reads their home page in
Chinese on a phone."""

from __future__ import annotations

from typing import Any

import pytest

from linli.common.testing import PASSWORD, make_world
from linli.org.models import Household, Person

pytestmark = pytest.mark.browser


def test_staff_adds_household_and_person_resident_signs_in_on_phone(
    transactional_db: None, live_server: Any, new_page: Any, sign_in: Any, screenshot: Any
) -> None:
    world = make_world()
    staff = new_page(width=1280, height=900)
    sign_in(staff, live_server, world.staff_a.phone, PASSWORD)

    # a household in building 1 of 兴庆小区
    staff.goto(f"{live_server.url}/org/households/?community={world.A.id}")
    staff.click("a[href*='/org/households/new/']")
    staff.select_option("select[name=building]", str(world.bA1.id))
    staff.fill("input[name=unit]", "2单元")
    staff.fill("input[name=room]", "502")
    staff.fill("input[name=floor_area]", "86.4")
    with staff.expect_navigation():
        staff.click("form button[type=submit]")
    household = Household.objects.get(building=world.bA1, unit="2单元", room="502")
    assert staff.url.endswith(f"/org/households/{household.id}/")

    # a person in it, as head and owner
    staff.click(f"a[href$='/org/households/{household.id}/people/new/']")
    staff.fill("input[name=name]", "孙淑珍")
    staff.fill("input[name=phone]", "139 1234 5678")
    staff.fill("input[name=birth_year]", "1951")
    staff.select_option("select[name=relation]", "head")
    staff.check("input[name=is_owner]")
    with staff.expect_navigation():
        staff.click("form button[type=submit]")
    person = Person.objects.get(name="孙淑珍")
    assert person.phone == "13912345678"
    assert "孙淑珍" in staff.content()
    screenshot(staff, "staff-household")

    # staff give her a login with a first password
    staff.click(f"a[href='/org/people/{person.id}/']")
    staff.click(f"a[href='/org/people/{person.id}/login/']")
    staff.fill("input[name=password]", "Xingqing-502")
    with staff.expect_navigation():
        staff.click("form button[type=submit]")

    # she signs in on her phone, chooses her own password, and sees her home page in Chinese
    phone = new_page(width=375, height=812, locale="zh-CN")
    sign_in(phone, live_server, "13912345678", "Xingqing-502")
    assert "/accounts/password/" in phone.url
    phone.fill("input[name=old_password]", "Xingqing-502")
    phone.fill("input[name=new_password]", "Sun-shuzhen-1951")
    phone.fill("input[name=new_password2]", "Sun-shuzhen-1951")
    with phone.expect_navigation():
        phone.click("form button[type=submit]")
    body = phone.inner_text("body")
    assert "您好，孙淑珍" in body
    assert "我家" in body and "2单元502" in body  # "My household"
    assert phone.evaluate("document.documentElement.lang") == "zh-hans"
    # nothing is wider than the phone: no sideways scrolling
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    # body text is at least 18px for older eyes
    assert phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 18
    screenshot(phone, "resident-home")
