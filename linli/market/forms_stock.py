"""Forms of the catalogue and stock pages. They check only the shape of the input (whole numbers, lengths, choices
within the community); the rules (one provider, window order, never below zero) live in the services."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.common.errors import DomainError
from linli.common.images import read_upload, reencode
from linli.ledger.forms import new_key
from linli.market import domain
from linli.market.models import ChoiceGroup, LimitPeriod, Product, ProductKind, StocktakeLine
from linli.market.services import MAX_PRICE, MAX_STOCK_CHANGE, ProductData
from linli.org.models import Community, Merchant, PartnerUnit

MAX_LIMIT = domain.MAX_QUANTITY * 10  # as services._check_product allows
MAX_POSITION = 100_000


def _number(**attrs: Any) -> forms.NumberInput:
    return forms.NumberInput(attrs={"inputmode": "numeric", **attrs})


class ProductFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or category"), max_length=50, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("all kinds")), *ProductKind.choices], required=False)
    low = forms.BooleanField(label=_("Only low stock"), required=False)


class ProductForm(forms.Form):
    """One item of the shelf, as services.ProductData; `stock` (opening stock) only when it is new."""

    kind = forms.ChoiceField(label=_("Kind"), choices=ProductKind.choices, initial=ProductKind.GOODS)
    name = forms.CharField(label=_("Name"), max_length=80)
    price = forms.IntegerField(label=_("Price in points"), min_value=1, max_value=MAX_PRICE, widget=_number())
    category = forms.CharField(
        label=pgettext_lazy("goods", "Category"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"list": "product-categories", "autocomplete": "off"}),
    )
    unit = forms.CharField(
        label=pgettext_lazy("goods", "Unit"),
        max_length=10,
        required=False,
        help_text=_("bag, bottle, visit… as written on the receipt"),
    )
    description = forms.CharField(
        label=_("Description"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    merchant = forms.ModelChoiceField(
        label=_("Caring merchant who provides it"), queryset=Merchant.objects.none(), required=False
    )
    partner = forms.ModelChoiceField(
        label=_("Partner unit who provides it"), queryset=PartnerUnit.objects.none(), required=False
    )
    tracks_stock = forms.BooleanField(
        label=_("Count its stock"), required=False, initial=True, help_text=_("Coupons are never counted.")
    )
    stock = forms.IntegerField(
        label=_("Opening stock"), min_value=0, max_value=MAX_STOCK_CHANGE, initial=0, widget=_number()
    )
    low_stock_at = forms.IntegerField(
        label=_("Alert when stock is at or below"),
        min_value=0,
        max_value=MAX_STOCK_CHANGE,
        initial=0,
        widget=_number(),
    )
    limit_per_person = forms.IntegerField(
        label=_("Limit per person"),
        min_value=1,
        max_value=MAX_LIMIT,
        required=False,
        widget=_number(),
        help_text=_("Leave empty for no limit."),
    )
    limit_period = forms.ChoiceField(label=_("Limit period"), choices=LimitPeriod.choices, initial=LimitPeriod.MONTH)
    available_from = forms.DateField(
        label=_("Available from"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    available_until = forms.DateField(
        label=_("Available until"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    choice_group = forms.ModelChoiceField(
        label=_("One-choice group"), queryset=ChoiceGroup.objects.none(), required=False
    )
    is_active = forms.BooleanField(label=_("On the shelf"), required=False, initial=True)
    position = forms.IntegerField(
        label=_("Position on the shelf"),
        min_value=0,
        max_value=MAX_POSITION,
        initial=0,
        widget=_number(),
        help_text=_("Smaller numbers are shown first."),
    )
    # a new item's form carries a key of its own: a double click or a resent page adds the item once
    request_key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
        help_text=_("A JPEG or PNG picture; a new one replaces the old."),
    )

    def __init__(self, *args: Any, community: Community, new: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # only this community's providers and groups can be chosen: anything else is "not one of the choices"
        choices: dict[str, Any] = {
            "merchant": Merchant.objects.filter(community=community).order_by("name"),
            "partner": PartnerUnit.objects.filter(community=community).order_by("name"),
            "choice_group": ChoiceGroup.objects.filter(community=community),
        }
        for name, qs in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = qs
        if new:
            self.initial.setdefault("request_key", new_key())
        else:
            del self.fields["stock"]  # stock changes only through receipts, adjustments and counts
            del self.fields["request_key"]

    def clean_photo(self) -> Any:
        """Read the picture now, so a fake image is an inline error before anything is written."""
        upload = self.cleaned_data.get("photo")
        if not upload:
            return None
        try:
            reencode(read_upload(upload))
        except DomainError as exc:
            raise ValidationError(str(exc.message), code=exc.code) from None
        upload.seek(0)
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("merchant") and data.get("partner"):
            self.add_error("partner", _("An item has one provider: a merchant or a partner unit."))
        counted = data.get("tracks_stock") and data.get("kind") != ProductKind.COUPON
        if data.get("stock") and not counted:
            self.add_error("stock", _("An item whose stock is not counted has no opening stock."))
        starts, ends = data.get("available_from"), data.get("available_until")
        if starts and ends and ends < starts:
            self.add_error("available_until", _("The window ends before it starts."))
        return data

    def product_data(self) -> ProductData:
        d = self.cleaned_data
        return ProductData(
            name=d["name"],
            price=d["price"],
            kind=d["kind"],
            category=d["category"],
            description=d["description"],
            unit=d["unit"],
            merchant=d["merchant"],
            partner=d["partner"],
            tracks_stock=d["tracks_stock"],
            low_stock_at=d["low_stock_at"],
            limit_per_person=d["limit_per_person"],
            limit_period=d["limit_period"],
            available_from=d["available_from"],
            available_until=d["available_until"],
            choice_group=d["choice_group"],
            is_active=d["is_active"],
            position=d["position"],
        )

    @staticmethod
    def initial_for(product: Product) -> dict[str, Any]:
        fields = [
            "kind", "name", "price", "category", "unit", "description", "merchant", "partner", "tracks_stock",
            "low_stock_at", "limit_per_person", "limit_period", "available_from", "available_until", "choice_group",
            "is_active", "position",
        ]  # fmt: skip
        return {f: getattr(product, f) for f in fields}


class ChoiceGroupForm(forms.Form):
    name = forms.CharField(
        label=_("Name of the group"),
        max_length=60,
        help_text=_("For example: “one staple per exchange: rice or flour”."),
    )


class ReceiveForm(forms.Form):
    quantity = forms.IntegerField(
        label=_("How many arrived"), min_value=1, max_value=MAX_STOCK_CHANGE, widget=_number(min=1)
    )
    reason = forms.CharField(label=_("Note"), max_length=200, required=False, help_text=_("Supplier, gift of…"))


class AdjustForm(forms.Form):
    change = forms.IntegerField(
        label=_("Change"),
        min_value=-MAX_STOCK_CHANGE,
        max_value=MAX_STOCK_CHANGE,
        widget=_number(inputmode="text"),  # phones' numeric pads have no minus key
        help_text=_("Negative takes away (broken, spoilt), positive adds (found)."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def clean_change(self) -> int:
        change: int = self.cleaned_data["change"]
        if change == 0:
            raise ValidationError(_("Give a whole number other than zero."), code="quantity_invalid")
        return change

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Please give a reason."), code="reason_required")
        return reason


class StocktakeStartForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), max_length=200, required=False, help_text=_("Who counts, which shelf, anything to remember.")
    )


class CountForm(forms.Form):
    """The count sheet: one number per line, empty = not counted yet."""

    def __init__(self, *args: Any, lines: Iterable[StocktakeLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        for line in self.lines:
            self.fields[self.key(line.product_id)] = forms.IntegerField(
                label=line.product.name,
                min_value=0,
                max_value=MAX_STOCK_CHANGE,
                required=False,
                initial=line.counted,
                widget=_number(min=0, **{"class": "count-input"}),
            )

    @staticmethod
    def key(product_id: int) -> str:
        return f"count_{product_id}"

    def counts(self) -> dict[int, int | None]:
        return {line.product_id: self.cleaned_data.get(self.key(line.product_id)) for line in self.lines}


class SettingsForm(forms.Form):
    reservation_days = forms.IntegerField(
        label=_("Days to pick up a reservation"), min_value=1, max_value=366, widget=_number()
    )
    voucher_days = forms.IntegerField(
        label=_("Days a voucher stays valid"), min_value=1, max_value=366, widget=_number()
    )
    counter_note = forms.CharField(
        label=_("Note printed on receipts"),
        max_length=120,
        required=False,
        help_text=_("For example the opening hours of the counter."),
    )
