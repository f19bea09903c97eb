"""Smoke test of the browser harness: the login page on a phone, with its styles and scripts loaded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, Response

from linli.common.testing import PASSWORD, make_world

pytestmark = pytest.mark.browser


def test_login_page_renders_on_a_phone_in_chinese(
    transactional_db: None, live_server: Any, browser_page: Page, screenshot: Callable[..., Path]
) -> None:
    failed: list[str] = []
    browser_page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    response: Response | None = browser_page.goto(live_server.url + reverse("login"))

    assert response is not None and response.status == 200
    assert browser_page.locator("html").get_attribute("lang") == "zh-hans"
    assert browser_page.locator("input[name=username]").count() == 1
    assert browser_page.locator("input[name=password]").get_attribute("type") == "password"
    assert browser_page.locator("form [type=submit]").count() == 1
    # the stylesheet and scripts (including htmx from node_modules) were served
    assert failed == []
    assert browser_page.evaluate("typeof window.htmx") == "object"
    assert browser_page.evaluate("document.styleSheets.length") >= 1
    # nothing wider than the phone: no sideways scrolling
    assert browser_page.evaluate("document.documentElement.scrollWidth") <= 375
    path = screenshot(browser_page, "login-375x812")
    assert path.stat().st_size > 0


def test_wrong_password_stays_on_login_page_and_right_one_signs_in(
    transactional_db: None, live_server: Any, browser_page: Page, sign_in: Callable[..., None]
) -> None:
    world = make_world()
    phone = world.resident_a1.phone

    sign_in(browser_page, live_server, phone, "not-the-password")
    assert browser_page.url.startswith(live_server.url + reverse("login"))
    assert browser_page.locator("[role=alert]").count() == 1

    sign_in(browser_page, live_server, phone, PASSWORD)
    assert not browser_page.url.startswith(live_server.url + reverse("login"))
    assert browser_page.locator("input[name=password]").count() == 0
