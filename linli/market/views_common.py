"""Pages every part of the market shares."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from linli.common.errors import NotFound
from linli.market import selectors
from linli.market.models import ProductPhoto
from linli.org.context_processors import get_actor


@require_GET
@login_required
def product_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """A product's photo for whoever may read the community's shelf."""
    product = selectors.product_get(get_actor(request), pk)
    photo = ProductPhoto.objects.filter(product=product).first()
    if photo is None:
        raise NotFound()
    response = HttpResponse(bytes(photo.data), content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["ETag"] = f'"{photo.sha256}"'
    return response
