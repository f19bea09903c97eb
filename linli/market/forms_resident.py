"""Forms of the market's phone pages. They check only the shape of the input; whether the item is on the shelf, in
stock, within the limit and affordable is the redemption service's to say, and its refusal comes back onto the page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.ledger.forms import new_key
from linli.market.domain import MAX_QUANTITY


class ReserveForm(forms.Form):
    """One item reserved from its card on the shelf. `pay` is "me" or a shop's id (a merchant operator's switch)."""

    product = forms.IntegerField(min_value=1, max_value=2**62, widget=forms.HiddenInput)
    quantity = forms.IntegerField(
        label=_("How many"),
        min_value=1,
        max_value=MAX_QUANTITY,
        initial=1,
        error_messages={
            "required": _("Say how many, from 1 to %(max)s.") % {"max": MAX_QUANTITY},
            "invalid": _("Say how many, from 1 to %(max)s.") % {"max": MAX_QUANTITY},
            "min_value": _("Say how many, from 1 to %(max)s.") % {"max": MAX_QUANTITY},
            "max_value": _("Say how many, from 1 to %(max)s.") % {"max": MAX_QUANTITY},
        },
    )
    pay = forms.CharField(max_length=20, required=False, widget=forms.HiddenInput)
    request_key = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("request_key", new_key())


class CodeForm(forms.Form):
    """The voucher desk's one input: what the merchant typed or what the scanner typed for them."""

    code = forms.CharField(
        label=_("Voucher code"),
        max_length=64,
        strip=True,
        error_messages={"required": _("Type the code on the customer's voucher.")},
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "inputmode": "text",
                "autocapitalize": "characters",
                "autocomplete": "off",
                "autocorrect": "off",
                "spellcheck": "false",
                "enterkeyhint": "search",
                "placeholder": "K7M2-Q9XD",
            }
        ),
    )


class UseForm(forms.Form):
    """ "Confirm used": the code the holder showed (the id alone is not enough) and a key, so a double tap or a
    retried request uses the voucher once."""

    request_key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    code = forms.CharField(max_length=60, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("request_key", new_key())
