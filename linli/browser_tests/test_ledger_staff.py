"""Issue 3's "done when" in a real browser: staff award points, reverse the award, and adjust — in the pages."""

from __future__ import annotations

from typing import Any

import pytest

from linli.common.testing import PASSWORD, make_world
from linli.ledger import selectors
from linli.ledger.models import Transfer

pytestmark = pytest.mark.browser


def test_staff_award_reverse_and_adjust_in_the_pages(
    transactional_db: None, live_server: Any, new_page: Any, sign_in: Any, screenshot: Any
) -> None:
    world = make_world()
    page = new_page(width=375, height=812)  # staff also work from their phones
    sign_in(page, live_server, world.staff_a.phone, PASSWORD)

    # award: find the resident, choose her, give 8 points for mediating
    page.goto(f"{live_server.url}/ledger/staff/award/?community={world.A.id}")
    page.fill("input[name=q]", "王秀英")
    with page.expect_navigation():
        page.click("form[role=search] button")
    with page.expect_navigation():
        page.click("[data-testid=found] a.button")
    page.fill("input[name=amount]", "8")
    page.fill("input[name=memo]", "成功调解邻里纠纷一起")
    with page.expect_navigation():
        page.click("form.card button[type=submit]")
    award = Transfer.objects.get(kind="award")
    assert page.url.endswith(f"/ledger/staff/transfers/{award.id}/")
    assert award.amount == 8 and award.credit.person_id == world.pA1.id
    screenshot(page, "after-award")

    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # long hashes wrap

    # reverse it with a reason
    page.fill("textarea[name=reason], input[name=reason]", "记错了人")
    with page.expect_navigation():
        page.click("form[action$='/reverse/'] button[type=submit]")
    assert Transfer.objects.filter(kind="reversal", reverses=award).exists()

    # a small adjustment posts at once (under the approval threshold)
    page.goto(f"{live_server.url}/ledger/staff/adjust/?community={world.A.id}&person={world.pA1.id}")
    page.fill("input[name=amount]", "3")
    page.fill("textarea[name=reason], input[name=reason]", "补录：楼道清扫")
    with page.expect_navigation():
        page.click("form.card button[type=submit]")
    assert Transfer.objects.filter(kind="adjustment", amount=3).exists()
    assert selectors.person_balance(world.pA1.id) == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "after-adjust")
