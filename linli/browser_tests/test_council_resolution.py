"""Issue 7's story of SEEDS 002 on phones: a meeting whose resolution is chased to done and rated by residents.

The supervisor (the grid chief) chases the resolution on its page; the owner (grid worker A1) reports 50 % and then
done; the public echo wall shows it done without a single name; 王秀英 rates it five stars on the evaluation desk;
the figures count one problem solved, a family/neighbour dispute graded yellow."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from linli.common.testing import PASSWORD, make_world
from linli.council.models import AgendaItem, Evaluation, Resolution, ResolutionStatus
from linli.council.testing import make_council

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("LINLI_SHOTS", "/tmp/shots"))  # noqa: S108 - where the brief wants them


def fits_the_phone(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= 375"))


def font_px(page: Any, selector: str) -> float:
    return float(page.evaluate(f"parseFloat(getComputedStyle(document.querySelector('{selector}')).fontSize)"))


def test_resolution_chased_to_done_and_rated(
    transactional_db: None, live_server: Any, new_page: Any, screenshot: Any
) -> None:
    w = make_world()
    c = make_council(w)
    r = c.resolution
    url = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)

    def shot(page: Any, name: str) -> None:
        screenshot(page, name)
        page.screenshot(path=str(SHOTS / f"council_rs_{name}.png"), full_page=True)

    def sign_in(page: Any, phone: str) -> None:
        page.goto(url + reverse("login"))
        page.fill("input[name=username]", phone)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("form [type=submit]")

    # the supervisor (监督岗, the grid chief) chases it from the resolution page
    chief = new_page(width=375, height=812)
    sign_in(chief, w.grid_chief_a1.phone)
    chief.goto(url + reverse("council:resolutions") + f"?community={w.A.id}")
    assert "物业一周内更换漏水管道" in chief.locator("[data-testid=resolutions]").inner_text()
    shot(chief, "board")
    assert fits_the_phone(chief)
    with chief.expect_navigation():
        chief.click(f"tr[data-resolution='{r.id}'] a")
    chase = chief.locator("details[data-act=chase]")
    chase.locator("summary").click()
    chase.locator("textarea[name=text]").fill("请物业本周五前给出维修进度")
    shot(chief, "chase")
    assert fits_the_phone(chief)
    assert chase.locator("summary").bounding_box()["height"] >= 48
    with chief.expect_navigation():
        chase.locator("button[type=submit]").click()
    assert "请物业本周五前给出维修进度" in chief.locator("[data-testid=timeline]").inner_text()
    r.refresh_from_db()
    assert r.last_chased_at is not None

    # the owner (grid worker A1) reports 50 %, then done
    owner = new_page(width=375, height=812)
    sign_in(owner, w.grid_worker_a1.phone)
    owner.goto(url + reverse("council:resolution", args=[r.id]))
    progress = owner.locator("details[data-act=progress]")
    progress.locator("summary").click()
    progress.locator("select[name=progress]").select_option("50")
    progress.locator("textarea[name=text]").fill("管材已到，正在更换三楼管道")
    with owner.expect_navigation():
        progress.locator("button[type=submit]").click()
    assert owner.locator("[data-testid=progress]").first.inner_text().strip() == "50%"
    shot(owner, "progress")
    assert fits_the_phone(owner)
    done = owner.locator("details[data-act=done]")
    done.locator("summary").click()
    done.locator("textarea[name=text]").fill("三楼管道已全部更换，楼下不再渗水")
    with owner.expect_navigation():
        done.locator("button[type=submit]").click()
    r.refresh_from_db()
    assert (r.status, r.progress) == (ResolutionStatus.DONE, 100)
    assert AgendaItem.objects.get(pk=c.item.pk).solved_at is not None
    shot(owner, "done")

    # the public echo wall, without logging in: done, the public words, no names and no chase
    visitor = new_page(width=375, height=812)
    visitor.goto(url + reverse("council:echo_wall", args=[w.A.code]))
    card = visitor.locator(f"li[data-resolution='{r.id}']")
    assert card.locator("[data-testid=state]").inner_text().strip() == _done_words()
    wall = visitor.locator("body").inner_text()
    assert "三楼管道已全部更换" in wall and "物业公司维修班" in wall
    assert "请物业本周五前给出维修进度" not in wall
    for name in (w.grid_chief_a1.name, w.grid_worker_a1.name, w.staff_a.name, "王秀英"):
        assert name not in wall
    shot(visitor, "echo_wall")
    assert fits_the_phone(visitor)
    assert font_px(visitor, ".rs-echo-what") >= 18
    assert font_px(visitor, ".rs-echo p") >= 18

    # 王秀英 on her phone: the evaluation desk, five big stars, a comment
    phone = new_page(width=375, height=812)
    sign_in(phone, w.resident_a1.phone)
    phone.goto(url + reverse("council:evaluation_desk"))
    assert "物业一周内更换漏水管道" in phone.locator("[data-testid=waiting]").inner_text()
    shot(phone, "desk")
    assert fits_the_phone(phone)
    with phone.expect_navigation():
        phone.click(f"[data-testid=waiting] li[data-resolution='{r.id}'] a.button")
    assert phone.locator("label.rs-star").first.bounding_box()["height"] >= 48
    assert font_px(phone, "label.rs-star") >= 18
    phone.click("label.rs-star[data-stars='5']")
    phone.fill("textarea[name=comment]", "修得很及时，谢谢网格员")
    shot(phone, "rate")
    assert fits_the_phone(phone)
    with phone.expect_navigation():
        phone.click("form[data-testid=rate] button[type=submit]")
    assert list(Evaluation.objects.values_list("rating", "comment")) == [(5, "修得很及时，谢谢网格员")]
    assert "★★★★★" in phone.locator("[data-testid=rated]").inner_text()
    shot(phone, "rated")

    # the figures (staff): one problem solved, a family/neighbour dispute, yellow
    staff = new_page(width=375, height=812)
    sign_in(staff, w.staff_a.phone)
    staff.goto(url + reverse("council:figures") + f"?community={w.A.id}")
    headline = staff.locator("[data-testid=headline]").inner_text()
    assert "1" in headline
    solved_by_kind = [s.strip() for s in staff.locator("[data-testid=solved-kind]").all_inner_texts()]
    solved_by_colour = [s.strip() for s in staff.locator("[data-testid=solved-colour]").all_inner_texts()]
    assert solved_by_kind == ["1", "0", "0"]  # family / compound / external
    assert solved_by_colour == ["0", "1", "0"]  # blue / yellow / red
    assert staff.locator("[data-testid=rating]").inner_text().strip() == "5.0"
    shot(staff, "figures")
    assert fits_the_phone(staff)
    assert Resolution.objects.get(pk=r.pk).status == ResolutionStatus.DONE


def _done_words() -> str:
    """The page's own word for "done" (translated or not): what the resolution page shows for a done one."""
    from django.utils import translation

    from linli.council.views_resolutions import status_words

    with translation.override("zh-hans"):
        return status_words(Resolution(status=ResolutionStatus.DONE))
