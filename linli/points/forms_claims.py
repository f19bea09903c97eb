"""Forms of the claim pages. They check only the shape of the input; every business rule (dates, caps, who may record,
the photo) is the claim service's, whose refusals come back onto the form through `linli.common.views.attempt`.

The check-in form is built for one rule: an hourly rule asks for hours and minutes, an item or kg rule for the
quantity, a rule with difficulty levels for the level. Nothing else is shown, so an elderly resident sees only what
matters for the good deed they chose.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.ledger.forms import new_key
from linli.org.models import Community, Grid
from linli.points import selectors
from linli.points.models import Claim, ClaimStatus, RuleVersion, Source, Unit
from linli.points.services import ClaimInput

HOURS = [(h, str(h)) for h in range(25)]
MINUTES = [(m, f"{m:02d}") for m in range(0, 60, 5)]


class ClaimForm(forms.Form):
    """What was done, under one rule version. `keyed` adds the hidden idempotency key of a new claim."""

    occurred_on = forms.DateField(
        label=_("Date of service"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    hours = forms.TypedChoiceField(label=_("Hours"), choices=HOURS, coerce=int, initial=1)
    minutes = forms.TypedChoiceField(label=_("Minutes"), choices=MINUTES, coerce=int, initial=0)
    quantity = forms.DecimalField(
        label=_("How many"),
        min_value=Decimal("0.01"),
        max_value=Decimal("10000"),
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
    )
    # not required: no choice is the plain (first) level
    difficulty = forms.ChoiceField(label=_("How hard was it?"), widget=forms.RadioSelect, required=False)
    note = forms.CharField(
        label=_("What did you do?"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )

    def __init__(self, data: Any = None, files: Any = None, *, version: RuleVersion, keyed: bool, **kwargs: Any):
        super().__init__(data, files, **kwargs)
        self.version = version
        self.initial.setdefault("occurred_on", timezone.localdate())
        if keyed:
            self.fields["idempotency_key"] = forms.CharField(widget=forms.HiddenInput, max_length=64)
            if data is None:
                self.initial.setdefault("idempotency_key", new_key())
        if version.unit != Unit.HOUR:
            del self.fields["hours"], self.fields["minutes"]
        if version.unit not in {Unit.ITEM, Unit.KG}:
            del self.fields["quantity"]
        elif version.unit == Unit.ITEM:
            self.fields["quantity"].label = _("How many items")
            self.fields["quantity"].widget.attrs.update({"step": "1", "inputmode": "numeric"})
            self.initial.setdefault("quantity", 1)
        else:
            self.fields["quantity"].label = _("Weight in kg")
        if version.difficulties:
            levels = [(d["name"], d["name"]) for d in version.difficulties]
            cast(forms.ChoiceField, self.fields["difficulty"]).choices = levels
            self.initial.setdefault("difficulty", version.difficulties[0]["name"])
        else:
            del self.fields["difficulty"]
        if version.evidence_required:
            self.fields["photo"].label = _("Photo (needed for this good deed)")
        else:
            self.fields["photo"].label = _("Photo (if you have one)")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        hours, minutes = data.get("hours"), data.get("minutes")
        if "hours" in self.fields and hours is not None and minutes is not None and hours * 60 + minutes == 0:
            self.add_error("hours", _("Say how long the service took."))
        return data

    def claim_input(self) -> ClaimInput:
        d = self.cleaned_data
        minutes = d["hours"] * 60 + d["minutes"] if "hours" in d else None
        return ClaimInput(
            occurred_on=d["occurred_on"],
            quantity=d.get("quantity") or Decimal(1),
            minutes=minutes,
            difficulty=d.get("difficulty", ""),
            note=d.get("note", ""),
        )

    @staticmethod
    def initial_of(claim: Claim) -> dict[str, Any]:
        """The form filled with a rejected claim, for correcting and resubmitting it."""
        minutes = claim.minutes or 0
        return {
            "occurred_on": claim.occurred_on,
            "hours": minutes // 60,
            "minutes": minutes % 60 - minutes % 5,
            "quantity": claim.quantity,
            "difficulty": claim.difficulty,
            "note": claim.note,
        }


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is it turned down? The resident reads this."),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ClaimFilterForm(forms.Form):
    """Filters of the approval queue and the community's claims list. Bad values are errors, never a 500."""

    q = forms.CharField(label=_("Name or note"), max_length=50, required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    area = forms.TypedChoiceField(label=_("Area"), required=False, coerce=int, empty_value=None)
    rule = forms.TypedChoiceField(label=_("Rule"), required=False, coerce=int, empty_value=None)
    grid = forms.TypedChoiceField(label=_("Grid"), required=False, coerce=int, empty_value=None)
    source = forms.ChoiceField(label=_("Source"), required=False)
    since = forms.DateField(
        label=_("Served from"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    until = forms.DateField(
        label=_("Served until"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    flagged = forms.BooleanField(label=_("Flagged only"), required=False)

    def __init__(self, data: Any = None, *, community: Community, with_status: bool, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        everything: list[tuple[Any, Any]] = [("", _("All"))]
        areas = [(a.pk, a.name) for a in selectors.areas(community)]
        cast(forms.ChoiceField, self.fields["area"]).choices = everything + areas
        cast(forms.ChoiceField, self.fields["rule"]).choices = everything + [
            (r.pk, str(r)) for r in selectors.rules(community, include_retired=True)
        ]
        cast(forms.ChoiceField, self.fields["grid"]).choices = everything + [
            (g.pk, g.name) for g in Grid.objects.filter(community=community).order_by("number", "id")
        ]
        cast(forms.ChoiceField, self.fields["source"]).choices = everything + list(Source.choices)
        if with_status:
            cast(forms.ChoiceField, self.fields["status"]).choices = everything + list(ClaimStatus.choices)
        else:
            del self.fields["status"]

    def claim_filter(self) -> selectors.ClaimFilter:
        if not self.is_valid():
            return selectors.ClaimFilter()
        d = self.cleaned_data
        return selectors.ClaimFilter(
            status=d.get("status", "") or "",
            area=d["area"],
            rule=d["rule"],
            grid=d["grid"],
            source=d["source"] or "",
            since=d["since"],
            until=d["until"],
            flagged=bool(d["flagged"]),
            q=(d["q"] or "").strip(),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since: date | None = data.get("since")
        until: date | None = data.get("until")
        if since and until and until < since:
            self.add_error("until", _("“Served until” is before “Served from”."))
        return data
