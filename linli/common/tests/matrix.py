"""Shared vocabulary of the page permission matrix: who the test users are, and how a row is written.

Each app lists its pages in `linli/<app>/tests/matrix_*.py` as `PAGES: list[Page]`;
`linli/common/tests/test_page_permissions.py` collects them all and fails when a named page has no row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from linli.common.testing import USER_NAMES

ALL_USERS = USER_NAMES
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
