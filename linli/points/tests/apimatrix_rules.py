"""API permission rows for the rules catalogue and the leaderboards (merged by tests/test_api_permissions.py).

Every request targets community A. Readers (points.view): everyone who lives or works in A. Writers (rule.manage):
A's staff and the street admin.
"""

from __future__ import annotations

from linli.org.tests.test_api_permissions import IN_COMMUNITY_A, STAFF_A, Op, Request
from linli.points.tests.matrix_rules import area_a, rule_a

MATRIX: dict[Op, dict[str, bool]] = {
    ("GET", "/rule-areas"): IN_COMMUNITY_A,
    ("POST", "/rule-areas"): STAFF_A,
    ("GET", "/rules"): IN_COMMUNITY_A,
    ("GET", "/rules/{rule_id}"): IN_COMMUNITY_A,
    ("POST", "/rules"): STAFF_A,
    ("PUT", "/rules/{rule_id}"): STAFF_A,
    ("POST", "/rules/{rule_id}/retire"): STAFF_A,
    ("GET", "/leaderboards"): IN_COMMUNITY_A,
}

REQUESTS: dict[Op, Request] = {
    ("GET", "/rule-areas"): lambda w: (f"/rule-areas?community={area_a(w).community_id}", None),
    ("POST", "/rule-areas"): lambda w: ("/rule-areas", {"community_id": w.A.id, "name": "绿色环保"}),
    ("GET", "/rules"): lambda w: (f"/rules?community={rule_a(w).community_id}", None),
    ("GET", "/rules/{rule_id}"): lambda w: (f"/rules/{rule_a(w).id}", None),
    ("POST", "/rules"): lambda w: (
        "/rules",
        {"area_id": area_a(w).id, "code": "haircut", "name": "义务理发", "points": 2},
    ),
    ("PUT", "/rules/{rule_id}"): lambda w: (f"/rules/{rule_a(w).id}", {"points": 4}),
    ("POST", "/rules/{rule_id}/retire"): lambda w: (f"/rules/{rule_a(w).id}/retire", {"retired": True}),
    ("GET", "/leaderboards"): lambda w: (f"/leaderboards?community={w.A.id}&period=year", None),
}
