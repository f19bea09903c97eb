"""The points-market counter in a real browser: an elder's points card with exactly 15 points buys a bag of rice at the
counter (balance 0, stock −1). The staff member works by keyboard as with a USB scanner: the scanner types the card's
payload into the focused scan box and presses Enter."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from linli.common.testing import PASSWORD, make_world
from linli.ledger import cards
from linli.ledger import selectors as ledger_selectors
from linli.market.models import Product, Redemption
from linli.market.testing import give_points, make_market
from linli.org.access import actor_for
from linli.org.models import HouseholdMember, Person

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("LINLI_SHOTS", "/tmp/shots"))  # noqa: S108 - where the brief wants them


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"market_counter_{name}.png"), full_page=True)


def test_an_elder_with_exactly_15_points_buys_a_bag_of_rice(
    transactional_db: None, live_server: Any, new_page: Any, sign_in: Any, request: pytest.FixtureRequest
) -> None:
    w = make_market(make_world())
    elder = Person.objects.create(community=w.A, name="张大爷", phone="", birth_year=1941)  # no phone, no login
    HouseholdMember.objects.create(community=w.A, household=w.hA1, person=elder, relation="other")
    card = cards.card_issue(actor=actor_for(w.staff_a), person=elder)
    give_points(w, elder, 15)

    page = new_page(width=1280, height=800)
    sign_in(page, live_server, w.staff_a.phone, PASSWORD)
    page.goto(f"{live_server.url}/market/counter/?community={w.A.pk}")
    scan = page.locator("input[name=q].c-scan-input")
    assert page.evaluate("document.activeElement.name") == "q"  # the scan box has the focus: no click needed
    _shot(page, "1_scan")
    with page.expect_navigation():
        page.keyboard.type(cards.payload(card))  # what a USB scanner does
        page.keyboard.press("Enter")
    assert scan.count() == 0
    assert page.locator("[data-testid=payer-name]").inner_text().strip() == "张大爷"
    assert page.locator("[data-testid=balance]").inner_text().strip() == "15"
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('.c-balance-value')).fontSize)") >= 48

    page.click(f"[data-testid=add-{w.rice.pk}]")  # htmx swaps the basket in place
    page.wait_for_selector(f"[data-testid=line-{w.rice.pk}]")
    assert page.locator("[data-testid=total]").inner_text().strip() == "15"
    assert page.locator("[data-testid=after]").inner_text().strip() == "0"
    assert page.locator("[data-testid=short]").count() == 0
    _shot(page, "2_till")

    # one more bag would be more than the card holds: the page says so in words, before confirming
    page.click(f"#inc-{w.rice.pk}")
    page.wait_for_selector("[data-testid=short]")
    assert page.locator("[data-testid=total]").inner_text().strip() == "30"
    _shot(page, "3_short")
    page.click(f"#dec-{w.rice.pk}")
    page.wait_for_selector("[data-testid=short]", state="detached")

    with page.expect_navigation():
        page.click("[data-testid=confirm]")
    redemption = Redemption.objects.get()
    assert page.url.endswith(f"/market/counter/receipts/{redemption.pk}/")
    assert page.locator("[data-testid=balance-after]").inner_text().strip() == "0"
    assert redemption.number in page.locator("[data-testid=receipt]").inner_text()
    assert page.locator("[data-print]").is_visible()  # the Print button appears with JavaScript
    _shot(page, "4_receipt")
    page.emulate_media(media="print")
    assert page.locator(".top").is_hidden() and page.locator(".receipt-tools").is_hidden()
    width = page.evaluate("document.querySelector('.receipt').getBoundingClientRect().width")
    assert width <= 72 * 96 / 25.4 + 1  # a narrow column for an 80 mm thermal printer
    _shot(page, "5_receipt_print")
    page.emulate_media(media="screen")

    assert ledger_selectors.person_balance(elder.pk) == 0
    assert Product.objects.get(pk=w.rice.pk).stock == 19
    assert not request.node.page_errors  # no JavaScript error on the way (htmx swaps included)

    # "Next customer": back at the scan box, focused for the next card
    with page.expect_navigation():
        page.click("[data-testid=next]")
    assert page.evaluate("document.activeElement.name") == "q"

    # the till on a phone: nothing wider than the screen
    give_points(w, w.pA1, 100)
    phone = new_page(width=375, height=812)
    sign_in(phone, live_server, w.staff_a.phone, PASSWORD)
    phone.goto(f"{live_server.url}/market/counter/people/{w.pA1.pk}/")
    phone.click(f"[data-testid=add-{w.soy.pk}]")
    phone.wait_for_selector(f"[data-testid=line-{w.soy.pk}]")
    assert "138****0001" in phone.locator("[data-testid=payer]").inner_text()  # the queue behind sees no number
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    _shot(phone, "6_phone")
    assert not request.node.page_errors
