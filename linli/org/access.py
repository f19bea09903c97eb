"""The one place that answers "may this actor do X to that object" — and "which objects may they see".

Every page, API endpoint, selector and service asks here; nothing else decides permissions.

An *actor* is a user with their grants (role + scope) loaded once per request. An object's *scope* says where it
sits (street, community, grids, buildings, merchant, person). A grant covers an object when the object sits inside
the grant's scope; an action is allowed when some grant whose role may do that action covers the object.
Unknown actions are refused: a typo fails closed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.db.models import Model, Q, QuerySet

from linli.common.errors import Forbidden, NotFound
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
    Role,
    RoleAssignment,
    Street,
    Team,
    TeamMember,
    User,
)

R = Role
STAFF = {R.STREET_ADMIN, R.COMMUNITY_STAFF}
GRID = {R.GRID_CHIEF, R.GRID_WORKER}
READERS = STAFF | GRID | {R.BUILDING_STEWARD, R.AUDITOR}

# action -> roles that may do it (within their scope). Residents act only on themselves ("self" scope).
PERMISSIONS: dict[str, frozenset[str]] = {
    # the hierarchy
    "org.view": frozenset(READERS | {R.MERCHANT_OPERATOR, R.RESIDENT}),
    "org.manage": frozenset(STAFF),
    "household.view": frozenset(READERS | {R.RESIDENT}),
    "household.manage": frozenset(STAFF | GRID),
    # people
    "person.view": frozenset(READERS | {R.RESIDENT}),
    "person.view_private": frozenset(STAFF | GRID | {R.BUILDING_STEWARD, R.RESIDENT}),
    "person.manage": frozenset(STAFF | GRID),
    "person.act_for": frozenset(STAFF | GRID | {R.BUILDING_STEWARD}),
    # rosters
    "roster.import": frozenset(STAFF),
    "roster.export": frozenset(STAFF | {R.AUDITOR}),
    # teams, merchants, partner units
    "team.view": frozenset(READERS | {R.RESIDENT}),
    "team.manage": frozenset(STAFF),
    "merchant.view": frozenset(READERS | {R.MERCHANT_OPERATOR, R.RESIDENT}),
    "merchant.manage": frozenset(STAFF),
    "merchant.award": frozenset(STAFF),  # record a caring merchant's service hours/times and post their points
    "merchant_service.view": frozenset(STAFF | {R.AUDITOR, R.MERCHANT_OPERATOR}),  # those records: one's own shop's
    "partner.view": frozenset(READERS),
    "partner.manage": frozenset(STAFF),
    # logins, roles, API tokens
    "account.manage": frozenset(STAFF),
    "role.manage": frozenset(STAFF),
    "token.manage": frozenset(STAFF),
    "audit.view": frozenset(STAFF | {R.AUDITOR}),
    # the points ledger (objects: a Person for their passbook and card, the Community for community-wide acts)
    "ledger.view": frozenset(STAFF | GRID | {R.AUDITOR, R.RESIDENT}),  # a person's balance and passbook
    "ledger.post": frozenset(STAFF),  # award points directly, reverse a transfer
    "ledger.adjust": frozenset(STAFF),  # request and approve manual adjustments
    "ledger.seal": frozenset(STAFF),  # close a month
    "ledger.view_all": frozenset(STAFF | {R.AUDITOR}),  # every transfer of a whole community
    "ledger.export": frozenset(STAFF | {R.AUDITOR}),
    "card.manage": frozenset(STAFF | GRID),  # issue, revoke and reissue QR points cards
    # earning points (objects: the Community for catalogue and activities, a Person for claims about them)
    "points.view": frozenset(READERS | {R.MERCHANT_OPERATOR, R.RESIDENT}),  # rules catalogue, activities
    "rule.manage": frozenset(STAFF),
    "claim.view": frozenset(STAFF | GRID | {R.BUILDING_STEWARD, R.AUDITOR, R.RESIDENT}),
    "claim.submit": frozenset({R.RESIDENT}),  # one's own check-in
    "claim.record": frozenset(STAFF | GRID | {R.BUILDING_STEWARD}),  # for someone without a phone
    "claim.verify": frozenset(STAFF | GRID | {R.BUILDING_STEWARD}),
    "claim.approve": frozenset(STAFF),
    "activity.manage": frozenset(STAFF),
    "activity.mark": frozenset(STAFF | GRID | {R.BUILDING_STEWARD}),  # mark attendance (and the activity's organiser)
    "activity.join": frozenset({R.RESIDENT}),
    "donation.view": frozenset(STAFF | {R.AUDITOR}),
    "donation.manage": frozenset(STAFF),
    "certificate.view": frozenset(STAFF | {R.AUDITOR, R.RESIDENT}),
    "certificate.issue": frozenset(STAFF),
    # work orders (objects: a WorkOrder; the Community or a Building for filing, lists and figures)
    "order.view": frozenset(READERS | {R.RESIDENT}),  # residents: the requests they made
    "order.report": frozenset(STAFF | GRID | {R.BUILDING_STEWARD, R.RESIDENT}),  # file a request
    "order.triage": frozenset(STAFF | {R.GRID_CHIEF}),  # accept, grade, dispatch, hold, merge, close, reopen
    "order.handle": frozenset(STAFF | GRID | {R.BUILDING_STEWARD}),  # start, note, resolve (also when assigned)
    "order.escalate": frozenset(STAFF | GRID),
    "order.rate": frozenset(STAFF | {R.RESIDENT}),  # residents their own; staff record a rating given by phone
    "order.stats": frozenset(STAFF | {R.GRID_CHIEF, R.AUDITOR}),
    "order.export": frozenset(STAFF | {R.AUDITOR}),
    "order.import": frozenset(STAFF),
    "order.catalogue": frozenset(STAFF),  # service categories, holidays, Open311 clients
    # the points market (objects: the Community for the shelf and reports, a Person or Merchant paying, a Redemption,
    # a Voucher; grid roles act on the shelf through works_in)
    "market.view": frozenset(READERS | {R.MERCHANT_OPERATOR, R.RESIDENT}),  # the catalogue
    "market.manage": frozenset(STAFF),  # products, prices, one-choice groups, settings
    "market.report": frozenset(STAFF | {R.GRID_CHIEF, R.AUDITOR}),
    "stock.view": frozenset(STAFF | GRID | {R.AUDITOR}),
    "stock.manage": frozenset(STAFF),  # receipts and adjustments
    "stock.count": frozenset(STAFF | GRID),  # stocktake (清点)
    "redemption.view": frozenset(STAFF | GRID | {R.AUDITOR, R.MERCHANT_OPERATOR, R.RESIDENT}),
    "redemption.counter": frozenset(STAFF | GRID),  # serve at the counter, hand over reservations, take returns
    "redemption.reserve": frozenset({R.RESIDENT, R.MERCHANT_OPERATOR}),  # one's own (or one's shop's) on the phone
    "redemption.cancel": frozenset(STAFF | GRID | {R.MERCHANT_OPERATOR, R.RESIDENT}),
    "voucher.view": frozenset(STAFF | {R.AUDITOR, R.MERCHANT_OPERATOR, R.RESIDENT}),
    "voucher.use": frozenset(STAFF | {R.MERCHANT_OPERATOR}),  # 核销: the provider's operator, or staff
    "settlement.view": frozenset(STAFF | {R.AUDITOR, R.MERCHANT_OPERATOR}),
    # the council (objects: the Community, or the Grid a meeting is held in; a Building or Compound for a vote)
    "council.view": frozenset(READERS | {R.RESIDENT}),  # meetings, agenda, resolutions (the echo wall is public)
    "council.manage": frozenset(STAFF | GRID),  # run meetings: agenda, attendance, minutes, resolutions
    "council.report": frozenset(STAFF | {R.GRID_CHIEF, R.AUDITOR}),  # the figures by kind and colour
    "meeting.checkin": frozenset({R.RESIDENT}),  # scan the meeting's QR code
    "resolution.supervise": frozenset(STAFF | {R.GRID_CHIEF}),  # name the supervisor, move the due date, reopen
    "resolution.evaluate": frozenset({R.RESIDENT}),  # the evaluation desk (评议台)
    "vote.view": frozenset(STAFF | GRID | {R.BUILDING_STEWARD, R.AUDITOR}),  # owners see the votes they are on
    "vote.manage": frozenset(STAFF),  # prepare, open, close, cancel, void a ballot
    "vote.record": frozenset(STAFF | GRID),  # enter paper ballots collected door to door
    "vote.cast": frozenset({R.RESIDENT}),  # an owner on the roll, on the phone
    # reports (objects: the Street for the roll-up, the Community, a Grid; the monthly disclosure itself is public)
    "report.view": frozenset(STAFF | GRID | {R.AUDITOR}),  # dashboards with charts
    "report.publish": frozenset(STAFF),  # publish (or correct) a month's disclosure, sealing the ledger month
}

# Roles whose grants only cover *people-facing* reads for residents: a resident sees the org objects of their own
# community (names of grids and buildings, teams, merchants) but no one else's personal data.
RESIDENT_COMMUNITY_ACTIONS = frozenset(
    {
        "org.view",
        "team.view",
        "merchant.view",
        "points.view",
        "order.report",
        "market.view",
        "council.view",
        "meeting.checkin",
        "resolution.evaluate",
        "vote.cast",
    }
)


@dataclass(frozen=True)
class Grant:
    role: str
    level: str  # street | community | grid | building | merchant
    ids: frozenset[int]  # the scope id; for grid grants, the grid and all its micro-grids
    community_id: int | None = None  # the community the scope lies in (None for street grants)


@dataclass(frozen=True)
class Scope:
    """Where an object sits. Empty sets mean "not inside any grid/building" (e.g. a community itself)."""

    community_id: int | None = None
    street_id: int | None = None
    grid_ids: frozenset[int] = frozenset()
    building_ids: frozenset[int] = frozenset()
    merchant_id: int | None = None
    person_id: int | None = None


@dataclass
class Actor:
    user: Any
    person_id: int | None = None
    person_community_id: int | None = None
    grants: list[Grant] = field(default_factory=list)

    @property
    def is_authenticated(self) -> bool:
        return bool(getattr(self.user, "is_authenticated", False))

    @property
    def roles(self) -> set[str]:
        roles = {g.role for g in self.grants}
        if self.person_id:
            roles.add(R.RESIDENT)
        return roles

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    def community_ids(self) -> set[int] | None:
        """Communities this actor works in; None means every community of their streets (street admins)."""
        ids: set[int] = set()
        for g in self.grants:
            if g.level == "street":
                ids |= set(Community.objects.filter(street_id__in=g.ids).values_list("id", flat=True))
            elif g.level == "community":
                ids |= set(g.ids)
            elif g.level == "grid":
                ids |= set(Grid.objects.filter(id__in=g.ids).values_list("community_id", flat=True))
            elif g.level == "building":
                ids |= set(Building.objects.filter(id__in=g.ids).values_list("community_id", flat=True))
            elif g.level == "merchant":
                ids |= set(Merchant.objects.filter(id__in=g.ids).values_list("community_id", flat=True))
        if self.person_community_id:
            ids.add(self.person_community_id)
        return ids


ANONYMOUS = Actor(user=AnonymousUser())


def grid_with_descendants(grid_ids: Iterable[int]) -> frozenset[int]:
    found = set(grid_ids)
    frontier = set(found)
    while frontier:
        frontier = set(Grid.objects.filter(parent_id__in=frontier).values_list("id", flat=True)) - found
        found |= frontier
    return frozenset(found)


def actor_for(user: Any) -> Actor:
    """Load a user's grants once; pages and API handlers cache the result on the request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ANONYMOUS
    grants: list[Grant] = []
    for ra in RoleAssignment.objects.filter(user=user).select_related("grid", "building", "merchant"):
        level = ROLE_SCOPE[ra.role]
        scope_id = getattr(ra, f"{level}_id")
        ids = grid_with_descendants([scope_id]) if level == "grid" else frozenset({scope_id})
        community_id = (
            ra.community_id
            if level == "community"
            else (getattr(ra.scope_object, "community_id", None) if level != "street" else None)
        )
        grants.append(Grant(role=ra.role, level=level, ids=ids, community_id=community_id))
    person = Person.objects.filter(user=user, is_active=True).only("id", "community_id").first()
    return Actor(
        user=user,
        person_id=person.id if person else None,
        person_community_id=person.community_id if person else None,
        grants=grants,
    )


