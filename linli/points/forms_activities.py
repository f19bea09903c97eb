"""Forms of the activity pages. They check the shape of the input only; the rules live in linli.points.activities
(its errors name the same fields, so they appear next to the right input)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.org.models import Community, Grid, Team
from linli.points import selectors
from linli.points.activities import MAX_CAPACITY, ActivityData, SeriesData
from linli.points.domain_activities import WEEKDAYS as WEEKDAY_CODES
from linli.points.domain_activities import Repeat, place_time
from linli.points.models import Activity, ActivitySeries

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]
NTH = [(1, _("first")), (2, _("second")), (3, _("third")), (4, _("fourth")), (-1, _("last"))]
REPEATS = [
    (Repeat.WEEKLY.value, _("every week on a weekday")),
    (Repeat.MONTHLY_WEEKDAY.value, _("every month on a weekday (e.g. the first Monday)")),
    (Repeat.MONTHLY_DAY.value, _("every month on the same day")),
]


def _optional_int(value: Any) -> int | None:
    return int(value) if value not in (None, "") else None


def aware(day: date, moment: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, moment))


class _Common(forms.Form):
    """What an activity and a recurring activity share; choices are the community's own."""

    title = forms.CharField(label=_("Title"), max_length=100)
    place = forms.CharField(label=_("Place"), max_length=120)
    rule_id = forms.TypedChoiceField(label=_("Points rule"), coerce=int)
    capacity = forms.IntegerField(
        label=_("Places"),
        min_value=1,
        max_value=MAX_CAPACITY,
        required=False,
        help_text=_("Leave empty for no limit. When full, people join a waiting list."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    team_id = forms.TypedChoiceField(label=_("Organising team"), coerce=int, required=False, empty_value=None)
    grid_id = forms.TypedChoiceField(label=_("Grid"), coerce=int, required=False, empty_value=None)
    organiser_phone = forms.CharField(
        label=_("Organiser's phone"),
        max_length=20,
        required=False,
        help_text=_("The organiser runs the sign-in and marks attendance. Empty: staff only."),
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    description = forms.CharField(
        label=_("Description"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, community: Community, day: date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rules = selectors.rules_in_force(community, day=day or timezone.localdate())
        self.fields["rule_id"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (r.pk, f"{r.area.name} · {r}") for r in rules
        ]
        self.fields["team_id"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (t.pk, t.name) for t in Team.objects.filter(community=community).order_by("name")
        ]
        self.fields["grid_id"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (g.pk, g.name) for g in Grid.objects.filter(community=community).order_by("number", "id")
        ]


class ActivityForm(_Common):
    day = forms.DateField(label=_("Day"), widget=DATE)
    starts_at = forms.TimeField(label=_("Starts at"), widget=TIME)
    ends_at = forms.TimeField(label=_("Ends at"), widget=TIME)

    field_order = [
        "title",
        "day",
        "starts_at",
        "ends_at",
        "place",
        "rule_id",
        "capacity",
        "team_id",
        "grid_id",
        "organiser_phone",
        "description",
    ]

    @classmethod
    def initial_of(cls, activity: Activity) -> dict[str, Any]:
        start, end = timezone.localtime(activity.starts_at), timezone.localtime(activity.ends_at)
        return {
            "title": activity.title,
            "place": activity.place,
            "rule_id": activity.rule_id,
            "capacity": activity.capacity,
            "team_id": activity.team_id,
            "grid_id": activity.grid_id,
            "organiser_phone": activity.organiser.phone if activity.organiser else "",
            "description": activity.description,
            "day": start.date(),
            "starts_at": start.time(),
            "ends_at": end.time(),
        }

    def data_(self) -> ActivityData:
        d = self.cleaned_data
        return ActivityData(
            title=d["title"],
            place=d["place"],
            starts_at=aware(d["day"], d["starts_at"]),
            ends_at=aware(d["day"], d["ends_at"]),
            rule_id=d["rule_id"],
            capacity=d["capacity"],
            description=d["description"],
            team_id=_optional_int(d["team_id"]),
            grid_id=_optional_int(d["grid_id"]),
            organiser_phone=d["organiser_phone"],
        )


class SeriesForm(_Common):
    repeat = forms.ChoiceField(label=_("Repeats"), choices=REPEATS, widget=forms.RadioSelect)
    weekday = forms.TypedChoiceField(
        label=_("Weekday"), choices=[("", "—"), *WEEKDAYS], coerce=int, required=False, empty_value=None
    )
    nth = forms.TypedChoiceField(
        label=_("Which one in the month"), choices=[("", "—"), *NTH], coerce=int, required=False, empty_value=None
    )
    day = forms.IntegerField(label=_("Day of the month (1 to 28)"), min_value=1, max_value=28, required=False)
    start_time = forms.TimeField(label=_("Starts at"), widget=TIME)
    end_time = forms.TimeField(label=_("Ends at"), widget=TIME)
    first_date = forms.DateField(label=pgettext_lazy("first day of a recurring activity", "From"), widget=DATE)
    last_date = forms.DateField(
        label=pgettext_lazy("last day of a recurring activity", "Until (optional)"), widget=DATE, required=False
    )

    field_order = [
        "title",
        "repeat",
        "weekday",
        "nth",
        "day",
        "start_time",
        "end_time",
        "first_date",
        "last_date",
        "place",
        "rule_id",
        "capacity",
        "team_id",
        "grid_id",
        "organiser_phone",
        "description",
    ]

    def data_(self) -> SeriesData:
        d = self.cleaned_data
        return SeriesData(
            title=d["title"],
            place=d["place"],
            rule_id=d["rule_id"],
            repeat=d["repeat"],
            weekday=d["weekday"],
            nth=d["nth"],
            day=d["day"],
            start_time=d["start_time"],
            end_time=d["end_time"],
            first_date=d["first_date"],
            last_date=d["last_date"],
            capacity=d["capacity"],
            description=d["description"],
            team_id=_optional_int(d["team_id"]),
            grid_id=_optional_int(d["grid_id"]),
            organiser_phone=d["organiser_phone"],
        )


def series_summary(series: ActivitySeries) -> str:
    """The plain words of a series' repeat rule, for the pages ("every month, the first Monday")."""
    parts = dict(p.split("=", 1) for p in series.rrule.split(";") if "=" in p)
    days = dict(zip(WEEKDAY_CODES, (label for _n, label in WEEKDAYS), strict=True))
    byday = parts.get("BYDAY", "")
    if parts.get("FREQ") == "WEEKLY":
        return str(_("every week on %(day)s")) % {"day": days.get(byday, byday)}
    if parts.get("FREQ") == "MONTHLY" and byday:
        nth = dict(NTH).get(int(byday[:-2]), byday[:-2])
        return str(_("every month, the %(nth)s %(day)s")) % {"nth": nth, "day": days.get(byday[-2:], byday)}
    if parts.get("FREQ") == "MONTHLY":
        return str(_("every month on day %(day)s")) % {"day": parts.get("BYMONTHDAY", "?")}
    return series.rrule


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason (shown to no one but the record)"), max_length=200, required=False)


class MarkForm(forms.Form):
    person = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    present = forms.TypedChoiceField(
        choices=[("1", "1"), ("0", "0")], coerce=lambda v: v == "1", widget=forms.HiddenInput
    )
    checked_in_at = forms.TimeField(label=_("Arrived"), widget=TIME, required=False)
    checked_out_at = forms.TimeField(label=_("Left"), widget=TIME, required=False)

    def times(self, activity: Activity) -> tuple[datetime | None, datetime | None]:
        """The typed times on the activity's own day; one that runs past midnight has two (domain.place_time)."""
        starts, ends = timezone.localtime(activity.starts_at), timezone.localtime(activity.ends_at)
        d = self.cleaned_data
        arrived = place_time(d["checked_in_at"], starts, ends) if d.get("checked_in_at") else None
        left = place_time(d["checked_out_at"], starts, ends) if d.get("checked_out_at") else None
        return arrived, left


class PersonQueryForm(forms.Form):
    q = forms.CharField(label=_("Name or phone"), max_length=50, required=False)
