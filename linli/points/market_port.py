"""The boundary between donations and the points market: how an assessed donated item becomes shelf stock.

The points app owns donations; the market app owns its stock. Neither imports the other's tables. The market app
implements `MarketPort` and makes it known either in settings::

    LINLI_MARKET_PORT = "linli.market.ports.DonatedStock"   # an import path to a class or an instance

or at start-up (its AppConfig.ready) with `register(DonatedStock())`. Until one of them is there, assessed items stay
"queued" and a staff page lists them; `linli.points.donations.donated_items_send_to_market` moves them once an
implementation exists. The call happens inside the points transaction that marks the item stocked, so the market's
stock row and the item's status commit together or not at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from django.conf import settings
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from linli.org.access import Actor
    from linli.points.models import DonatedItem


@runtime_checkable
class MarketPort(Protocol):
    def stock_donated_item(self, *, item: DonatedItem, price: int, actor: Actor) -> str:
        """Put `item` (its quantity, description, kind and condition) on the shelf of its community's market at
        `price` points each, and return the market's stock reference (at most 60 characters). Called once per item;
        raise a linli.common.errors.DomainError to refuse (the item then stays queued)."""
        ...


_registered: MarketPort | None = None


def register(port: MarketPort | None) -> None:
    """Install the market's implementation (None removes it, e.g. at the end of a test)."""
    global _registered
    if port is not None and not isinstance(port, MarketPort):
        raise TypeError("a market port needs a stock_donated_item(*, item, price, actor) method")
    _registered = port


def market() -> MarketPort | None:
    """The market's implementation: the registered one, else the one named in settings, else None (no market yet)."""
    if _registered is not None:
        return _registered
    path = getattr(settings, "LINLI_MARKET_PORT", "")
    if not path:
        return None
    found = import_string(path)
    port = found() if isinstance(found, type) else found
    if not isinstance(port, MarketPort):
        raise TypeError(f"{path} is not a market port")
    return port