# --- where objects sit ------------------------------------------------------------------------------------------------
# Other apps' models that sit below the community (a work order in a grid and building, made by a person) register
# how to find their scope, and how to filter their rows by it, so that org never imports them.
_SCOPE_RULES: dict[type[Model], Callable[[Model], Scope]] = {}


def register_model(model: type[Model], *, scope: Callable[[Any], Scope], paths: dict[str, PathRule]) -> None:
    """Called from an app's AppConfig.ready(). `paths` as in _PATHS, plus an optional "person" path naming the
    resident a row belongs to (they may see it)."""
    _SCOPE_RULES[model] = scope
    _PATHS[model] = paths


def scope_of(obj: Model) -> Scope:
    rule = _SCOPE_RULES.get(type(obj))
    if rule is not None:
        return rule(obj)
    if isinstance(obj, Street):
        return Scope(street_id=obj.id)
    if isinstance(obj, Community):
        return Scope(community_id=obj.id, street_id=obj.street_id)
    street_id = Community.objects.filter(id=obj.community_id).values_list("street_id", flat=True).first()  # type: ignore[attr-defined]
    base: dict[str, Any] = {"community_id": obj.community_id, "street_id": street_id}  # type: ignore[attr-defined]
    if isinstance(obj, Grid):
        return Scope(**base, grid_ids=frozenset({obj.id}))
    if isinstance(obj, Compound):
        grids = set(Building.objects.filter(compound=obj).values_list("grid_id", flat=True))
        if obj.grid_id:
            grids.add(obj.grid_id)
        return Scope(**base, grid_ids=frozenset(grids))
    if isinstance(obj, Building):
        return Scope(**base, grid_ids=frozenset({obj.grid_id}), building_ids=frozenset({obj.id}))
    if isinstance(obj, Household):
        grid_id = Building.objects.filter(id=obj.building_id).values_list("grid_id", flat=True).get()
        return Scope(**base, grid_ids=frozenset({grid_id}), building_ids=frozenset({obj.building_id}))
    if isinstance(obj, Person):
        places = list(
            HouseholdMember.objects.filter(person=obj).values_list(
                "household__building_id", "household__building__grid_id"
            )
        )
        return Scope(
            **base,
            grid_ids=frozenset(g for _, g in places),
            building_ids=frozenset(b for b, _ in places),
            person_id=obj.id,
        )
    if isinstance(obj, HouseholdMember):
        return scope_of(obj.household)
    if isinstance(obj, Merchant):
        return Scope(**base, merchant_id=obj.id)
    if isinstance(obj, (Team, PartnerUnit, TeamMember)):
        return Scope(**base)
    if isinstance(obj, (User, ApiToken, RoleAssignment)):
        raise TypeError("use account_scope() for logins")
    if hasattr(obj, "community_id"):
        return Scope(**base)
    raise TypeError(f"no scope rule for {type(obj).__name__}")


