"""The market's side of the donations boundary (linli/points/market_port.py): an assessed donated item becomes a
product of kind "donated" on its community's shelf, its quantity booked in as a donation movement."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from linli.market.models import MovementKind, Product, ProductKind
from linli.market.services import _move

if TYPE_CHECKING:
    from linli.org.access import Actor
    from linli.points.models import DonatedItem


class DonatedStock:
    """Called inside the points transaction that marks the item stocked: both commit together or not at all."""

    def stock_donated_item(self, *, item: DonatedItem, price: int, actor: Actor) -> str:
        product = Product.objects.filter(donated_item_id=item.pk).first()
        if product is None:  # called once per item; a second call (a retry) finds the first product
            product = Product.objects.create(
                community_id=item.community_id,
                name=item.description[:80],
                kind=ProductKind.DONATED,
                category=item.category[:40] or _("second-hand"),
                description=item.condition[:300],
                unit=_("piece"),
                price=price,
                tracks_stock=True,
                donated_item_id=item.pk,
            )
            if item.quantity:
                _move(
                    actor,
                    product,
                    item.quantity,
                    MovementKind.DONATION,
                    _("Donation %(number)d") % {"number": item.donation_id},
                )
        return f"product:{product.pk}"
