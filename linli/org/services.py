"""Every change to the organisation: one function per whole state change, keyword-only, typed, atomic, audited.

Permission is checked here (through `linli.org.access`) as well as in views, so that no caller — page, API,
import, admin action or script — can skip it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.common.errors import Conflict, Invalid, NotFound
from linli.common.models import audit
from linli.org import domain
from linli.org.access import Actor, account_may_be_managed, can, require
from linli.org.models import (
    ROLE_SCOPE,
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
    Relation,
    Role,
    RoleAssignment,
    Street,
    Tag,
    Team,
    TeamMember,
    User,
    encode_tags,
)

# --- helpers --------------------------------------------------------------------------------------------------------


def clean_phone(raw: str, *, required: bool = False, mobile: bool = False, field: str = "phone") -> str:
    raw = (raw or "").strip()
    if not raw:
        if required:
            raise Invalid(_("A phone number is required."), code="phone_required", field=field)
        return ""
    phone = domain.normalize_phone(raw)
    if not phone or (mobile and not domain.is_mobile(phone)):
        raise Invalid(
            _("“%(phone)s” is not a valid mobile phone number (11 digits starting with 1).") % {"phone": raw}
            if mobile
            else _("“%(phone)s” is not a valid phone number.") % {"phone": raw},
            code="phone_invalid",
            field=field,
        )
    return phone


def _clean_name(raw: str, field: str = "name") -> str:
    name = (raw or "").strip()
    if not name:
        raise Invalid(_("A name is required."), code="name_required", field=field)
    if len(name) > 50:
        raise Invalid(_("The name is too long (50 characters at most)."), code="name_too_long", field=field)
    return name


def _clean_tags(tags: list[str] | None) -> str:
    tags = list(tags or [])
    unknown = [t for t in tags if t not in Tag.values]
    if unknown:
        raise Invalid(_("Unknown tag: %(tag)s") % {"tag": ", ".join(unknown)}, code="tag_unknown", field="tags")
    return encode_tags(tags)


def _clean_birth_year(year: int | None) -> int | None:
    if year is None:
        return None
    this_year = timezone.localdate().year
    if not 1900 <= year <= this_year:
        raise Invalid(
            _("Birth year must be between 1900 and %(year)s.") % {"year": this_year},
            code="birth_year_invalid",
            field="birth_year",
        )
    return year


def _clean_area(area: Decimal | None) -> Decimal | None:
    if area is None:
        return None
    if area <= 0 or area >= Decimal("100000"):
        raise Invalid(
            _("Floor area must be a positive number of square metres."), code="floor_area_invalid", field="floor_area"
        )
    return area.quantize(Decimal("0.01"))


def _same_community(child_community_id: int, parent: Any, what: str) -> None:
    if parent is not None and parent.community_id != child_community_id:
        raise Invalid(
            _("The %(what)s belongs to another community.") % {"what": _(what)},  # the level names are in the catalogue
            code="other_community",
            field=what,
        )


def _unique(fn: Any, message: str, code: str) -> Any:
    """Run a write; turn a unique-constraint clash into a 409 with a plain message."""
    try:
        with transaction.atomic():
            return fn()
    except IntegrityError as exc:
        raise Conflict(message, code=code) from exc


# --- the hierarchy --------------------------------------------------------------------------------------------------


@transaction.atomic
def street_create(*, actor: Actor | None, name: str, code: str, district: str = "", city: str = "") -> Street:
    """Streets are created by the platform operator (CLI/demo/admin), hence `actor` may be None."""
    street = _unique(
        lambda: Street.objects.create(name=_clean_name(name), code=code, district=district, city=city),
        _("A street with this code already exists."),
        "street_exists",
    )
    audit(actor=actor, action="street.create", obj=street, community_id=None, name=street.name)
    return street


@transaction.atomic
def community_create(*, actor: Actor | None, street: Street, name: str, code: str, **fields: Any) -> Community:
    if actor is not None:
        require(actor, "org.manage", street)
    community = _unique(
        lambda: Community.objects.create(street=street, name=_clean_name(name), code=code, **fields),
        _("A community with this name or code already exists."),
        "community_exists",
    )
    audit(actor=actor, action="community.create", obj=community, community_id=community.id, name=community.name)
    return community


def _check_grid_parent(grid: Grid | None, community: Community, parent: Grid | None) -> None:
    if parent is None:
        return
    _same_community(community.id, parent, "parent grid")
    if (
        grid is not None
        and grid.pk
        and domain.would_cycle(
            grid.pk, parent.pk, lambda gid: Grid.objects.filter(id=gid).values_list("parent_id", flat=True).first()
        )
    ):
        raise Invalid(
            _("A grid cannot be placed inside itself or one of its own micro-grids."),
            code="hierarchy_cycle",
            field="parent",
        )


@transaction.atomic
def grid_create(*, actor: Actor, community: Community, name: str, number: int = 1, parent: Grid | None = None) -> Grid:
    require(actor, "org.manage", community)
    _check_grid_parent(None, community, parent)
    grid = _unique(
        lambda: Grid.objects.create(community=community, name=_clean_name(name), number=number, parent=parent),
        _("This community already has a grid with that name."),
        "grid_exists",
    )
    audit(actor=actor, action="grid.create", obj=grid, community_id=community.id, name=grid.name)
    return grid


@transaction.atomic
def grid_update(*, actor: Actor, grid: Grid, name: str, number: int, parent: Grid | None) -> Grid:
    require(actor, "org.manage", grid)
    _check_grid_parent(grid, grid.community, parent)
    grid.name, grid.number, grid.parent = _clean_name(name), number, parent
    _unique(grid.save, _("This community already has a grid with that name."), "grid_exists")
    audit(
        actor=actor,
        action="grid.update",
        obj=grid,
        community_id=grid.community_id,
        name=grid.name,
        parent=parent.pk if parent else None,
    )
    return grid


@transaction.atomic
def compound_create(
    *,
    actor: Actor,
    community: Community,
    name: str,
    grid: Grid | None = None,
    address: str = "",
    property_company: str = "",
) -> Compound:
    require(actor, "org.manage", community)
    _same_community(community.id, grid, "grid")
    compound = _unique(
        lambda: Compound.objects.create(
            community=community, name=_clean_name(name), grid=grid, address=address, property_company=property_company
        ),
        _("This community already has a compound with that name."),
        "compound_exists",
    )
    audit(actor=actor, action="compound.create", obj=compound, community_id=community.id, name=compound.name)
    return compound


@transaction.atomic
def compound_update(
    *, actor: Actor, compound: Compound, name: str, grid: Grid | None, address: str, property_company: str
) -> Compound:
    require(actor, "org.manage", compound)
    _same_community(compound.community_id, grid, "grid")
    compound.name, compound.grid = _clean_name(name), grid
    compound.address, compound.property_company = address, property_company
    _unique(compound.save, _("This community already has a compound with that name."), "compound_exists")
    audit(actor=actor, action="compound.update", obj=compound, community_id=compound.community_id)
    return compound


@transaction.atomic
def building_create(
    *,
    actor: Actor,
    community: Community,
    grid: Grid,
    name: str,
    compound: Compound | None = None,
    floors: int | None = None,
) -> Building:
    require(actor, "org.manage", community)
    _same_community(community.id, grid, "grid")
    _same_community(community.id, compound, "compound")
    building = _unique(
        lambda: Building.objects.create(
            community=community, grid=grid, compound=compound, name=_clean_name(name), floors=floors
        ),
        _("This compound already has a building with that name."),
        "building_exists",
    )
    audit(actor=actor, action="building.create", obj=building, community_id=community.id, name=str(building))
    return building


@transaction.atomic
def building_update(
    *, actor: Actor, building: Building, name: str, grid: Grid, compound: Compound | None, floors: int | None
) -> Building:
    """Edit or move a building to another grid/compound of the same community."""
    require(actor, "org.manage", building)
    _same_community(building.community_id, grid, "grid")
    _same_community(building.community_id, compound, "compound")
    moved = building.grid_id != grid.pk
    building.name, building.grid, building.compound, building.floors = _clean_name(name), grid, compound, floors
    _unique(building.save, _("This compound already has a building with that name."), "building_exists")
    audit(
        actor=actor,
        action="building.move" if moved else "building.update",
        obj=building,
        community_id=building.community_id,
        grid=grid.pk,
    )
    return building


def _household_fields(unit: str, room: str) -> tuple[str, str]:
    room = (room or "").strip()
    if not room:
        raise Invalid(_("A room number is required."), code="room_required", field="room")
    return (unit or "").strip(), room


@transaction.atomic
def household_create(
    *,
    actor: Actor,
    building: Building,
    room: str,
    unit: str = "",
    address: str = "",
    floor_area: Decimal | None = None,
    developer_held: bool = False,
    note: str = "",
) -> Household:
    require(actor, "household.manage", building)
    unit, room = _household_fields(unit, room)
    household = _unique(
        lambda: Household.objects.create(
            community_id=building.community_id,
            building=building,
            unit=unit,
            room=room,
            address=address.strip() or f"{building}{unit}{room}",
            floor_area=_clean_area(floor_area),
            developer_held=developer_held,
            note=note,
        ),
        _("This room already exists in the building."),
        "household_exists",
    )
    audit(actor=actor, action="household.create", obj=household, community_id=household.community_id)
    return household


@transaction.atomic
def household_update(
    *,
    actor: Actor,
    household: Household,
    building: Building,
    room: str,
    unit: str = "",
    address: str = "",
    floor_area: Decimal | None = None,
    developer_held: bool | None = None,
    note: str = "",
) -> Household:
    """Edit a household or move it to another building of the same community (both in the actor's scope)."""
    require(actor, "household.manage", household)
    if building.pk != household.building_id:
        require(actor, "household.manage", building)
        _same_community(household.community_id, building, "building")
    unit, room = _household_fields(unit, room)
    household.building, household.unit, household.room = building, unit, room
    household.address = address.strip() or f"{building}{unit}{room}"
    household.floor_area, household.note = _clean_area(floor_area), note
    if developer_held is not None:
        household.developer_held = developer_held
    _unique(household.save, _("This room already exists in the building."), "household_exists")
    audit(actor=actor, action="household.update", obj=household, community_id=household.community_id)
    return household


# --- people ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonData:
    name: str
    phone: str = ""
    gender: str = ""
    birth_year: int | None = None
    tags: tuple[str, ...] = ()
    note: str = ""


def _apply_person(person: Person, data: PersonData) -> None:
    person.name = _clean_name(data.name)
    person.phone = clean_phone(data.phone)
    if data.gender not in {"", "F", "M"}:
        raise Invalid(_("Gender must be F, M or empty."), code="gender_invalid", field="gender")
    person.gender = data.gender
    person.birth_year = _clean_birth_year(data.birth_year)
    person.tags = _clean_tags(list(data.tags))
    person.note = data.note.strip()


_PHONE_TAKEN = "phone_taken"


@transaction.atomic
def person_create(
    *,
    actor: Actor,
    community: Community,
    data: PersonData,
    household: Household | None = None,
    relation: str = Relation.OTHER,
    is_owner: bool = False,
) -> Person:
    """Add a resident, optionally straight into a household."""
    require(actor, "person.manage", household if household is not None else community)
    if household is not None:
        _same_community(community.id, household, "household")
    person = Person(community=community)
    _apply_person(person, data)
    _unique(person.save, _("Another person in this community already has this phone number."), _PHONE_TAKEN)
    if household is not None:
        _add_member(household=household, person=person, relation=relation, is_owner=is_owner)
    audit(actor=actor, action="person.create", obj=person, community_id=community.id)
    return person


@transaction.atomic
def person_update(*, actor: Actor, person: Person, data: PersonData) -> Person:
    require(actor, "person.manage", person)
    _apply_person(person, data)
    _unique(person.save, _("Another person in this community already has this phone number."), _PHONE_TAKEN)
    user = person.user
    if user is not None and person.phone and domain.is_mobile(person.phone) and user.phone != person.phone:
        # the login follows the person's mobile number, so they keep signing in with the number staff see
        user.phone = person.phone
        _unique(user.save, _("This mobile number is already used by another login."), "login_phone_taken")
    audit(actor=actor, action="person.update", obj=person, community_id=person.community_id)
    return person


@transaction.atomic
def person_set_active(*, actor: Actor, person: Person, active: bool, reason: str = "") -> Person:
    """Mark a person as moved away / deceased (or back). People are never deleted: ledgers point at them."""
    require(actor, "person.manage", person)
    person.is_active = active
    person.save(update_fields=["is_active", "updated_at"])
    if not active and person.user_id:
        User.objects.filter(pk=person.user_id).update(is_active=False)
    audit(
        actor=actor,
        action="person.activate" if active else "person.deactivate",
        obj=person,
        community_id=person.community_id,
        reason=reason,
    )
    return person


def _add_member(*, household: Household, person: Person, relation: str, is_owner: bool) -> HouseholdMember:
    if relation not in Relation.values:
        raise Invalid(_("Unknown relation."), code="relation_invalid", field="relation")
    if HouseholdMember.objects.filter(household=household, person=person).exists():
        raise Conflict(
            _("%(name)s is already a member of this household.") % {"name": person.name}, code="already_member"
        )
    return _unique(
        lambda: HouseholdMember.objects.create(
            community_id=household.community_id,
            household=household,
            person=person,
            relation=relation,
            is_owner=is_owner,
        ),
        _("%(name)s is already a member of this household.") % {"name": person.name},
        "already_member",
    )


@transaction.atomic
def member_add(
    *, actor: Actor, household: Household, person: Person, relation: str = Relation.OTHER, is_owner: bool = False
) -> HouseholdMember:
    require(actor, "household.manage", household)
    _same_community(household.community_id, person, "person")
    if person.memberships.exists():  # a person not yet placed anywhere may be placed by any household manager
        require(actor, "person.manage", person)
    member = _add_member(household=household, person=person, relation=relation, is_owner=is_owner)
    audit(actor=actor, action="member.add", obj=member, community_id=household.community_id, person=person.pk)
    return member


@transaction.atomic
def member_update(*, actor: Actor, member: HouseholdMember, relation: str, is_owner: bool) -> HouseholdMember:
    require(actor, "household.manage", member.household)
    if relation not in Relation.values:
        raise Invalid(_("Unknown relation."), code="relation_invalid", field="relation")
    member.relation, member.is_owner = relation, is_owner
    member.save(update_fields=["relation", "is_owner"])
    audit(actor=actor, action="member.update", obj=member, community_id=member.community_id, is_owner=is_owner)
    return member


@transaction.atomic
def member_remove(*, actor: Actor, member: HouseholdMember) -> None:
    require(actor, "household.manage", member.household)
    audit(
        actor=actor,
        action="member.remove",
        obj=member,
        community_id=member.community_id,
        person=member.person_id,
        household=member.household_id,
    )
    member.delete()


@transaction.atomic
def person_move(
    *, actor: Actor, person: Person, to_household: Household, relation: str = Relation.OTHER, is_owner: bool = False
) -> HouseholdMember:
    """Move a person out of every household they live in and into `to_household` (same community)."""
    require(actor, "person.manage", person)
    require(actor, "household.manage", to_household)
    _same_community(person.community_id, to_household, "household")
    HouseholdMember.objects.filter(person=person).exclude(household=to_household).delete()
    existing = HouseholdMember.objects.filter(person=person, household=to_household).first()
    if existing is not None:
        existing.relation, existing.is_owner = relation, is_owner
        existing.save(update_fields=["relation", "is_owner"])
        member = existing
    else:
        member = _add_member(household=to_household, person=person, relation=relation, is_owner=is_owner)
    audit(actor=actor, action="person.move", obj=person, community_id=person.community_id, household=to_household.pk)
    return member


# --- teams, merchants, partner units --------------------------------------------------------------------------------


@transaction.atomic
def team_create(
    *, actor: Actor, community: Community, name: str, description: str = "", leader: Person | None = None
) -> Team:
    require(actor, "team.manage", community)
    _same_community(community.id, leader, "leader")
    team = _unique(
        lambda: Team.objects.create(
            community=community, name=_clean_name(name), description=description, leader=leader
        ),
        _("This community already has a team with that name."),
        "team_exists",
    )
    audit(actor=actor, action="team.create", obj=team, community_id=community.id)
    return team


@transaction.atomic
def team_update(*, actor: Actor, team: Team, name: str, description: str, leader: Person | None) -> Team:
    require(actor, "team.manage", team)
    _same_community(team.community_id, leader, "leader")
    team.name, team.description, team.leader = _clean_name(name), description, leader
    _unique(team.save, _("This community already has a team with that name."), "team_exists")
    audit(actor=actor, action="team.update", obj=team, community_id=team.community_id)
    return team


@transaction.atomic
def team_member_add(*, actor: Actor, team: Team, person: Person, duty_role: str = "") -> TeamMember:
    from linli.org.models import DutyRole

    require(actor, "team.manage", team)
    _same_community(team.community_id, person, "person")
    if duty_role and duty_role not in DutyRole.values:
        raise Invalid(_("Unknown duty role."), code="duty_role_invalid", field="duty_role")
    member = _unique(
        lambda: TeamMember.objects.create(
            community_id=team.community_id, team=team, person=person, duty_role=duty_role
        ),
        _("%(name)s is already in this team.") % {"name": person.name},
        "already_in_team",
    )
    audit(actor=actor, action="team.member_add", obj=member, community_id=team.community_id, person=person.pk)
    return member


@transaction.atomic
def team_member_remove(*, actor: Actor, member: TeamMember) -> None:
    require(actor, "team.manage", member.team)
    audit(
        actor=actor, action="team.member_remove", obj=member, community_id=member.community_id, person=member.person_id
    )
    member.delete()


MERCHANT_FIELDS = ("name", "address", "contact_name", "contact_phone", "offer", "is_active")
PARTNER_FIELDS = ("name", "kind", "contact_name", "contact_phone", "agreement_signed_on", "is_active")


def _apply_fields(obj: Any, fields: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key, value in fields.items():
        if key not in allowed:
            raise Invalid(_("Unknown field: %(field)s") % {"field": key}, code="field_unknown", field=key)
        setattr(obj, key, value)
    obj.name = _clean_name(obj.name)
    if getattr(obj, "contact_phone", ""):
        obj.contact_phone = clean_phone(obj.contact_phone, field="contact_phone")


def _directory_save(obj: Merchant | PartnerUnit, fields: dict[str, Any], allowed: tuple[str, ...], what: str) -> None:
    _apply_fields(obj, fields, allowed)
    message = {
        "merchant": _("This community already has a merchant with that name."),
        "partner": _("This community already has a partner unit with that name."),
    }[what]
    _unique(obj.save, message, f"{what}_exists")


@transaction.atomic
def merchant_create(*, actor: Actor, community: Community, **fields: Any) -> Merchant:
    require(actor, "merchant.manage", community)
    merchant = Merchant(community=community)
    _directory_save(merchant, fields, MERCHANT_FIELDS, "merchant")
    audit(actor=actor, action="merchant.create", obj=merchant, community_id=community.id)
    return merchant


@transaction.atomic
def merchant_update(*, actor: Actor, merchant: Merchant, **fields: Any) -> Merchant:
    require(actor, "merchant.manage", merchant)
    _directory_save(merchant, fields, MERCHANT_FIELDS, "merchant")
    audit(actor=actor, action="merchant.update", obj=merchant, community_id=merchant.community_id)
    return merchant


@transaction.atomic
def partner_create(*, actor: Actor, community: Community, **fields: Any) -> PartnerUnit:
    require(actor, "partner.manage", community)
    partner = PartnerUnit(community=community)
    _directory_save(partner, fields, PARTNER_FIELDS, "partner")
    audit(actor=actor, action="partner.create", obj=partner, community_id=community.id)
    return partner


@transaction.atomic
def partner_update(*, actor: Actor, partner: PartnerUnit, **fields: Any) -> PartnerUnit:
    require(actor, "partner.manage", partner)
    _directory_save(partner, fields, PARTNER_FIELDS, "partner")
    audit(actor=actor, action="partner.update", obj=partner, community_id=partner.community_id)
    return partner


# --- logins, roles, tokens ------------------------------------------------------------------------------------------


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise Invalid(" ".join(str(m) for m in exc.messages), code="password_weak", field="password") from exc


@transaction.atomic
def login_create_for_person(*, actor: Actor, person: Person, password: str) -> User:
    """Give a resident a login with their own mobile number."""
    require(actor, "account.manage", person)
    if person.user_id:
        raise Conflict(_("%(name)s already has a login.") % {"name": person.name}, code="login_exists")
    phone = clean_phone(person.phone, required=True, mobile=True)
    _check_password(password)
    user = _unique(
        lambda: User.objects.create_user(phone=phone, password=password, name=person.name, must_change_password=True),
        _("This mobile number is already used by another login."),
        "login_phone_taken",
    )
    person.user = user
    person.save(update_fields=["user", "updated_at"])
    audit(actor=actor, action="login.create", obj=person, community_id=person.community_id)
    return user


@transaction.atomic
def staff_user_create(*, actor: Actor | None, phone: str, name: str, password: str) -> User:
    """A login for staff who are not residents here (street and community workers)."""
    phone = clean_phone(phone, required=True, mobile=True)
    _check_password(password)
    user = _unique(
        lambda: User.objects.create_user(phone=phone, password=password, name=_clean_name(name)),
        _("This mobile number is already used by another login."),
        "login_phone_taken",
    )
    audit(actor=actor, action="login.create", obj=user, community_id=None)
    return user


def temporary_password() -> str:
    """Readable for an elder: 4 letters + 4 digits, no 0/O/1/l."""
    letters = "abcdefghjkmnpqrstuvwxyz"
    digits = "23456789"
    return "".join(secrets.choice(letters) for _ in range(4)) + "".join(secrets.choice(digits) for _ in range(4))


@transaction.atomic
def password_reset_by_staff(*, actor: Actor, user: User) -> str:
    """Set a one-time password that staff hand over in person; the user must change it at next sign-in."""
    if not account_may_be_managed(actor, user) or user.pk == getattr(actor.user, "pk", None):
        raise NotFound()
    password = temporary_password()
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    from axes.utils import reset as axes_reset

    axes_reset(username=user.phone)
    audit(actor=actor, action="login.password_reset", obj=user, community_id=None)
    return password


@transaction.atomic
def password_change(*, user: User, old_password: str, new_password: str) -> User:
    if not user.check_password(old_password):
        raise Invalid(_("The current password is wrong."), code="password_wrong", field="old_password")
    if old_password == new_password:
        raise Invalid(_("Choose a password different from the old one."), code="password_same", field="new_password")
    _check_password(new_password, user)
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    audit(actor=user, action="login.password_change", obj=user, community_id=None)
    return user


def _scope_object_for(role: str, scope: Any) -> dict[str, Any]:
    level = ROLE_SCOPE.get(role)
    expected = {"street": Street, "community": Community, "grid": Grid, "building": Building, "merchant": Merchant}
    if level is None or not isinstance(scope, expected[level]):
        raise Invalid(
            _("This role is held in a %(level)s.") % {"level": _(str(level))}, code="role_scope_mismatch", field="scope"
        )
    return {level: scope}


@transaction.atomic
def role_grant(*, actor: Actor | None, user: User, role: str, scope: Any) -> RoleAssignment:
    """Give `user` a role within `scope`. Staff grant inside their own scope; street admins only by street admins."""
    if role not in Role.values or role == Role.RESIDENT:
        raise Invalid(_("Unknown role."), code="role_invalid", field="role")
    columns = _scope_object_for(role, scope)
    if actor is not None:
        require(actor, "role.manage", scope)
        if role == Role.STREET_ADMIN and not actor.has_role(Role.STREET_ADMIN):
            raise NotFound()
    # NULL scope columns make the unique constraint blind on SQLite: check first, and let it guard PostgreSQL races
    if RoleAssignment.objects.filter(user=user, role=role, **columns).exists():
        raise Conflict(_("This person already holds that role there."), code="role_exists")
    ra = _unique(
        lambda: RoleAssignment.objects.create(user=user, role=role, **columns),
        _("This person already holds that role there."),
        "role_exists",
    )
    audit(actor=actor, action="role.grant", obj=ra, community_id=getattr(scope, "community_id", None), role=role)
    return ra


@transaction.atomic
def role_revoke(*, actor: Actor, assignment: RoleAssignment) -> None:
    scope = assignment.scope_object
    if scope is None or not can(actor, "role.manage", scope):
        raise NotFound()
    if assignment.user_id == getattr(actor.user, "pk", None):
        raise Invalid(_("You cannot remove your own role."), code="role_self_revoke")
    audit(
        actor=actor,
        action="role.revoke",
        obj=assignment,
        community_id=getattr(scope, "community_id", None),
        role=assignment.role,
        user=assignment.user_id,
    )
    assignment.delete()


TOKEN_PREFIX = "lnl_"


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_issue(*, actor: Actor, user: User, name: str) -> tuple[ApiToken, str]:
    """Issue a bearer token for `user` (a person or role holder in the actor's scope). Returns (token, key)."""
    if not actor.has_role(Role.STREET_ADMIN, Role.COMMUNITY_STAFF) or not account_may_be_managed(actor, user):
        raise NotFound()
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=_clean_name(name), prefix=key[:12], key_hash=token_hash(key), issued_by=actor.user
    )
    audit(actor=actor, action="token.issue", obj=token, community_id=None, user=user.pk)
    return token, key


@transaction.atomic
def api_token_revoke(*, actor: Actor, token: ApiToken) -> ApiToken:
    if not account_may_be_managed(actor, token.user) and token.issued_by_id != getattr(actor.user, "pk", None):
        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit(actor=actor, action="token.revoke", obj=token, community_id=None)
    return token


def api_token_authenticate(key: str) -> User | None:
    if not key.startswith(TOKEN_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=token_hash(key), revoked_at__isnull=True).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
