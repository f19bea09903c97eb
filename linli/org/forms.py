"""Page forms: they parse and check the shape of input; business rules live in services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from linli.org import selectors
from linli.org.access import Actor
from linli.org.models import Building, Community, Compound, DutyRole, Gender, Grid, Household, Relation, Role, Tag
from linli.org.services import PersonData


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"autofocus": True, "inputmode": "tel", "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def clean_username(self) -> str:
        from linli.org.domain import normalize_phone

        raw = self.cleaned_data["username"]
        return normalize_phone(raw) or raw.strip()


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label=_("Current password"), strip=False, widget=forms.PasswordInput)
    new_password = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput,
        help_text=_("At least 8 characters, not only digits."),
    )
    new_password2 = forms.CharField(label=_("New password again"), strip=False, widget=forms.PasswordInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("new_password") != data.get("new_password2"):
            self.add_error("new_password2", _("The two new passwords differ."))
        return data


class ActorForm(forms.Form):
    """A form whose choices depend on what the actor may see."""

    def __init__(self, *args: Any, actor: Actor, community: Community | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.community = community
        self.setup()

    def setup(self) -> None:
        pass


class GridForm(ActorForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    number = forms.IntegerField(label=_("Number"), min_value=1, max_value=999, initial=1)
    parent = forms.ModelChoiceField(
        label=_("Inside grid (for a micro-grid)"),
        queryset=Grid.objects.none(),
        required=False,
        empty_label=_("— none —"),
    )

    def setup(self) -> None:
        self.fields["parent"].queryset = selectors.grids(self.actor, community=self.community)  # type: ignore[attr-defined]


class CompoundForm(ActorForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    grid = forms.ModelChoiceField(
        label=_("Grid"), queryset=Grid.objects.none(), required=False, empty_label=_("— none —")
    )
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    property_company = forms.CharField(label=_("Property company"), max_length=100, required=False)

    def setup(self) -> None:
        self.fields["grid"].queryset = selectors.grids(self.actor, community=self.community)  # type: ignore[attr-defined]


class BuildingForm(ActorForm):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("e.g. 3号楼"))
    grid = forms.ModelChoiceField(label=_("Grid"), queryset=Grid.objects.none())
    compound = forms.ModelChoiceField(
        label=_("Compound"), queryset=Compound.objects.none(), required=False, empty_label=_("— none —")
    )
    floors = forms.IntegerField(label=_("Floors"), min_value=1, max_value=200, required=False)

    def setup(self) -> None:
        self.fields["grid"].queryset = selectors.grids(self.actor, community=self.community)  # type: ignore[attr-defined]
        self.fields["compound"].queryset = selectors.compounds(self.actor, community=self.community)  # type: ignore[attr-defined]


class HouseholdForm(ActorForm):
    building = forms.ModelChoiceField(label=_("Building"), queryset=Building.objects.none())
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False, help_text=_("e.g. 2单元"))
    room = forms.CharField(label=_("Room"), max_length=20, help_text=_("e.g. 502"))
    address = forms.CharField(
        label=_("Address"), max_length=200, required=False, help_text=_("Leave empty to build it from the building")
    )
    floor_area = forms.DecimalField(
        label=_("Exclusive floor area (m²)"),
        max_digits=8,
        decimal_places=2,
        required=False,
        min_value=0,
        help_text=_("Needed for owners' votes"),
    )
    developer_held = forms.BooleanField(
        label=_("Still the developer's (unsold, or not yet handed over)"), required=False
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def setup(self) -> None:
        from linli.org.access import scoped

        qs = Building.objects.select_related("grid", "compound")
        if self.community is not None:
            qs = qs.filter(community=self.community)
        self.fields["building"].queryset = scoped(self.actor, "household.manage", qs)  # type: ignore[attr-defined]
        self.fields["building"].label_from_instance = lambda b: f"{b.grid.name} · {b}"  # type: ignore[attr-defined]


TAG_CHOICES = Tag.choices


class PersonForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
        help_text=_("Leave empty if they have none"),
    )
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, required=False)
    birth_year = forms.IntegerField(label=_("Birth year"), min_value=1900, max_value=2100, required=False)
    tags = forms.MultipleChoiceField(
        label=_("Tags"), choices=TAG_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def person_data(self) -> PersonData:
        d = self.cleaned_data
        return PersonData(
            name=d["name"],
            phone=d.get("phone") or "",
            gender=d.get("gender") or "",
            birth_year=d.get("birth_year"),
            tags=tuple(d.get("tags") or ()),
            note=d.get("note") or "",
        )


class MemberFieldsForm(forms.Form):
    relation = forms.ChoiceField(label=_("Relation to the head"), choices=Relation.choices, initial=Relation.OTHER)
    is_owner = forms.BooleanField(label=_("Owner (votes in owners' decisions)"), required=False)


class PersonInHouseholdForm(PersonForm, MemberFieldsForm):
    """Add a new person straight into a household."""


class MoveForm(ActorForm, MemberFieldsForm):
    household = forms.ModelChoiceField(label=_("Move to household"), queryset=Household.objects.none())

    def setup(self) -> None:
        from linli.org.access import scoped

        qs = Household.objects.select_related("building").filter(community=self.community)
        self.fields["household"].queryset = scoped(self.actor, "household.manage", qs)  # type: ignore[attr-defined]


class LoginCreateForm(forms.Form):
    password = forms.CharField(
        label=_("First password"),
        strip=False,
        widget=forms.PasswordInput,
        help_text=_("They must change it the first time they sign in."),
    )


class TeamForm(ActorForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class TeamMemberForm(forms.Form):
    person_id = forms.IntegerField(label=_("Person number"), widget=forms.HiddenInput)
    duty_role = forms.ChoiceField(
        label=_("Duty role"), choices=[("", _("— none —")), *DutyRole.choices], required=False
    )


class MerchantForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    contact_name = forms.CharField(label=_("Contact person"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=20, required=False)
    offer = forms.CharField(label=_("What they offer"), max_length=200, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class PartnerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.CharField(label=_("Kind"), max_length=50, required=False)
    contact_name = forms.CharField(label=_("Contact person"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=20, required=False)
    agreement_signed_on = forms.DateField(
        label=_("Agreement signed on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class RoleGrantForm(ActorForm):
    phone = forms.CharField(label=_("Mobile number of the login"), max_length=20)
    role = forms.ChoiceField(label=_("Role"), choices=[c for c in Role.choices if c[0] != Role.RESIDENT])
    scope = forms.ChoiceField(label=_("Where"), choices=())

    def setup(self) -> None:
        choices: list[tuple[str, str]] = []
        for c in selectors.communities(self.actor):
            choices.append((f"community:{c.id}", str(c)))
        for g in selectors.grids(self.actor, community=self.community):
            choices.append((f"grid:{g.id}", f"{g.community} · {g}"))
        for b in selectors.buildings(self.actor, community=self.community):
            choices.append((f"building:{b.id}", f"{b.community} · {b}"))
        for m in selectors.merchants(self.actor, community=self.community):
            choices.append((f"merchant:{m.id}", f"{m.community} · {m}"))
        self.fields["scope"].choices = choices  # type: ignore[attr-defined]


class TokenIssueForm(forms.Form):
    phone = forms.CharField(label=_("Mobile number of the login"), max_length=20)
    name = forms.CharField(label=_("What the token is for"), max_length=100)


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=50)
    tag = forms.ChoiceField(label=_("Tag"), choices=[("", _("all")), *Tag.choices], required=False)