def _is_view(action: str) -> bool:
    return action.endswith(".view")


# Places and community-wide things: their names are no secret to anyone who works in the community, so a grid,
# building or merchant grant reads all of them there (a steward sees the other grids' names, a shop the teams).
# Households and people stay strictly inside each grant's own scope.
COMMUNITY_READABLE = (Community, Grid, Compound, Building, Team, Merchant, PartnerUnit)


# ... but only their names and shape: a merchant's books (settlement.view) are its own operator's and the committee's,
# not the shop next door's.
NAME_ACTIONS = frozenset({"org.view", "merchant.view", "team.view", "partner.view"})


def _community_readable(grant: Grant, action: str, model: type[Model]) -> bool:
    if not (_is_view(action) and grant.level in {"grid", "building", "merchant"}):
        return False
    if issubclass(model, Merchant):
        return action in NAME_ACTIONS
    return issubclass(model, COMMUNITY_READABLE)


def _covers(actor: Actor, grant: Grant, scope: Scope, action: str) -> bool:
    if grant.level == "street":
        return scope.street_id in grant.ids
    if grant.level == "community":
        return scope.community_id in grant.ids
    if grant.level == "grid":
        return bool(grant.ids & scope.grid_ids)
    if grant.level == "building":
        return bool(grant.ids & scope.building_ids)
    if grant.level == "merchant":
        return scope.merchant_id in grant.ids
    return False


