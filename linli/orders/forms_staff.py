"""Forms of the staff pages: the dispatch board's filters, intake of a request by phone, walk-in, chat or patrol, and
one small form per action on an order. They check only the shape of the input; every business rule (steps, places,
who may act, the photos) is the work-order service's, whose refusals come back onto the form
(`linli.common.views.attempt`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.ledger.forms import new_key
from linli.orders import domain
from linli.orders.models import Channel, HandlerKind, Severity, Status
from linli.orders.selectors import Board
from linli.orders.services import MAX_PHOTOS, MAX_TEXT, MAX_TITLE, OrderInput

INTAKE_CHANNELS = [
    (Channel.HOTLINE, Channel.HOTLINE.label),
    (Channel.WALK_IN, Channel.WALK_IN.label),
    (Channel.CHAT, Channel.CHAT.label),
    (Channel.PATROL, Channel.PATROL.label),
]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one input (随手拍); the service cleans each and refuses fakes and oversized ones."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/*", "capture": "environment", "multiple": True})
        )
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(_("At most %(n)s photos, please.") % {"n": MAX_PHOTOS})
        return [super(PhotosField, self).clean(f, initial) for f in files]


# --- the board --------------------------------------------------------------------------------------------------
class BoardFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    severity = forms.ChoiceField(label=_("Colour"), required=False)
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int, empty_value=None)
    grid = forms.TypedChoiceField(label=_("Grid"), required=False, coerce=int, empty_value=None)
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    since = forms.DateField(label=_("Received from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Received until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    overdue = forms.BooleanField(label=_("Overdue"), required=False)
    due_soon = forms.BooleanField(label=_("Due soon"), required=False)
    escalated = forms.BooleanField(label=_("Escalated"), required=False)
    unassigned = forms.BooleanField(label=_("Nobody assigned"), required=False)

    def __init__(self, data: Any = None, *, categories: Any, grids: Any) -> None:
        super().__init__(data)
        any_ = [("", _("any"))]
        self.fields["status"].choices = [  # type: ignore[attr-defined]
            *any_,
            ("open", _("open (still owed an answer)")),
            ("done", _("answered")),
            *Status.choices,
        ]
        self.fields["severity"].choices = [*any_, ("none", _("not graded")), *Severity.choices]  # type: ignore[attr-defined]
        self.fields["category"].choices = [*any_, *((c.pk, c.name) for c in categories)]  # type: ignore[attr-defined]
        self.fields["grid"].choices = [*any_, *((g.pk, g.name) for g in grids)]  # type: ignore[attr-defined]
        self.fields["channel"].choices = [*any_, *Channel.choices]  # type: ignore[attr-defined]

    def board(self) -> Board:
        """The selector's filters; an invalid form filters nothing (its errors are shown beside the fields)."""
        if not self.is_bound or not self.is_valid():
            return Board()
        d = self.cleaned_data
        return Board(
            status=d["status"],
            severity=d["severity"],
            category_id=d["category"],
            grid_id=d["grid"],
            channel=d["channel"],
            overdue=d["overdue"],
            due_soon=d["due_soon"],
            escalated=d["escalated"],
            unassigned=d["unassigned"],
            q=d["q"],
            since=d["since"],
            until=d["until"],
        )


