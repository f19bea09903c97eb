"""Reads of the organisation, always filtered by what the actor may see (linli.org.access.scoped)."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Count, Model, Q, QuerySet

from linli.common.errors import NotFound
from linli.org.access import Actor, can_see, scoped
from linli.org.models import (
    Building,
    Community,
    Compound,
    Grid,
    Household,
    HouseholdMember,
    Merchant,
    PartnerUnit,
    Person,
    Team,
)

M = TypeVar("M", bound=Model)


def get_visible(actor: Actor, model: type[M], pk: Any) -> M:
    """One object the actor may see, or 404 (never 403: outsiders must not learn that it exists)."""
    try:
        obj = model._default_manager.get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError) as exc:  # type: ignore[attr-defined]
        raise NotFound() from exc
    if not can_see(actor, obj):
        raise NotFound()
    return obj


def communities(actor: Actor) -> QuerySet[Community]:
    return scoped(actor, "org.view", Community.objects.select_related("street"))


def grids(actor: Actor, *, community: Community | None = None) -> QuerySet[Grid]:
    qs = scoped(actor, "org.view", Grid.objects.select_related("community", "parent"))
    if community is not None:
        qs = qs.filter(community=community)
    return qs.annotate(building_count=Count("buildings", distinct=True))


def compounds(actor: Actor, *, community: Community | None = None) -> QuerySet[Compound]:
    qs = scoped(actor, "org.view", Compound.objects.select_related("community", "grid"))
    if community is not None:
        qs = qs.filter(community=community)
    return qs


def buildings(
    actor: Actor,
    *,
    community: Community | None = None,
    grid: Grid | None = None,
    compound: Compound | None = None,
    q: str = "",
) -> QuerySet[Building]:
    qs = scoped(actor, "org.view", Building.objects.select_related("community", "grid", "compound"))
    if community is not None:
        qs = qs.filter(community=community)
    if grid is not None:
        qs = qs.filter(grid=grid)
    if compound is not None:
        qs = qs.filter(compound=compound)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(compound__name__icontains=q))
    return qs


def households(
    actor: Actor, *, community: Community | None = None, building: Building | None = None, q: str = ""
) -> QuerySet[Household]:
    qs = scoped(actor, "household.view", Household.objects.select_related("building", "building__compound"))
    if community is not None:
        qs = qs.filter(community=community)
    if building is not None:
        qs = qs.filter(building=building)
    if q:
        qs = qs.filter(Q(address__icontains=q) | Q(room__icontains=q))
    return qs.order_by("building_id", "unit", "room", "id")


def people(
    actor: Actor,
    *,
    community: Community | None = None,
    q: str = "",
    tag: str = "",
    household: Household | None = None,
    include_inactive: bool = False,
) -> QuerySet[Person]:
    qs = scoped(actor, "person.view", Person.objects.select_related("community"))
    if community is not None:
        qs = qs.filter(community=community)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if household is not None:
        qs = qs.filter(memberships__household=household)
    if tag:
        qs = qs.filter(tags__contains=f",{tag},")
    if q:
        q = q.strip()
        digits = q.replace(" ", "")
        if digits.isdigit() and len(digits) >= 4:  # four or more digits: part of a phone number
            # only among people whose number the actor may see, or a masked list would leak who has which number
            private = scoped(actor, "person.view_private", Person.objects.all()).values("pk")
            qs = qs.filter(phone__contains=digits, pk__in=private)
        else:
            qs = qs.filter(name__contains=q)
    return qs.order_by("name", "id")


def phones_for(actor: Actor, people: list[Person]) -> dict[int, str]:
    """Each person's phone as `actor` may see it — in full or masked — in one query for a whole page of people."""
    from linli.org.domain import mask_phone

    ids = [p.pk for p in people]
    private = set(scoped(actor, "person.view_private", Person.objects.filter(pk__in=ids)).values_list("pk", flat=True))
    return {p.pk: p.phone if p.pk in private else mask_phone(p.phone) for p in people}


def members_of(actor: Actor, household: Household) -> QuerySet[HouseholdMember]:
    get_visible(actor, Household, household.pk)
    return household.members.select_related("person").order_by("-is_owner", "relation", "person__name")


def memberships_of(person: Person) -> QuerySet[HouseholdMember]:
    return person.memberships.select_related("household", "household__building", "household__building__compound")


def teams(actor: Actor, *, community: Community | None = None) -> QuerySet[Team]:
    qs = scoped(actor, "team.view", Team.objects.select_related("community", "leader"))
    if community is not None:
        qs = qs.filter(community=community)
    return qs.annotate(member_count=Count("members"))


def merchants(actor: Actor, *, community: Community | None = None) -> QuerySet[Merchant]:
    qs = scoped(actor, "merchant.view", Merchant.objects.select_related("community"))
    return qs.filter(community=community) if community is not None else qs


def partners(actor: Actor, *, community: Community | None = None) -> QuerySet[PartnerUnit]:
    qs = scoped(actor, "partner.view", PartnerUnit.objects.select_related("community"))
    return qs.filter(community=community) if community is not None else qs


def community_counts(community: Community) -> dict[str, int]:
    return {
        "grids": Grid.objects.filter(community=community).count(),
        "compounds": Compound.objects.filter(community=community).count(),
        "buildings": Building.objects.filter(community=community).count(),
        "households": Household.objects.filter(community=community).count(),
        "people": Person.objects.filter(community=community, is_active=True).count(),
        "teams": Team.objects.filter(community=community).count(),
        "merchants": Merchant.objects.filter(community=community).count(),
        "partners": PartnerUnit.objects.filter(community=community).count(),
    }


def role_assignments_of(user: Any) -> QuerySet[Any]:
    """A login's own roles with their scope objects (for "who am I")."""
    from linli.org.models import RoleAssignment

    return (
        RoleAssignment.objects.filter(user=user)
        .select_related("street", "community", "grid", "building", "merchant")
        .order_by("id")
    )


def api_tokens(actor: Actor) -> QuerySet[Any]:
    """The API tokens the actor issued or holds (never their keys: only hashes are stored)."""
    from linli.org.models import ApiToken

    uid = getattr(actor.user, "pk", None)
    if uid is None:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(Q(user_id=uid) | Q(issued_by_id=uid)).select_related("user").order_by("-id")
