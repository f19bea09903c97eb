"""Issue 4's seed story in a real browser on phones: a volunteer checks in one hour of clean-up, the building steward
verifies it on the queue, staff approve it, and the volunteer's passbook shows +3 and the new total."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from linli.common.testing import PASSWORD, make_world
from linli.ledger import selectors as ledger_reads
from linli.points.models import Claim, ClaimStatus
from linli.points.testing import make_catalogue

pytestmark = pytest.mark.browser


def fits_the_phone(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= 375"))


def test_seed_story_check_in_verify_approve_passbook(
    transactional_db: None, live_server: Any, new_page: Any, sign_in: Any, screenshot: Any
) -> None:
    w = make_catalogue(make_world())
    url = live_server.url

    # the volunteer, on her phone: choose the good deed, say how long, send
    resident = new_page(width=375, height=812)
    sign_in(resident, live_server, w.resident_a1.phone, PASSWORD)
    resident.goto(url + reverse("points:checkin"))
    screenshot(resident, "checkin-choose")
    assert fits_the_phone(resident)
    with resident.expect_navigation():
        resident.click("a[data-rule=cleanup]")
    assert resident.locator("select[name=hours]").input_value() == "1"  # one hour is the usual case
    resident.fill("textarea[name=note]", "清扫3号楼楼道")
    assert resident.locator("input[type=file][name=photo]").get_attribute("capture") == "environment"
    screenshot(resident, "checkin-form")
    assert fits_the_phone(resident)
    with resident.expect_navigation():
        resident.click("form.claim-form button[type=submit]")
    claim = Claim.objects.get()
    assert (claim.person_id, claim.points, claim.minutes, claim.status) == (w.pA1.id, 3, 60, ClaimStatus.SUBMITTED)
    assert resident.url.endswith(reverse("points:claim_detail", args=[claim.id]))
    assert resident.locator("[data-testid=status]").count() == 1
    screenshot(resident, "claim-detail")
    assert fits_the_phone(resident)

    # the building steward, on a phone: the claim is on the queue; one tap verifies it (htmx swaps the card)
    steward = new_page(width=375, height=812)
    sign_in(steward, live_server, w.steward_a1.phone, PASSWORD)
    steward.goto(url + reverse("points:verify_queue"))
    card = steward.locator(f"#claim-{claim.id}")
    assert "王秀英" in card.inner_text() and "清扫3号楼楼道" in card.inner_text()
    screenshot(steward, "verify-queue")
    assert fits_the_phone(steward)
    card.locator("form[action$='/verify/'] button").click()
    steward.locator(f"#claim-{claim.id}.claim-done").wait_for()
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.VERIFIED and claim.verified_by_id == w.steward_a1.id

    # community staff: tick it in the approval queue and approve
    staff = new_page(width=375, height=812)
    sign_in(staff, live_server, w.staff_a.phone, PASSWORD)
    staff.goto(f"{url}{reverse('points:approve_queue')}?community={w.A.id}")
    staff.check(f"#claim-{claim.id} input[type=checkbox]")
    screenshot(staff, "approve-queue")
    assert fits_the_phone(staff)
    with staff.expect_navigation():
        staff.click("#bulk-approve button[value=approve]")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.APPROVED
    assert ledger_reads.person_balance(w.pA1) == 3

    # the volunteer's passbook: +3 and the new total
    resident.goto(url + reverse("ledger:my_passbook"))
    assert resident.locator("[data-testid=pb-balance]").inner_text().strip() == "3"
    first = resident.locator("[data-testid=pb-lines] li").first
    assert "+3" in first.inner_text() and first.locator("[data-testid=pb-after]").inner_text().strip() == "3"
    resident.goto(url + reverse("points:my_claims"))
    screenshot(resident, "my-claims")
    assert fits_the_phone(resident)
