"""Forms of the figures, import, catalogue and holiday pages: they parse and check input; the services decide."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.orders.models import Category, CategoryGroup, DayKind, HandlerKind, Severity
from linli.orders.reports import MAX_MONTHS, Period, add_months, default_period
from linli.orders.services import CategoryData

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


class MonthField(forms.CharField):
    """YYYY-MM (what <input type="month"> sends) as the first day of that month."""

    widget = forms.TextInput(attrs={"type": "month", "pattern": r"\d{4}-\d{2}", "placeholder": "2026-01"})

    def clean(self, value: Any) -> date | None:
        text = super().clean(value)
        if not text:
            return None
        match = _MONTH.match(text.strip())
        if not match or not 1 <= int(match[2]) <= 12 or not 2000 <= int(match[1]) <= 2100:
            raise forms.ValidationError(_("Write a month like 2026-01."), code="month")
        return date(int(match[1]), int(match[2]), 1)


class PeriodForm(forms.Form):
    since = MonthField(label=_("From month"), required=False)
    until = MonthField(label=_("To month"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until:
            if since > until:
                raise forms.ValidationError(_("The first month comes after the last."), code="period_order")
            if add_months(since, MAX_MONTHS - 1) < until:
                raise forms.ValidationError(
                    _("At most %(n)s months at a time, please.") % {"n": MAX_MONTHS}, code="period_long"
                )
        return data

    def period(self) -> Period:
        """The months asked for; the last six months when nothing (or nothing valid) was asked."""
        fallback = default_period()
        if not self.is_bound or not self.is_valid():
            return fallback
        until = self.cleaned_data.get("until") or fallback.last
        since = self.cleaned_data.get("since") or min(add_months(until, -5), until)
        return Period(since, until)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("12345 order sheet (.xlsx)"))
    fallback = forms.ChoiceField(
        label=_("Category for rows that match none"),
        required=False,
        help_text=_("Leave empty to have such rows reported as errors."),
    )

    def __init__(self, *args: Any, categories: list[Category], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["fallback"].choices = [("", "—"), *((c.code, c.name) for c in categories)]  # type: ignore[attr-defined]


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    code = forms.SlugField(
        label=_("Code"),
        max_length=40,
        help_text=_("Short letters, digits and dashes; Open311 apps see it as the service code."),
    )
    group = forms.ChoiceField(label=_("Group"), choices=CategoryGroup.choices)
    handler = forms.ChoiceField(label=_("Default handler"), choices=HandlerKind.choices)
    deadline_days = forms.IntegerField(label=_("Days to answer"), min_value=1, max_value=365, initial=15)
    day_kind = forms.ChoiceField(label=_("Counted in"), choices=DayKind.choices)
    red_days = forms.IntegerField(label=_("Days when red"), min_value=1, max_value=365, required=False)
    yellow_days = forms.IntegerField(label=_("Days when yellow"), min_value=1, max_value=365, required=False)
    blue_days = forms.IntegerField(label=_("Days when blue"), min_value=1, max_value=365, required=False)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    keywords = forms.CharField(
        label=_("Keywords"), max_length=200, required=False, help_text=_("Comma-separated; used to sort imports.")
    )
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=32767, required=False)
    is_active = forms.BooleanField(label=_("Offered to residents"), required=False, initial=True)

    @staticmethod
    def initial_for(category: Category) -> dict[str, Any]:
        days = category.severity_days or {}
        return {
            "name": category.name,
            "code": category.code,
            "group": category.group,
            "handler": category.handler,
            "deadline_days": category.deadline_days,
            "day_kind": category.day_kind,
            "red_days": days.get(Severity.RED),
            "yellow_days": days.get(Severity.YELLOW),
            "blue_days": days.get(Severity.BLUE),
            "description": category.description,
            "keywords": category.keywords,
            "position": category.position,
            "is_active": category.is_active,
        }

    def category_data(self) -> CategoryData:
        d = self.cleaned_data
        days = {colour: d[f"{colour}_days"] for colour in Severity.values if d.get(f"{colour}_days")}
        return CategoryData(
            code=d["code"],
            name=d["name"],
            group=d["group"],
            handler=d["handler"],
            deadline_days=d["deadline_days"],
            day_kind=d["day_kind"],
            severity_days=days,
            description=d["description"],
            keywords=d["keywords"],
            position=d.get("position") or 0,
            is_active=d["is_active"],
        )


class HolidayForm(forms.Form):
    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(label=_("Name"), max_length=50, help_text=_("e.g. 国庆节, or 国庆调休上班"))
    is_workday = forms.BooleanField(
        label=_("A weekend day worked instead (调休)"), required=False, help_text=_("Leave unticked for a holiday.")
    )
