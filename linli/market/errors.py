"""Refusals of the points market, each with a stable code clients switch on."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from linli.common.errors import Conflict, Forbidden, Invalid, NotFound


class OutOfStock(Conflict):
    code = "out_of_stock"
    default_message = _("Sorry, not enough left on the shelf.")

    def __init__(self, name: str, left: int, **kwargs: Any) -> None:
        super().__init__(
            _("Sorry, “%(name)s” is out of stock (%(left)d left).") % {"name": name, "left": left},
            details={"product": name, "left": left},
            **kwargs,
        )


class NotOnShelf(Invalid):
    code = "not_on_shelf"
    default_message = _("That item is not on this community's shelf now.")


class LimitReached(Conflict):
    code = "limit_reached"
    default_message = _("The limit for this item has been reached for this period.")


class OneChoiceOnly(Invalid):
    code = "one_choice_only"
    default_message = _("Only one of these options can be taken per exchange.")


class BadBasket(Invalid):
    code = "basket_invalid"
    default_message = _("The basket is empty or has impossible quantities.")


class RedemptionStatusRefused(Conflict):
    code = "redemption_status"
    default_message = _("This redemption is not at a step where that can be done; the page may be out of date.")


class VoucherRefused(Conflict):
    code = "voucher_status"
    default_message = _("This voucher cannot be used: it was used, cancelled or has expired.")


class VoucherNotFound(NotFound):
    code = "voucher_not_found"
    default_message = _("No voucher with this code for your shop. Check the code and try again.")


class NotYourVoucher(Forbidden):
    code = "voucher_other_provider"
    default_message = _("This voucher is for another merchant.")


class ReasonRequired(Invalid):
    code = "reason_required"
    default_message = _("Please give a reason.")


class StocktakeOpen(Conflict):
    code = "stocktake_open"
    default_message = _("A stocktake is already under way in this community; finish or cancel it first.")


class StocktakeClosed(Conflict):
    code = "stocktake_closed"
    default_message = _("This stocktake is already closed.")
