"""The catalogue and stock pages as staff and grid workers use them: products and the low-stock alert, the product
form (and every kind of bad input), one-choice groups, receipts and adjustments, a stocktake from start to variance
report, the exports (opened with openpyxl) and the settings."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook
from PIL import Image

from linli.common.testing import client_for
from linli.market import services
from linli.market.models import (
    ChoiceGroup,
    MarketSettings,
    MovementKind,
    Product,
    ProductPhoto,
    StockMovement,
    Stocktake,
    StocktakeStatus,
)
from linli.market.testing import buy, give_points, make_market
from linli.org.access import actor_for

PRODUCTS = reverse("market:products")
NEW = reverse("market:product_new")
GROUPS = reverse("market:choice_groups")
TAKES = reverse("market:stocktakes")
SETTINGS = reverse("market:settings")


def english(user: Any) -> Client:
    client = client_for(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def text(response: Any) -> str:
    return str(response.content.decode())


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    return make_market(world)


def png(name: str = "item.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), "red").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def item(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "goods",
        "name": "挂面",
        "price": "4",
        "category": "粮油副食",
        "unit": "把",
        "stock": "12",
        "low_stock_at": "2",
        "limit_period": "month",
        "position": "0",
        "tracks_stock": "on",
        "is_active": "on",
        "request_key": "form-1",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def xlsx_rows(content: bytes) -> list[tuple[Any, ...]]:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return [tuple(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


# --- the product list -----------------------------------------------------------------------------------------------


def test_products_show_stock_words_values_and_the_low_stock_alert(w: SimpleNamespace) -> None:
    staff = actor_for(w.staff_a)
    services.stock_adjust(actor=staff, product=w.rice, change=-18, reason="受潮")  # 2 left, alert at 3
    services.stock_adjust(actor=staff, product=w.oil, change=-10, reason="过期")  # none left
    response = english(w.staff_a).get(PRODUCTS, {"community": w.A.id})
    assert response.status_code == 200
    page = text(response)
    alert = page.split('data-testid="low-stock"')[1].split("</section>")[0]
    # rice is at its alert level, oil is out (alert at 0); soy (50, alert 5) and the uncounted haircut are not
    assert "大米（5斤装）" in alert and "菜籽油（5升）" in alert and "酱油" not in alert and "理发一次" not in alert
    assert 'data-testid="low-count">2 low<' in page and "<title>Products (2 low)" in page
    rice_row = page.split(f'data-testid="product-{w.rice.id}"')[1].split("</tr>")[0]
    oil_row = page.split(f'data-testid="product-{w.oil.id}"')[1].split("</tr>")[0]
    soy_row = page.split(f'data-testid="product-{w.soy.id}"')[1].split("</tr>")[0]
    assert 'class="s-low">low<' in rice_row and 'class="s-out">out<' in oil_row
    assert "s-low" not in soy_row and "s-out" not in soy_row and ">150<" in soy_row  # 50 × 3 points
    # 50×3 + 30×6 + 2×15 + 0×40; the haircut is not counted and has no value; B's tissues are not A's
    assert 'data-testid="total-value">360<' in page
    assert "抽纸" not in page
    assert "理发一次" in page and "老街理发店" in page


def test_products_search_and_filters(w: SimpleNamespace) -> None:
    c = english(w.staff_a)
    found = text(c.get(PRODUCTS, {"community": w.A.id, "q": "油"}))
    assert "酱油" in found and "菜籽油" in found and "洗洁精" not in found
    services_only = text(c.get(PRODUCTS, {"community": w.A.id, "kind": "service"}))
    assert "理发一次" in services_only and "酱油" not in services_only.split('data-testid="products"')[1]
    services.stock_adjust(actor=actor_for(w.staff_a), product=w.rice, change=-17, reason="受潮")
    low = text(c.get(PRODUCTS, {"community": w.A.id, "low": "on"})).split('data-testid="products"')[1]
    assert "大米" in low and "洗洁精" not in low and "酱油" not in low
    # nonsense filters are ignored rather than failing
    assert c.get(PRODUCTS, {"community": w.A.id, "kind": "gold", "q": "x" * 500}).status_code == 200


def test_products_export_is_a_real_workbook(w: SimpleNamespace) -> None:
    response = english(w.auditor_a).get(PRODUCTS, {"community": w.A.id, "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="products-dxdl-' in response["Content-Disposition"]
    rows = xlsx_rows(response.content)
    assert rows[0][:8] == (
        "Name", "Kind", "Category", "Unit", "Price in points", "In stock", "Alert at or below", "Stock value in points"
    )  # fmt: skip
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["酱油"][4:8] == (3, 50, 5, 150)
    assert by_name["理发一次"][5] is None and by_name["理发一次"][12] == "老街理发店"
    assert rows[-1][0] == "Total" and rows[-1][7] == 150 + 180 + 300 + 400
    assert "抽纸（一提）" not in by_name


def test_products_of_another_community_are_not_found(w: SimpleNamespace) -> None:
    assert client_for(w.staff_a).get(PRODUCTS, {"community": w.B.id}).status_code == 404
    assert client_for(w.staff_a).get(reverse("market:product_stock", args=[w.tissuesB.id])).status_code == 404
    assert client_for(w.staff_a).get(reverse("market:product_edit", args=[w.tissuesB.id])).status_code == 404


# --- the product form -----------------------------------------------------------------------------------------------


def test_new_item_with_opening_stock_and_photo(w: SimpleNamespace) -> None:
    c = english(w.staff_a)
    form = c.get(NEW, {"community": w.A.id})
    assert form.status_code == 200
    page = text(form)
    assert '<datalist id="product-categories">' in page and '<option value="日用品">' in page
    assert 'accept="image/*"' in page and "老街理发店" in page and "府西便利店" not in page
    response = c.post(f"{NEW}?community={w.A.id}", {**item(), "photo": png()})
    assert response.status_code == 302 and response["Location"] == f"{PRODUCTS}?community={w.A.id}"
    made = Product.objects.get(name="挂面")
    assert (made.community_id, made.price, made.stock, made.unit, made.low_stock_at) == (w.A.id, 4, 12, "把", 2)
    movement = StockMovement.objects.get(product=made)
    assert (movement.kind, movement.quantity, movement.actor_id) == (MovementKind.RECEIPT, 12, w.staff_a.id)
    photo = ProductPhoto.objects.get(product=made)
    assert photo.width == 60 and bytes(photo.data)[:2] == b"\xff\xd8"  # re-encoded as JPEG


def test_a_new_item_form_sent_twice_adds_the_item_once(w: SimpleNamespace) -> None:
    """A double click on Save, or the page sent again: one item, one opening receipt, one photo."""
    c = english(w.staff_a)
    page = text(c.get(NEW, {"community": w.A.id}))
    key = page.split('name="request_key" value="')[1].split('"')[0]
    assert len(key) == 32
    for _ in range(2):
        response = c.post(f"{NEW}?community={w.A.id}", {**item(request_key=key), "photo": png()})
        assert response.status_code == 302
    made = Product.objects.get(name="挂面")
    assert StockMovement.objects.filter(product=made).count() == 1 and made.stock == 12
    assert ProductPhoto.objects.filter(product=made).count() == 1
    # the same form sent back with something changed adds nothing and says why
    response = c.post(f"{NEW}?community={w.A.id}", item(request_key=key, name="龙须面"))
    assert response.status_code == 400 and "This form has already added an item" in text(response)
    assert not Product.objects.filter(name="龙须面").exists()
    # another login cannot replay this one's form
    assert english(w.street_admin).post(f"{NEW}?community={w.A.id}", item(request_key=key)).status_code == 302
    assert Product.objects.filter(name="挂面").count() == 2
    # a form without its key (not one a browser sends) is refused and writes nothing
    response = c.post(f"{NEW}?community={w.A.id}", item(request_key=None, name="无钥匙"))
    assert response.status_code == 400 and not Product.objects.filter(name="无钥匙").exists()


def test_new_voucher_item_with_provider_limit_and_window(w: SimpleNamespace) -> None:
    group = services.choice_group_create(actor=actor_for(w.staff_a), community=w.A, name="服务二选一")
    data = item(
        kind="service",
        name="上门保洁",
        price="20",
        stock="5",
        partner=str(w.partnerA.id),
        limit_per_person="1",
        limit_period="week",
        available_from="2026-03-01",
        available_until="2026-03-31",
        choice_group=str(group.id),
    )
    assert english(w.staff_a).post(f"{NEW}?community={w.A.id}", data).status_code == 302
    made = Product.objects.get(name="上门保洁")
    assert made.partner_id == w.partnerA.id and made.merchant_id is None and made.choice_group_id == group.id
    assert (made.limit_per_person, made.limit_period, str(made.available_until)) == (1, "week", "2026-03-31")
    assert made.stock == 5 and made.issues_voucher


BAD_ITEMS = {
    "price zero": ({"price": "0"}, "price"),
    "price letters": ({"price": "abc"}, "price"),
    "price huge": ({"price": str(10**20)}, "price"),
    "price over the maximum": ({"price": str(services.MAX_PRICE + 1)}, "price"),
    "negative stock": ({"stock": "-3"}, "stock"),
    "no name": ({"name": "  "}, "name"),
    "unknown kind": ({"kind": "gold"}, "kind"),
    "limit zero": ({"limit_per_person": "0"}, "limit_per_person"),
    "window backwards": ({"available_from": "2026-05-02", "available_until": "2026-05-01"}, "available_until"),
    "bad date": ({"available_from": "2026-13-45"}, "available_from"),
    "two providers": ({"kind": "service", "merchant": "MA", "partner": "PA"}, "partner"),
    "merchant of another community": ({"kind": "service", "merchant": "MB"}, "merchant"),
    "partner of another community": ({"kind": "service", "partner": "PB"}, "partner"),
    "coupon with stock": ({"kind": "coupon", "stock": "4"}, "stock"),
}


@pytest.mark.parametrize("case", list(BAD_ITEMS), ids=list(BAD_ITEMS))
def test_new_item_bad_input_is_an_inline_error_and_nothing_is_written(w: SimpleNamespace, case: str) -> None:
    extra, field = BAD_ITEMS[case]
    ids = {"MA": w.mA.id, "MB": w.mB.id, "PA": w.partnerA.id, "PB": w.partnerB.id}
    extra = {k: str(ids.get(v, v)) for k, v in extra.items()}
    before = (Product.objects.count(), StockMovement.objects.count())
    response = english(w.staff_a).post(f"{NEW}?community={w.A.id}", item(**extra))
    assert response.status_code == 400
    page = text(response)
    # the error is shown beside its field, and the typed values stay in the form
    assert f'id="id_{field}"' in page
    after_field = page.split(f'id="id_{field}"')[1].split('<div class="field')[0]
    assert 'class="errorlist' in after_field, f"no error beside {field}"
    assert 'value="挂面"' in page or case == "no name"
    assert (Product.objects.count(), StockMovement.objects.count()) == before


def test_a_fake_image_is_refused_and_nothing_is_written(w: SimpleNamespace) -> None:
    fake = SimpleUploadedFile("photo.jpg", b"<?php echo 'not a picture'; ?>", content_type="image/jpeg")
    response = english(w.staff_a).post(f"{NEW}?community={w.A.id}", {**item(), "photo": fake})
    assert response.status_code == 400 and "The photo could not be read" in text(response)
    assert not Product.objects.filter(name="挂面").exists() and not ProductPhoto.objects.exists()
    # on an existing item the fake image leaves both the item and its photo as they were
    url = reverse("market:product_edit", args=[w.soy.id])
    response = english(w.staff_a).post(url, {**item(name="新酱油", stock=None), "photo": fake})
    assert response.status_code == 400 and Product.objects.get(pk=w.soy.pk).name == "酱油"


def test_edit_item_keeps_stock_and_shows_current_values(w: SimpleNamespace) -> None:
    c = english(w.staff_a)
    url = reverse("market:product_edit", args=[w.soy.id])
    page = text(c.get(url))
    assert 'value="酱油"' in page and 'name="stock"' not in page  # stock moves only through movements
    data = item(name="酱油（500ml）", price="4", stock=None, is_active=None, low_stock_at="8")
    response = c.post(url, {**data, "stock": "999"})  # a stock smuggled in is ignored
    assert response.status_code == 302
    soy = Product.objects.get(pk=w.soy.pk)
    assert (soy.name, soy.price, soy.stock, soy.is_active, soy.low_stock_at) == ("酱油（500ml）", 4, 50, False, 8)
    assert c.post(url, {**data, "price": "-1"}).status_code == 400 and Product.objects.get(pk=w.soy.pk).price == 4


def test_readers_see_no_write_links_and_cannot_write(w: SimpleNamespace) -> None:
    for user in (w.auditor_a, w.grid_worker_a1):
        c = english(user)
        page = text(c.get(PRODUCTS, {"community": w.A.id}))
        assert reverse("market:product_edit", args=[w.soy.id]) not in page and NEW not in page
        stock = text(c.get(reverse("market:product_stock", args=[w.soy.id])))
        assert 'name="op"' not in stock and "Book the receipt" not in stock and "Correct the stock" not in stock
        posted = c.post(reverse("market:product_stock", args=[w.soy.id]), {"op": "receive", "receive-quantity": "5"})
        assert posted.status_code == 403
    assert Product.objects.get(pk=w.soy.pk).stock == 50


# --- one-choice groups ----------------------------------------------------------------------------------------------


def test_choice_groups_create_list_and_refuse_duplicates(w: SimpleNamespace) -> None:
    c = english(w.staff_a)
    assert c.post(f"{GROUPS}?community={w.A.id}", {"name": "主食二选一"}).status_code == 302
    group = ChoiceGroup.objects.get(community=w.A)
    services.product_update(
        actor=actor_for(w.staff_a),
        product=w.rice,
        data=services.ProductData(name=w.rice.name, price=15, choice_group=group, low_stock_at=3),
    )
    page = text(c.get(GROUPS, {"community": w.A.id}))
    table = page.split('data-testid="groups"')[1]
    assert "主食二选一" in table and "大米（5斤装）" in table.split("主食二选一")[1]
    again = c.post(f"{GROUPS}?community={w.A.id}", {"name": " 主食二选一 "})
    assert again.status_code == 400 and "A group with this name exists already." in text(again)
    empty = c.post(f"{GROUPS}?community={w.A.id}", {"name": ""})
    assert empty.status_code == 400 and 'class="errorlist' in text(empty)
    assert ChoiceGroup.objects.count() == 1
    # the auditor reads the groups but gets no form
    assert 'name="name"' not in text(english(w.auditor_a).get(GROUPS, {"community": w.A.id}))


# --- receipts and adjustments ---------------------------------------------------------------------------------------


def test_receive_and_adjust_book_movements(w: SimpleNamespace) -> None:
    c = english(w.staff_a)
    url = reverse("market:product_stock", args=[w.rice.id])
    got = c.post(url, {"op": "receive", "receive-quantity": "10", "receive-reason": "街道配送"})
    assert got.status_code == 302 and Product.objects.get(pk=w.rice.pk).stock == 30
    fixed = c.post(url, {"op": "adjust", "adjust-change": "-3", "adjust-reason": "袋子破了"})
    assert fixed.status_code == 302 and Product.objects.get(pk=w.rice.pk).stock == 27
    page = text(c.get(url))
    assert "Book the receipt" in page and "Book the correction" in page  # staff get both forms
    rows = page.split('data-testid="movements"')[1]
    assert "Goods received" in rows and "+10" in rows and "街道配送" in rows
    assert "Adjustment" in rows and "-3" in rows and "袋子破了" in rows and ">27<" in rows and "社区工作者甲" in rows
    # the newest first
    assert rows.index("袋子破了") < rows.index("街道配送")


def test_redemptions_show_their_number_in_the_history(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 30)
    redemption = buy(w, w.pA1, (w.rice, 2))
    page = text(english(w.grid_worker_a1).get(reverse("market:product_stock", args=[w.rice.id])))
    rows = page.split('data-testid="movements"')[1]
    assert redemption.number and redemption.number in rows and "Redeemed" in rows and "-2" in rows


BAD_MOVES = {
    "adjust below zero": ({"op": "adjust", "adjust-change": "-51", "adjust-reason": "丢失"}, "out of stock"),
    "adjust without reason": ({"op": "adjust", "adjust-change": "-1", "adjust-reason": "   "}, "errorlist"),
    "adjust zero": ({"op": "adjust", "adjust-change": "0", "adjust-reason": "无"}, "other than zero"),
    "adjust letters": ({"op": "adjust", "adjust-change": "abc", "adjust-reason": "无"}, "errorlist"),
    "receive zero": ({"op": "receive", "receive-quantity": "0"}, "errorlist"),
    "receive negative": ({"op": "receive", "receive-quantity": "-5"}, "errorlist"),
    "receive huge": ({"op": "receive", "receive-quantity": str(10**20)}, "errorlist"),
    "receive letters": ({"op": "receive", "receive-quantity": "十"}, "errorlist"),
}


@pytest.mark.parametrize("case", list(BAD_MOVES), ids=list(BAD_MOVES))
def test_bad_stock_moves_are_inline_errors(w: SimpleNamespace, case: str) -> None:
    data, expected = BAD_MOVES[case]
    before = StockMovement.objects.count()
    response = english(w.staff_a).post(reverse("market:product_stock", args=[w.soy.id]), data)
    assert response.status_code == 400 and expected in text(response)
    assert Product.objects.get(pk=w.soy.pk).stock == 50 and StockMovement.objects.count() == before


def test_out_of_stock_error_is_translated(w: SimpleNamespace) -> None:
    response = client_for(w.staff_a).post(
        reverse("market:product_stock", args=[w.soy.id]),
        {"op": "adjust", "adjust-change": "-51", "adjust-reason": "丢"},
    )
    assert response.status_code == 400 and "酱油" in text(response) and "50" in text(response)


def test_unknown_action_and_uncounted_item(w: SimpleNamespace) -> None:
    c = english(w.staff_a)
    assert c.post(reverse("market:product_stock", args=[w.soy.id]), {"op": "steal"}).status_code == 400
    haircut = reverse("market:product_stock", args=[w.haircut.id])
    assert 'name="op"' not in text(c.get(haircut))  # nothing to receive for an item that is not counted
    refused = c.post(haircut, {"op": "receive", "receive-quantity": "3"})
    assert refused.status_code == 400 and "not counted" in text(refused)
    assert not StockMovement.objects.filter(product=w.haircut).exists()


# --- stocktakes -----------------------------------------------------------------------------------------------------


def test_stocktake_start_partial_count_close_and_report(w: SimpleNamespace) -> None:
    c = english(w.grid_worker_a1)  # the grid worker counts the shelf
    started = c.post(f"{TAKES}?community={w.A.id}", {"note": "三月清点"})
    take = Stocktake.objects.get()
    assert started.status_code == 302 and started["Location"] == reverse("market:stocktake", args=[take.id])
    assert take.started_by_id == w.grid_worker_a1.id and take.lines.count() == 4  # the haircut is not counted
    # a second count is refused with a clear message while this one is open
    second = c.post(f"{TAKES}?community={w.A.id}", {"note": ""})
    assert second.status_code == 400 and "already under way" in text(second) and Stocktake.objects.count() == 1
    url = reverse("market:stocktake", args=[take.id])
    sheet = text(c.get(url))
    assert f'name="count_{w.soy.id}"' in sheet and "Book stock now" in sheet and "window.print()" in sheet
    # partial count: soy 2 short, rice as booked, oil 1 over; detergent not counted yet
    saved = c.post(url, {"op": "save", f"count_{w.soy.id}": "48", f"count_{w.rice.id}": "20", f"count_{w.oil.id}": ""})
    assert saved.status_code == 302
    counted = dict(take.lines.values_list("product_id", "counted"))
    assert counted == {w.soy.id: 48, w.rice.id: 20, w.oil.id: None, w.detergent.id: None}
    # a redemption during the count is in the book: the difference is taken against the stock at closing
    give_points(w, w.pA1, 30)
    buy(w, w.pA1, (w.rice, 1))
    confirm = c.post(
        url, {"op": "close", f"count_{w.soy.id}": "48", f"count_{w.rice.id}": "19", f"count_{w.oil.id}": "11"}
    )
    assert confirm.status_code == 200 and "Yes, close and book" in text(confirm)
    preview = text(confirm).split('data-testid="preview"')[1]
    assert "酱油" in preview and "-2" in preview and "菜籽油" in preview and "+1" in preview and "大米" not in preview
    assert Stocktake.objects.get().status == StocktakeStatus.OPEN  # nothing booked before the confirmation
    closed = c.post(url, {"op": "close_confirmed"})
    assert closed.status_code == 302
    take.refresh_from_db()
    assert take.status == StocktakeStatus.CLOSED and take.closed_by_id == w.grid_worker_a1.id
    moves = {m.product_id: m.quantity for m in StockMovement.objects.filter(kind=MovementKind.STOCKTAKE)}
    assert moves == {w.soy.id: -2, w.oil.id: 1}
    assert [Product.objects.get(pk=p.pk).stock for p in (w.soy, w.rice, w.oil, w.detergent)] == [48, 19, 11, 30]
    report = text(c.get(url))
    assert 'name="count_' not in report
    variance = report.split('data-testid="variance"')[1]
    # rows that are off first; the uncounted detergent last
    assert variance.index("酱油") < variance.index("大米") < variance.index("洗洁精")
    assert variance.index("菜籽油") < variance.index("大米") and "-6" in variance and "+40" in variance
    totals = report.split('data-testid="totals"')[1].split('data-testid="variance"')[0]
    assert ">2<" in totals and ">6<" in totals and ">40<" in totals  # 2 products off, 6 points short, 40 over
    listing = text(c.get(TAKES, {"community": w.A.id})).split('data-testid="stocktakes"')[1]
    assert "三月清点" in listing and "Closed" in listing and "3/4" in listing
    # closing again is refused with a clear message, nothing booked twice
    again = c.post(url, {"op": "close_confirmed"})
    assert again.status_code == 409 and "already closed" in text(again)
    assert StockMovement.objects.filter(kind=MovementKind.STOCKTAKE).count() == 2

    exported = c.get(reverse("market:stocktake_export", args=[take.id]))
    assert exported.status_code == 200 and exported["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = xlsx_rows(exported.content)
    assert rows[0] == (
        "Name", "Unit", "Book stock", "Counted", "Difference", "Price in points", "Points value of the difference"
    )  # fmt: skip
    assert rows[1] == ("菜籽油（5升）", "桶", 10, 11, 1, 40, 40)  # largest value off first
    assert rows[2] == ("酱油", "瓶", 50, 48, -2, 3, -6)
    assert rows[3][:5] == ("大米（5斤装）", "袋", 19, 19, 0)
    assert rows[4][:5] == ("洗洁精", "瓶", 30, None, None)
    summary = {r[0]: r[4] for r in rows[5:] if r and r[0]}
    assert summary == {"Products off": 2, "Units short": 2, "Units over": 1, "Points short": 6, "Points over": 40}


@pytest.mark.parametrize("bad", ["-1", "abc", "1.5", str(10**20)])
def test_bad_counts_are_inline_errors_and_nothing_is_saved(w: SimpleNamespace, bad: str) -> None:
    take = services.stocktake_start(actor=actor_for(w.staff_a), community=w.A)
    url = reverse("market:stocktake", args=[take.id])
    response = english(w.staff_a).post(url, {"op": "save", f"count_{w.soy.id}": bad, f"count_{w.rice.id}": "20"})
    assert response.status_code == 400 and 'class="errorlist' in text(response)
    assert not take.lines.filter(counted__isnull=False).exists()


def test_stocktake_cancel_books_nothing(w: SimpleNamespace) -> None:
    take = services.stocktake_start(actor=actor_for(w.staff_a), community=w.A)
    services.stocktake_count(actor=actor_for(w.staff_a), stocktake=take, counts={w.soy.id: 1})
    url = reverse("market:stocktake", args=[take.id])
    assert english(w.grid_chief_a1).post(url, {"op": "cancel"}).status_code == 302
    take.refresh_from_db()
    assert take.status == StocktakeStatus.CANCELLED and not StockMovement.objects.filter(kind="stocktake").exists()
    assert Product.objects.get(pk=w.soy.pk).stock == 50
    # a new count can start now
    assert english(w.staff_a).post(f"{TAKES}?community={w.A.id}", {}).status_code == 302


def test_auditor_reads_counts_but_cannot_start_or_count(w: SimpleNamespace) -> None:
    take = services.stocktake_start(actor=actor_for(w.staff_a), community=w.A)
    c = english(w.auditor_a)
    listing = text(c.get(TAKES, {"community": w.A.id}))
    assert "Start a count" not in listing and "Look at it" in listing
    sheet = text(c.get(reverse("market:stocktake", args=[take.id])))
    assert 'name="count_' not in sheet and 'data-testid="sheet-read"' in sheet
    url = reverse("market:stocktake", args=[take.id])
    assert c.post(url, {"op": "save", f"count_{w.soy.id}": "1"}).status_code == 403
    assert c.post(url, {"op": "close_confirmed"}).status_code == 403
    assert Stocktake.objects.get().status == StocktakeStatus.OPEN


# --- settings -------------------------------------------------------------------------------------------------------


def test_settings_save_and_refuse_bad_days(w: SimpleNamespace) -> None:
    c = english(w.staff_a)
    page = text(c.get(SETTINGS, {"community": w.A.id}))
    assert 'value="7"' in page and 'value="30"' in page and not MarketSettings.objects.exists()  # a read writes nothing
    ok = c.post(
        f"{SETTINGS}?community={w.A.id}", {"reservation_days": "3", "voucher_days": "60", "counter_note": "9-17点"}
    )
    assert ok.status_code == 302
    assert MarketSettings.objects.filter(
        community=w.A, reservation_days=3, voucher_days=60, counter_note="9-17点"
    ).exists()
    for bad in ("0", "367", "abc", "-1", ""):
        response = c.post(f"{SETTINGS}?community={w.A.id}", {"reservation_days": bad, "voucher_days": "60"})
        assert response.status_code == 400 and 'class="errorlist' in text(response)
    assert MarketSettings.objects.get(community=w.A).reservation_days == 3


def test_street_admin_picks_the_community(w: SimpleNamespace) -> None:
    page = text(english(w.street_admin).get(PRODUCTS, {"community": w.B.id}))
    assert 'id="pick-community"' in page and "抽纸（一提）" in page and "酱油" not in page
    # another street's community is not found
    assert client_for(w.street_admin).get(PRODUCTS, {"community": w.C.id}).status_code == 404
