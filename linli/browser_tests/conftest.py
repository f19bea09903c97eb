"""Fixtures for the browser tests.

    browser_page  a page in a phone-sized (375×812) Chinese-language context; a failure saves a screenshot
    new_page      factory for other viewports: new_page(width=1280, height=800, locale="en-US")
    screenshot    screenshot(page, "name") saves var/screenshots/<test>-<name>.png and returns its path
    sign_in       sign_in(page, live_server, phone, password) submits the login form, waits for the next page

Tests take `transactional_db` and `live_server` (pytest-django) and build data with
`linli.common.testing.make_world`.
The browser is Debian's chromium, never a Playwright download (`playwright install` is not used anywhere).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

# Playwright's sync API keeps an asyncio event loop running in this thread; without this Django refuses ORM
# calls from the test body ("You cannot call this from an async context").
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

CHROMIUM = os.environ.get("LINLI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 812}
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
TIMEOUT_MS = 15_000


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:120]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # remember each phase's outcome on the test item, so fixtures can screenshot failures at teardown
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: `make setup` installs Debian's chromium package (as root)")
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Callable[..., Page]]:
    contexts: list[BrowserContext] = []
    pages: list[Page] = []

    def make(width: int = 375, height: int = 812, locale: str = "zh-CN", **options: Any) -> Page:
        context = browser.new_context(
            viewport={"width": width, "height": height},
            locale=locale,
            timezone_id="Asia/Shanghai",
            has_touch=width < 600,
            is_mobile=width < 600,
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: page_errors.append(str(exc)))
        pages.append(page)
        return page

    page_errors: list[str] = []
    request.node.page_errors = page_errors
    yield make
    call = getattr(request.node, "rep_call", None)
    if call is not None and call.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        slug = _slug(request.node.name)
        for i, page in enumerate(pages):
            # a screenshot must never hide the real failure
            with contextlib.suppress(Exception):
                page.screenshot(path=str(SCREENSHOTS / f"FAILED-{slug}-{i}.png"), full_page=True)
    for context in contexts:
        context.close()


@pytest.fixture
def browser_page(new_page: Callable[..., Page]) -> Page:
    """A phone: 375×812, touch, Chinese Accept-Language — the residents' everyday device."""
    return new_page(**PHONE)


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[..., Path]:
    def take(page: Page, name: str, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{_slug(request.node.name)}-{_slug(name)}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def sign_in() -> Callable[..., None]:
    def do(page: Page, live_server: Any, phone: str, password: str) -> None:
        page.goto(live_server.url + reverse("login"))
        page.fill("input[name=username]", phone)
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.click("form [type=submit]")

    return do
