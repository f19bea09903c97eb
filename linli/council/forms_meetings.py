"""Forms of the meeting pages. They check only the shape of the input (lengths, dates, choices within the
community); every rule (who may run which meeting, which step a meeting is at, numbering) is the council services'
own, and their refusals come back onto the form (`linli.common.views.attempt`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.council.models import DisputeKind, Meeting, MeetingSeries, PartyKind, SeriesKind
from linli.council.services import ItemData, MeetingData
from linli.ledger.forms import new_key
from linli.orders.models import Severity, WorkOrder
from linli.org.models import Building, Compound, Grid, PartnerUnit

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def _text(rows: int = 4, **attrs: Any) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, **attrs})


def _set_choices(form: forms.Form, name: str, choices: list[tuple[Any, str]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def _set_queryset(form: forms.Form, name: str, queryset: Any) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = queryset


# --- series -----------------------------------------------------------------------------------------------------------
class SeriesForm(forms.Form):
    series = forms.IntegerField(widget=forms.HiddenInput, required=False)  # set when editing one
    name = forms.CharField(label=_("Name"), max_length=60, help_text=_("For example 府西夜话"))
    kind = forms.ChoiceField(label=_("Kind"), choices=SeriesKind.choices, initial=SeriesKind.EVENING_TALK)
    numbered_from = forms.IntegerField(
        label=_("First number"),
        min_value=1,
        max_value=100000,
        initial=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text=_("Sessions held before the platform: the next session takes this number."),
    )
    description = forms.CharField(label=_("Description"), max_length=300, required=False, widget=_text(2))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    @staticmethod
    def initial_for(series: MeetingSeries) -> dict[str, Any]:
        return {
            "series": series.pk,
            "name": series.name,
            "kind": series.kind,
            "numbered_from": series.numbered_from,
            "description": series.description,
            "is_active": series.is_active,
        }


# --- a meeting --------------------------------------------------------------------------------------------------------
class MeetingForm(forms.Form):
    """A session of a series: when, where, who hosts; the grid decides which grid workers run it."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    series = forms.TypedChoiceField(label=_("Series"), coerce=int)
    title = forms.CharField(label=_("Topic"), max_length=120)
    day = forms.DateField(label=_("Date"), widget=DATE)
    time = forms.TimeField(label=_("Time"), widget=TIME)
    place = forms.CharField(label=_("Place"), max_length=120)
    host = forms.CharField(label=_("Host"), max_length=60)
    compound = forms.ModelChoiceField(label=_("Compound"), queryset=Compound.objects.none(), required=False)
    building = forms.ModelChoiceField(label=_("Building"), queryset=Building.objects.none(), required=False)
    grid = forms.ModelChoiceField(
        label=_("Grid"),
        queryset=Grid.objects.none(),
        required=False,
        help_text=_("Leave empty to take the grid of the compound or building."),
    )

    def __init__(
        self,
        data: Any = None,
        *,
        series: list[MeetingSeries],
        compounds: Any,
        buildings: Any,
        grids: Any,
        new: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        if new:
            _set_choices(self, "series", [(s.pk, s.name) for s in series])
            if data is None:
                self.initial.setdefault("idempotency_key", new_key())
        else:  # a meeting keeps its series and number
            del self.fields["series"], self.fields["idempotency_key"]
        _set_queryset(self, "compound", compounds)
        _set_queryset(self, "building", buildings)
        _set_queryset(self, "grid", grids)

    @staticmethod
    def initial_for(meeting: Meeting) -> dict[str, Any]:
        local = timezone.localtime(meeting.starts_at)
        return {
            "title": meeting.title,
            "day": local.date(),
            "time": local.time().replace(second=0, microsecond=0),
            "place": meeting.place,
            "host": meeting.host,
            "compound": meeting.compound_id,
            "building": meeting.building_id,
            "grid": meeting.grid_id,
        }

    def meeting_data(self) -> MeetingData:
        d = self.cleaned_data
        starts_at = timezone.make_aware(datetime.combine(d["day"], d["time"]))
        return MeetingData(
            title=d["title"],
            starts_at=starts_at,
            place=d["place"],
            host=d["host"],
            grid=d["grid"],
            compound=d["compound"],
            building=d["building"],
        )


# --- invitations and attendance ---------------------------------------------------------------------------------------
class InviteForm(forms.Form):
    """One party: a resident found by name or mobile number, a partner unit, or someone named (the lawyer)."""

    kind = forms.ChoiceField(label=_("Who"), choices=PartyKind.choices, initial=PartyKind.RESIDENT)
    person = forms.CharField(
        label=_("Resident of the community"),
        max_length=50,
        required=False,
        help_text=_("Name or full mobile number."),
    )
    partner = forms.ModelChoiceField(label=_("Partner unit"), queryset=PartnerUnit.objects.none(), required=False)
    name = forms.CharField(
        label=_("Or a name"),
        max_length=100,
        required=False,
        help_text=_("The community lawyer, the property company… with the kind chosen above."),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, data: Any = None, *, partners: Any, **kwargs: Any) -> None:
        super().__init__(data, prefix="inv", **kwargs)
        _set_queryset(self, "partner", partners)

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        given = [
            bool((d.get("person") or "").strip()),
            d.get("partner") is not None,
            bool((d.get("name") or "").strip()),
        ]
        if sum(given) != 1:
            raise forms.ValidationError(_("Fill in exactly one: a resident, a partner unit, or a name."))
        return d


class AttendanceForm(forms.Form):
    """Staff sign in someone without a phone (a resident), or a guest by name."""

    person = forms.CharField(
        label=_("Resident of the community"), max_length=50, required=False, help_text=_("Name or full mobile number.")
    )
    name = forms.CharField(label=_("Or a guest's name"), max_length=100, required=False)
    kind = forms.ChoiceField(
        label=_("The guest is"), choices=PartyKind.choices, initial=PartyKind.OTHER, required=False
    )

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, prefix="att", **kwargs)

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        if bool((d.get("person") or "").strip()) == bool((d.get("name") or "").strip()):
            raise forms.ValidationError(_("Fill in either a resident or a guest's name."))
        return d


