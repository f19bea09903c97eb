"""The shelf count in a real phone browser: a grid worker starts a stocktake, counts two items, closes it after the
confirmation step, and reads the variance report; the product list with its low-stock alert fits a 375 px screen."""

from __future__ import annotations

from typing import Any

import pytest

from linli.common.testing import PASSWORD, make_world
from linli.market.models import MovementKind, Product, StockMovement, Stocktake, StocktakeStatus
from linli.market.testing import make_market

pytestmark = pytest.mark.browser


def test_grid_worker_counts_the_shelf_on_a_phone(
    transactional_db: None, live_server: Any, new_page: Any, sign_in: Any, screenshot: Any
) -> None:
    w = make_market(make_world())
    page = new_page(width=375, height=812)
    sign_in(page, live_server, w.grid_worker_a1.phone, PASSWORD)

    page.goto(f"{live_server.url}/market/stocktakes/?community={w.A.id}")
    page.fill("input[name=note]", "月底清点")
    with page.expect_navigation():
        page.click("form.card button[type=submit]")
    take = Stocktake.objects.get()
    assert page.url.endswith(f"/market/stocktakes/{take.id}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "count-sheet")

    page.fill(f"input[name=count_{w.soy.id}]", "47")
    page.fill(f"input[name=count_{w.rice.id}]", "2")  # alert at 3: now low
    with page.expect_navigation():
        page.click("button[value=close]")
    assert page.locator("[data-testid=preview]").inner_text().count("-3") == 1
    assert Stocktake.objects.get().status == StocktakeStatus.OPEN
    with page.expect_navigation():
        page.click("button[value=close_confirmed]")
    assert Stocktake.objects.get().status == StocktakeStatus.CLOSED
    booked = dict(StockMovement.objects.filter(kind=MovementKind.STOCKTAKE).values_list("product_id", "quantity"))
    assert booked == {w.soy.id: -3, w.rice.id: -18}
    assert Product.objects.get(pk=w.soy.pk).stock == 47
    assert "-9" in page.locator("[data-testid=variance]").inner_text()  # 3 bottles × 3 points short
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "variance-report")

    page.goto(f"{live_server.url}/market/products/?community={w.A.id}")
    assert "大米（5斤装）" in page.locator("[data-testid=low-stock]").inner_text()
    screenshot(page, "products")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
