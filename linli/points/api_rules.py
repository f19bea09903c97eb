"""The rules catalogue and the leaderboards over JSON.

Who: reading the catalogue and the leaderboards is "points.view" (everyone who lives or works in the community; the
catalogue is published anyway); changing it is "rule.manage" (community staff, street admins). Outside the
caller's communities everything is 404; readers who may not write get 403.

Editing a rule (PUT) makes a new version only when its content changed; claims already made keep their version.
Leaderboard names are masked (张*和) except for the people the caller may see (linli.points.leaderboards).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from linli.common.api import Id, actor, responses
from linli.common.errors import NotFound
from linli.org import selectors as org_selectors
from linli.org.access import Actor, require
from linli.org.models import Community
from linli.points import leaderboards, selectors, services
from linli.points.models import Rule, RuleArea, RuleVersion
from linli.points.schemas_rules import (
    AreaIn,
    AreaOut,
    LeaderboardFilter,
    LeaderboardOut,
    RetireIn,
    RuleDetailOut,
    RuleIn,
    RuleOut,
    RulesFilter,
    RuleUpdateIn,
)
from linli.points.services import RuleData

router = Router(tags=["points"])

# content fields that cannot be "cleared": null in a PUT body means "keep"
_NOT_NULL = {"name", "points", "unit", "description", "difficulties", "evidence_required", "recorders", "steps"}


def _community(act: Actor, pk: int, action: str) -> Community:
    community = org_selectors.get_visible(act, Community, pk)
    require(act, action, community)
    return community


def _rule(act: Actor, pk: int, action: str) -> Rule:
    rule = Rule.objects.select_related("community", "area", "current").filter(pk=pk, current__isnull=False).first()
    if rule is None:
        raise NotFound()
    require(act, "points.view", rule.community, hide=True)
    require(act, action, rule.community)
    return rule


def _area_out(area: RuleArea) -> dict[str, Any]:
    return {"id": area.pk, "community_id": area.community_id, "name": area.name, "position": area.position}


def _version_out(v: RuleVersion) -> dict[str, Any]:
    return {
        "number": v.number,
        "name": v.name,
        "description": v.description,
        "points": v.points,
        "unit": v.unit,
        "difficulties": v.difficulties,
        "daily_cap": v.daily_cap,
        "monthly_cap": v.monthly_cap,
        "evidence_required": v.evidence_required,
        "recorders": v.recorder_list,
        "steps": v.steps,
        "valid_from": v.valid_from,
        "valid_until": v.valid_until,
        "created_at": v.created_at,
        "created_by_id": v.created_by_id,
    }


def _rule_out(rule: Rule) -> dict[str, Any]:
    assert rule.current is not None
    return {
        "id": rule.pk,
        "community_id": rule.community_id,
        "area_id": rule.area_id,
        "area_name": rule.area.name,
        "code": rule.code,
        "position": rule.position,
        "retired": rule.retired,
        "version": _version_out(rule.current),
    }


def _fresh(rule: Rule) -> Rule:
    return Rule.objects.select_related("area", "current").get(pk=rule.pk)


# --- reading ------------------------------------------------------------------------------------------------
@router.get("/rule-areas", response=responses({200: list[AreaOut]}), summary="The scoring areas of a community")
def list_areas(request: HttpRequest, community: Id) -> list[dict[str, Any]]:
    found = _community(actor(request), community, "points.view")
    return [_area_out(a) for a in selectors.areas(found)]


@router.get("/rules", response=responses({200: list[RuleOut]}), summary="A community's rules catalogue")
def list_rules(request: HttpRequest, filters: Query[RulesFilter]) -> list[dict[str, Any]]:
    found = _community(actor(request), filters.community, "points.view")
    return [_rule_out(r) for r in selectors.rules(found, include_retired=filters.include_retired)]


@router.get("/rules/{rule_id}", response=responses({200: RuleDetailOut}), summary="One rule with all its versions")
def get_rule(request: HttpRequest, rule_id: Id) -> dict[str, Any]:
    rule = _rule(actor(request), rule_id, "points.view")
    versions = rule.versions.order_by("-number")
    return {**_rule_out(rule), "versions": [_version_out(v) for v in versions]}


@router.get(
    "/leaderboards",
    response=responses({200: LeaderboardOut}),
    summary="Top 20 earners of a community or grid this month, this year or all time (approved claims)",
)
def get_leaderboard(request: HttpRequest, filters: Query[LeaderboardFilter]) -> dict[str, Any]:
    act = actor(request)
    community = _community(act, filters.community, "points.view")
    grid = leaderboards.grid_of(community, filters.grid)
    board = leaderboards.leaderboard(
        community=community,
        period=filters.period,
        grid=grid,
        me=act.person_id,
        reveal=leaderboards.reveal_for(act, community),
    )
    return {
        "community_id": community.pk,
        "grid_id": grid.pk if grid else None,
        "period": board.period,
        "since": board.since,
        "people": board.people,
        "rows": [vars(r) for r in board.rows],
        "me": vars(board.me) if board.me else None,
    }


# --- writing ------------------------------------------------------------------------------------------------
@router.post("/rule-areas", response=responses({201: AreaOut}), summary="Add a scoring area")
def create_area(request: HttpRequest, payload: AreaIn) -> Status[Any]:
    act = actor(request)
    community = _community(act, payload.community_id, "rule.manage")
    area = services.area_create(actor=act, community=community, name=payload.name, position=payload.position)
    return Status(201, _area_out(area))


def _area_for(act: Actor, pk: int, community_id: int | None = None) -> RuleArea:
    area = RuleArea.objects.select_related("community").filter(pk=pk).first()
    if area is None or (community_id is not None and area.community_id != community_id):
        raise NotFound()
    require(act, "points.view", area.community, hide=True)
    require(act, "rule.manage", area.community)
    return area


@router.post("/rules", response=responses({201: RuleOut}), summary="Add a rule (its first version)")
def create_rule(request: HttpRequest, payload: RuleIn) -> Status[Any]:
    act = actor(request)
    area = _area_for(act, payload.area_id)
    content = payload.model_dump(exclude={"area_id", "code", "position"})
    content["recorders"] = tuple(content["recorders"])
    rule = services.rule_create(
        actor=act, area=area, code=payload.code, data=RuleData(**content), position=payload.position
    )
    return Status(201, _rule_out(_fresh(rule)))


@router.put(
    "/rules/{rule_id}",
    response=responses({200: RuleOut}),
    summary="Change a rule: a new version when its content changed (fields left out keep their value)",
)
def update_rule(request: HttpRequest, rule_id: Id, payload: RuleUpdateIn) -> dict[str, Any]:
    act = actor(request)
    rule = _rule(act, rule_id, "rule.manage")
    given = payload.model_dump(exclude_unset=True)
    area_id, position = given.pop("area_id", None), given.pop("position", None)
    area = _area_for(act, area_id, rule.community_id) if area_id is not None else None
    changes = {k: v for k, v in given.items() if not (k in _NOT_NULL and v is None)}
    if "recorders" in changes:
        changes["recorders"] = tuple(changes["recorders"])
    assert rule.current is not None
    data = replace(RuleData.of(rule.current), **changes)
    saved = services.rule_update(actor=act, rule=rule, data=data, area=area, position=position)
    return _rule_out(_fresh(saved))


@router.post(
    "/rules/{rule_id}/retire",
    response=responses({200: RuleOut}),
    summary="Retire a rule (no new claims) or, with retired=false, take it back into use",
)
def retire_rule(request: HttpRequest, rule_id: Id, payload: RetireIn | None = None) -> dict[str, Any]:
    act = actor(request)
    rule = _rule(act, rule_id, "rule.manage")
    services.rule_retire(actor=act, rule=rule, retired=payload.retired if payload is not None else True)
    return _rule_out(_fresh(rule))