def can(actor: Actor, action: str, obj: Model) -> bool:
    allowed = PERMISSIONS.get(action)
    if allowed is None or not actor.is_authenticated:
        return False
    if action == "org.view" and isinstance(obj, Community):
        # everyone who works or lives in a community may read its name and shape
        ids = actor.community_ids()
        if ids and obj.id in ids:
            return True
    scope = scope_of(obj)
    for grant in actor.grants:
        if grant.role not in allowed:
            continue
        if _community_readable(grant, action, type(obj)):
            if scope.community_id == grant.community_id:
                return True
        elif _covers(actor, grant, scope, action):
            return True
    if R.RESIDENT in allowed and actor.person_id:
        if scope.person_id is not None and scope.person_id == actor.person_id:
            return True
        if action in RESIDENT_COMMUNITY_ACTIONS and scope.person_id is None:
            return scope.community_id == actor.person_community_id and scope.community_id is not None
        if action in {"household.view"} and isinstance(obj, Household):
            return HouseholdMember.objects.filter(household=obj, person_id=actor.person_id).exists()
    return False


def works_in(actor: Actor, action: str, community: Community) -> bool:
    """For things a community runs in one place (its points market's shelf and stocktake): the action is allowed on
    the community, or to a grid, building or merchant grant of a role that may do it inside that community (the grid
    worker who counts the shelf)."""
    if can(actor, action, community):
        return True
    allowed = PERMISSIONS.get(action, frozenset())
    return actor.is_authenticated and any(
        g.role in allowed and g.level in {"grid", "building", "merchant"} and g.community_id == community.pk
        for g in actor.grants
    )