# --- the agenda -------------------------------------------------------------------------------------------------------
class AgendaForm(forms.Form):
    """A problem on the table; brought from a work order, its title may stay empty."""

    work_order = forms.TypedChoiceField(label=_("From a work order"), coerce=int, empty_value=None, required=False)
    title = forms.CharField(
        label=_("Title"), max_length=120, required=False, help_text=_("May stay empty when a work order is chosen.")
    )
    description = forms.CharField(label=_("Description"), max_length=4000, required=False, widget=_text(3))
    kind = forms.ChoiceField(label=_("Kind of dispute"), choices=DisputeKind.choices, widget=forms.RadioSelect)
    severity = forms.ChoiceField(label=_("Colour"), choices=Severity.choices, widget=forms.RadioSelect)

    def __init__(self, data: Any = None, *, orders: list[WorkOrder], **kwargs: Any) -> None:
        super().__init__(data, prefix="item", **kwargs)
        self.orders = {o.pk: o for o in orders}
        _set_choices(self, "work_order", [("", "—"), *((o.pk, f"{o.number} · {o.title}") for o in orders)])

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        if not (d.get("title") or "").strip() and not d.get("work_order"):
            self.add_error("title", _("Write a title, or choose a work order."))
        return d

    def item_data(self) -> ItemData:
        d = self.cleaned_data
        return ItemData(
            title=d["title"],
            kind=d["kind"],
            severity=d["severity"],
            description=d["description"],
            work_order=self.orders.get(d["work_order"]) if d["work_order"] else None,
        )


class OrderSearchForm(forms.Form):
    order_q = forms.CharField(label=_("Find a work order"), max_length=50, required=False)


# --- steps of the meeting ---------------------------------------------------------------------------------------------
class HoldForm(forms.Form):
    minutes = forms.CharField(label=_("Minutes (may follow later)"), max_length=20000, required=False, widget=_text(5))


class MinutesForm(forms.Form):
    minutes = forms.CharField(label=pgettext_lazy("meeting record", "Minutes"), max_length=20000, widget=_text(8))


class CloseForm(forms.Form):
    report = forms.CharField(
        label=_("Closing report"),
        max_length=8000,
        widget=_text(6),
        help_text=_("What was solved, what is still being carried out, and who chases it."),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why is it cancelled?"), max_length=200)


# --- resolutions ------------------------------------------------------------------------------------------------------
class ResolutionForm(forms.Form):
    text = forms.CharField(label=_("What was agreed"), max_length=500, widget=_text(3))
    owner = forms.CharField(
        label=_("Carried out by"), max_length=100, help_text=_("As the meeting said it: a unit, a role or a name.")
    )
    due_on = forms.DateField(label=_("Due"), widget=DATE)
    owner_user = forms.TypedChoiceField(
        label=_("Who reports its progress"), coerce=int, empty_value=None, required=False
    )
    supervisor = forms.TypedChoiceField(label=_("Supervisor (监督岗)"), coerce=int, empty_value=None, required=False)
    on_echo_wall = forms.BooleanField(label=_("Show on the echo wall"), required=False, initial=True)

    def __init__(self, data: Any = None, *, workers: list[Any], **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.workers = {u.pk: u for u in workers}
        choices = [("", "—"), *((u.pk, u.name) for u in workers)]
        _set_choices(self, "owner_user", choices)
        _set_choices(self, "supervisor", choices)

    def user(self, name: str) -> Any:
        pk = self.cleaned_data.get(name)
        return self.workers.get(pk) if pk else None