# --- intake ------------------------------------------------------------------------------------------------------
class IntakeForm(forms.Form):
    """A request that came by phone, at the desk, in the chat group, or that a grid worker saw on patrol."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    channel = forms.ChoiceField(label=_("How it came in"), choices=INTAKE_CHANNELS, widget=forms.RadioSelect)
    category = forms.ChoiceField(label=_("Category"))
    title = forms.CharField(label=_("Title"), max_length=MAX_TITLE, required=False)
    description = forms.CharField(
        label=_("What is the problem?"), max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 4})
    )
    building = forms.TypedChoiceField(label=_("Building"), required=False, coerce=int, empty_value=None)
    grid = forms.TypedChoiceField(label=_("Grid"), required=False, coerce=int, empty_value=None)
    address = forms.CharField(label=_("Address or place"), max_length=200, required=False)
    lat = forms.DecimalField(label=_("Latitude"), required=False, max_digits=9, decimal_places=6)
    long = forms.DecimalField(label=_("Longitude"), required=False, max_digits=9, decimal_places=6)
    reporter = forms.CharField(
        label=_("Resident of the community"),
        max_length=50,
        required=False,
        help_text=_("Name or full mobile number of the resident who asked; leave empty for a caller."),
    )
    contact_name = forms.CharField(label=_("Caller's name"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("Caller's phone"), max_length=20, required=False)
    photos = PhotosField(label=_("Photos"))

    def __init__(
        self,
        data: Any = None,
        files: Any = None,
        *,
        categories: Any,
        buildings: Any,
        grids: Any,
        channel: str = Channel.HOTLINE,
    ) -> None:
        super().__init__(data, files)
        if data is None:
            self.initial.setdefault("idempotency_key", new_key())
            known = {value for value, _label in INTAKE_CHANNELS}
            self.initial.setdefault("channel", channel if channel in known else Channel.HOTLINE)
        self.fields["category"].choices = [("", "—"), *((c.code, c.name) for c in categories)]  # type: ignore[attr-defined]
        self.fields["building"].choices = [("", "—"), *((b.pk, str(b)) for b in buildings)]  # type: ignore[attr-defined]
        self.fields["grid"].choices = [("", "—"), *((g.pk, g.name) for g in grids)]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("building") or data.get("grid") or (data.get("address") or "").strip()):
            raise forms.ValidationError(_("Say where: choose a building or a grid, or write the address."))
        return data

    def order_input(self, reporter_id: int | None) -> OrderInput:
        d = self.cleaned_data
        return OrderInput(
            category=d["category"],
            description=d["description"],
            title=d["title"],
            building_id=d["building"],
            grid_id=d["grid"],
            address=d["address"],
            lat=d["lat"],
            long=d["long"],
            contact_name=d["contact_name"],
            contact_phone=d["contact_phone"],
            reporter_id=reporter_id,
        )


# --- the actions on one order -----------------------------------------------------------------------------------
def _text(label: Any, *, required: bool, rows: int = 2, max_length: int = MAX_TEXT) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, max_length=max_length, widget=forms.Textarea(attrs={"rows": rows})
    )


class NoteOnlyForm(forms.Form):
    """accept, start, resume, close: a button with an optional note."""

    note = _text(_("Note (optional)"), required=False)


class PublishForm(forms.Form):
    """Show the request on the public echo wall, or keep it off."""

    shown = forms.BooleanField(label=_("Show on the echo wall (names and phones masked)"), required=False)
    note = _text(_("Note (optional)"), required=False)


class ReasonForm(forms.Form):
    """hold, escalate, reopen, cancel: a reason is required (the service says so too)."""

    reason = _text(_("Reason"), required=True, max_length=500)


FACTOR_TITLES = {"scale": _("Scale"), "difficulty": _("Difficulty"), "impact": _("Social impact")}


class GradeForm(forms.Form):
    severity = forms.ChoiceField(label=_("Colour"), choices=Severity.choices, widget=forms.RadioSelect)
    scale = forms.TypedChoiceField(label=FACTOR_TITLES["scale"], coerce=int, widget=forms.RadioSelect, required=False)
    difficulty = forms.TypedChoiceField(
        label=FACTOR_TITLES["difficulty"], coerce=int, widget=forms.RadioSelect, required=False
    )
    impact = forms.TypedChoiceField(label=FACTOR_TITLES["impact"], coerce=int, widget=forms.RadioSelect, required=False)
    note = _text(_("Note (optional)"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key in domain.FACTORS:
            labels = domain.FACTOR_LABELS[key]
            self.fields[key].choices = [(i + 1, f"{i + 1} · {labels[i]}") for i in range(3)]  # type: ignore[attr-defined]
            self.fields[key].empty_value = None  # type: ignore[attr-defined]

    def factors(self) -> dict[str, int]:
        return {k: self.cleaned_data[k] for k in domain.FACTORS if self.cleaned_data.get(k)}


AUTO = "auto"


class DispatchForm(forms.Form):
    """派单 to one or several handlers (联动处置). Values are "user:<id>", "team:<id>" or "unit:<id>"."""

    assignees = forms.MultipleChoiceField(label=_("Who handles it"), widget=forms.CheckboxSelectMultiple)
    lead = forms.ChoiceField(label=_("Lead handler"), required=False)
    handler = forms.ChoiceField(
        label=_("Handler type"),
        required=False,
        help_text=_("Automatic: grid worker, steward, volunteer team, or property company / external unit by kind."),
    )
    replace = forms.BooleanField(label=_("Replace the current handlers (re-dispatch)"), required=False)
    note = _text(_("Instructions (optional)"), required=False)

    def __init__(self, *args: Any, candidates: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignees"].choices = candidates  # type: ignore[attr-defined]
        self.fields["lead"].choices = [("", _("the first one chosen")), *candidates]  # type: ignore[attr-defined]
        self.fields["handler"].choices = [(AUTO, _("automatic")), *HandlerKind.choices]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lead = data.get("lead")
        if lead and lead not in (data.get("assignees") or []):
            self.add_error("lead", _("The lead must be one of those chosen."))
        return data


class NoteForm(forms.Form):
    note = _text(_("Note"), required=False, rows=3)
    public = forms.BooleanField(label=_("The resident may read it"), required=False)
    photos = PhotosField(label=_("Photos"))


class ResolveForm(forms.Form):
    answer = _text(_("Answer to the resident: what was done"), required=True, rows=4)
    photos = PhotosField(label=_("Photos of the result"))


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Rating the resident gave by phone"),
        coerce=int,
        choices=[(i, "★" * i) for i in range(5, 0, -1)],
        widget=forms.RadioSelect,
    )
    comment = _text(_("What the resident said (optional)"), required=False, max_length=500)


class MergeForm(forms.Form):
    into = forms.CharField(label=_("Number of the order it repeats"), max_length=20, help_text=_("e.g. 2026-0042"))
    note = _text(_("Note (optional)"), required=False)


class CreditForm(forms.Form):
    person = forms.CharField(
        label=_("Volunteer"), max_length=50, help_text=_("Name or full mobile number of a resident of the community.")
    )
    rule = forms.TypedChoiceField(label=_("Rule"), coerce=int)
    minutes = forms.IntegerField(label=_("Minutes spent"), required=False, min_value=1, max_value=24 * 60)

    def __init__(self, *args: Any, rules: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = rules  # type: ignore[attr-defined]
