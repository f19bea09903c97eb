"""The rules catalogue in a real browser on a phone: staff start from the Hejin template, change a rule (a new
version with its history), and a resident with no login reads the published catalogue and the leaderboard."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from linli.common.testing import PASSWORD, make_world
from linli.points.models import Claim, ClaimStatus, Rule, Source

pytestmark = pytest.mark.browser


def no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_staff_start_from_a_template_edit_a_rule_and_residents_read_it(
    transactional_db: None, live_server: Any, new_page: Any, sign_in: Any, screenshot: Any
) -> None:
    world = make_world()
    page = new_page(width=375, height=812)
    sign_in(page, live_server, world.staff_a.phone, PASSWORD)

    # an empty catalogue offers the templates; pick Hejin, preview, add
    page.goto(f"{live_server.url}/points/rules/?community={world.A.id}")
    with page.expect_navigation():
        page.click(".card a.button")
    with page.expect_navigation():
        page.click("a.tile[href*='template=hejin']")
    assert page.locator("#preview").get_by_text("上门为高龄老人打扫卫生、整理家务").is_visible()
    assert no_sideways_scroll(page)
    with page.expect_navigation():
        page.click("#preview form button.primary")
    assert Rule.objects.filter(community=world.A).count() == 48
    assert page.locator("tr[data-code='hj-haircut']").is_visible()
    screenshot(page, "rules-after-template")

    # free haircuts are worth 3 from now on, with a harder level; the old version stays in the history
    with page.expect_navigation():
        page.click("tr[data-code='hj-haircut'] a.rule-name")
    page.fill("input[name=points]", "3")
    page.fill("input[name=difficulties]", "一般:100, 较难:150")
    page.check("input[name=recorders][value=grid_worker]")
    with page.expect_navigation():
        page.click("form.rule-form button.primary")
    haircut = Rule.objects.select_related("current").get(community=world.A, code="hj-haircut")
    assert haircut.current is not None and (haircut.current.number, haircut.current.points) == (2, 3)
    assert "grid_worker" in haircut.current.recorder_list
    history = page.locator("[data-testid=history]")
    assert "2" in history.locator("del").first.inner_text() and "3" in history.locator("ins").first.inner_text()
    assert no_sideways_scroll(page)
    screenshot(page, "rule-history")

    # someone earned points: the public leaderboard masks the name
    Claim.objects.create(
        community=world.A,
        person=world.pA1,
        rule=haircut,
        rule_version=haircut.current,
        source=Source.CHECKIN,
        occurred_on=timezone.localdate() - timedelta(days=1),
        points=3,
        status=ClaimStatus.APPROVED,
        decided_at=timezone.now(),
        idempotency_key="browser-lb",
    )

    # a resident without a login reads the catalogue on the phone: big text, nothing sideways
    public = new_page(width=375, height=812)
    public.goto(f"{live_server.url}/points/c/{world.A.code}/rules/")
    item = public.locator("li.pub-rule[data-code='hj-haircut']")
    assert "为社区居民义务理发" in item.inner_text() and item.locator(".pub-pts b").inner_text() == "3"
    size = public.evaluate("parseFloat(getComputedStyle(document.querySelector('.pub-rule')).fontSize)")
    assert size >= 18
    assert no_sideways_scroll(public)
    screenshot(public, "public-catalogue")
    with public.expect_navigation():
        public.click("a.button[href$='/leaderboard/']")
    board = public.locator("[data-testid=leaderboard]").inner_text()
    assert "王*英" in board and "王秀英" not in board
    assert no_sideways_scroll(public)
    screenshot(public, "public-leaderboard")
