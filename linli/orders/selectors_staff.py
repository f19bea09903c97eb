"""Reads only the staff pages need: who an order can be dispatched to in a community. Kept apart from selectors.py
so that the staff pages grow without touching the core reads."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from linli.orders.models import HandlerKind
from linli.org.access import Actor, scoped
from linli.org.models import Community, PartnerUnit, Role, RoleAssignment, Team

# the handler type a login works as, by the role it holds in the community
_ROLE_HANDLER: dict[str, str] = {
    Role.GRID_WORKER: HandlerKind.GRID_WORKER,
    Role.GRID_CHIEF: HandlerKind.GRID_WORKER,
    Role.BUILDING_STEWARD: HandlerKind.STEWARD,
    Role.COMMUNITY_STAFF: HandlerKind.STAFF,
}
_ROLE_ORDER: list[str] = [Role.GRID_WORKER, Role.GRID_CHIEF, Role.BUILDING_STEWARD, Role.COMMUNITY_STAFF]


@dataclass(frozen=True)
class Candidate:
    value: str  # "user:<id>", "team:<id>" or "unit:<id>": what the dispatch form posts
    label: str
    handler: str  # the HandlerKind it works as unless the dispatcher says otherwise


def unit_handler(unit: PartnerUnit) -> str:
    """A property company (物业) handles as the property company; any other unit (power, lighting…) as external."""
    text = f"{unit.kind} {unit.name}".lower()
    return HandlerKind.PROPERTY if "物业" in text or "property" in text else HandlerKind.EXTERNAL


def dispatch_candidates(actor: Actor, community: Community) -> list[Candidate]:
    """Grid workers, stewards and staff with a login working in the community, its volunteer teams and its partner
    units (the property company among them), in that order. Only what the dispatcher may see is listed; the
    dispatch service checks every choice again."""
    roles = (
        RoleAssignment.objects.filter(role__in=_ROLE_HANDLER, user__is_active=True)
        .filter(Q(community=community) | Q(grid__community=community) | Q(building__community=community))
        .select_related("user", "grid", "building")
        .order_by("user__name", "user_id")
    )
    seen: dict[int, tuple[str, str]] = {}
    for ra in sorted(roles, key=lambda r: _ROLE_ORDER.index(r.role)):
        if ra.user_id in seen:
            continue
        where = ra.grid or ra.building or ""
        label = f"{ra.user.name} · {Role(ra.role).label}" + (f" · {where}" if where else "")
        seen[ra.user_id] = (label, _ROLE_HANDLER[ra.role])
    people = [Candidate(f"user:{pk}", label, handler) for pk, (label, handler) in seen.items()]
    teams = [
        Candidate(f"team:{t.pk}", f"{t.name} · {HandlerKind.TEAM.label}", HandlerKind.TEAM)
        for t in scoped(actor, "team.view", Team.objects.filter(community=community)).order_by("name")
    ]
    units = [
        Candidate(f"unit:{u.pk}", f"{u.name}" + (f" · {u.kind}" if u.kind else ""), unit_handler(u))
        for u in scoped(
            actor, "partner.view", PartnerUnit.objects.filter(community=community, is_active=True)
        ).order_by("name")
    ]
    return people + teams + units
