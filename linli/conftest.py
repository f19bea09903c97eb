from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

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

    uses_db = any(f in request.fixturenames for f in ("db", "transactional_db", "live_server", "world"))
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
    return "transactional_db" in request.fixturenames or "live_server" in request.fixturenames
