"""The permission matrix for pages: every named page, every role, inside and outside its scope.

Each row names a page, how to reach it in the test world (linli/common/testing.py), and exactly which users may use
it. Everyone else must be refused with 403 or 404 (never a 200, never a 500) and, for writes, nothing may change.
`test_every_page_is_in_the_matrix` fails when a page exists that no row covers: a new page must add its row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from linli.common.testing import client_for
from linli.org.models import ApiToken, HouseholdMember, Person, RoleAssignment, TeamMember

ALL_USERS = (
    "street_admin",
    "staff_a",
    "staff_b",
    "staff_c",
    "grid_chief_a1",
    "grid_worker_a1",
    "grid_worker_a2",
    "steward_a1",
    "auditor_a",
    "merchant_op_a",
    "resident_a1",
)
EVERYONE = frozenset(ALL_USERS)
A_STAFF = frozenset({"street_admin", "staff_a"})
A1_GRID = frozenset({"grid_chief_a1", "grid_worker_a1"})
A_READERS = A_STAFF | A1_GRID | {"grid_worker_a2", "steward_a1", "auditor_a"}
A_ALL = A_READERS | {"merchant_op_a", "resident_a1"}
BA1_VIEWERS = A_STAFF | A1_GRID | {"steward_a1", "auditor_a", "resident_a1"}
ANY_STAFF = frozenset({"street_admin", "staff_a", "staff_b", "staff_c"})


@dataclass(frozen=True)
class Page:
    name: str
    allowed: frozenset[str]
    args: Callable[[SimpleNamespace], list[Any]] = lambda w: []
    query: Callable[[SimpleNamespace], str] = lambda w: ""
    method: str = "GET"
    data: Callable[[SimpleNamespace], dict[str, Any]] = lambda w: {}
    # for writes: a check that holds before, and still holds after a refused attempt
    unchanged: Callable[[SimpleNamespace], bool] | None = None
    public: bool = False
    ok: frozenset[int] = frozenset({200})


def in_a(w: SimpleNamespace) -> str:
    return f"community={w.A.id}"


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

# Pages served by other means: the Django admin (its own is_staff gate), language switch, API (own matrix).
NOT_PAGES = {"set_language"}


def _url(page: Page, w: SimpleNamespace) -> str:
    url = reverse(page.name, args=page.args(w))
    query = page.query(w)
    return f"{url}?{query}" if query else url


def _named_patterns(resolver: URLResolver, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            if p.app_name in {"admin"} or p.namespace in {"admin", "api"} or "api/" in str(p.pattern):
                continue
            ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
            names |= _named_patterns(p, ns)
        elif isinstance(p, URLPattern) and p.name:
            names.add(prefix + p.name)
    return names


def test_every_page_is_in_the_matrix() -> None:
    covered = {p.name for p in PAGES}
    missing = _named_patterns(get_resolver()) - covered - NOT_PAGES
    assert not missing, f"pages without a permission-matrix row: {sorted(missing)}"


def _reaches(page: Page, status: int) -> bool:
    return status in ({200, 302} if page.method == "POST" else page.ok)


@pytest.mark.parametrize("page", [p for p in PAGES if p.method == "GET"], ids=lambda p: p.name)
def test_get_pages(world: SimpleNamespace, page: Page) -> None:
    url = _url(page, world)
    for name in ALL_USERS:
        status = client_for(world.users[name]).get(url).status_code
        if name in page.allowed:
            assert _reaches(page, status), f"{name} should reach {url}, got {status}"
        else:
            assert status in {403, 404}, f"{name} should be refused {url}, got {status}"
    anonymous = client_for(None).get(url)
    if page.public:
        assert anonymous.status_code == 200
    else:
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


@pytest.mark.parametrize(
    ("page", "user"),
    [(p, u) for p in PAGES if p.method == "POST" for u in ALL_USERS],
    ids=lambda v: v.name if isinstance(v, Page) else v,
)
def test_post_pages(world: SimpleNamespace, page: Page, user: str) -> None:
    url = _url(page, world)
    response = client_for(world.users[user]).post(url, page.data(world))
    if user in page.allowed:
        assert response.status_code in {200, 302}, f"{user} should reach {url}, got {response.status_code}"
    else:
        assert response.status_code in {403, 404}, f"{user} should be refused {url}, got {response.status_code}"
        if page.unchanged is not None:
            assert page.unchanged(world), f"refused {user} still changed something at {url}"