def require(actor: Actor, action: str, obj: Model, *, hide: bool = False) -> None:
    """Raise Forbidden — or NotFound when `hide` is set, so an outsider cannot learn that the object exists."""
    if not can(actor, action, obj):
        if hide or not can_see(actor, obj):
            raise NotFound()
        raise Forbidden()


def can_see(actor: Actor, obj: Model) -> bool:
    view_actions: dict[type[Model], str] = {
        Person: "person.view",
        Household: "household.view",
        Team: "team.view",
        Merchant: "merchant.view",
        PartnerUnit: "partner.view",
    }
    return can(actor, view_actions.get(type(obj), "org.view"), obj)


def require_any(actor: Actor, action: str) -> None:
    """For pages that list things: the actor must hold some role that may do `action` somewhere."""
    allowed = PERMISSIONS.get(action, frozenset())
    if not actor.is_authenticated or not (actor.roles & allowed):
        raise Forbidden()


# --- which objects an actor may see -----------------------------------------------------------------------------------
M = TypeVar("M", bound=Model)

# For each model: how to reach each scope level from a row — a lookup path, a function building the condition for a set
# of ids, or None when the level cannot apply. Relations that fan out (a person's memberships, a compound's buildings)
# are id subqueries driven from the small side (buildings of a grid), never joins: no duplicate rows, and a plan that
# stays an index walk even when the planner's statistics are stale.
PathRule = str | Callable[[frozenset[int]], Q] | None


