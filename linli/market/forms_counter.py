"""Input of the staff counter. Forms check only the shape of what was typed or clicked; the rules (stock, points,
limits, one choice) live in the services.

The till's basket lives in the page itself: one `qty_<product id>` number input per basket line, so the counter works
without JavaScript (every button posts the whole form back) and htmx only swaps the result in place. The idempotency
key is made when the till is first shown and rides along in a hidden input: a double click on "Confirm" or a browser
resubmit sends the same key and the service answers with the first redemption.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from linli.market import domain
from linli.market.models import Channel, Product, RedemptionLine, RedemptionStatus

RESERVATION_QR_PREFIX = "LINLI-R:"
_NUMBER = re.compile(r"^\d{4}-\d{1,8}$")
_QTY_FIELD = re.compile(r"^qty_(\d{1,18})$")
MAX_TEXT = 200


def new_key() -> str:
    return uuid.uuid4().hex


def reservation_number(scanned: str) -> str | None:
    """The redemption number in what was typed or scanned ("2026-0042" or "LINLI-R:2026-0042"), or None."""
    text = (scanned or "").strip()
    if text.upper().startswith(RESERVATION_QR_PREFIX):
        text = text[len(RESERVATION_QR_PREFIX) :].strip()
    return text if _NUMBER.match(text) else None


class ScanForm(forms.Form):
    """Step 1 at the counter: a points card scanned (the scanner types its payload and presses Enter), or a name or
    the last digits of a phone typed by hand."""

    q = forms.CharField(
        label=_lazy("Scan the points card, or type a name or the last digits of a phone"),
        max_length=100,
        required=False,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "off", "class": "c-scan-input", "enterkeyhint": "search"}
        ),
    )


class PickupForm(forms.Form):
    q = forms.CharField(
        label=_lazy("Reservation number (scan its QR code or type it)"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "2026-0042", "enterkeyhint": "search"}),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label=_lazy("Why is it called off?"), max_length=MAX_TEXT)


class HistoryForm(forms.Form):
    day = forms.DateField(label=_lazy("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(
        label=_lazy("Status"), required=False, choices=[("", _lazy("any")), *RedemptionStatus.choices]
    )
    channel = forms.ChoiceField(label=_lazy("Channel"), required=False, choices=[("", _lazy("any")), *Channel.choices])
    q = forms.CharField(label=_lazy("Number or name"), max_length=50, required=False)


# --- the basket ------------------------------------------------------------------------------------------------------
@dataclass
class BasketLine:
    product: Product
    quantity: int

    @property
    def points(self) -> int:
        return self.product.price * self.quantity


@dataclass
class Basket:
    """The basket as the page shows it: lines of products on this shelf, the quantities asked, and what was wrong with
    the input (kept apart, so the page can show it above the basket)."""

    lines: list[BasketLine] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(x.points for x in self.lines)

    @property
    def quantities(self) -> dict[int, int]:
        return {x.product.pk: x.quantity for x in self.lines}

    def wants(self) -> list[domain.Want]:
        return [domain.Want(x.product.pk, x.quantity) for x in self.lines]


def _quantity(raw: str) -> int | None:
    """A whole number 0..MAX_QUANTITY, or None for anything else (letters, negatives, 10^20, 1.5)."""
    text = (raw or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 3:
        return None
    number = int(text)
    return number if number <= domain.MAX_QUANTITY else None


def _product_id(raw: Any) -> int | None:
    text = str(raw or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    number = int(text)
    return number if number > 0 else None


def read_basket(data: Mapping[str, Any], shelf: Iterable[Product]) -> Basket:
    """The basket posted with the till form, after the button that was pressed (add / inc / dec / drop)."""
    on_shelf = {p.pk: p for p in shelf}
    basket = Basket()
    asked: dict[int, int] = {}
    unknown = False
    bad = False
    for name in data:
        match = _QTY_FIELD.match(name)
        if match is None:
            continue
        pid = int(match.group(1))
        quantity = _quantity(data.get(name, ""))
        if pid not in on_shelf:
            unknown = True
            continue
        if quantity is None:
            bad = True
            quantity = 1  # keep the line so the person can correct it; confirming is refused below
        asked[pid] = quantity
    steps: tuple[tuple[str, int | None], ...] = (("add", 1), ("inc", 1), ("dec", -1), ("drop", None))
    for button, step in steps:
        if button not in data:
            continue
        chosen = _product_id(data.get(button))
        if chosen is None or chosen not in on_shelf:
            unknown = True
            continue
        if step is None:
            asked.pop(chosen, None)
        else:
            wanted = asked.get(chosen, 0) + step
            if wanted > domain.MAX_QUANTITY:
                basket.errors.append(_("At most %(n)d of one item per exchange.") % {"n": domain.MAX_QUANTITY})
                wanted = domain.MAX_QUANTITY
            asked[chosen] = max(wanted, 0)
    if bad:
        basket.errors.append(
            _("Quantities must be whole numbers from 0 to %(n)d. Please correct them.") % {"n": domain.MAX_QUANTITY}
        )
    if unknown:
        basket.errors.append(_("An item asked for is not on this community's shelf; it was left out."))
    basket.lines = [BasketLine(on_shelf[pid], qty) for pid, qty in asked.items() if qty > 0]
    if len(basket.lines) > domain.MAX_LINES:
        basket.errors.append(_("At most %(n)d different items per exchange.") % {"n": domain.MAX_LINES})
    return basket


# --- returns ---------------------------------------------------------------------------------------------------------
@dataclass
class ReturnRow:
    line: RedemptionLine
    returnable: int


class ReturnForm(forms.Form):
    """One quantity per line of a completed redemption (0 = nothing comes back), a reason and the key."""

    reason = forms.CharField(label=_lazy("Why is it brought back?"), max_length=MAX_TEXT)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, data: Any = None, *, rows: list[ReturnRow], **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.rows = rows
        if data is None:
            self.initial.setdefault("idempotency_key", new_key())
        for row in rows:
            self.fields[f"line_{row.line.pk}"] = forms.IntegerField(
                label=row.line.name,
                min_value=0,
                max_value=row.returnable,
                initial=0,
                required=False,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "c-qty"}),
                disabled=row.returnable == 0,
            )

    def line_fields(self) -> list[tuple[ReturnRow, forms.BoundField]]:
        return [(row, self[f"line_{row.line.pk}"]) for row in self.rows]

    def quantities(self) -> dict[int, int]:
        return {
            row.line.pk: self.cleaned_data.get(f"line_{row.line.pk}") or 0
            for row in self.rows
            if self.cleaned_data.get(f"line_{row.line.pk}")
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.is_bound and not self.errors and not self.quantities():
            raise forms.ValidationError(_("Choose what comes back."))
        return cleaned
