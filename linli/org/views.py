"""Pages for the organisation: home per role, the hierarchy, households, people, teams, merchants, partners,
roles and API tokens. Thin: parse, one service/selector call, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.common.errors import Forbidden, NotFound
from linli.common.views import attempt, paginate, query_string_without_page
from linli.ledger import selectors as ledger_selectors
from linli.org import domain, selectors, services
from linli.org.access import Actor, account_may_be_managed, can, require, require_any
from linli.org.context_processors import get_actor
from linli.org.forms import (
    ActorForm,
    BuildingForm,
    CompoundForm,
    GridForm,
    HouseholdForm,
    LoginCreateForm,
    LoginForm,
    MemberFieldsForm,
    MerchantForm,
    MoveForm,
    PartnerForm,
    PasswordChangeForm,
    PersonForm,
    PersonInHouseholdForm,
    RoleGrantForm,
    SearchForm,
    TeamForm,
    TeamMemberForm,
    TokenIssueForm,
)
from linli.org.models import (
    ApiToken,
    Building,
    Community,
    Compound,
    Grid,
    Household,
    HouseholdMember,
    Merchant,
    PartnerUnit,
    Person,
    Role,
    RoleAssignment,
    Team,
    TeamMember,
    User,
)

# --- helpers --------------------------------------------------------------------------------------------------------


def current_community(request: HttpRequest, actor: Actor) -> Community:
    """The community a staff page works on: ?community=<id> when visible, else the actor's first one."""
    wanted = request.GET.get("community") or request.POST.get("community")
    if wanted:
        return selectors.get_visible(actor, Community, wanted)
    community = selectors.communities(actor).first()
    if community is None:
        raise NotFound()
    return community


def _in_community(request: HttpRequest, actor: Actor, community: Community) -> dict[str, Any]:
    return {
        "community": community,
        "communities": selectors.communities(actor) if actor.has_role(Role.STREET_ADMIN) else [],
    }


def _signed_in(request: HttpRequest) -> User:
    """The signed-in user (views that call this are behind @login_required)."""
    assert isinstance(request.user, User)
    return request.user


def _phone_for(actor: Actor, person: Person) -> str:
    """The phone number as this actor may see it: in full for those who need it, masked for everyone else."""
    return selectors.phones_for(actor, [person])[person.pk]


# --- sign-in and my account -----------------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        user = _signed_in(request)
        changed = attempt(
            form,
            lambda: services.password_change(user=user, old_password=d["old_password"], new_password=d["new_password"]),
        )
        if changed is not None:
            update_session_auth_hash(request, changed)
            messages.success(request, _("Your password has been changed."))
            return redirect("home")
    return render(request, "registration/password_change.html", {"form": form})


