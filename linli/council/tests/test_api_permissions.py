"""Who may call each council API operation: the rows of tests/apimatrix_*.py merged into one MATRIX, which
linli/org/tests/test_api_permissions.py collects and checks for completeness; each row runs for every test user, with
the session and with an API token. The public echo wall is checked apart: every user, any token and nobody signed in
read it (200)."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from linli.common.testing import client_for
from linli.ledger.tests.test_api_permissions import idempotency_header  # noqa: F401  (the shared fixture)
from linli.org.tests import test_api_permissions as org_matrix
from linli.org.tests.test_api_permissions import PREFIX, USERS, Op, Request, check_operation

# operations anyone may call without signing in: their spec names no security scheme
PUBLIC: set[Op] = {("GET", "/council/echo-wall")}


def _merge() -> tuple[dict[Op, dict[str, bool]], dict[Op, Request]]:
    matrix: dict[Op, dict[str, bool]] = {}
    requests: dict[Op, Request] = {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("apimatrix_"):
            module = importlib.import_module(f"linli.council.tests.{info.name}")
            matrix |= module.MATRIX
            requests |= module.REQUESTS
    return matrix, requests


MATRIX, REQUESTS = _merge()


def test_council_matrix_is_complete() -> None:
    served = {op for op in org_matrix.spec_operations() if op in MATRIX}
    assert set(MATRIX) == served, set(MATRIX) ^ served
    assert set(REQUESTS) == set(MATRIX)
    ours = {op for op in org_matrix.spec_operations() if op[1].startswith("/council/")}
    assert ours <= set(MATRIX), ours - set(MATRIX)
    # only what is meant to be public goes without authentication
    open_ops = {op for op in ours if not org_matrix.spec_operations()[op].get("security")}
    assert open_ops == PUBLIC, open_ops


@pytest.mark.parametrize("auth", ["session", "token"])
@pytest.mark.parametrize("op", sorted(set(MATRIX) - PUBLIC), ids=lambda op: f"{op[0]} {op[1]}")
def test_each_role_is_refused_outside_its_scope(world: Any, idempotency_header: None, op: Op, auth: str) -> None:  # noqa: F811
    problems = check_operation(world, op, MATRIX[op], REQUESTS[op], auth)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("op", sorted(PUBLIC), ids=lambda op: f"{op[0]} {op[1]}")
def test_public_operations_answer_everyone(world: Any, op: Op) -> None:
    """Every user (session or a stray Bearer header) and an anonymous visitor read it alike."""
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
                if response.status_code != 200 or "items" not in response.json():
                    problems.append(
                        f"{name or 'anonymous'} {headers}: {response.status_code} {response.content[:200]!r}"
                    )
            finally:
                transaction.savepoint_rollback(sid)
    assert not problems, "\n".join(problems)
