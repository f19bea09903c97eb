"""The residents' and handlers' phone pages: filing from a building's QR code, the receipt, my requests, rating and
withdrawing, photos, the task list and its actions, the building QR codes and the public echo wall. Bad input shows a
translated error on the page and files nothing."""

from __future__ import annotations

import html
import io
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, override
from django.utils.translation import gettext_lazy as _lazy
from PIL import Image

from linli.common.images import PhotoInvalid
from linli.common.testing import client_for
from linli.orders import qr, services
from linli.orders.errors import AlreadyRated, PlaceOutside, TransitionRefused, UnknownCategory
from linli.orders.models import Action, OrderCounter, OrderEvent, OrderPhoto, Status, WorkOrder
from linli.orders.services import AssigneeInput
from linli.orders.tests.matrix_resident import TEXT, catalogue, dispatched, filed, jpeg, resolved
from linli.orders.views_resident import scrub
from linli.org.access import actor_for


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    return catalogue(world)


def shows(response: Any, message: object) -> bool:
    """The page carries `message` as the (zh-hans) visitor reads it."""
    with override("zh-hans"):
        text = gettext(str(message))  # a lazy string or an English msgid, as the zh-hans reader sees it
    body = response.content.decode()
    return text in body or html.escape(text) in body


def post_new(client: Any, w: SimpleNamespace, query: str = "", **data: Any) -> Any:
    body = {"category": "property-noise", "description": TEXT, "request_key": "k1", **data}
    return client.post(reverse("orders:new") + query, body)


# --- filing --------------------------------------------------------------------------------------------------------


def test_qr_link_locks_the_building_and_offers_the_catalogue(w: SimpleNamespace) -> None:
    response = client_for(w.resident_a1).get(reverse("orders:new"), {"building": w.bA1.id})
    body = response.content.decode()
    assert response.status_code == 200
    assert f'type="hidden" name="building" value="{w.bA1.id}"' in body
    assert "兴庆小区 1号楼" in body and "<select" not in body.split('name="building"')[0][-200:]
    assert 'data-category="property-noise"' in body and "噪音扰民" in body
    assert 'capture="environment"' in body and 'accept="image/*"' in body and "multiple" in body


def test_anonymous_visitor_logs_in_and_comes_back_to_the_building(w: SimpleNamespace) -> None:
    url = f"{reverse('orders:new')}?building={w.bA1.id}"
    response = client_for(None).get(url)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"] and f"building%3D{w.bA1.id}" in response["Location"]


def test_filing_from_the_qr_code_gives_a_receipt_with_number_and_due_date(w: SimpleNamespace) -> None:
    client = client_for(w.resident_a1)
    response = client.post(
        f"{reverse('orders:new')}?building={w.bA1.id}",
        {
            "category": "property-noise",
            "description": TEXT,
            "building": w.bA1.id,
            "contact_phone": "13800000001",
            "request_key": "abc",
            "photos": [jpeg(), jpeg("red")],
        },
    )
    order = WorkOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("orders:receipt", args=[order.id])
    assert (order.channel, order.reporter_id, order.building_id, order.grid_id) == ("qr", w.pA1.id, w.bA1.id, w.A1.id)
    assert order.contact_phone == "13800000001" and order.photos.count() == 2
    receipt = client.get(response["Location"])
    assert receipt.status_code == 200
    assert order.number in receipt.content.decode()
    assert timezone.localtime(order.due_at).strftime("%Y-%m-%d") in receipt.content.decode()
    # a double tap sends the same key: still one order
    again = client.post(
        f"{reverse('orders:new')}?building={w.bA1.id}",
        {"category": "property-noise", "description": TEXT, "building": w.bA1.id, "request_key": "abc"},
    )
    assert again.status_code == 302 and WorkOrder.objects.count() == 1


