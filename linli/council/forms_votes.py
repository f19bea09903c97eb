"""Forms of the owners' vote pages. They check only the shape of the input (lengths, choices within the community, a
real date and time); the rules (draft only, the roll complete, one ballot per owner) live in the services."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.council import domain
from linli.council.models import AgendaItem, BallotChannel, Choice, Matter, OwnersVote
from linli.council.services import VoteData
from linli.org.models import Building, Compound


def matter_choices() -> list[tuple[str, str]]:
    """The nine items of art. 278 in words, each saying the majority it needs."""
    special, ordinary = _("needs 3/4 of those taking part"), _("needs more than half of those taking part")
    return [
        (value, f"{label} — {special if value in domain.SPECIAL_MATTERS else ordinary}")
        for value, label in Matter.choices
    ]


MATTER_HELP = _(
    "Every matter needs owners holding at least 2/3 of the exclusive area, who are at least 2/3 of all owners, to "
    "take part. Items (6) raising the maintenance fund, (7) altering or rebuilding the building and (8) changing the "
    "use of common parts then need at least 3/4 of the area and of the owners taking part to agree; every other item "
    "(1-5, 9, including using the maintenance fund) needs more than half of each."
)


class ItemField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.meeting.title} · {obj.title}"


class VoteForm(forms.Form):
    """An owners' vote as services.VoteData: question, matter, one building or one compound, closing time."""

    title = forms.CharField(label=_("Question"), max_length=120)
    proposal = forms.CharField(
        label=_("Proposal (what the owners agree to)"), max_length=8000, widget=forms.Textarea(attrs={"rows": 5})
    )
    matter = forms.ChoiceField(label=_("Matter (Civil Code art. 278)"), choices=(), help_text=MATTER_HELP)
    building = forms.ModelChoiceField(
        label=_("Building"), queryset=Building.objects.none(), required=False, help_text=_("Choose a building…")
    )
    compound = forms.ModelChoiceField(label=_("…or a whole compound"), queryset=Compound.objects.none(), required=False)
    closes_on = forms.DateField(label=_("Ballots close on"), widget=forms.DateInput(attrs={"type": "date"}))
    closes_time = forms.TimeField(
        label=_("at"), initial="20:00", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    item = ItemField(label=_("Agenda item of a meeting (optional)"), queryset=AgendaItem.objects.none(), required=False)

    def __init__(
        self,
        *args: Any,
        buildings: Any,
        compounds: Any,
        items: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["matter"]).choices = matter_choices()
        cast(forms.ModelChoiceField, self.fields["building"]).queryset = buildings
        cast(forms.ModelChoiceField, self.fields["compound"]).queryset = compounds
        cast(forms.ModelChoiceField, self.fields["item"]).queryset = items

    @staticmethod
    def initial_of(vote: OwnersVote) -> dict[str, Any]:
        local = timezone.localtime(vote.closes_at)
        return {
            "title": vote.title,
            "proposal": vote.proposal,
            "matter": vote.matter,
            "building": vote.building_id,
            "compound": vote.compound_id,
            "closes_on": local.date(),
            "closes_time": local.time().replace(second=0, microsecond=0),
            "item": vote.item_id,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("building")) == bool(data.get("compound")) and not self.has_error("building"):
            self.add_error("building", _("Choose either one building or one compound."))
        return data

    def vote_data(self) -> VoteData:
        d = self.cleaned_data
        closes_at = timezone.make_aware(datetime.combine(d["closes_on"], d["closes_time"]))
        return VoteData(
            title=d["title"],
            proposal=d["proposal"],
            matter=d["matter"],
            closes_at=closes_at,
            building=d["building"],
            compound=d["compound"],
            item=d["item"],
        )


CHANNELS = [(BallotChannel.PAPER, _("paper ballot")), (BallotChannel.MEETING, _("show of hands at a meeting"))]


class BallotRecordForm(forms.Form):
    """A paper ballot (or a show of hands) for one owner on the roll, entered by staff."""

    entry = forms.IntegerField(min_value=1, max_value=2**62, widget=forms.HiddenInput)
    choice = forms.ChoiceField(label=_("Choice"), choices=Choice.choices)
    channel = forms.ChoiceField(
        label=_("How"),
        choices=CHANNELS,
        initial=BallotChannel.PAPER,
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class CastForm(forms.Form):
    """The owner's own ballot: the choice, and whether they already confirmed it on the second screen."""

    choice = forms.ChoiceField(choices=Choice.choices)
    confirm = forms.BooleanField(required=False)
