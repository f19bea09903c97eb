"""Page permission rows for the organisation (see linli/common/tests/matrix.py)."""

from __future__ import annotations

from types import SimpleNamespace

from linli.common.tests.matrix import (
    A1_GRID,
    A_ALL,
    A_READERS,
    A_STAFF,
    ANY_STAFF,
    BA1_VIEWERS,
    EVERYONE,
    Page,
    in_a,
)
from linli.org.models import ApiToken, HouseholdMember, Person, RoleAssignment, TeamMember


def _token(w: SimpleNamespace) -> ApiToken:
    return ApiToken.objects.create(user=w.steward_a1, name="t", prefix="lnl_x", key_hash="x" * 64, issued_by=w.staff_a)


PAGES: list[Page] = [
    Page("home", EVERYONE),
    Page("login", EVERYONE, public=True, ok=frozenset({200, 302})),  # signed-in users are sent home
    Page("logout", EVERYONE, method="POST", public=True),
    Page("password_change", EVERYONE),
    Page("account", EVERYONE),
    Page("org:structure", A_ALL, query=in_a),
    Page("org:grid_create", A_STAFF, query=in_a),
    Page("org:grid_edit", A_STAFF, args=lambda w: [w.A1.id]),
    Page("org:compound_create", A_STAFF, query=in_a),
    Page("org:compound_edit", A_STAFF, args=lambda w: [w.cpA.id]),
    Page("org:building_create", A_STAFF, query=in_a),
    Page("org:building_edit", A_STAFF, args=lambda w: [w.bA1.id]),
    Page("org:households", A_READERS | {"resident_a1"}, query=in_a),
    Page("org:household_create", A_STAFF | A1_GRID | {"grid_worker_a2"}, query=in_a),
    Page("org:household_detail", BA1_VIEWERS, args=lambda w: [w.hA1.id]),
    Page("org:household_edit", A_STAFF | A1_GRID, args=lambda w: [w.hA1.id]),
    Page("org:household_person_add", A_STAFF | A1_GRID, args=lambda w: [w.hA1.id]),
    Page("org:member_edit", A_STAFF | A1_GRID, args=lambda w: [HouseholdMember.objects.get(person=w.pA1).id]),
    Page(
        "org:member_remove",
        A_STAFF | A1_GRID,
        method="POST",
        args=lambda w: [HouseholdMember.objects.get(person=w.pA1).id],
        unchanged=lambda w: HouseholdMember.objects.filter(person=w.pA1).exists(),
    ),
    # a resident's "people" is their own record: redirected there
    Page("org:people", A_READERS | {"resident_a1"}, query=in_a, ok=frozenset({200, 302})),
    Page("org:person_create", A_STAFF, query=in_a),
    Page("org:person_detail", BA1_VIEWERS, args=lambda w: [w.pA1.id]),
    Page("org:person_edit", A_STAFF | A1_GRID, args=lambda w: [w.pA1.id]),
    Page("org:person_move", A_STAFF | A1_GRID, args=lambda w: [w.pA1.id]),
    Page("org:person_login", A_STAFF, args=lambda w: [w.pA2.id]),
    Page(
        "org:person_password_reset",
        A_STAFF,
        method="POST",
        args=lambda w: [w.pA1.id],
        unchanged=lambda w: not type(w.resident_a1).objects.get(pk=w.resident_a1.pk).must_change_password,
    ),
    Page(
        "org:person_active",
        A_STAFF | A1_GRID,
        method="POST",
        args=lambda w: [w.pA1.id],
        data=lambda w: {"active": "0"},
        unchanged=lambda w: Person.objects.get(pk=w.pA1.pk).is_active,
    ),
    Page("org:teams", A_READERS | {"resident_a1"}, query=in_a),
    Page("org:team_create", A_STAFF, query=in_a),
    Page("org:team_detail", A_READERS | {"resident_a1"}, args=lambda w: [w.teamA.id]),
    Page("org:team_edit", A_STAFF, args=lambda w: [w.teamA.id]),
    Page(
        "org:team_member_remove",
        A_STAFF,
        method="POST",
        args=lambda w: [TeamMember.objects.get(team=w.teamA).id],
        unchanged=lambda w: TeamMember.objects.filter(team=w.teamA).exists(),
    ),
    Page("org:merchants", A_ALL, query=in_a),
    Page("org:merchant_create", A_STAFF, query=in_a),
    Page("org:merchant_edit", A_STAFF, args=lambda w: [w.mA.id]),
    Page("org:partners", A_READERS, query=in_a),
    Page("org:partner_create", A_STAFF, query=in_a),
    Page("org:partner_edit", A_STAFF, args=lambda w: [w.partnerA.id]),
    Page("org:roles", A_STAFF, query=in_a),
    Page(
        "org:role_revoke",
        A_STAFF,
        method="POST",
        args=lambda w: [RoleAssignment.objects.get(user=w.steward_a1).id],
        unchanged=lambda w: RoleAssignment.objects.filter(user=w.steward_a1).exists(),
    ),
    Page("org:tokens", ANY_STAFF),
    Page(
        "org:token_revoke",
        A_STAFF,
        method="POST",
        args=lambda w: [_token(w).id],
        unchanged=lambda w: ApiToken.objects.filter(revoked_at__isnull=True).exists(),
    ),
    Page("roster:index", A_STAFF | {"auditor_a"}, query=in_a),  # auditors only export
    Page("roster:template_xlsx", ANY_STAFF),
    Page("roster:template_csv", ANY_STAFF),
    Page("roster:export", A_STAFF | {"auditor_a"}, query=in_a),
]
