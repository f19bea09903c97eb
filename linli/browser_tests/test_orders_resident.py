"""Issue 6's seed story (SEEDS 004) on a phone: a resident scans the building's QR code, logs in, reports night noise
from the parking barrier and gets a receipt; staff grade it yellow and dispatch it to the property company, which
answers it; the resident rates it 5 on the phone; the public echo wall shows the answer with the name masked."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from linli.common.testing import PASSWORD, make_world
from linli.orders import services
from linli.orders.models import Status, WorkOrder
from linli.orders.services import AssigneeInput
from linli.orders.testing import make_orders
from linli.org.access import actor_for

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("LINLI_SHOTS", "/tmp/shots"))  # noqa: S108 - where the brief wants them


def fits_the_phone(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= 375"))


def body_text_px(page: Any, selector: str) -> float:
    return float(page.evaluate(f"parseFloat(getComputedStyle(document.querySelector('{selector}')).fontSize)"))


def test_seed_story_qr_report_answer_rate_echo_wall(
    transactional_db: None, live_server: Any, new_page: Any, screenshot: Any
) -> None:
    w = make_orders(make_world())
    url = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)

    def shot(page: Any, name: str) -> None:
        screenshot(page, name)
        page.screenshot(path=str(SHOTS / f"orders_{name}.png"), full_page=True)

    # the resident scans the code posted in building 1: not signed in yet, so the login page comes first
    phone = new_page(width=375, height=812)
    phone.goto(f"{url}{reverse('orders:new')}?building={w.bA1.id}")
    assert "/accounts/login/" in phone.url
    phone.fill("input[name=username]", w.resident_a1.phone)
    phone.fill("input[name=password]", PASSWORD)
    with phone.expect_navigation():
        phone.click("form [type=submit]")
    assert reverse("orders:new") in phone.url and f"building={w.bA1.id}" in phone.url
    assert "1号楼" in phone.locator("[data-testid=place]").inner_text()
    assert phone.locator("select[name=building]").count() == 0  # the place is locked
    shot(phone, "new")
    assert fits_the_phone(phone)
    assert body_text_px(phone, ".r-choice") >= 18
    assert phone.locator("label.r-choice").first.bounding_box()["height"] >= 48

    # it is about noise: tap the big button, describe, send
    phone.click("label.r-choice[data-category=property-noise]")
    phone.fill("textarea[name=description]", "停车场道闸夜里抬杆声音很大，每晚十一点后还在响，影响休息")
    phone.locator("input[type=file][name=photos]").set_input_files(
        files=[{"name": "gate.png", "mimeType": "image/png", "buffer": _png()}]
    )
    shot(phone, "new-filled")
    with phone.expect_navigation():
        phone.click("button.r-submit")
    order = WorkOrder.objects.get()
    assert (order.category_id, order.building_id, order.channel, order.reporter_id) == (
        w.noise.id,
        w.bA1.id,
        "qr",
        w.pA1.id,
    )
    assert order.photos.count() == 1
    assert phone.locator("[data-testid=number]").inner_text().strip() == order.number
    assert phone.locator("[data-testid=due]").inner_text().strip()
    shot(phone, "receipt")
    assert fits_the_phone(phone)

    # staff grade it yellow and dispatch it to the property company; it answers three days later
    staff = actor_for(w.staff_a)
    services.order_accept(actor=staff, order=order)
    services.order_grade(actor=staff, order=order, severity="yellow")
    services.order_dispatch(
        actor=staff, order=order, assignees=[AssigneeInput(handler="property", unit_id=w.propertyA.id)]
    )
    answer = "物业已调整道闸，晚十点后改为静音抬杆，并在岗亭贴了提示"
    services.order_resolve(actor=staff, order=order, answer=answer)

    # the resident sees the answer on "my requests" and rates it five stars
    phone.goto(url + reverse("orders:mine"))
    assert order.number in phone.locator("[data-testid=requests]").inner_text()
    shot(phone, "mine")
    assert fits_the_phone(phone)
    with phone.expect_navigation():
        phone.click(f"li[data-order='{order.id}'] a.r-item-link")
    assert answer in phone.locator("[data-testid=answer]").inner_text()
    phone.click("label.r-star[data-stars='5']")
    phone.fill("textarea[name=comment]", "处理得很及时，谢谢")
    shot(phone, "rate")
    assert fits_the_phone(phone)
    assert phone.locator("label.r-star").first.bounding_box()["height"] >= 48
    with phone.expect_navigation():
        phone.click("form.r-rate button[type=submit]")
    order.refresh_from_db()
    assert (order.status, order.rating, order.feedback) == (Status.CLOSED, 5, "处理得很及时，谢谢")
    assert "★★★★★" in phone.locator("[data-testid=rating]").inner_text()
    shot(phone, "rated")

    # the echo wall, without logging in: the answer, the masked name, no phone number
    visitor = new_page(width=375, height=812)
    visitor.goto(url + reverse("orders:echo_wall", args=[w.A.code]))
    wall = visitor.locator("[data-testid=echo]").inner_text()
    assert answer in wall and "王*英" in wall and "噪音扰民" in wall
    page_text = visitor.locator("body").inner_text()
    assert "王秀英" not in page_text and "13800000001" not in page_text
    assert visitor.locator("[data-testid=received]").inner_text() == "1"
    assert visitor.locator("[data-testid=completed]").inner_text() == "1"
    shot(visitor, "echo-wall")
    assert fits_the_phone(visitor)


def test_handler_task_list_and_qr_sheet_on_a_phone(
    transactional_db: None,
    live_server: Any,
    new_page: Any,
    sign_in: Any,
    screenshot: Any,
    request: pytest.FixtureRequest,
) -> None:
    """The grid worker's list and a task's actions with htmx; the office's printable QR sheet."""
    w = make_orders(make_world())
    url = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    staff = actor_for(w.staff_a)
    order = services.order_create(
        actor=actor_for(w.resident_a1),
        community=w.A,
        data=services.OrderInput(
            category="environment", description="3号楼后面的垃圾桶满了两天没人清", building_id=w.bA1.id
        ),
        channel="qr",
    ).order
    services.order_accept(actor=staff, order=order)
    services.order_dispatch(
        actor=staff, order=order, assignees=[AssigneeInput(handler="grid_worker", user_id=w.grid_worker_a1.id)]
    )

    worker = new_page(width=375, height=812)
    sign_in(worker, live_server, w.grid_worker_a1.phone, PASSWORD)
    worker.goto(url + reverse("orders:tasks"))
    assert order.number in worker.locator("[data-testid=assigned]").inner_text()
    screenshot(worker, "tasks")
    worker.screenshot(path=str(SHOTS / "orders_tasks.png"), full_page=True)
    assert fits_the_phone(worker)
    with worker.expect_navigation():
        worker.click(f"li[data-order='{order.id}'] a.r-item-link")
    worker.click("button[data-action=start]")  # htmx swaps the card, no page load
    worker.locator("#task-card[data-status=in_progress]").wait_for()
    worker.fill("form[data-form=resolve] textarea[name=answer]", "已联系保洁，当天清运完毕")
    worker.click("form[data-form=resolve] button[type=submit]")
    worker.locator("#task-card[data-status=resolved]").wait_for()
    order.refresh_from_db()
    assert order.status == Status.RESOLVED and order.answer == "已联系保洁，当天清运完毕"
    worker.screenshot(path=str(SHOTS / "orders_task.png"), full_page=True)
    assert fits_the_phone(worker)
    assert not request.node.page_errors  # no JavaScript error while htmx swapped the card

    office = new_page(width=375, height=812)
    sign_in(office, live_server, w.staff_a.phone, PASSWORD)
    office.goto(f"{url}{reverse('orders:building_qr_sheet')}?community={w.A.id}")
    assert office.locator("article.qr-sheet").count() == 2
    office.screenshot(path=str(SHOTS / "orders_qr_sheet.png"), full_page=True)
    assert fits_the_phone(office)


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), "gray").save(out, "PNG")
    return out.getvalue()
