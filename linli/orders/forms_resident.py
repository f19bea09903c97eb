"""Forms of the residents' and handlers' phone pages. They check only the shape of the input; every business rule
(the category exists, the place lies in the community, the photo is a real picture, the order is at the right step)
is the work-order service's, whose refusals come back onto the form."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from linli.ledger.forms import new_key
from linli.orders.services import OrderInput

MAX_PHOTOS = 3  # the phone form: three pictures say enough, and keep a slow upload short
_PHONE = re.compile(r"^[0-9+][0-9 -]{4,19}$")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Zero to MAX_PHOTOS pictures from one <input type=file multiple>."""

    widget = MultipleFileInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(_("At most %(n)s photos, please.") % {"n": MAX_PHOTOS}, code="too_many")
        return [super(PhotosField, self).clean(f, initial) for f in files]


def photo_widget() -> MultipleFileInput:
    return MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"})


class RequestForm(forms.Form):
    """The resident's request. The category arrives as its code from big radio tiles; the place as a building id,
    locked (hidden) when the page was opened from a building's QR code."""

    category = forms.CharField(
        label=_("What is it about?"), max_length=40, error_messages={"required": _("Choose what it is about.")}
    )
    building = forms.IntegerField(label=_("Where?"), required=False, min_value=1)
    description = forms.CharField(
        label=_("What happened? Where exactly, since when?"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Please describe the problem in a few words.")},
    )
    photos = PhotosField(label=_("Photos (up to 3, if you have them)"), widget=photo_widget())
    contact_phone = forms.CharField(
        label=_("Phone to call you back (optional)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )
    request_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, buildings: list[tuple[int, str]] | None = None, locked: bool = False, **kw: Any):
        super().__init__(*args, **kw)
        if not self.is_bound:
            self.initial.setdefault("request_key", new_key())
        if locked:
            self.fields["building"].widget = forms.HiddenInput()
        else:
            choices: list[tuple[Any, Any]] = [("", _("Not about a building")), *(buildings or [])]
            self.fields["building"].widget = forms.Select(choices=choices)

    def clean_contact_phone(self) -> str:
        phone = (self.cleaned_data.get("contact_phone") or "").strip()
        if phone and not _PHONE.match(phone):
            raise forms.ValidationError(_("Write the phone number with digits only."), code="phone")
        return phone

    def order_input(self) -> OrderInput:
        d = self.cleaned_data
        return OrderInput(
            category=d["category"].strip(),
            description=d["description"],
            building_id=d.get("building"),
            contact_phone=d.get("contact_phone", ""),
        )


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you?"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose from 1 to 5 stars."),
            "invalid_choice": _("Choose from 1 to 5 stars."),
        },
    )
    comment = forms.CharField(
        label=_("Anything to add? (optional)"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you withdraw it? (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    public = forms.BooleanField(label=_("The resident may read this note"), required=False)
    photos = PhotosField(label=_("Photos (up to 3)"), widget=photo_widget())


class ResolveForm(forms.Form):
    answer = forms.CharField(
        label=_("The answer: what was done? The resident reads it, and it is shown on the echo wall."),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write down what was done: the resident reads this answer.")},
    )
    photos = PhotosField(label=_("Photos of the result (up to 3)"), widget=photo_widget())
