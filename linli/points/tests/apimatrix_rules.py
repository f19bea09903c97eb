"""API permission rows for this part of the points app (merged by tests/test_api_permissions.py)."""

from __future__ import annotations

from linli.org.tests.test_api_permissions import Op, Request

MATRIX: dict[Op, dict[str, bool]] = {}
REQUESTS: dict[Op, Request] = {}
