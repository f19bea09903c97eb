"""Who may call each reports API operation (the format of linli/org/tests/test_api_permissions.py, which collects
MATRIX). Every request targets community A, its grid A1 or street S (A's street): users of community B and C, of
street T, and A's steward, merchant operator and resident are outside "report.view". Each row runs for every test
user, with the session and with an API token. The published notice is public: checked apart, every user, a stray
token and nobody signed in read it (200)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from linli.common.testing import client_for
from linli.ledger.tests.test_api_permissions import idempotency_header  # noqa: F401  (the shared fixture)
from linli.org.access import actor_for
from linli.org.tests import test_api_permissions as org_matrix
from linli.org.tests.test_api_permissions import PREFIX, USERS, Op, Request, allow, check_operation
from linli.reports import selectors, services

# report.view on community A: staff (and the street admin), every grid role working in A, the auditor
VIEW_A = allow("street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1", "grid_worker_a2", "auditor_a")
# report.view on grid A1: a view action on a place, so every grid role of community A reads it (access.py's
# COMMUNITY_READABLE: places are readable across the community; a grid's figures are counts, no personal data)
VIEW_A1 = VIEW_A
STREET_S = allow("street_admin")  # the roll-up needs a street-level grant
PUBLISH_A = allow("street_admin", "staff_a")
EVERYONE = allow(*USERS)

PUBLIC: set[Op] = {("GET", "/reports/public/{community_code}/{month}")}

MATRIX: dict[Op, dict[str, bool]] = {
    ("GET", "/reports/communities/{community_id}/months"): VIEW_A,
    ("GET", "/reports/communities/{community_id}/dashboard"): VIEW_A,
    ("GET", "/reports/grids/{grid_id}/dashboard"): VIEW_A1,
    ("GET", "/reports/streets/{street_id}/rollup"): STREET_S,
    ("GET", "/reports/communities/{community_id}/disclosures"): VIEW_A,
    ("POST", "/reports/communities/{community_id}/disclosures"): PUBLISH_A,
    ("GET", "/reports/public/{community_code}/{month}"): EVERYONE,  # public: see PUBLIC
}


def _published(w: Any) -> str:
    """Last month of community A, published by A's staff (the world has no entries: an empty month, sealed)."""
    month = selectors.last_closed_month()
    services.disclosure_publish(
        actor=actor_for(w.staff_a), community=w.A, month=month, idempotency_key="matrix-published"
    )
    return f"{month:%Y-%m}"


REQUESTS: dict[Op, Request] = {
    ("GET", "/reports/communities/{community_id}/months"): lambda w: (f"/reports/communities/{w.A.id}/months", None),
    ("GET", "/reports/communities/{community_id}/dashboard"): lambda w: (
        f"/reports/communities/{w.A.id}/dashboard",
        None,
    ),
    ("GET", "/reports/grids/{grid_id}/dashboard"): lambda w: (f"/reports/grids/{w.A1.id}/dashboard", None),
    ("GET", "/reports/streets/{street_id}/rollup"): lambda w: (f"/reports/streets/{w.S.id}/rollup", None),
    ("GET", "/reports/communities/{community_id}/disclosures"): lambda w: (
        f"/reports/communities/{w.A.id}/disclosures",
        None,
    ),
    ("POST", "/reports/communities/{community_id}/disclosures"): lambda w: (
        f"/reports/communities/{w.A.id}/disclosures",
        {"month": f"{selectors.last_closed_month():%Y-%m}"},
    ),
    ("GET", "/reports/public/{community_code}/{month}"): lambda w: (
        f"/reports/public/{w.A.code}/{_published(w)}",
        None,
    ),
}


def test_reports_matrix_is_complete() -> None:
    ops = org_matrix.spec_operations()
    ours = {op for op in ops if op[1].startswith("/reports/")}
    assert ours == set(MATRIX), ours ^ set(MATRIX)
    assert set(REQUESTS) == set(MATRIX)
    # only what is meant to be public goes without authentication
    assert {op for op in ours if not ops[op].get("security")} == PUBLIC


@pytest.mark.parametrize("auth", ["session", "token"])
@pytest.mark.parametrize("op", sorted(set(MATRIX) - PUBLIC), ids=lambda op: f"{op[0]} {op[1]}")
def test_each_role_is_refused_outside_its_scope(world: Any, idempotency_header: None, op: Op, auth: str) -> None:  # noqa: F811
    problems = check_operation(world, op, MATRIX[op], REQUESTS[op], auth)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("op", sorted(PUBLIC), ids=lambda op: f"{op[0]} {op[1]}")
def test_public_operations_answer_everyone(world: Any, op: Op) -> None:
    """Every user (session or a stray Bearer header) and an anonymous visitor read the notice alike."""
    assert all(MATRIX[op].values())
    problems = []
    for name in (*USERS, None):
        for client, headers in (
            (client_for(world.users[name]) if name else Client(), {}),
            (Client(), {"Authorization": "Bearer lnl_not_a_token"}),
        ):
            sid = transaction.savepoint()
            try:
                path, _payload = REQUESTS[op](world)
                response = client.get(PREFIX + path, headers=headers)
                if response.status_code != 200 or "digest" not in response.json():
                    problems.append(
                        f"{name or 'anonymous'} {headers}: {response.status_code} {response.content[:200]!r}"
                    )
            finally:
                transaction.savepoint_rollback(sid)
    assert not problems, "\n".join(problems)
