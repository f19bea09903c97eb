"""The organisation over JSON: me, the hierarchy, households, people, teams, merchants, partners, API tokens.

Handlers are thin: parse input (ninja/pydantic: every 400 for shape is raised before the handler runs),
fetch what the actor may see through `linli.org.selectors` (anything else is 404), call ONE service for a
write (which checks the permission again and answers 403 for an in-scope object the actor may only read), and
shape the answer.
Phones are masked unless `access` lets the actor see a person's private data.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from linli.common.api import SESSION_ONLY, Id, Page, PageIn, actor, paginate, responses
from linli.common.errors import Invalid, NotFound
from linli.org import domain, selectors, services
from linli.org.access import Actor, require_any, scoped
from linli.org.models import (
    ROLE_SCOPE,
    ApiToken,
    Building,
    Community,
    Compound,
    Grid,
    Household,
    HouseholdMember,
    Person,
    Role,
    User,
)
from linli.org.schemas import (
    BuildingFilter,
    BuildingOut,
    CommunityFilter,
    CommunityOut,
    CompoundOut,
    GridOut,
    HouseholdDetailOut,
    HouseholdFilter,
    HouseholdIn,
    HouseholdOut,
    HouseholdPatch,
    MemberIn,
    MemberOut,
    MeOut,
    MerchantOut,
    PartnerOut,
    PersonDetailOut,
    PersonFilter,
    PersonIn,
    PersonOut,
    PersonPatch,
    TeamOut,
    TokenIn,
    TokenIssuedOut,
    TokenOut,
)

router = Router(tags=["org"])

M = TypeVar("M", bound=Model)


# --- helpers ------------------------------------------------------------------------------------------------


def _allowed_ids(act: Actor, action: str, objs: Iterable[M]) -> set[int]:
    """Ids among `objs` on which `act` may do `action`: one query for a whole page instead of one per row."""
    objs = list(objs)
    if not objs:
        return set()
    model = type(objs[0])
    qs = scoped(act, action, model._default_manager.filter(pk__in=[o.pk for o in objs]))
    return set(qs.values_list("pk", flat=True))


def _phone(phone: str, private: bool) -> str:
    return phone if private else domain.mask_phone(phone)


def _person_out(person: Person, private: bool) -> dict[str, Any]:
    return {
        "id": person.pk,
        "community_id": person.community_id,
        "name": person.name,
        "phone": _phone(person.phone, private),
        "phone_masked": bool(person.phone) and not private,
        "gender": person.gender,
        "birth_year": person.birth_year,
        "tags": person.tag_list,
        "note": person.note if private else "",
        "is_active": person.is_active,
        "has_login": person.user_id is not None,
    }


def _member_out(member: HouseholdMember, private: bool) -> dict[str, Any]:
    return {
        "id": member.pk,
        "person_id": member.person_id,
        "name": member.person.name,
        "phone": _phone(member.person.phone, private),
        "relation": member.relation,
        "is_owner": member.is_owner,
    }


def _household_detail(act: Actor, household: Household) -> dict[str, Any]:
    members = list(selectors.members_of(act, household))
    private = _allowed_ids(act, "person.view_private", [m.person for m in members])
    return {
        **HouseholdOut.from_orm(household).dict(),
        "members": [_member_out(m, m.person_id in private) for m in members],
    }


def _person_detail(act: Actor, person: Person) -> dict[str, Any]:
    private = _allowed_ids(act, "person.view_private", [person])
    places = list(selectors.memberships_of(person))
    visible = _allowed_ids(act, "household.view", [m.household for m in places])
    return {
        **_person_out(person, person.pk in private),
        "households": [
            {"member_id": m.pk, "household_id": m.household_id, "address": str(m.household),
             "relation": m.relation, "is_owner": m.is_owner}
            for m in places
            if m.household_id in visible
        ],
    }


def _visible_or_none(act: Actor, model: type[M], pk: int | None) -> M | None:
    return None if pk is None else selectors.get_visible(act, model, pk)


def _with_contact(act: Actor, action: str, objs: list[Any], out: Any) -> list[dict[str, Any]]:
    """Merchants and partner units: contact phones in full only for those who manage them."""
    full = _allowed_ids(act, action, objs)
    rows = []
    for obj in objs:
        row = out.from_orm(obj).dict()
        row["contact_phone"] = _phone(obj.contact_phone, obj.pk in full)
        rows.append(row)
    return rows


# --- who am I -----------------------------------------------------------------------------------------------


@router.get("/me", response=responses({200: MeOut}), summary="The signed-in user, their roles, their person")
def me(request: HttpRequest) -> dict[str, Any]:
    act = actor(request)
    user = act.user
    labels = dict(Role.choices)
    roles = []
    for ra in selectors.role_assignments_of(user):
        level = ROLE_SCOPE[ra.role]
        scope = ra.scope_object
        roles.append({"role": ra.role, "label": str(labels.get(ra.role, ra.role)), "level": level,
                      "scope_id": getattr(ra, f"{level}_id"), "scope_name": str(scope) if scope else ""})
    person = None
    if act.person_id:
        p = selectors.get_visible(act, Person, act.person_id)
        person = {"id": p.pk, "name": p.name, "community_id": p.community_id,
                  "community_name": p.community.name}
    return {"user": {"id": user.pk, "name": user.name, "phone": user.phone}, "roles": roles, "person": person}


# --- the hierarchy ------------------------------------------------------------------------------------------


@router.get("/communities", response=responses({200: Page[CommunityOut]}))
def list_communities(request: HttpRequest, page: Query[PageIn]) -> dict[str, Any]:
    return paginate(selectors.communities(actor(request)), page)


@router.get("/communities/{community_id}", response=responses({200: CommunityOut}))
def get_community(request: HttpRequest, community_id: Id) -> Community:
    return selectors.get_visible(actor(request), Community, community_id)


@router.get("/grids", response=responses({200: Page[GridOut]}))
def list_grids(request: HttpRequest, filters: Query[CommunityFilter]) -> dict[str, Any]:
    act = actor(request)
    community = _visible_or_none(act, Community, filters.community)
    return paginate(selectors.grids(act, community=community), filters)


@router.get("/compounds", response=responses({200: Page[CompoundOut]}))
def list_compounds(request: HttpRequest, filters: Query[CommunityFilter]) -> dict[str, Any]:
    act = actor(request)
    community = _visible_or_none(act, Community, filters.community)
    return paginate(selectors.compounds(act, community=community), filters)


@router.get("/buildings", response=responses({200: Page[BuildingOut]}))
def list_buildings(request: HttpRequest, filters: Query[BuildingFilter]) -> dict[str, Any]:
    act = actor(request)
    qs = selectors.buildings(
        act,
        community=_visible_or_none(act, Community, filters.community),
        grid=_visible_or_none(act, Grid, filters.grid),
        compound=_visible_or_none(act, Compound, filters.compound),
        q=filters.q.strip(),
    )
    return paginate(qs, filters)


# --- households ---------------------------------------------------------------------------------------------


@router.get("/households", response=responses({200: Page[HouseholdOut]}))
def list_households(request: HttpRequest, filters: Query[HouseholdFilter]) -> dict[str, Any]:
    act = actor(request)
    qs = selectors.households(
        act,
        community=_visible_or_none(act, Community, filters.community),
        building=_visible_or_none(act, Building, filters.building),
        q=filters.q.strip(),
    )
    return paginate(qs, filters)


@router.get("/households/{household_id}", response=responses({200: HouseholdDetailOut}))
def get_household(request: HttpRequest, household_id: Id) -> dict[str, Any]:
    act = actor(request)
    return _household_detail(act, selectors.get_visible(act, Household, household_id))


@router.post("/households", response=responses({201: HouseholdOut}))
def create_household(request: HttpRequest, payload: HouseholdIn) -> Status[Household]:
    act = actor(request)
    building = selectors.get_visible(act, Building, payload.building_id)
    household = services.household_create(
        actor=act, building=building, room=payload.room, unit=payload.unit, address=payload.address,
        floor_area=payload.floor_area, developer_held=payload.developer_held, note=payload.note,
    )
    return Status(201, household)


@router.patch("/households/{household_id}", response=responses({200: HouseholdOut}))
def update_household(request: HttpRequest, household_id: Id, payload: HouseholdPatch) -> Household:
    act = actor(request)
    household = selectors.get_visible(act, Household, household_id)
    sent = payload.dict(exclude_unset=True)
    building = household.building
    if sent.get("building_id") is not None:
        building = selectors.get_visible(act, Building, sent["building_id"])
    unit = sent["unit"] if sent.get("unit") is not None else household.unit
    room = sent["room"] if sent.get("room") is not None else household.room
    moved = (building.pk, unit, room) != (household.building_id, household.unit, household.room)
    address = sent.get("address")
    if address is None:
        address = "" if moved else household.address  # "" lets the service write the new place's address
    return services.household_update(
        actor=act, household=household, building=building, room=room, unit=unit, address=address,
        floor_area=sent.get("floor_area", household.floor_area),  # an explicit null clears it
        developer_held=sent.get("developer_held"),
        note=sent["note"] if sent.get("note") is not None else household.note,
    )


@router.post("/households/{household_id}/members", response=responses({201: MemberOut}))
def add_member(request: HttpRequest, household_id: Id, payload: MemberIn) -> Status[dict[str, Any]]:
    act = actor(request)
    household = selectors.get_visible(act, Household, household_id)
    try:
        person = selectors.get_visible(act, Person, payload.person_id)
    except NotFound:
        # a person of this community not yet placed in any household may be placed by any household manager
        # (services.member_add); the household's own permission check still runs first in the service
        found = Person.objects.filter(
            pk=payload.person_id, community_id=household.community_id, memberships__isnull=True
        ).first()
        if found is None:
            raise
        person = found
    member = services.member_add(
        actor=act, household=household, person=person, relation=payload.relation, is_owner=payload.is_owner
    )
    private = _allowed_ids(act, "person.view_private", [person])
    return Status(201, _member_out(member, person.pk in private))


@router.delete("/households/{household_id}/members/{member_id}", response=responses({204: None}))
def remove_member(request: HttpRequest, household_id: Id, member_id: Id) -> Status[None]:
    act = actor(request)
    household = selectors.get_visible(act, Household, household_id)
    member = household.members.filter(pk=member_id).first()
    if member is None:
        raise NotFound()
    services.member_remove(actor=act, member=member)
    return Status(204, None)


# --- people -------------------------------------------------------------------------------------------------


@router.get("/people", response=responses({200: Page[PersonOut]}))
def list_people(request: HttpRequest, filters: Query[PersonFilter]) -> dict[str, Any]:
    act = actor(request)
    community = _visible_or_none(act, Community, filters.community)
    page = paginate(selectors.people(act, community=community, q=filters.q, tag=filters.tag.strip()), filters)
    private = _allowed_ids(act, "person.view_private", page["items"])
    page["items"] = [_person_out(p, p.pk in private) for p in page["items"]]
    return page


@router.get("/people/{person_id}", response=responses({200: PersonDetailOut}))
def get_person(request: HttpRequest, person_id: Id) -> dict[str, Any]:
    act = actor(request)
    return _person_detail(act, selectors.get_visible(act, Person, person_id))


@router.post("/people", response=responses({201: PersonDetailOut}))
def create_person(request: HttpRequest, payload: PersonIn) -> Status[dict[str, Any]]:
    act = actor(request)
    household = _visible_or_none(act, Household, payload.household_id)
    if payload.community_id is not None:
        community = selectors.get_visible(act, Community, payload.community_id)
    elif household is not None:
        community = household.community
    else:
        raise Invalid(_("Say which community (or household) the person belongs to."),
                      code="community_required", field="community_id")
    person = services.person_create(
        actor=act, community=community, household=household, relation=payload.relation,
        is_owner=payload.is_owner,
        data=services.PersonData(
            name=payload.name, phone=payload.phone, gender=payload.gender, birth_year=payload.birth_year,
            tags=tuple(payload.tags), note=payload.note,
        ),
    )
    return Status(201, _person_detail(act, person))


@router.patch("/people/{person_id}", response=responses({200: PersonDetailOut}))
def update_person(request: HttpRequest, person_id: Id, payload: PersonPatch) -> dict[str, Any]:
    act = actor(request)
    person = selectors.get_visible(act, Person, person_id)
    sent = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None or k == "birth_year"}
    data = services.PersonData(
        name=sent.get("name", person.name),
        phone=sent.get("phone", person.phone),
        gender=sent.get("gender", person.gender),
        birth_year=sent.get("birth_year", person.birth_year),  # an explicit null clears it
        tags=tuple(sent.get("tags", person.tag_list)),
        note=sent.get("note", person.note),
    )
    person = services.person_update(actor=act, person=person, data=data)
    return _person_detail(act, person)


# --- teams, merchants, partner units ------------------------------------------------------------------------


@router.get("/teams", response=responses({200: Page[TeamOut]}))
def list_teams(request: HttpRequest, filters: Query[CommunityFilter]) -> dict[str, Any]:
    act = actor(request)
    community = _visible_or_none(act, Community, filters.community)
    return paginate(selectors.teams(act, community=community), filters)


@router.get("/merchants", response=responses({200: Page[MerchantOut]}))
def list_merchants(request: HttpRequest, filters: Query[CommunityFilter]) -> dict[str, Any]:
    act = actor(request)
    community = _visible_or_none(act, Community, filters.community)
    page = paginate(selectors.merchants(act, community=community), filters)
    page["items"] = _with_contact(act, "merchant.manage", page["items"], MerchantOut)
    return page


@router.get("/partners", response=responses({200: Page[PartnerOut]}))
def list_partners(request: HttpRequest, filters: Query[CommunityFilter]) -> dict[str, Any]:
    act = actor(request)
    community = _visible_or_none(act, Community, filters.community)
    page = paginate(selectors.partners(act, community=community), filters)
    page["items"] = _with_contact(act, "partner.manage", page["items"], PartnerOut)
    return page


# --- API tokens ---------------------------------------------------------------------------------------------


@router.get("/tokens", response=responses({200: Page[TokenOut]}), summary="Tokens you issued or hold")
def list_tokens(request: HttpRequest, page: Query[PageIn]) -> dict[str, Any]:
    return paginate(selectors.api_tokens(actor(request)), page)


@router.post(
    "/tokens", response=responses({201: TokenIssuedOut}), auth=SESSION_ONLY,
    summary="Issue a token (staff; signed-in session only). The key is in this answer and never shown again.",
)
def issue_token(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    act = actor(request)
    require_any(act, "token.manage")
    user = User.objects.filter(pk=payload.user_id, is_active=True).first()
    if user is None:
        raise NotFound()
    token, key = services.api_token_issue(actor=act, user=user, name=payload.name)
    return Status(201, {**TokenOut.from_orm(token).dict(), "key": key})


@router.post(
    "/tokens/{token_id}/revoke", response=responses({200: TokenOut}), auth=SESSION_ONLY,
    summary="Revoke a token (staff; signed-in session only)",
)
def revoke_token(request: HttpRequest, token_id: Id) -> ApiToken:
    act = actor(request)
    require_any(act, "token.manage")
    token = ApiToken.objects.select_related("user").filter(pk=token_id).first()
    if token is None:
        raise NotFound()
    return services.api_token_revoke(actor=act, token=token)

