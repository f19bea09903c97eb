"""Reads of the rules catalogue and of claims, always filtered by what the actor may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet

from linli.common.errors import NotFound
from linli.org.access import Actor, can, require, scoped
from linli.org.models import Community, Person, Role
from linli.points import domain
from linli.points.models import Claim, ClaimStatus, Recorder, Rule, RuleArea, Steps


def areas(community: Community) -> QuerySet[RuleArea]:
    return RuleArea.objects.filter(community=community).order_by("position", "id")


def rules(community: Community, *, include_retired: bool = False) -> QuerySet[Rule]:
    """The catalogue is published (公示): anyone may read it, so no actor filter beyond the community."""
    qs = Rule.objects.filter(community=community, current__isnull=False).select_related("area", "current")
    if not include_retired:
        qs = qs.filter(retired=False)
    return qs.order_by("area__position", "area_id", "position", "id")


def rules_in_force(community: Community, *, day: date, recorder: str | None = None) -> list[Rule]:
    """Rules a claim can be made under on `day` (and by that kind of recorder)."""
    found = []
    for rule in rules(community):
        version = rule.current
        assert version is not None
        if not domain.in_force(version.valid_from, version.valid_until, day):
            continue
        if recorder is not None and recorder not in version.recorder_list:
            continue
        found.append(rule)
    return found


def rule_for(community: Community, pk: Any) -> Rule:
    try:
        return rules(community, include_retired=True).get(pk=int(pk))
    except (Rule.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def _claims() -> QuerySet[Claim]:
    return Claim.objects.with_reversal().select_related(
        "person", "rule_version", "rule__area", "recorded_by", "verified_by"
    )


def people_for(actor: Actor, action: str, community: Community) -> QuerySet[Person]:
    return scoped(actor, action, Person.objects.filter(community=community))


def claim_get(actor: Actor, pk: Any) -> Claim:
    """One claim the actor may see (its person is theirs, in their scope, or their own), else 404."""
    try:
        claim = _claims().get(pk=int(pk))
    except (Claim.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    require(actor, "claim.view", claim.person, hide=True)
    return claim


def claims_of(actor: Actor, person: Person) -> QuerySet[Claim]:
    require(actor, "claim.view", person, hide=True)
    return _claims().filter(person=person).order_by("-id")


@dataclass(frozen=True)
class ClaimFilter:
    status: str = ""
    area: int | None = None
    rule: int | None = None
    grid: int | None = None
    source: str = ""
    since: date | None = None
    until: date | None = None
    flagged: bool = False
    q: str = ""


def _filtered(qs: QuerySet[Claim], f: ClaimFilter) -> QuerySet[Claim]:
    if f.area:
        qs = qs.filter(rule__area_id=f.area)
    if f.rule:
        qs = qs.filter(rule_id=f.rule)
    if f.grid:
        qs = qs.filter(person__memberships__household__building__grid_id=f.grid).distinct()
    if f.source:
        qs = qs.filter(source=f.source)
    if f.since:
        qs = qs.filter(occurred_on__gte=f.since)
    if f.until:
        qs = qs.filter(occurred_on__lte=f.until)
    if f.flagged:
        qs = qs.filter(Q(duplicate_of__isnull=False) | Q(photo_reused=True))
    if f.q:
        qs = qs.filter(Q(person__name__icontains=f.q) | Q(note__icontains=f.q))
    return qs


def verify_queue(actor: Actor, community: Community, f: ClaimFilter | None = None) -> QuerySet[Claim]:
    """Claims waiting for the steward's or grid worker's check, among the people the actor may verify for.
    The actor's own claims never appear (nobody verifies their own)."""
    qs = _claims().filter(
        community=community,
        status=ClaimStatus.SUBMITTED,
        rule_version__steps__in=[Steps.VERIFY_APPROVE, Steps.VERIFY],
        person__in=people_for(actor, "claim.verify", community),
    )
    if actor.person_id:
        qs = qs.exclude(person_id=actor.person_id)
    return _filtered(qs, f or ClaimFilter()).order_by("id")


def approve_queue(actor: Actor, community: Community, f: ClaimFilter | None = None) -> QuerySet[Claim]:
    """Claims waiting for staff approval: verified ones, and submitted ones whose rule needs approval only."""
    if not can(actor, "claim.approve", community):
        return Claim.objects.none()
    qs = (
        _claims()
        .filter(community=community)
        .filter(Q(status=ClaimStatus.VERIFIED) | Q(status=ClaimStatus.SUBMITTED, rule_version__steps=Steps.APPROVE))
    )
    if actor.person_id:
        qs = qs.exclude(person_id=actor.person_id)
    return _filtered(qs, f or ClaimFilter()).order_by("id")


def claims(actor: Actor, community: Community, f: ClaimFilter | None = None) -> QuerySet[Claim]:
    """Every claim of the community the actor may read (staff and auditors: all; grid and stewards: their people)."""
    f = f or ClaimFilter()
    qs = _claims().filter(community=community, person__in=people_for(actor, "claim.view", community))
    if f.status:
        qs = qs.filter(status=f.status)
    return _filtered(qs, f).order_by("-id")


def recorder_kind(actor: Actor, person: Person) -> str:
    """Which of a rule's recorder kinds the actor acts as for this person ("" for none): pages offer only the rules
    they may record, and the claim service refuses the others."""
    if actor.person_id == person.pk:
        return Recorder.SELF if can(actor, "claim.submit", person) else ""
    if not can(actor, "claim.record", person):
        return ""
    roles = {g.role for g in actor.grants}
    if roles & {Role.COMMUNITY_STAFF, Role.STREET_ADMIN}:
        return Recorder.STAFF
    if roles & {Role.GRID_WORKER, Role.GRID_CHIEF}:
        return Recorder.GRID
    return Recorder.STEWARD
