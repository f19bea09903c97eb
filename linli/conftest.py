from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.db.backends.signals import connection_created

from linli.common.testing import make_world


@pytest.fixture
def world(db: None) -> SimpleNamespace:
    return make_world()


@pytest.fixture(autouse=True)
def _english_off(settings: Any) -> None:
    # tests see the default language (zh-hans) unless they switch
    settings.LANGUAGE_CODE = "zh-hans"


@pytest.fixture(autouse=True)
def _fast_hasher(settings: Any) -> None:
    # argon2 is the production hasher (tested in common/tests/test_settings.py); tests log in hundreds of times
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _ledger_guard(request: pytest.FixtureRequest) -> Any:
    """Transfers are append-only in the database (ledger migration 0002). A test that commits for real
    (`transactional_db`, `live_server`) is emptied afterwards by deleting every row: lift the guard just for that, and
    put it back before every test so each test runs against the real guard."""
    from django.db import connection

    marker = request.node.get_closest_marker("django_db")
    uses_db = marker is not None or any(
        f in request.fixturenames for f in ("db", "transactional_db", "live_server", "world")
    )
    if not uses_db:
        yield
        return
    request.getfixturevalue("transactional_db" if _commits(request) else "db")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_maintenance")
    yield
    if _commits(request):
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO ledger_maintenance (id, reason) VALUES (1, 'test teardown')")


def _commits(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("django_db")
    by_marker = marker is not None and bool(marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    return by_marker or "transactional_db" in request.fixturenames or "live_server" in request.fixturenames


def _bounded_statements(sender: Any, connection: Any, **kwargs: Any) -> None:
    """On PostgreSQL, a test query that runs away (a bad plan, a lock never released) fails within two minutes
    instead of holding the whole run until CI's limit."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = '120s'")
            cursor.execute("SET lock_timeout = '60s'")


connection_created.connect(_bounded_statements)

