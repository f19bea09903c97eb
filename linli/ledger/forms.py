"""Forms of the staff ledger pages. They only check the shape of the input; the rules live in the services.

Every posting form carries a hidden idempotency key made when the form is first shown (uuid4): a double click or a
browser refresh sends the same key again, and the ledger posts nothing new.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.ledger.services import MAX_AMOUNT


def new_key() -> str:
    return uuid.uuid4().hex


class KeyedForm(forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        if data is None:
            self.initial.setdefault("idempotency_key", new_key())


class PersonSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name or phone"), max_length=50, required=False, widget=forms.TextInput(attrs={"autofocus": True})
    )


class AwardForm(KeyedForm):
    person = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    amount = forms.IntegerField(
        label=_("Points"),
        min_value=1,
        max_value=MAX_AMOUNT,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autofocus": True}),
    )
    memo = forms.CharField(label=_("What for"), max_length=200, required=False)


class AdjustmentForm(KeyedForm):
    person = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    amount = forms.IntegerField(
        label=_("Points"),
        help_text=_("Positive adds points, negative takes them away."),
        min_value=-MAX_AMOUNT,
        max_value=MAX_AMOUNT,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autofocus": True}),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def clean_amount(self) -> int:
        amount: int = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError(_("An adjustment cannot be zero."))
        return amount


class ReverseForm(KeyedForm):
    reason = forms.CharField(label=_("Why is it being reversed?"), max_length=200)


class PolicyForm(forms.Form):
    adjustment_approval_threshold = forms.IntegerField(
        label=_("Adjustments above this many points need a second staff member's approval"),
        min_value=0,
        max_value=MAX_AMOUNT,
    )
    expiry_enabled = forms.BooleanField(label=_("Points expire"), required=False)
    expiry_years = forms.IntegerField(
        label=_("Years points stay valid after the year they were earned"),
        help_text=_("1 means points earned this year expire at the end of next year."),
        min_value=1,
        max_value=50,
    )
