"""Who may call each points-market API operation: the rows of tests/apimatrix_*.py merged into one MATRIX, which
linli/org/tests/test_api_permissions.py collects and checks for completeness; each row runs for every test user, with
the session and with an API token."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

import pytest

from linli.ledger.tests.test_api_permissions import idempotency_header  # noqa: F401  (the shared fixture)
from linli.org.tests import test_api_permissions as org_matrix
from linli.org.tests.test_api_permissions import Op, Request, check_operation


def _merge() -> tuple[dict[Op, dict[str, bool]], dict[Op, Request]]:
    matrix: dict[Op, dict[str, bool]] = {}
    requests: dict[Op, Request] = {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("apimatrix_"):
            module = importlib.import_module(f"linli.market.tests.{info.name}")
            matrix |= module.MATRIX
            requests |= module.REQUESTS
    return matrix, requests


MATRIX, REQUESTS = _merge()


def test_market_matrix_is_complete() -> None:
    served = {op for op in org_matrix.spec_operations() if op in MATRIX}
    assert set(MATRIX) == served, set(MATRIX) ^ served
    assert set(REQUESTS) == set(MATRIX)
    # every market operation of the spec has a row here (the reports helper adds its own apimatrix_ module)
    ours = {op for op in org_matrix.spec_operations() if op[1].startswith("/market/")}
    assert ours <= set(MATRIX), ours - set(MATRIX)


@pytest.mark.parametrize("auth", ["session", "token"])
@pytest.mark.parametrize("op", sorted(MATRIX), ids=lambda op: f"{op[0]} {op[1]}")
def test_each_role_is_refused_outside_its_scope(world: Any, idempotency_header: None, op: Op, auth: str) -> None:  # noqa: F811
    problems = check_operation(world, op, MATRIX[op], REQUESTS[op], auth)
    assert not problems, "\n".join(problems)
