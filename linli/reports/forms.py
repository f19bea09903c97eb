"""Forms of the staff disclosure page. They check only the shape of the input; the rules live in the services.

Each form carries a hidden idempotency key made when the page is shown: a double click or a refresh publishes once.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.ledger.forms import new_key


class PublishForm(forms.Form):
    month = forms.RegexField(regex=r"^\d{4}-\d{1,2}$", max_length=7, widget=forms.HiddenInput)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        if data is None:
            self.initial.setdefault("idempotency_key", new_key())


class CorrectForm(PublishForm):
    reason = forms.CharField(
        label=_("Reason for the correction"),
        max_length=200,
        help_text=_("Said on the notice: the earlier revision stays readable, marked as replaced."),
    )