def test_without_the_qr_code_the_resident_chooses_a_building_and_the_channel_is_the_app(w: SimpleNamespace) -> None:
    client = client_for(w.resident_a1)
    page = client.get(reverse("orders:new")).content.decode()
    assert f'<option value="{w.bA1.id}" selected>' in page  # their own building is suggested
    assert f'value="{w.bB1.id}"' not in page
    response = post_new(client, w, building=w.bA2.id)
    order = WorkOrder.objects.get()
    assert response.status_code == 302 and (order.channel, order.building_id) == ("app", w.bA2.id)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"category": "no-such-thing"}, UnknownCategory.default_message),
        ({"category": ""}, "Choose what it is about."),
        ({"description": "  "}, "Please describe the problem in a few words."),
        ({"contact_phone": "call me maybe"}, "Write the phone number with digits only."),
        ({"building": "B"}, PlaceOutside.default_message),  # replaced below by bB1's id
        ({"photos": "fake"}, PhotoInvalid.default_message),
        ({"photos": "four"}, _lazy("At most %(n)s photos, please.") % {"n": 3}),
    ],
    ids=["unknown-category", "no-category", "no-text", "bad-phone", "other-community", "fake-image", "four-photos"],
)
def test_bad_input_is_an_error_on_the_form_and_files_nothing(
    w: SimpleNamespace, data: dict[str, Any], message: str
) -> None:
    if data.get("building") == "B":
        data = {"building": w.bB1.id}
    if data.get("photos") == "fake":
        data = {"photos": [SimpleUploadedFile("x.jpg", b"<?php echo 1; ?>", content_type="image/jpeg")]}
    if data.get("photos") == "four":
        data = {"photos": [jpeg() for _ in range(4)]}
    response = post_new(client_for(w.resident_a1), w, **data)
    assert response.status_code == 400
    assert shows(response, message), response.content.decode()[:3000]
    assert not WorkOrder.objects.exists() and not OrderPhoto.objects.exists()
    assert not OrderCounter.objects.filter(last__gt=0).exists()  # no number was used up


def test_a_qr_code_of_another_community_falls_back_to_the_own_community(w: SimpleNamespace) -> None:
    response = client_for(w.resident_a1).get(reverse("orders:new"), {"building": w.bB1.id})
    assert response.status_code == 200 and shows(response, PlaceOutside.default_message)
    assert 'data-testid="place"' not in response.content.decode()
    assert "大兴东路社区" in response.content.decode()


def test_auditor_and_shopkeeper_cannot_file(w: SimpleNamespace) -> None:
    for user in (w.auditor_a, w.merchant_op_a):
        assert post_new(client_for(user), w).status_code == 403
    assert not WorkOrder.objects.exists()


# --- my requests, rating, withdrawing ------------------------------------------------------------------------------


def test_my_requests_in_plain_words_with_due_date_and_overdue_in_words(w: SimpleNamespace) -> None:
    late = filed(w, "late")
    WorkOrder.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(days=3), severity="red")
    other = services.order_create(
        actor=actor_for(w.staff_a),
        community=w.A,
        data=services.OrderInput(category="other", description="别人的事", building_id=w.bA2.id),
        channel="hotline",
    ).order
    body = client_for(w.resident_a1).get(reverse("orders:mine")).content.decode()
    assert late.number in body and other.number not in body
    with override("zh-hans"):
        from linli.orders.views_resident import status_words

        assert status_words(Status.RECEIVED) in body
    assert "⚠" in body and "red" not in body.split("<main")[1].replace("r-late", "")  # no colour words


