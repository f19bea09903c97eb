"""Page permission rows for the pages every part of the market shares (see linli/common/tests/matrix.py)."""

from __future__ import annotations

import io
from types import SimpleNamespace

from PIL import Image

from linli.common.tests.matrix import A_ALL, Page
from linli.market import services
from linli.market.models import Product
from linli.market.services import ProductData
from linli.org.access import actor_for


def photographed_rice(w: SimpleNamespace) -> Product:
    """A product of A with a photo: everyone who lives or works in A may see it."""
    found = Product.objects.filter(community=w.A, name="照片大米").first()
    if found is not None:
        return found
    product = services.product_create(
        actor=actor_for(w.staff_a), community=w.A, data=ProductData(name="照片大米", price=15), stock=1
    )
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, "JPEG")
    buffer.seek(0)
    buffer.name = "rice.jpg"
    services.product_photo_set(actor=actor_for(w.staff_a), product=product, upload=buffer)
    return product


PAGES: list[Page] = [
    Page("market:product_photo", A_ALL, args=lambda w: [photographed_rice(w).pk]),
]
