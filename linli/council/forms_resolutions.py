"""Forms of the resolution pages: the board's filters, the actions on one resolution, the evaluation desk's stars and
the figures' period. They only parse and bound the input; the services decide what is allowed."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.council.models import DisputeKind
from linli.orders.models import Severity

BOARD_STATUS = [
    ("open", _("open (to do or in progress)")),
    ("done", _("done")),
    ("dropped", _("dropped")),
    ("all", _("all")),
]


class BoardFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=BOARD_STATUS, required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    mine = forms.BooleanField(label=_("I carry it out or supervise it"), required=False)
    kind = forms.ChoiceField(label=_("Kind of dispute"), choices=[("", _("all")), *DisputeKind.choices], required=False)
    severity = forms.ChoiceField(label=_("Colour"), choices=[("", _("all")), *Severity.choices], required=False)
    q = forms.CharField(label=_("Search"), max_length=100, required=False)

    def filters(self) -> dict[str, Any]:
        """The selector's keyword arguments; an invalid or missing value falls back to "open", no filter."""
        d = self.cleaned_data if self.is_bound and self.is_valid() else {}
        status = d.get("status") or "open"
        return {
            "status": "" if status == "all" else status,
            "overdue": bool(d.get("overdue")),
            "mine": bool(d.get("mine")),
            "kind": d.get("kind") or "",
            "severity": d.get("severity") or "",
            "q": (d.get("q") or "").strip(),
        }


def _text(label: Any, *, rows: int = 3, max_length: int = 1000) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"required": _("Please write a few words.")},
    )


class ProgressForm(forms.Form):
    progress = forms.TypedChoiceField(
        label=_("How far is it?"),
        choices=[(n, f"{n}%") for n in range(0, 100, 10)],
        coerce=int,
        initial=50,
    )
    text = _text(_("What was done"))
    public = forms.BooleanField(label=_("Show on the echo wall"), required=False, initial=True)


class DoneForm(forms.Form):
    text = _text(_("What was done to finish it"))


class ChaseForm(forms.Form):
    text = _text(_("What do you ask for? (not public)"))


class ReplyForm(forms.Form):
    text = _text(_("Public reply on the echo wall"))


class SuperviseForm(forms.Form):
    supervisor = forms.TypedChoiceField(label=_("Supervisor (监督岗)"), coerce=int, choices=[])

    def __init__(self, *args: Any, candidates: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["supervisor"].choices = candidates  # type: ignore[attr-defined]


class DueForm(forms.Form):
    due_on = forms.DateField(label=_("New due date"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Why"), max_length=200)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Why"), max_length=200)


class EvaluateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How well was it carried out?"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose from 1 to 5 stars."), "invalid_choice": _("Choose from 1 to 5 stars.")},
    )
    comment = forms.CharField(
        label=_("Anything to add? (optional)"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class FiguresForm(forms.Form):
    start = forms.DateField(label=_("Sessions from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Sessions until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise forms.ValidationError(_("The start of the period must be before its end."))
        return data

    def period(self) -> tuple[date, date]:
        """The chosen period; this calendar year by default."""
        today = timezone.localdate()
        d = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return d.get("start") or date(today.year, 1, 1), d.get("end") or date(today.year, 12, 31)