def _people_in_buildings(building_filter: dict[str, frozenset[int]]) -> Q:
    return Q(pk__in=HouseholdMember.objects.filter(**building_filter).values("person_id"))


def _compounds_of_buildings(building_filter: dict[str, frozenset[int]]) -> Q:
    return Q(pk__in=Building.objects.filter(**building_filter, compound__isnull=False).values("compound_id"))


_PATHS: dict[type[Model], dict[str, PathRule]] = {
    Community: {"street": "street_id", "community": "id", "grid": None, "building": None, "merchant": None},
    Grid: {
        "street": "community__street_id",
        "community": "community_id",
        "grid": "id",
        "building": None,
        "merchant": None,
    },
    Compound: {
        "street": "community__street_id",
        "community": "community_id",
        "grid": lambda ids: _compounds_of_buildings({"grid_id__in": ids}),
        "building": lambda ids: _compounds_of_buildings({"id__in": ids}),
        "merchant": None,
    },
    Building: {
        "street": "community__street_id",
        "community": "community_id",
        "grid": "grid_id",
        "building": "id",
        "merchant": None,
    },
    Household: {
        "street": "community__street_id",
        "community": "community_id",
        "grid": "building__grid_id",
        "building": "building_id",
        "merchant": None,
    },
    Person: {
        "street": "community__street_id",
        "community": "community_id",
        "grid": lambda ids: _people_in_buildings({"household__building__grid_id__in": ids}),
        "building": lambda ids: _people_in_buildings({"household__building_id__in": ids}),
        "merchant": None,
    },
    Team: {
        "street": "community__street_id",
        "community": "community_id",
        "grid": None,
        "building": None,
        "merchant": None,
    },
    PartnerUnit: {
        "street": "community__street_id",
        "community": "community_id",
        "grid": None,
        "building": None,
        "merchant": None,
    },
    Merchant: {
        "street": "community__street_id",
        "community": "community_id",
        "grid": None,
        "building": None,
        "merchant": "id",
    },
}


def scoped(actor: Actor, action: str, qs: QuerySet[M]) -> QuerySet[M]:
    """Filter `qs` to the rows on which `actor` may do `action`. Never widens; unknown actions give nothing."""
    allowed = PERMISSIONS.get(action)
    if allowed is None or not actor.is_authenticated:
        return qs.none()
    paths = _PATHS[qs.model]
    condition = Q(pk__in=[])
    for grant in actor.grants:
        if grant.role not in allowed:
            continue
        if _community_readable(grant, action, qs.model):
            condition |= Q(**{str(paths["community"]): grant.community_id})
            continue
        rule = paths.get(grant.level)
        if callable(rule):
            condition |= rule(grant.ids)
        elif rule is not None:
            condition |= Q(**{f"{rule}__in": grant.ids})
    if R.RESIDENT in allowed and actor.person_id:
        if qs.model is Person:
            condition |= Q(id=actor.person_id)
        elif qs.model is Household:
            condition |= Q(pk__in=HouseholdMember.objects.filter(person_id=actor.person_id).values("household_id"))
        elif isinstance(paths.get("person"), str):
            condition |= Q(**{str(paths["person"]): actor.person_id})
        elif action in RESIDENT_COMMUNITY_ACTIONS:
            community_path = paths.get("community")
            if isinstance(community_path, str):
                condition |= Q(**{community_path: actor.person_community_id})
    return qs.filter(condition)


def account_may_be_managed(actor: Actor, user: User) -> bool:
    """Staff manage the logins of people in their scope, and of role holders in their scope."""
    person = Person.objects.filter(user=user).first()
    if person is not None and can(actor, "account.manage", person):
        return True
    for ra in RoleAssignment.objects.filter(user=user):
        if ra.scope_object is not None and can(actor, "account.manage", ra.scope_object):
            return True
    return False