def test_detail_shows_public_timeline_and_photos_only(w: SimpleNamespace) -> None:
    order = dispatched(w)
    staff = actor_for(w.staff_a)
    services.order_note(actor=staff, order=order, note="内部：物业经理电话", public=False, photos=[jpeg("blue")])
    services.order_note(actor=staff, order=order, note="已通知物业，明天上门", public=True, photos=[jpeg("red")])
    inner, outer = OrderPhoto.objects.order_by("pk")
    body = client_for(w.resident_a1).get(reverse("orders:mine_detail", args=[order.id])).content.decode()
    assert "已通知物业，明天上门" in body and "内部" not in body
    assert reverse("orders:photo", args=[order.id, outer.id]) in body
    assert reverse("orders:photo", args=[order.id, inner.id]) not in body
    resident = client_for(w.resident_a1)
    assert resident.get(reverse("orders:photo", args=[order.id, inner.id])).status_code == 404
    shown = resident.get(reverse("orders:photo", args=[order.id, outer.id]))
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"
    assert shown["Cache-Control"].startswith("private")
    assert client_for(w.grid_worker_a1).get(reverse("orders:photo", args=[order.id, inner.id])).status_code == 200
    # someone else's request is not found on "my requests"
    assert client_for(w.staff_a).get(reverse("orders:mine_detail", args=[order.id])).status_code == 404


