"""Forms of the donation and certificate pages. They check the shape of the input only; the rules live in
linli.points.donations and linli.points.certificates.

Forms that create something carry a hidden idempotency key made when the form is first shown: a double click or a
refresh sends the same key, and nothing is registered or issued twice.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.ledger.forms import KeyedForm
from linli.points.donations import MAX_ITEM_POINTS, MAX_ITEMS, MAX_PRICE, MAX_QUANTITY, Assessment, ItemInput
from linli.points.models import DonatedItem, DonationStatus

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NUMBER = forms.NumberInput(attrs={"inputmode": "numeric"})


class DonationForm(KeyedForm):
    person = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    received_on = forms.DateField(label=_("Received on"), widget=DATE)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.initial.setdefault("received_on", timezone.localdate())


class ItemForm(forms.Form):
    description = forms.CharField(label=_("Item"), max_length=120)
    category = forms.CharField(
        label=_("Kind"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"list": "donation-kinds"}),
    )
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY, initial=1, widget=NUMBER)
    condition = forms.CharField(label=_("Condition"), max_length=60, required=False)

    def item(self) -> ItemInput:
        d = self.cleaned_data
        return ItemInput(d["description"], d.get("category", ""), d["quantity"], d.get("condition", ""))


ItemFormSet = forms.formset_factory(ItemForm, extra=5, max_num=MAX_ITEMS, validate_max=True)


def filled_items(formset: Any) -> list[ItemInput]:
    """The rows staff filled in (untouched blank rows are skipped by the formset itself)."""
    return [f.item() for f in formset.forms if f.has_changed() and f.cleaned_data]


class AssessForm(forms.Form):
    """One row per item: points per piece for the donor, shelf price per piece, or "not usable"."""

    def __init__(self, items: list[DonatedItem], data: Any = None) -> None:
        super().__init__(data)
        self.items = items
        for item in items:
            self.fields[f"points_{item.pk}"] = forms.IntegerField(
                label=_("Points per piece for the donor"),
                min_value=0,
                max_value=MAX_ITEM_POINTS,
                required=False,
                widget=NUMBER,
            )
            self.fields[f"price_{item.pk}"] = forms.IntegerField(
                label=_("Shelf price per piece (points)"),
                min_value=1,
                max_value=MAX_PRICE,
                required=False,
                widget=NUMBER,
            )
            self.fields[f"unusable_{item.pk}"] = forms.BooleanField(label=_("Not usable"), required=False)

    def rows(self) -> list[tuple[DonatedItem, Any, Any, Any]]:
        return [(i, self[f"points_{i.pk}"], self[f"price_{i.pk}"], self[f"unusable_{i.pk}"]) for i in self.items]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for item in self.items:
            if data.get(f"unusable_{item.pk}"):
                continue
            if data.get(f"price_{item.pk}") is None and f"price_{item.pk}" not in self.errors:
                self.add_error(f"price_{item.pk}", _("Give a shelf price, or tick “not usable”."))
        return data

    def assessments(self) -> list[Assessment]:
        d = self.cleaned_data
        found = []
        for item in self.items:
            if d.get(f"unusable_{item.pk}"):
                found.append(Assessment(item.pk, False))
            else:
                found.append(Assessment(item.pk, True, d.get(f"points_{item.pk}") or 0, d.get(f"price_{item.pk}")))
        return found


class DeclineForm(forms.Form):
    reason = forms.CharField(label=_("Why is it declined?"), max_length=300)


class DonationFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("All")), *DonationStatus.choices], required=False)
    q = forms.CharField(label=_("Donor or item"), max_length=50, required=False)


class CertificateForm(KeyedForm):
    person = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    period_from = forms.DateField(label=_("Service from"), widget=DATE)
    period_to = forms.DateField(label=_("Service until"), widget=DATE)

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        today = timezone.localdate()
        self.initial.setdefault("period_from", today.replace(month=1, day=1))
        self.initial.setdefault("period_to", today)


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Why is it revoked?"), max_length=200)


class PeriodForm(forms.Form):
    since = forms.DateField(label=_("From"), required=False, widget=DATE)
    until = forms.DateField(label=_("Until"), required=False, widget=DATE)
