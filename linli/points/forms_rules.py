"""Forms of the rules editor. They check only the shape of the input; the rules themselves live in the services
(RuleData.cleaned), whose refusals come back onto the form through `linli.common.views.attempt`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.points import domain
from linli.points.catalogue import TEMPLATES
from linli.points.models import Recorder, Rule, RuleArea, Steps, Unit
from linli.points.services import RuleData


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class AreaForm(forms.Form):
    name = forms.CharField(label=_("Name of the area"), max_length=60, help_text=_("For example 小区治理 or 志愿服务."))
    position = forms.IntegerField(label=_("Order on the list"), min_value=0, max_value=32000, initial=0, required=False)


class RuleForm(forms.Form):
    area = forms.TypedChoiceField(label=_("Area"), coerce=int)
    code = forms.SlugField(
        label=_("Code"),
        max_length=40,
        help_text=_("Short and unique in the community, letters, digits, “-” or “_” (e.g. cleanup). Cannot change."),
    )
    name = forms.CharField(label=_("What is done"), max_length=100)
    description = forms.CharField(
        label=_("Explanation for residents"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    points = forms.IntegerField(
        label=_("Points"), min_value=1, max_value=10_000, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    unit = forms.ChoiceField(label=_("Counted"), choices=Unit.choices, initial=Unit.OCCURRENCE)
    difficulties = forms.CharField(
        label=_("Difficulty levels"),
        max_length=300,
        required=False,
        help_text=_("Optional. A name and a percent each, e.g. “一般:100, 较难:150”: a hard job earns 150%."),
    )
    daily_cap = forms.IntegerField(
        label=_("Cap per person per day"), min_value=1, max_value=1_000_000, required=False, help_text=_("Points.")
    )
    monthly_cap = forms.IntegerField(
        label=_("Cap per person per month"), min_value=1, max_value=1_000_000, required=False, help_text=_("Points.")
    )
    evidence_required = forms.BooleanField(label=_("A photo is required"), required=False)
    recorders = forms.MultipleChoiceField(
        label=_("Who may record it"), choices=Recorder.choices, widget=forms.CheckboxSelectMultiple
    )
    steps = forms.ChoiceField(
        label=_("Checks before the points are posted"),
        choices=Steps.choices,
        initial=Steps.VERIFY_APPROVE,
        widget=forms.RadioSelect,
    )
    valid_from = forms.DateField(label=_("Valid from"), required=False, widget=DateInput())
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=DateInput())
    position = forms.IntegerField(label=_("Order in its area"), min_value=0, max_value=32000, required=False)

    def __init__(self, *args: Any, areas: list[RuleArea], editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [(a.pk, a.name) for a in areas]  # type: ignore[attr-defined]
        if editing:
            del self.fields["code"]
        if not self.is_bound and "recorders" not in self.initial:
            self.initial["recorders"] = list(RuleData(name="", points=1).recorders)

    @classmethod
    def initial_for(cls, rule: Rule) -> dict[str, Any]:
        v = rule.current
        assert v is not None
        return {
            "area": rule.area_id,
            "name": v.name,
            "description": v.description,
            "points": v.points,
            "unit": v.unit,
            "difficulties": domain.format_difficulties(v.difficulties),
            "daily_cap": v.daily_cap,
            "monthly_cap": v.monthly_cap,
            "evidence_required": v.evidence_required,
            "recorders": v.recorder_list,
            "steps": v.steps,
            "valid_from": v.valid_from,
            "valid_until": v.valid_until,
            "position": rule.position,
        }

    def clean_difficulties(self) -> list[dict[str, Any]]:
        try:
            return domain.parse_difficulties(self.cleaned_data.get("difficulties") or "")
        except ValueError:
            raise forms.ValidationError(
                _("Write the levels like “一般:100, 较难:150” (a name and a percent from 1 to 1000 each).")
            ) from None

    def rule_data(self) -> RuleData:
        d = self.cleaned_data
        return RuleData(
            name=d["name"],
            points=d["points"],
            unit=d["unit"],
            description=d.get("description") or "",
            difficulties=d["difficulties"],
            daily_cap=d.get("daily_cap"),
            monthly_cap=d.get("monthly_cap"),
            evidence_required=bool(d.get("evidence_required")),
            recorders=tuple(d["recorders"]),
            steps=d["steps"],
            valid_from=d.get("valid_from"),
            valid_until=d.get("valid_until"),
        )


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Catalogue file (.xlsx)"))
    check = forms.BooleanField(required=False)


class TemplateForm(forms.Form):
    template = forms.ChoiceField(choices=[(k, t.title) for k, t in TEMPLATES.items()])


class LeaderboardForm(forms.Form):
    """?period= and ?grid=; anything unknown falls back to this month and the whole community."""

    period = forms.ChoiceField(
        choices=[("month", _("This month")), ("year", _("This year")), ("all", _("All time"))], required=False
    )
    grid = forms.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