def test_rating_five_closes_and_a_second_rating_is_refused_on_the_page(w: SimpleNamespace) -> None:
    order = resolved(w)
    client = client_for(w.resident_a1)
    page = client.get(reverse("orders:mine_detail", args=[order.id])).content.decode()
    assert page.count('name="rating"') == 5 and "已调整道闸" in page
    response = client.post(reverse("orders:rate", args=[order.id]), {"rating": "5", "comment": "很快"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.rating, order.feedback) == (Status.CLOSED, 5, "很快")
    again = client.post(reverse("orders:rate", args=[order.id]), {"rating": "1"})
    assert again.status_code == 409 and shows(again, AlreadyRated.default_message)
    order.refresh_from_db()
    assert (order.status, order.rating) == (Status.CLOSED, 5)


@pytest.mark.parametrize("rating", ["0", "6", "x", ""])
def test_rating_out_of_range_is_an_error(w: SimpleNamespace, rating: str) -> None:
    order = resolved(w)
    response = client_for(w.resident_a1).post(reverse("orders:rate", args=[order.id]), {"rating": rating})
    assert response.status_code == 400 and shows(response, "Choose from 1 to 5 stars.")
    order.refresh_from_db()
    assert order.status == Status.RESOLVED and order.rating is None


def test_unsatisfied_rating_reopens_and_says_so(w: SimpleNamespace) -> None:
    order = resolved(w)
    client = client_for(w.resident_a1)
    response = client.post(reverse("orders:rate", args=[order.id]), {"rating": "2"}, follow=True)
    order.refresh_from_db()
    assert order.status == Status.REOPENED
    assert shows(response, "Sorry it is not solved. Your request is reopened and will be handled again.")


def test_rating_before_the_answer_is_refused(w: SimpleNamespace) -> None:
    order = filed(w)
    response = client_for(w.resident_a1).post(reverse("orders:rate", args=[order.id]), {"rating": "5"})
    assert response.status_code == 409 and shows(response, TransitionRefused.default_message)


def test_withdraw_while_received_but_not_once_dispatched(w: SimpleNamespace) -> None:
    client = client_for(w.resident_a1)
    order = filed(w)
    page = client.get(reverse("orders:mine_detail", args=[order.id])).content.decode()
    assert reverse("orders:withdraw", args=[order.id]) in page
    assert client.post(reverse("orders:withdraw", args=[order.id]), {"reason": ""}).status_code == 302
    order.refresh_from_db()
    assert order.status == Status.CANCELLED
    busy = dispatched(w)
    refused = client.post(reverse("orders:withdraw", args=[busy.id]), {"reason": "不用了"})
    assert refused.status_code == 409 and shows(refused, TransitionRefused.default_message)
    busy.refresh_from_db()
    assert busy.status == Status.DISPATCHED


# --- the handler's tasks -------------------------------------------------------------------------------------------


def test_task_list_mine_first_then_unassigned_in_my_area(w: SimpleNamespace) -> None:
    waiting = filed(w, "waiting")  # in A1, nobody has it
    mine = filed(w, "mine")
    staff = actor_for(w.staff_a)
    services.order_accept(actor=staff, order=mine)
    services.order_dispatch(
        actor=staff, order=mine, assignees=[AssigneeInput(handler="grid_worker", user_id=w.grid_worker_a2.id)]
    )
    WorkOrder.objects.filter(pk=mine.pk).update(due_at=timezone.now() - timedelta(days=2))
    a2 = client_for(w.grid_worker_a2).get(reverse("orders:tasks")).content.decode()
    assigned_part = a2.split('data-testid="assigned"')[1].split("</ol>")[0]
    assert mine.number in assigned_part and 'data-testid="overdue"' in assigned_part
    assert waiting.number not in a2  # A1's open order is not in A2's area
    a1 = client_for(w.grid_worker_a1).get(reverse("orders:tasks")).content.decode()
    assert waiting.number in a1.split('data-testid="unassigned"')[1] and mine.number not in a1
    # the assigned worker of another grid may open and handle it
    assert client_for(w.grid_worker_a2).get(reverse("orders:task", args=[mine.id])).status_code == 200


def test_task_actions_with_htmx_swap_the_card(w: SimpleNamespace) -> None:
    order = dispatched(w)
    client = client_for(w.grid_worker_a1)
    started = client.post(reverse("orders:task_start", args=[order.id]), HTTP_HX_REQUEST="true")
    body = started.content.decode()
    assert started.status_code == 200 and body.lstrip().startswith('<section id="task-card"')
    assert 'data-status="in_progress"' in body and "<html" not in body
    noted = client.post(
        reverse("orders:task_note", args=[order.id]),
        {"note": "已到现场查看", "photos": [jpeg()]},
        HTTP_HX_REQUEST="true",
    )
    assert noted.status_code == 200 and "已到现场查看" in noted.content.decode()
    note = OrderEvent.objects.get(action=Action.NOTE)
    assert note.is_public is False and note.photos.count() == 1
    empty = client.post(reverse("orders:task_resolve", args=[order.id]), {"answer": ""}, HTTP_HX_REQUEST="true")
    assert empty.status_code == 200 and 'data-status="in_progress"' in empty.content.decode()
    assert shows(empty, "Write down what was done: the resident reads this answer.")
    done = client.post(reverse("orders:task_resolve", args=[order.id]), {"answer": "道闸已改静音"})
    assert done.status_code == 302 and done["Location"] == reverse("orders:task", args=[order.id])
    order.refresh_from_db()
    assert (order.status, order.answer) == (Status.RESOLVED, "道闸已改静音")


def test_task_actions_without_javascript_show_errors_on_the_page(w: SimpleNamespace) -> None:
    order = dispatched(w)
    client = client_for(w.steward_a1)
    missing = client.post(reverse("orders:task_resolve", args=[order.id]), {"answer": "  "})
    assert missing.status_code == 400 and "<html" in missing.content.decode()
    fake = client.post(
        reverse("orders:task_note", args=[order.id]),
        {"note": "x", "photos": [SimpleUploadedFile("a.jpg", b"not an image", content_type="image/jpeg")]},
    )
    assert fake.status_code == 400 and shows(fake, PhotoInvalid.default_message)
    assert not OrderEvent.objects.filter(action=Action.NOTE).exists()
    assert client.post(reverse("orders:task_start", args=[order.id])).status_code == 302
    twice = client.post(reverse("orders:task_start", args=[order.id]))
    assert twice.status_code == 409 and shows(twice, TransitionRefused.default_message)


def test_contact_phone_is_for_handlers_in_full(w: SimpleNamespace) -> None:
    order = dispatched(w)
    body = client_for(w.grid_worker_a1).get(reverse("orders:task", args=[order.id])).content.decode()
    assert "13800000001" in body and "王秀英" in body


# --- building QR codes ---------------------------------------------------------------------------------------------


def test_building_qr_png_points_to_the_locked_form(w: SimpleNamespace) -> None:
    response = client_for(w.staff_a).get(reverse("orders:building_qr", args=[w.bA1.id]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    expected = f"http://testserver{reverse('orders:new')}?building={w.bA1.id}"
    assert response.content == qr.png(expected)
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.width >= 250
    assert client_for(w.staff_b).get(reverse("orders:building_qr", args=[w.bA1.id])).status_code in {403, 404}


def test_qr_sheet_has_one_code_per_building_of_the_community(w: SimpleNamespace) -> None:
    body = client_for(w.staff_a).get(reverse("orders:building_qr_sheet"), {"community": w.A.id}).content.decode()
    assert body.count('class="qr-sheet"') == 2 and body.count("<svg") == 2
    assert f"?building={w.bA1.id}" in body and f"?building={w.bA2.id}" in body and "府西1号楼" not in body


# --- the echo wall -------------------------------------------------------------------------------------------------


def test_echo_wall_is_public_and_shows_no_personal_data(w: SimpleNamespace) -> None:
    staff = actor_for(w.staff_a)
    told = services.order_create(
        actor=actor_for(w.resident_a1),
        community=w.A,
        data=services.OrderInput(
            category="property-noise",
            description="我是王秀英，住1号楼1单元101，电话13800000001，夜里道闸太吵",
            building_id=w.bA1.id,
            contact_phone="13800000001",
        ),
        channel="qr",
    ).order
    services.order_accept(actor=staff, order=told)
    services.order_dispatch(
        actor=staff, order=told, assignees=[AssigneeInput(handler="property", unit_id=w.propertyA.id)]
    )
    services.order_resolve(actor=staff, order=told, answer="已联系王秀英（138 0000 0001），道闸夜间静音")
    services.order_rate(actor=actor_for(w.resident_a1), order=told, rating=5)
    still_open = filed(w, "open")
    response = client_for(None).get(reverse("orders:echo_wall", args=[w.A.code]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "道闸夜间静音" in body and "噪音扰民" in body and "1号楼" in body and "★★★★★" in body
    assert "王*英" in body
    for secret in ("王秀英", "13800000001", "138 0000 0001", "1单元101", "兴庆物业"):
        assert secret not in body, secret
    assert still_open.description not in body
    figures = body.split('data-testid="figures"')[1]
    assert 'data-testid="received">2<' in figures and 'data-testid="completed">1<' in figures
    assert client_for(None).get(reverse("orders:echo_wall", args=["nowhere"])).status_code == 404


def test_scrub_hides_numbers_and_names_but_keeps_dates() -> None:
    text = "王秀英 住3单元502室 2026-03-05 来电 029-87654321 手机+86 138-0000-0001 身份证61010319600101123X"
    out = scrub(text, ["王秀英", ""])
    assert "王秀英" not in out and "王*英" in out and "2026-03-05" in out
    assert "502" not in out and "3单元" not in out
    assert "87654321" not in out and "0001" not in out and "61010319600101123" not in out


def test_resident_timeline_names_the_handler_without_their_phone(w: SimpleNamespace) -> None:
    order = filed(w)
    staff = actor_for(w.staff_a)
    services.order_accept(actor=staff, order=order)
    worker = AssigneeInput(handler="grid_worker", user_id=w.grid_worker_a1.id)
    services.order_dispatch(actor=staff, order=order, assignees=[worker])
    body = client_for(w.resident_a1).get(reverse("orders:mine_detail", args=[order.id])).content.decode()
    assert "网格员一" in body and w.grid_worker_a1.phone not in body
    task = client_for(w.grid_worker_a1).get(reverse("orders:task", args=[order.id])).content.decode()
    assert "网格员一" in task.split("</dl>")[0] and w.grid_worker_a1.phone not in task.split("</dl>")[0]
