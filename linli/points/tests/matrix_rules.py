"""Page permission rows for the rules catalogue and the leaderboards (see linli/common/tests/matrix.py).

The editor, templates and the .xlsx import/export: A's staff and the street admin (rule.manage). The leaderboard with
names: everyone who works in community A (claim.view). The published catalogue and leaderboard: everyone, no login.
"""

from __future__ import annotations

from types import SimpleNamespace

from linli.common.tests.matrix import A_READERS, A_STAFF, EVERYONE, Page, in_a
from linli.points.models import Rule, RuleArea
from linli.points.services import RuleData


def area_a(w: SimpleNamespace) -> RuleArea:
    return RuleArea.objects.get_or_create(community=w.A, name="志愿服务")[0]


def rule_a(w: SimpleNamespace) -> Rule:
    rule = Rule.objects.filter(community=w.A, code="cleanup").first()
    if rule is None:
        from linli.org.access import actor_for
        from linli.points import services

        rule = services.rule_create(
            actor=actor_for(w.staff_a), area=area_a(w), code="cleanup", data=RuleData(name="环境清扫", points=3)
        )
    return rule


def with_area(w: SimpleNamespace) -> str:
    area_a(w)
    return in_a(w)


PAGES: list[Page] = [
    Page("points:rules", A_STAFF, query=in_a),
    Page("points:area_create", A_STAFF, query=in_a),
    Page(
        "points:area_create",
        A_STAFF,
        method="POST",
        query=in_a,
        data=lambda w: {"name": "绿色环保", "position": "1"},
        unchanged=lambda w: not RuleArea.objects.filter(name="绿色环保").exists(),
    ),
    Page("points:area_edit", A_STAFF, args=lambda w: [area_a(w).id]),
    Page("points:rule_create", A_STAFF, query=with_area),
    Page("points:rule_edit", A_STAFF, args=lambda w: [rule_a(w).id]),
    Page(
        "points:rule_retire",
        A_STAFF,
        method="POST",
        args=lambda w: [rule_a(w).id],
        data=lambda w: {"retired": "1"},
        unchanged=lambda w: not Rule.objects.filter(retired=True).exists(),
    ),
    Page("points:catalogue_templates", A_STAFF, query=lambda w: f"{in_a(w)}&template=hejin"),
    Page(
        "points:catalogue_templates",
        A_STAFF,
        method="POST",
        query=in_a,
        data=lambda w: {"template": "taiyuan"},
        unchanged=lambda w: not Rule.objects.filter(code__startswith="ty-").exists(),
    ),
    Page("points:catalogue_import", A_STAFF, query=in_a),
    Page("points:catalogue_export", A_STAFF, query=in_a),
    Page("points:leaderboard", A_READERS, query=in_a),
    # published: everyone, signed in or not
    Page("points:catalogue_public", EVERYONE, args=lambda w: [w.A.code], public=True),
    Page("points:leaderboard_public", EVERYONE, args=lambda w: [w.A.code], public=True),
]