@login_required
def account(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    assignments = RoleAssignment.objects.filter(user=_signed_in(request)).select_related(
        "street", "community", "grid", "building", "merchant"
    )
    person = Person.objects.filter(id=actor.person_id).first() if actor.person_id else None
    return render(request, "org/account.html", {"assignments": assignments, "person": person})


# --- home per role --------------------------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    ctx: dict[str, Any] = {}
    if actor.grants:
        communities = list(selectors.communities(actor)[:60])
        ctx["communities"] = [(c, selectors.community_counts(c)) for c in communities[:6]]
        ctx["is_staff"] = actor.has_role(Role.STREET_ADMIN, Role.COMMUNITY_STAFF)
        ctx["can_verify"] = actor.has_role(
            Role.STREET_ADMIN, Role.COMMUNITY_STAFF, Role.GRID_CHIEF, Role.GRID_WORKER, Role.BUILDING_STEWARD
        )
        ctx["can_manage_households"] = actor.has_role(
            Role.STREET_ADMIN, Role.COMMUNITY_STAFF, Role.GRID_CHIEF, Role.GRID_WORKER
        )
        ctx["grids"] = selectors.grids(actor).filter(
            id__in=[i for g in actor.grants if g.level == "grid" for i in g.ids]
        )
        ctx["buildings"] = selectors.buildings(actor).filter(
            id__in=[i for g in actor.grants if g.level == "building" for i in g.ids]
        )
        ctx["merchants"] = selectors.merchants(actor).filter(
            id__in=[i for g in actor.grants if g.level == "merchant" for i in g.ids]
        )
        ctx["role_labels"] = sorted({str(Role(g.role).label) for g in actor.grants})
    if actor.person_id:
        person = Person.objects.select_related("community").get(id=actor.person_id)
        memberships = list(selectors.memberships_of(person))
        building_ids = [m.household.building_id for m in memberships]
        grid_ids = [m.household.building.grid_id for m in memberships]
        ctx["person"] = person
        ctx["points"] = ledger_selectors.person_balance(person.pk)
        ctx["memberships"] = memberships
        ctx["teams"] = TeamMember.objects.filter(person=person).select_related("team")
        # Building stewards and grid workers post their contacts for residents (SEEDS.md 004).
        ctx["helpers"] = RoleAssignment.objects.filter(
            building_id__in=building_ids, role=Role.BUILDING_STEWARD
        ).select_related("user", "building") | RoleAssignment.objects.filter(
            grid_id__in=grid_ids, role__in=[Role.GRID_WORKER, Role.GRID_CHIEF]
        ).select_related("user", "grid")
    template = "org/home_staff.html" if actor.grants else "org/home_resident.html"
    return render(request, template, ctx)


# --- the hierarchy --------------------------------------------------------------------------------------------------


@login_required
def structure(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    require_any(actor, "org.view")
    community = current_community(request, actor)
    grids = list(selectors.grids(actor, community=community))
    buildings = list(selectors.buildings(actor, community=community))
    by_grid: dict[int, list[Building]] = {}
    for b in buildings:
        by_grid.setdefault(b.grid_id, []).append(b)
    return render(
        request,
        "org/structure.html",
        {
            **_in_community(request, actor, community),
            "grids": [(g, by_grid.get(g.id, [])) for g in grids],
            "compounds": selectors.compounds(actor, community=community),
            "counts": selectors.community_counts(community),
            "can_manage": can(actor, "org.manage", community),
        },
    )


def _edit_page(request: HttpRequest, *, title: str, form: Any, save: Any, done_url: str, back_url: str) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        result = attempt(form, lambda: save(form.cleaned_data))
        if result is not None:
            messages.success(request, _("Saved."))
            return redirect(done_url)
    return render(request, "org/form.html", {"form": form, "title": title, "back_url": back_url})


def _structure_url(community: Community) -> str:
    return f"{reverse('org:structure')}?community={community.id}"


@login_required
def grid_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    return _community_object_edit(
        request,
        pk,
        model=Grid,
        form_class=GridForm,
        action="org.manage",
        create=lambda actor, community, d: services.grid_create(actor=actor, community=community, **d),
        update=lambda actor, grid, d: services.grid_update(actor=actor, grid=grid, **d),
        list_url=_structure_url,
        titles=(_("Edit grid"), _("New grid")),
    )


@login_required
def compound_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    return _community_object_edit(
        request,
        pk,
        model=Compound,
        form_class=CompoundForm,
        action="org.manage",
        create=lambda actor, community, d: services.compound_create(actor=actor, community=community, **d),
        update=lambda actor, compound, d: services.compound_update(actor=actor, compound=compound, **d),
        list_url=_structure_url,
        titles=(_("Edit compound"), _("New compound")),
    )


@login_required
def building_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    return _community_object_edit(
        request,
        pk,
        model=Building,
        form_class=BuildingForm,
        action="org.manage",
        create=lambda actor, community, d: services.building_create(actor=actor, community=community, **d),
        update=lambda actor, building, d: services.building_update(actor=actor, building=building, **d),
        list_url=_structure_url,
        titles=(_("Edit or move building"), _("New building")),
        new_initial={"grid": request.GET.get("grid")},
    )


# --- households -----------------------------------------------------------------------------------------------------


@login_required
def households(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    require_any(actor, "household.view")
    community = current_community(request, actor)
    building = None
    if request.GET.get("building"):
        building = selectors.get_visible(actor, Building, request.GET["building"])
    q = request.GET.get("q", "")[:50]
    page = paginate(request, selectors.households(actor, community=community, building=building, q=q))
    return render(
        request,
        "org/households.html",
        {
            **_in_community(request, actor, community),
            "page": page,
            "q": q,
            "building": building,
            "qs": query_string_without_page(request),
            "buildings": selectors.buildings(actor, community=community),
            "can_add": actor.has_role(Role.STREET_ADMIN, Role.COMMUNITY_STAFF, Role.GRID_CHIEF, Role.GRID_WORKER),
        },
    )


def _household_initial(h: Household) -> dict[str, Any]:
    return {
        "building": h.building_id,
        "unit": h.unit,
        "room": h.room,
        "address": h.address,
        "floor_area": h.floor_area,
        "note": h.note,
    }


@login_required
def household_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = get_actor(request)
    household = selectors.get_visible(actor, Household, pk) if pk else None
    community = household.community if household else current_community(request, actor)
    if household:
        require(actor, "household.manage", household)
    else:
        require_any(actor, "household.manage")
    initial = _household_initial(household) if household else {"building": request.GET.get("building")}
    form = HouseholdForm(request.POST or None, initial=initial, actor=actor, community=community)

    def save(d: dict[str, Any]) -> Household:
        fields = {k: d[k] for k in ("building", "unit", "room", "address", "floor_area", "developer_held", "note")}
        if household:
            return services.household_update(actor=actor, household=household, **fields)
        return services.household_create(actor=actor, **fields)

    if request.method == "POST" and form.is_valid():
        saved = attempt(form, lambda: save(form.cleaned_data))
        if saved is not None:
            messages.success(request, _("Saved."))
            return redirect("org:household_detail", pk=saved.pk)
    back = reverse("org:household_detail", args=[household.pk]) if household else reverse("org:households")
    title = _("Edit or move household") if household else _("New household")
    return render(request, "org/form.html", {"form": form, "title": title, "back_url": back})


@login_required
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    household = selectors.get_visible(actor, Household, pk)
    members = list(selectors.members_of(actor, household))
    phones = selectors.phones_for(actor, [m.person for m in members])
    return render(
        request,
        "org/household_detail.html",
        {
            "household": household,
            "members": [(m, phones[m.person_id]) for m in members],
            "can_manage": can(actor, "household.manage", household),
            "owner_area": household.floor_area,
        },
    )


@login_required
def household_person_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    household = selectors.get_visible(actor, Household, pk)
    require(actor, "household.manage", household)
    form = PersonInHouseholdForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        person = attempt(
            form,
            lambda: services.person_create(
                actor=actor,
                community=household.community,
                data=form.person_data(),
                household=household,
                relation=d["relation"],
                is_owner=d["is_owner"],
            ),
        )
        if person is not None:
            messages.success(request, _("%(name)s has been added.") % {"name": person.name})
            return redirect("org:household_detail", pk=household.pk)
    return render(
        request,
        "org/form.html",
        {
            "form": form,
            "title": _("Add a person to %(household)s") % {"household": household},
            "back_url": reverse("org:household_detail", args=[household.pk]),
        },
    )


@login_required
@require_POST
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    member = HouseholdMember.objects.select_related("household", "person").filter(pk=pk).first()
    if member is None or not can(actor, "household.view", member.household):
        raise NotFound()
    services.member_remove(actor=actor, member=member)
    messages.success(request, _("%(name)s is no longer in this household.") % {"name": member.person.name})
    return redirect("org:household_detail", pk=member.household_id)


# --- people ---------------------------------------------------------------------------------------------------------


@login_required
def people(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    require_any(actor, "person.view")
    if not actor.grants:  # a resident's "people" is themselves
        return redirect("org:person_detail", pk=actor.person_id)
    community = current_community(request, actor)
    form = SearchForm(request.GET or None)
    q = tag = ""
    if form.is_valid():
        q, tag = form.cleaned_data["q"], form.cleaned_data["tag"]
    page = paginate(request, selectors.people(actor, community=community, q=q, tag=tag))
    phones = selectors.phones_for(actor, list(page.object_list))
    rows = [(p, phones[p.pk]) for p in page.object_list]
    return render(
        request,
        "org/people.html",
        {
            **_in_community(request, actor, community),
            "form": form,
            "page": page,
            "rows": rows,
            "qs": query_string_without_page(request),
            "can_add": actor.has_role(Role.STREET_ADMIN, Role.COMMUNITY_STAFF, Role.GRID_CHIEF, Role.GRID_WORKER),
        },
    )


@login_required
def person_create(request: HttpRequest) -> HttpResponse:
    """A person not yet placed in a household (e.g. a tenant being registered); usually people are added from a
    household page."""
    actor = get_actor(request)
    community = current_community(request, actor)
    require(actor, "person.manage", community)
    form = PersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        person = attempt(
            form, lambda: services.person_create(actor=actor, community=community, data=form.person_data())
        )
        if person is not None:
            messages.success(request, _("%(name)s has been added.") % {"name": person.name})
            return redirect("org:person_detail", pk=person.pk)
    return render(request, "org/form.html", {"form": form, "title": _("New person"), "back_url": reverse("org:people")})


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    person = selectors.get_visible(actor, Person, pk)
    return render(
        request,
        "org/person_detail.html",
        {
            "person": person,
            "phone": _phone_for(actor, person),
            "memberships": selectors.memberships_of(person),
            "teams": TeamMember.objects.filter(person=person).select_related("team"),
            "can_manage": can(actor, "person.manage", person),
            "can_account": can(actor, "account.manage", person),
            "can_passbook": can(actor, "ledger.view", person),
            "can_card": can(actor, "card.manage", person),
            "is_self": actor.person_id == person.pk,
            "temporary_password": request.session.pop(f"temp-password-{person.pk}", None),
        },
    )


@login_required
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    person = selectors.get_visible(actor, Person, pk)
    require(actor, "person.manage", person)
    initial = {
        "name": person.name,
        "phone": person.phone,
        "gender": person.gender,
        "birth_year": person.birth_year,
        "tags": person.tag_list,
        "note": person.note,
    }
    form = PersonForm(request.POST or None, initial=initial)
    return _edit_page(
        request,
        title=_("Edit %(name)s") % {"name": person.name},
        form=form,
        save=lambda d: services.person_update(actor=actor, person=person, data=form.person_data()),
        done_url=reverse("org:person_detail", args=[person.pk]),
        back_url=reverse("org:person_detail", args=[person.pk]),
    )


@login_required
def person_move(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    person = selectors.get_visible(actor, Person, pk)
    require(actor, "person.manage", person)
    form = MoveForm(request.POST or None, actor=actor, community=person.community)
    return _edit_page(
        request,
        title=_("Move %(name)s to another household") % {"name": person.name},
        form=form,
        save=lambda d: services.person_move(
            actor=actor, person=person, to_household=d["household"], relation=d["relation"], is_owner=d["is_owner"]
        ),
        done_url=reverse("org:person_detail", args=[person.pk]),
        back_url=reverse("org:person_detail", args=[person.pk]),
    )


@login_required
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    member = HouseholdMember.objects.select_related("household", "person").filter(pk=pk).first()
    if member is None or not can(actor, "household.view", member.household):
        raise NotFound()
    require(actor, "household.manage", member.household)
    form = MemberFieldsForm(request.POST or None, initial={"relation": member.relation, "is_owner": member.is_owner})
    return _edit_page(
        request,
        title=_("%(name)s in %(household)s") % {"name": member.person.name, "household": member.household},
        form=form,
        save=lambda d: services.member_update(
            actor=actor, member=member, relation=d["relation"], is_owner=d["is_owner"]
        ),
        done_url=reverse("org:household_detail", args=[member.household_id]),
        back_url=reverse("org:household_detail", args=[member.household_id]),
    )


@login_required
def person_login(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff give a resident a login with the first password they chose together."""
    actor = get_actor(request)
    person = selectors.get_visible(actor, Person, pk)
    require(actor, "account.manage", person)
    form = LoginCreateForm(request.POST or None)
    return _edit_page(
        request,
        title=_("Give %(name)s a login") % {"name": person.name},
        form=form,
        save=lambda d: services.login_create_for_person(actor=actor, person=person, password=d["password"]),
        done_url=reverse("org:person_detail", args=[person.pk]),
        back_url=reverse("org:person_detail", args=[person.pk]),
    )


@login_required
@require_POST
def person_password_reset(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    person = selectors.get_visible(actor, Person, pk)
    require(actor, "account.manage", person)
    if person.user is None:
        raise NotFound()
    password = services.password_reset_by_staff(actor=actor, user=person.user)
    # shown once on the next page, never stored anywhere else
    request.session[f"temp-password-{person.pk}"] = password
    return redirect("org:person_detail", pk=person.pk)


@login_required
@require_POST
def person_active(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    person = selectors.get_visible(actor, Person, pk)
    active = request.POST.get("active") == "1"
    services.person_set_active(actor=actor, person=person, active=active, reason=request.POST.get("reason", "")[:200])
    messages.success(request, _("Saved."))
    return redirect("org:person_detail", pk=person.pk)


# --- teams, merchants, partners -------------------------------------------------------------------------------------


@login_required
def teams(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    require_any(actor, "team.view")
    community = current_community(request, actor)
    return render(
        request,
        "org/teams.html",
        {
            **_in_community(request, actor, community),
            "teams": selectors.teams(actor, community=community),
            "can_manage": can(actor, "team.manage", community),
        },
    )


@login_required
def team_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = get_actor(request)
    team = selectors.get_visible(actor, Team, pk) if pk else None
    community = team.community if team else current_community(request, actor)
    require(actor, "team.manage", team or community)
    initial = {"name": team.name, "description": team.description} if team else {}
    form = TeamForm(request.POST or None, initial=initial, actor=actor, community=community)

    def save(d: dict[str, Any]) -> Team:
        if team:
            return services.team_update(
                actor=actor, team=team, name=d["name"], description=d["description"], leader=team.leader
            )
        return services.team_create(actor=actor, community=community, name=d["name"], description=d["description"])

    url = f"{reverse('org:teams')}?community={community.id}"
    return _edit_page(
        request, title=_("Edit team") if team else _("New team"), form=form, save=save, done_url=url, back_url=url
    )


@login_required
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    team = selectors.get_visible(actor, Team, pk)
    can_manage = can(actor, "team.manage", team)
    form = TeamMemberForm(request.POST or None)
    candidates: Any = []
    q = request.GET.get("q", "")[:50]
    if can_manage and q:
        candidates = selectors.people(actor, community=team.community, q=q)[:20]
    if request.method == "POST" and can_manage and form.is_valid():
        person = selectors.get_visible(actor, Person, form.cleaned_data["person_id"])
        added = attempt(
            form,
            lambda: services.team_member_add(
                actor=actor, team=team, person=person, duty_role=form.cleaned_data["duty_role"]
            ),
        )
        if added is not None:
            messages.success(request, _("%(name)s has joined the team.") % {"name": person.name})
            return redirect("org:team_detail", pk=team.pk)
    elif request.method == "POST" and not can_manage:
        raise Forbidden()
    members = team.members.select_related("person").order_by("duty_role", "person__name")
    return render(
        request,
        "org/team_detail.html",
        {
            "team": team,
            "members": members,
            "can_manage": can_manage,
            "form": form,
            "q": q,
            "candidates": candidates,
        },
    )


@login_required
@require_POST
def team_member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    member = TeamMember.objects.select_related("team", "person").filter(pk=pk).first()
    if member is None or not can(actor, "team.view", member.team):
        raise NotFound()
    services.team_member_remove(actor=actor, member=member)
    return redirect("org:team_detail", pk=member.team_id)


def _simple_list(request: HttpRequest, *, action: str, manage: str, rows: Any, template: str) -> HttpResponse:
    actor = get_actor(request)
    require_any(actor, action)
    community = current_community(request, actor)
    return render(
        request,
        template,
        {
            **_in_community(request, actor, community),
            "rows": rows(actor, community=community),
            "can_manage": can(actor, manage, community),
        },
    )


@login_required
def merchants(request: HttpRequest) -> HttpResponse:
    return _simple_list(
        request,
        action="merchant.view",
        manage="merchant.manage",
        rows=selectors.merchants,
        template="org/merchants.html",
    )


@login_required
def partners(request: HttpRequest) -> HttpResponse:
    return _simple_list(
        request, action="partner.view", manage="partner.manage", rows=selectors.partners, template="org/partners.html"
    )


def _fields_of(obj: Model | None, form_class: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in form_class.base_fields} if obj else {}


def _community_object_edit(
    request: HttpRequest,
    pk: int | None,
    *,
    model: type[Model],
    form_class: type[forms.Form],
    action: str,
    create: Callable[[Actor, Community, dict[str, Any]], Model],
    update: Callable[[Actor, Any, dict[str, Any]], Model],
    list_url: Callable[[Community], str],
    titles: tuple[str, str],
    new_initial: dict[str, Any] | None = None,
) -> HttpResponse:
    """Create (pk None) or edit one thing that belongs to a community — grid, compound, building, caring merchant,
    partner unit: the form's fields are the service's keyword arguments."""
    actor = get_actor(request)
    obj = selectors.get_visible(actor, model, pk) if pk else None
    community = obj.community if obj else current_community(request, actor)  # type: ignore[attr-defined]
    require(actor, action, obj or community)
    initial = _fields_of(obj, form_class) if obj else (new_initial or {})
    extra = {"actor": actor, "community": community} if issubclass(form_class, ActorForm) else {}
    form = form_class(request.POST or None, initial=initial, **extra)

    def save(d: dict[str, Any]) -> Model:
        return update(actor, obj, d) if obj else create(actor, community, d)

    url = list_url(community)
    return _edit_page(request, title=titles[0] if obj else titles[1], form=form, save=save, done_url=url, back_url=url)


def _list_url(name: str) -> Callable[[Community], str]:
    return lambda community: f"{reverse(name)}?community={community.id}"


@login_required
def merchant_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    return _community_object_edit(
        request,
        pk,
        model=Merchant,
        form_class=MerchantForm,
        action="merchant.manage",
        create=lambda actor, community, d: services.merchant_create(actor=actor, community=community, **d),
        update=lambda actor, obj, d: services.merchant_update(actor=actor, merchant=obj, **d),
        list_url=_list_url("org:merchants"),
        titles=(_("Edit merchant"), _("New caring merchant")),
    )


@login_required
def partner_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    return _community_object_edit(
        request,
        pk,
        model=PartnerUnit,
        form_class=PartnerForm,
        action="partner.manage",
        create=lambda actor, community, d: services.partner_create(actor=actor, community=community, **d),
        update=lambda actor, obj, d: services.partner_update(actor=actor, partner=obj, **d),
        list_url=_list_url("org:partners"),
        titles=(_("Edit partner unit"), _("New partner unit")),
    )


# --- roles and API tokens -------------------------------------------------------------------------------------------


def _user_by_phone(form: Any, phone: str) -> User | None:
    user = User.objects.filter(phone=domain.normalize_phone(phone) or phone).first()
    if user is None:
        form.add_error("phone", _("No login has this mobile number. Give the person a login first."))
    return user


@login_required
def roles(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    require_any(actor, "role.manage")
    community = current_community(request, actor)
    form = RoleGrantForm(request.POST or None, actor=actor, community=community)
    if request.method == "POST" and form.is_valid():
        user = _user_by_phone(form, form.cleaned_data["phone"])
        level, _sep, scope_id = form.cleaned_data["scope"].partition(":")
        models: dict[str, type[Model]] = {
            "community": Community,
            "grid": Grid,
            "building": Building,
            "merchant": Merchant,
        }
        scope = selectors.get_visible(actor, models[level], scope_id)
        granted: RoleAssignment | None = None
        if user is not None:
            role = form.cleaned_data["role"]
            granted = attempt(form, lambda: services.role_grant(actor=actor, user=user, role=role, scope=scope))
        if granted is not None:
            messages.success(request, _("The role has been given."))
            return redirect(f"{reverse('org:roles')}?community={community.id}")
    assignments = [
        ra
        for ra in RoleAssignment.objects.select_related(
            "user", "community", "grid", "building", "merchant", "street"
        ).filter(community=community)
        | RoleAssignment.objects.filter(grid__community=community)
        | RoleAssignment.objects.filter(building__community=community)
        | RoleAssignment.objects.filter(merchant__community=community)
        if ra.scope_object is not None and can(actor, "role.manage", ra.scope_object)
    ]
    return render(
        request,
        "org/roles.html",
        {
            **_in_community(request, actor, community),
            "form": form,
            "assignments": assignments,
        },
    )


@login_required
@require_POST
def role_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    assignment = RoleAssignment.objects.filter(pk=pk).first()
    if assignment is None:
        raise NotFound()
    services.role_revoke(actor=actor, assignment=assignment)
    messages.success(request, _("The role has been removed."))
    return redirect("org:roles")


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    require_any(actor, "token.manage")
    form = TokenIssueForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        user = _user_by_phone(form, form.cleaned_data["phone"])
        if user is not None:
            issued = attempt(
                form, lambda: services.api_token_issue(actor=actor, user=user, name=form.cleaned_data["name"])
            )
            if issued is not None:
                new_key = issued[1]
                form = TokenIssueForm()
    rows = [
        t
        for t in ApiToken.objects.select_related("user", "issued_by").order_by("-created_at")[:500]
        if t.issued_by_id == request.user.pk or account_may_be_managed(actor, t.user)
    ]
    return render(request, "org/tokens.html", {"form": form, "rows": rows, "new_key": new_key})


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    token = ApiToken.objects.select_related("user").filter(pk=pk).first()
    if token is None:
        raise NotFound()
    services.api_token_revoke(actor=actor, token=token)
    messages.success(request, _("The token has been revoked."))
    return redirect("org:tokens")
